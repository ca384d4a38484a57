"""The leadership group's pages on SQLite and PostgreSQL: stalled cases, a meeting and its decisions, the
minutes, indicators with their charts and workbook, the yearly evaluation, mentor load."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import select

from casework.persistence.tables import AuditEvent, MeetingItem
from tests.helpers import World, unscoped
from tests.web.conftest import sign_in


def _mentored(world: World) -> int:
    case_id = world.case()
    world.drive(case_id, "mentored")
    return case_id


def test_the_stalled_list_filters_and_links_each_row_to_its_case(world: World) -> None:
    late = world.case()
    world.clock.advance(16)  # its stage deadline passed: stalled
    fresh = world.case()
    leader = sign_in(world, world.leader, "zuzhang")
    page = leader.get("/stalled")
    assert page.status_code == 200, page.text
    assert f'href="/cases/{late}"' in page.text and f'href="/cases/{fresh}"' not in page.text
    assert "停滞个案" in page.text and "阶段期限已过" in page.text and "摸底建档" in page.text
    assert "stage_deadline" not in page.text.split("<main")[1].replace('value="stage_deadline"', "")
    by_stage = leader.get("/stalled?stage=identified&reason=stage_deadline")
    assert f'href="/cases/{late}"' in by_stage.text
    other_stage = leader.get("/stalled?stage=mentored")
    assert f'href="/cases/{late}"' not in other_stage.text and "没有符合条件的停滞个案" in other_stage.text
    odd = leader.get("/stalled?class=abc&responsible=999999&page=-3")  # ignored, never a 500
    assert odd.status_code == 200


def test_the_stalled_list_pages_with_its_counts_on_top_and_keeps_the_filters(world: World, monkeypatch) -> None:
    from casework.web import leadership as pages

    monkeypatch.setattr(pages, "PAGE_ROWS", 2)
    late = [world.case() for _ in range(3)]
    world.clock.advance(16)
    leader = sign_in(world, world.leader, "zuzhang")
    first = leader.get("/stalled?stage=identified")
    assert first.status_code == 200, first.text
    assert '<span class="count">3</span>' in first.text and "阶段期限已过 3" in first.text  # over all, not the page
    assert [c for c in late if f'href="/cases/{c}"' in first.text] == sorted(late)[:2]
    assert "第 1 页，共 2 页" in first.text and "上一页" not in first.text
    assert 'href="/stalled?stage=identified&amp;page=2"' in first.text
    second = leader.get("/stalled?stage=identified&page=2")
    assert f'href="/cases/{max(late)}"' in second.text and "上一页" in second.text and "下一页" not in second.text


def test_a_meeting_takes_two_decisions_one_refused_in_place_and_gives_its_minutes(world: World) -> None:
    keep, extend = _mentored(world), _mentored(world)
    world.clock.advance(40)  # the monthly duties escalated: both proposed
    leader = sign_in(world, world.leader, "zuzhang")
    form = leader.get("/meetings")
    assert form.status_code == 200
    assert f'name="case" value="{keep}" checked' in form.text and f'name="case" value="{extend}" checked' in form.text
    opened = leader.post(
        "/meetings", {"date": "2026-10-11", "case": [str(keep), str(extend)], "member": [world.counsellor]}
    )
    assert opened.status_code == 303, opened.text
    path = opened.headers["location"]
    meeting_id = int(path.split("?")[0].rsplit("/", 1)[1])
    page = leader.get(path)
    assert page.status_code == 200 and "王小明" in page.text
    # continuing needs the stage review first: the guards refuse, and say why beside the case
    refused = leader.post(
        f"/meetings/{meeting_id}/decide", {"case": str(keep), "decision": "continue", "reason": "继续"}
    )
    assert refused.status_code == 422, refused.text
    section = refused.text.split(f'id="case-{keep}"')[1].split("</section>")[0]
    assert "✗" in section and "继续" in section
    extended = leader.post(
        f"/meetings/{meeting_id}/decide",
        {"case": str(extend), "decision": "extend", "reason": "家访后再定", "until": "2026-12-20"},
    )
    assert extended.status_code == 303, extended.text
    no_date = leader.post(f"/meetings/{meeting_id}/decide", {"case": str(keep), "decision": "extend", "reason": "x"})
    assert no_date.status_code == 400 and "--until" not in no_date.text
    with unscoped(world.ctx.db) as session:
        decided = dict(
            session.execute(
                select(MeetingItem.case_id, MeetingItem.decision).where(MeetingItem.meeting_id == meeting_id)
            ).all()
        )
        actions = list(session.scalars(select(AuditEvent.action)))
    assert decided == {keep: None, extend: "extend"}
    assert actions.count("meeting.decided") == 1
    minutes = leader.get(f"/meetings/{meeting_id}/minutes?format=docx")
    assert minutes.status_code == 200
    assert minutes.headers["content-type"].startswith("application/vnd.openxmlformats")
    with zipfile.ZipFile(io.BytesIO(minutes.content)) as docx:
        body = docx.read("word/document.xml").decode()
    assert "家访后再定" in body and "王小明" in body
    assert leader.get(f"/meetings/{meeting_id}/minutes?format=exe").status_code == 404


def test_a_meeting_of_unknown_cases_is_refused_with_the_form_kept(world: World) -> None:
    leader = sign_in(world, world.leader, "zuzhang")
    leader.get("/meetings")
    bad = leader.post("/meetings", {"title": "十月例会", "by_hand": "12, abc"})
    assert bad.status_code == 400 and "十月例会" in bad.text and "abc" in bad.text
    unknown = leader.post("/meetings", {"title": "十月例会", "by_hand": "987654"})
    assert unknown.status_code == 400 and "987654" in unknown.text
    with unscoped(world.ctx.db) as session:
        assert "meeting.opened" not in set(session.scalars(select(AuditEvent.action)))


def test_indicators_draw_their_charts_on_the_server_and_download_as_a_workbook(world: World) -> None:
    from openpyxl import load_workbook

    world.case()
    leader = sign_in(world, world.leader, "zuzhang")
    page = leader.get("/indicators?month=2026-09")
    assert page.status_code == 200, page.text
    assert page.text.count("<svg") == 2 and "<script" not in page.text
    assert "建档率" in page.text and "2026-09" in page.text
    assert "<summary>4年级</summary>" in page.text and "<summary>4/1班</summary>" in page.text  # headings in words
    book = leader.get("/indicators.xlsx?month=2026-09")
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content)).worksheets[0]
    assert any("建档率" in str(c.value) for row in sheet.iter_rows() for c in row)
    bad = leader.get("/indicators?month=2026-13")
    assert bad.status_code == 400 and "--month" not in bad.text and "2026-13" in bad.text


def test_the_yearly_evaluation_and_mentor_load(world: World) -> None:
    from openpyxl import load_workbook

    leader = sign_in(world, world.leader, "zuzhang")
    page = leader.get("/evaluation?year=2026")
    assert page.status_code == 200, page.text
    assert "2026" in page.text and "学年" in page.text
    book = leader.get("/evaluation/download?year=2026&format=xlsx")
    assert book.status_code == 200
    assert len(load_workbook(io.BytesIO(book.content)).worksheets) == 4
    assert leader.get("/evaluation?year=abc").status_code == 400
    load = leader.get("/mentor-load")
    assert load.status_code == 200 and "帮扶" in load.text


def test_another_schools_meeting_is_the_same_404_as_no_meeting(world: World) -> None:
    from casework.services import meetings, setup

    meeting_id = meetings.new_meeting(world.ctx, world.leader, [])
    other = setup.init(world.ctx, admin="二校管理员", school="第二小学")
    assert other.admin_id is not None
    leader = str(setup.add_staff(world.ctx, str(other.admin_id), "二校组长", ["leader"], None, "第二小学"))
    from casework.services import accounts
    from tests.web.conftest import NEW_PASSWORD, new_browser

    issued = accounts.issue_password(world.ctx, str(other.admin_id), leader, "erxiao")
    browser = new_browser(world)
    browser.get("/sign-in")
    browser.post("/sign-in", {"login": "erxiao", "password": issued.password, "next": "/desk"})
    browser.get("/password")
    changed = browser.post("/password", {"current": issued.password, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert changed.status_code == 303, changed.text
    theirs, none = browser.get(f"/meetings/{meeting_id}"), browser.get("/meetings/987654")
    assert theirs.status_code == none.status_code == 404
    assert theirs.text.split("<main")[1] == none.text.split("<main")[1]
    assert browser.get(f"/meetings/{meeting_id}/minutes?format=docx").status_code == 404


def test_the_pages_of_part_two_speak_english_after_the_switch(world: World) -> None:
    leader = sign_in(world, world.leader, "zuzhang")
    leader.get("/desk")
    assert leader.post("/lang", {"lang": "en", "back": "/stalled"}).status_code == 303
    for path, words in (
        ("/stalled", "Stalled cases"),
        ("/meetings", "New meeting"),
        ("/indicators", "Whole school against the targets"),
        ("/evaluation", "Yearly evaluation"),
        ("/mentor-load", "Mentor load"),
        ("/audit", "Verify the chain"),
        ("/roster", "Upload a register"),
    ):
        page = leader.get(path)
        assert page.status_code == 200 and words in page.text, path
        assert "停滞个案" not in page.text  # the menu too


def test_the_bureau_sees_its_schools_side_by_side_with_no_child_and_downloads_them(world: World) -> None:
    """教育局: both schools it oversees, each indicator with its rank, a workbook and a PDF; a month
    that is no month is said in words; not a child's name anywhere; its reads in the access log."""
    from openpyxl import load_workbook

    from casework.services import cases, county, setup

    other = setup.init(world.ctx, admin="乙校管理员", school="石桥乡小学")
    officer = setup.add_staff(world.ctx, world.admin, "县教育局王科长", ["bureau"])
    county.oversee(world.ctx, str(other.admin_id), str(officer), "石桥乡小学")
    world.fire(world.case(), "assess")
    cases.open_case(world.ctx, world.counsellor, world.child(name="县里甲童"))

    bureau = sign_in(world, str(officer), "jiaoyuju")
    desk = bureau.get("/desk")
    assert 'href="/county"' in desk.text and "您的工作页面" in desk.text  # no empty lists of children: its page
    page = bureau.get("/county?month=2026-09")
    assert page.status_code == 200, page.text
    assert "测试小学" in page.text and "石桥乡小学" in page.text and "建档率" in page.text
    assert "2/2 100.0% (1)" in page.text  # the first school's file rate, ranked first of the schools with one
    assert "县里甲童" not in page.text and "/children/" not in page.text and "/cases/" not in page.text
    assert "各项指标学校排名" in page.text

    book = bureau.get("/county/download?month=2026-09&format=xlsx")
    assert book.status_code == 200 and "attachment" in book.headers["content-disposition"]
    cells = [str(c.value) for row in load_workbook(io.BytesIO(book.content)).worksheets[0].iter_rows() for c in row]
    assert "石桥乡小学" in cells and not any("县里甲童" in c for c in cells)
    pdf = bureau.get("/county/download?month=2026-09&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert bureau.get("/county/download?format=docx").status_code == 404
    typed = bureau.get("/county/download?month=2026-13&format=xlsx")
    assert typed.status_code == 400 and "2026-13" in typed.text and "--month" not in typed.text

    bad = bureau.get("/county?month=2026-13")
    assert bad.status_code == 400 and "2026-13" in bad.text and "--month" not in bad.text
    assert "石桥乡小学" in bad.text  # the current month's overview stays on the page under the error

    with unscoped(world.ctx.db) as session:
        reads = session.scalars(
            select(AuditEvent.school_id).where(AuditEvent.action == "access.read", AuditEvent.actor_id == officer)
        ).all()
    assert len(reads) == 2 * 4 and len(set(reads)) == 2 and other.school_id in reads  # four reads, in each school

    leader = sign_in(world, world.leader, "zuzhang")
    assert leader.get("/county").status_code == 403  # a school's leader is not the bureau
