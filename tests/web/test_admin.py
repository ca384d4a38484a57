"""The school administrator's pages on SQLite and PostgreSQL: staff and roles, the rollover with its preview,
the roster import (dry run as a job, error file, all-or-nothing confirm) and its refusals, keys and privacy."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from casework.persistence.tables import AuditEvent, Child, Job, Membership
from tests.helpers import World, unscoped
from tests.integration.test_roster_files import xml_bomb_in_sheet
from tests.rosters import children, write_csv, write_xlsx
from tests.web.conftest import Browser, sign_in


def finished(browser: Browser, location: str) -> Any:
    assert location.startswith("/jobs/"), location
    for _ in range(400):
        page = browser.get(location)
        assert page.status_code == 200, page.text
        if 'http-equiv="refresh"' not in page.text:
            return page
        time.sleep(0.05)
    raise AssertionError("the job did not end")


def _children(world: World) -> int:
    with unscoped(world.ctx.db) as session:
        return int(session.scalar(select(func.count()).select_from(Child)) or 0)


def _upload(browser: Browser, name: str, content: bytes) -> Any:
    browser.get("/roster")
    return browser.client.post("/roster", data={"csrf": browser.csrf}, files={"file": (name, content, "text/csv")})


def test_a_gbk_roster_with_a_bad_row_is_refused_in_the_dry_run_then_the_corrected_file_imports(
    world: World, tmp_path: Path
) -> None:
    admin = sign_in(world, world.admin, "guanli")
    before = _children(world)
    rows = children(6)
    born = rows[2]["出生日期"]
    rows[2]["出生日期"] = "2016-02-30"
    bad = write_csv(tmp_path / "花名册.csv", rows, encoding="gbk").read_bytes()
    sent = _upload(admin, "花名册.csv", bad)
    assert sent.status_code == 303, sent.text
    page = finished(admin, sent.headers["location"])
    assert "notice error" in page.text and "花名册.csv" in page.text and "casework-uploads" not in page.text
    assert "2016-02-30" in page.text and "拒绝" in page.text
    assert "导入以上全部记录" not in page.text  # a refused dry run cannot be confirmed
    job_id = sent.headers["location"].rsplit("/", 1)[1]
    errors = admin.get(f"/roster/{job_id}/problems")
    assert errors.status_code == 200 and "2016-02-30" in errors.content.decode("utf-8-sig")
    assert _children(world) == before

    rows[2]["出生日期"] = born
    good = write_csv(tmp_path / "花名册.csv", rows, encoding="gbk").read_bytes()
    location = _upload(admin, "花名册.csv", good).headers["location"]
    checked = finished(admin, location)
    assert "将新增 6 人" in checked.text and rows[0]["学生姓名"] in checked.text
    assert _children(world) == before  # a dry run writes nothing
    dry_id = location.rsplit("/", 1)[1]
    confirmed = admin.post(f"/roster/{dry_id}/confirm", {})
    assert confirmed.status_code == 303, confirmed.text
    done = finished(admin, confirmed.headers["location"])
    assert "已导入" in done.text and "notice ok" in done.text
    assert _children(world) == before + 6
    again = admin.post(f"/roster/{dry_id}/confirm", {})  # the file is gone once imported
    assert again.status_code == 409 and _children(world) == before + 6


def _refusal_cases(tmp: Path) -> list[tuple[str, bytes, str]]:
    unknown = "学生姓名,学籍号\n".encode() + b"\xff\xfe\x80\x81,G1\n"
    return [
        ("notes.docx.exe", b"MZ\x90\x00", "不是电子表格"),
        ("unknown.csv", unknown, "GBK"),
        ("dtd.xlsx", xml_bomb_in_sheet(tmp).read_bytes(), "dtd.xlsx"),
    ]


@pytest.mark.parametrize("case", [0, 1, 2], ids=["not-a-spreadsheet", "unknown-encoding", "xlsx-with-dtd"])
def test_an_upload_that_is_no_register_is_refused_at_once_and_writes_nothing(
    world: World, tmp_path: Path, case: int
) -> None:
    name, content, words = _refusal_cases(tmp_path)[case]
    admin = sign_in(world, world.admin, "guanli")
    with unscoped(world.ctx.db) as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    refused = _upload(admin, name, content)
    assert refused.status_code == 400, refused.text
    assert "notice error" in refused.text and words in refused.text and "casework-uploads" not in refused.text
    with unscoped(world.ctx.db) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        # the sign-in's own events only: nothing of the upload
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_an_upload_over_the_limit_is_refused_before_it_is_read(world: World) -> None:
    admin = sign_in(world, world.admin, "guanli")
    huge = _upload(admin, "big.csv", b"a" * (21 << 20))
    assert huge.status_code == 413 and "20 MB" in huge.text
    with unscoped(world.ctx.db) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_an_xlsx_register_imports_too(world: World, tmp_path: Path) -> None:
    admin = sign_in(world, world.admin, "guanli")
    content = write_xlsx(tmp_path / "register.xlsx", children(3, seed=11)).read_bytes()
    admin.get("/roster")
    sent = admin.client.post("/roster", data={"csrf": admin.csrf}, files={"file": ("register.xlsx", content)})
    assert "将新增 3 人" in finished(admin, sent.headers["location"]).text


def test_staff_are_added_and_their_roles_changed(world: World) -> None:
    admin = sign_in(world, world.admin, "guanli")
    page = admin.get("/staff")
    assert page.status_code == 200 and "添加教职工" in page.text
    added = admin.post("/staff/add", {"name": "李新老师", "role": ["mentor", "subject_teacher"]})
    assert added.status_code == 303, added.text
    needs_class = admin.post("/staff/add", {"name": "赵班主任", "role": ["class_teacher"]})
    assert needs_class.status_code == 400 and "赵班主任" in needs_class.text and "--class" not in needs_class.text
    with unscoped(world.ctx.db) as session:
        from casework.persistence.tables import Staff

        staff_id = session.scalar(select(Staff.id).where(Staff.name == "李新老师"))
    changed = admin.post(f"/staff/{staff_id}/roles", {"role": ["mentor", "caring_parent"]})
    assert changed.status_code == 303, changed.text
    with unscoped(world.ctx.db) as session:
        held = set(
            session.scalars(
                select(Membership.role).where(Membership.staff_id == staff_id, Membership.ended_on.is_(None))
            )
        )
    assert held == {"mentor", "caring_parent"}
    mine = admin.post(f"/staff/{world.admin}/roles", {"role": ["mentor"]})
    assert mine.status_code == 400 and "不能取消自己的管理员角色" in mine.text


def test_the_rollover_is_previewed_then_confirmed_as_a_job(world: World) -> None:
    admin = sign_in(world, world.admin, "guanli")
    preview = admin.get("/rollover")
    assert preview.status_code == 200, preview.text
    assert "4/1班" in preview.text and "5/1班" in preview.text
    with unscoped(world.ctx.db) as session:
        assert "year.rolled_over" not in set(session.scalars(select(AuditEvent.action)))
    year = preview.text.split('name="year" value="')[1].split('"')[0]
    done = finished(admin, admin.post("/rollover", {"year": year}).headers["location"])
    assert "notice ok" in done.text and "1 个班级升级" in done.text
    again = finished(admin, admin.post("/rollover", {"year": year}).headers["location"])
    assert "notice error" in again.text  # once a school year


def test_keys_and_privacy(world: World) -> None:
    world.case()
    admin = sign_in(world, world.admin, "guanli")
    page = admin.get("/privacy")
    assert page.status_code == 200, page.text
    assert "加密密钥" in page.text and "同意书有效" in page.text and "年度隐私报告" in page.text
    assert admin.get("/privacy?year=1800").status_code == 400
