"""The pages on SQLite and PostgreSQL: desk, case moves with their reasons, record forms, class sheet, documents."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from casework.persistence.tables import AuditEvent, ContactEntry
from tests.helpers import World, unscoped
from tests.web.conftest import sign_in


def _contacts(world: World) -> int:
    with unscoped(world.ctx.db) as session:
        return int(session.scalar(select(func.count()).select_from(ContactEntry)) or 0)


def _version(html: str) -> str:
    return html.split('name="version" value="')[1].split('"')[0]


def _actions(world: World) -> list[str]:
    with unscoped(world.ctx.db) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.school_id, AuditEvent.seq)))


def test_a_one_time_password_must_be_changed_before_any_page(world: World) -> None:
    browser = sign_in(world, world.counsellor, "xinyi", change=False)
    for path in ("/desk", f"/cases/{world.case()}", "/children?q=王"):
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/password"


def test_the_case_page_shows_why_a_move_is_refused_then_moves_when_the_record_is_there(world: World) -> None:
    case_id = world.case()
    world.fire(case_id, "assess")
    browser = sign_in(world, world.counsellor, "xinyi")
    page = browser.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "评估分类" in page.text and "制定帮扶计划" in page.text
    assert "✗ 现在不能推进" in page.text and "尚未记录评估" in page.text
    version = _version(page.text)
    refused = browser.post(f"/cases/{case_id}/move", {"event": "plan", "version": version, "reason": "先试一下"})
    assert refused.status_code == 422
    assert "✗" in refused.text and "先试一下" in refused.text  # the reason typed is kept
    recorded = browser.post(
        f"/cases/{case_id}/record/assessment", {"categories": ["learning"], "summary": "成绩下滑，想念父母"}
    )
    assert recorded.status_code == 303, recorded.text
    version = _version(browser.get(f"/cases/{case_id}").text)
    moved = browser.post(f"/cases/{case_id}/move", {"event": "plan", "version": version})
    assert moved.status_code == 303, moved.text
    assert "个别帮扶计划" in browser.get(moved.headers["location"]).text


def test_a_move_on_a_case_changed_meanwhile_keeps_the_form_and_moves_nothing(world: World) -> None:
    case_id = world.case()
    browser = sign_in(world, world.counsellor, "xinyi")
    version = _version(browser.get(f"/cases/{case_id}").text)
    world.fire(case_id, "assess")  # someone else moves it after the page was shown
    stale = browser.post(f"/cases/{case_id}/move", {"event": "assess", "version": version, "reason": "家访后决定"})
    assert stale.status_code == 409
    assert "家访后决定" in stale.text
    assert _actions(world).count("case.moved") == 1


def test_a_record_form_puts_each_error_beside_its_field_and_keeps_the_input(world: World) -> None:
    case_id = world.case()
    world.fire(case_id, "assess")
    browser = sign_in(world, world.counsellor, "xinyi")
    browser.get(f"/cases/{case_id}/record/talk")
    empty = browser.post(f"/cases/{case_id}/record/talk", {"summary": " ", "follow_up": "下周再谈"})
    assert empty.status_code == 400
    assert 'id="e-summary"' in empty.text and "下周再谈" in empty.text
    future = browser.post(f"/cases/{case_id}/record/talk", {"summary": "谈心", "date": "2030-01-01"})
    assert future.status_code == 400
    assert 'id="e-date"' in future.text and "--date" not in future.text
    scores = browser.post(f"/cases/{case_id}/record/screening", {"scores": "1,2,3"})
    assert scores.status_code == 400 and 'id="e-scores"' in scores.text and "--scores" not in scores.text
    assert _contacts(world) == 0


def test_every_record_form_opens(world: World) -> None:
    from casework.web.forms import CASE_FORMS, CHILD_FORMS

    case_id = world.case()
    browser = sign_in(world, world.counsellor, "xinyi")
    for kind in CASE_FORMS:
        assert browser.get(f"/cases/{case_id}/record/{kind}").status_code == 200, kind
    for kind in CHILD_FORMS:
        assert browser.get(f"/children/1/record/{kind}").status_code == 200, kind


def test_the_desk_lists_overdue_duties_and_records_the_usual_talk_in_one_tap(world: World) -> None:
    case_id = world.case()
    world.drive(case_id, "mentored")
    world.clock.advance(40)  # the monthly talk is overdue now
    browser = sign_in(world, world.teacher, "chen")
    desk = browser.get("/desk")
    assert "本月与儿童谈心" in desk.text and "已逾期" in desk.text
    before = _contacts(world)
    done = browser.post(f"/cases/{case_id}/record/talk", {"summary": "每月谈心", "back": "/desk"})
    assert done.status_code == 303 and done.headers["location"].startswith("/desk")
    assert _contacts(world) == before + 1
    assert "已记录" in browser.get(done.headers["location"]).text


def test_the_class_sheet_saves_nothing_while_a_row_is_wrong_then_everything(world: World) -> None:
    first, second = world.case(), world.case()
    for case_id in (first, second):
        world.drive(case_id, "mentored")
    browser = sign_in(world, world.teacher, "chen")
    sheet = browser.get("/class-sheet")
    assert sheet.status_code == 200 and "给父母打电话" in sheet.text or "打电话" in sheet.text
    form = {
        "class": "1",
        "case": [str(first), str(second)],
        f"talk-{first}": "1",
        f"note-{first}": "本月谈心",
        f"call_home-{second}": "1",
        f"call_home-date-{second}": "2030-01-01",
        f"note-{second}": "给爸爸打了电话",
    }
    before = _contacts(world)
    bad = browser.post("/class-sheet", form)
    assert bad.status_code == 400
    assert "2030-01-01" in bad.text and "给爸爸打了电话" in bad.text and "本月谈心" in bad.text
    assert 'class="sheet-row bad"' in bad.text
    assert _contacts(world) == before
    form[f"call_home-date-{second}"] = ""
    good = browser.post("/class-sheet", form)
    assert good.status_code == 303, good.text
    assert _contacts(world) == before + 2
    assert _actions(world).count("contact.recorded") >= 2


def test_the_child_page_shows_the_card_by_tier_consent_and_history(world: World) -> None:
    from casework.services import children

    child_id = world.child(health="哮喘")
    children.edit(world.ctx, world.leader, child_id, {"guardian_phone": "13900001111"})
    teacher = sign_in(world, world.teacher, "chen")
    page = teacher.get(f"/children/{child_id}")
    assert "哮喘" in page.text and "13900001111" in page.text and "可以记录" in page.text
    admin = sign_in(world, world.admin, "admin")
    sealed = admin.get(f"/children/{child_id}")
    assert sealed.status_code == 200 and "哮喘" not in sealed.text and "加密" in sealed.text
    assert "both_away" not in page.text and "双亲外出" in page.text or "父母" in page.text
    with unscoped(world.ctx.db) as session:
        reads = session.scalars(select(AuditEvent.data).where(AuditEvent.action == "access.read")).all()
    assert any('"what":"child.show"' in r for r in reads)


def test_documents_render_and_download_as_pdf(world: World) -> None:
    case_id = world.case()
    browser = sign_in(world, world.counsellor, "xinyi")
    browser.get(f"/cases/{case_id}/documents")
    rendered = browser.post(f"/cases/{case_id}/documents", {"format": "pdf", "lang": "zh_CN"})
    assert rendered.status_code == 303, rendered.text
    page = browser.get(rendered.headers["location"])
    link = page.text.split('href="/documents/')[1].split('"')[0]
    pdf = browser.get(f"/documents/{link}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(pdf.content)).pages) >= 1


def test_search_finds_children_by_name_within_scope_only(world: World) -> None:
    mine = world.child(name="张晓雨")
    world.child(name="张晓风", consent=False)
    from casework.services import cases

    cases.open_case(world.ctx, world.counsellor, mine)
    mentor = sign_in(world, world.mentor, "mentor")
    assert 'href="/children/' not in mentor.get("/children?q=张晓").text.split("</form>")[-1]
    teacher = sign_in(world, world.teacher, "chen")  # both children are in the teacher's class
    found = teacher.get("/children?q=晓").text
    assert "张晓雨" in found and "张晓风" in found


def test_english_by_a_switch_kept_in_the_session(world: World) -> None:
    browser = sign_in(world, world.counsellor, "xinyi")
    browser.get("/desk")
    assert browser.post("/lang", {"lang": "en", "back": "/desk"}).status_code == 303
    assert "My desk" in browser.get("/desk").text
    assert "我的工作台" not in browser.get("/desk").text


def test_a_server_error_shows_a_request_id_and_no_traceback(world: World, monkeypatch: object) -> None:
    import pytest

    from casework.services import desk

    browser = sign_in(world, world.counsellor, "xinyi")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom in the desk")

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(desk, "desk", broken)
    response = browser.get("/desk")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert request_id in response.text
    assert "Traceback" not in response.text and "boom" not in response.text


def test_headers_on_every_answer(world: World) -> None:
    browser = sign_in(world, world.counsellor, "xinyi")
    for path in ("/desk", "/sign-in", "/static/casework.css", "/nowhere"):
        headers = browser.get(path).headers
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_a_body_over_one_megabyte_is_refused_and_nothing_written(world: World) -> None:
    case_id = world.case()
    browser = sign_in(world, world.counsellor, "xinyi")
    browser.get(f"/cases/{case_id}/record/talk")
    response = browser.post(f"/cases/{case_id}/record/talk", {"summary": "谈" * 600_000})
    assert response.status_code == 413
    assert _contacts(world) == 0


def test_a_refusal_of_the_input_value_lands_on_its_field_in_words_not_options(world: World) -> None:
    """A check the form itself does not make (the input value makes it) still lands beside its field."""
    case_id = world.case()
    world.drive(case_id, "individual_plan")
    browser = sign_in(world, world.counsellor, "xinyi")
    browser.get(f"/cases/{case_id}/record/plan")
    typed = {"category": "learning", "measures": "课后辅导", "start": "2026-10-01", "end": "2026-09-01"}
    backwards = browser.post(f"/cases/{case_id}/record/plan", typed)
    assert backwards.status_code == 400 and 'id="e-end"' in backwards.text and "--end" not in backwards.text
    tutoring = browser.post(f"/cases/{case_id}/record/plan", {**typed, "end": "", "plan_kind": "tutoring"})
    assert tutoring.status_code == 400 and 'id="e-subject"' in tutoring.text and "--subject" not in tutoring.text
