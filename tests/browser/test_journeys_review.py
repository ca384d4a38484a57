"""Journeys of part 2 in Chromium at a phone's and a desktop's size: a leader's meeting, an auditor's
verification of an altered chain, an administrator's GBK roster."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from casework.persistence.tables import Child
from tests.browser.conftest import VIEWPORTS, Server, shot
from tests.browser.test_journeys import _first_sign_in
from tests.helpers import World, unscoped
from tests.rosters import children, write_csv

WAIT = 30_000  # ms a background job may take on a loaded machine


def _context(browser: Any, size: str) -> Any:
    return browser.new_context(viewport=VIEWPORTS[size], accept_downloads=True, locale="zh-CN")


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_a_leader_holds_a_meeting_one_decision_refused_and_downloads_the_minutes(
    served: tuple[World, Server], browser: Any, size: str, tmp_path: Path
) -> None:
    from casework.services import accounts

    world, server = served
    keep, extend = world.case(), world.case()
    for case_id in (keep, extend):
        world.drive(case_id, "mentored")
    world.clock.advance(40)  # their monthly duties escalated to the leadership group
    issued = accounts.issue_password(world.ctx, world.admin, world.leader, "zuzhang")
    context = _context(browser, size)
    page = context.new_page()
    _first_sign_in(page, server, "zuzhang", issued.password, f"leader-{size}")
    page.click("nav >> text=停滞个案")
    page.wait_for_url("**/stalled")
    assert page.locator(f"a[href='/cases/{keep}']").count() >= 1
    shot(page, f"leader-{size}-stalled")
    page.click("nav >> text=领导小组会议")
    page.wait_for_url("**/meetings")
    assert page.locator(f"input[name='case'][value='{keep}']").is_checked()
    page.check(f"input[name='member'][value='{world.counsellor}']")
    shot(page, f"leader-{size}-new-meeting")
    page.click("button:has-text('召开会议')")
    page.wait_for_url("**/meetings/*?done=opened")
    # continuing without the stage review: refused, the reasons beside the case
    page.select_option(f"#d-{keep}", "continue")
    page.fill(f"#r-{keep}", "继续帮扶")
    page.click(f"#case-{keep} button.primary")
    refusal = page.locator(f"#case-{keep} .notice.error")
    assert "✗" in refusal.inner_text() and "决定未通过" in refusal.inner_text()
    assert page.locator(f"#r-{keep}").input_value() == "继续帮扶"  # what was typed is kept
    shot(page, f"leader-{size}-refused")
    page.select_option(f"#d-{extend}", "extend")
    page.fill(f"#r-{extend}", "家访后再定")
    page.fill(f"#u-{extend}", "2026-12-20")
    page.click(f"#case-{extend} button.primary")
    page.wait_for_url("**?done=decided")
    assert "延" in page.locator(f"#case-{extend}").inner_text()
    shot(page, f"leader-{size}-decided")
    with page.expect_download() as download:
        page.click("a:has-text('会议纪要（DOCX）')")
    saved = tmp_path / "minutes.docx"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as docx:
        body = docx.read("word/document.xml").decode()
    assert "家访后再定" in body and "延长期限" in body
    # the reports the group reads after the meeting: charts drawn on the server, tables that scroll on a phone
    page.click("nav >> text=工作指标")
    page.wait_for_url("**/indicators")
    assert page.locator("svg.chart").count() == 2 and "建档率" in page.locator("main").inner_text()
    shot(page, f"leader-{size}-indicators")
    page.click("nav >> text=年度考核")
    page.wait_for_url("**/evaluation")
    shot(page, f"leader-{size}-evaluation")
    page.click("nav >> text=帮扶负担")
    page.wait_for_url("**/mentor-load")
    shot(page, f"leader-{size}-load")
    context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_an_auditor_verifies_a_chain_with_an_altered_row_and_sees_its_sequence(
    served: tuple[World, Server], browser: Any, size: str
) -> None:
    from casework.services import accounts, setup

    world, server = served
    for _ in range(2):
        world.fire(world.case(), "assess")
    with unscoped(world.ctx.db) as session:
        last = session.execute(text("SELECT max(seq) FROM audit_event WHERE school_id = 1")).scalar_one()
    target = last - 3
    with world.ctx.db.engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_event SET data = '{{}}' WHERE school_id = 1 AND seq = {target}"))
    auditor = str(setup.add_staff(world.ctx, world.admin, "督导员", ["auditor"]))
    issued = accounts.issue_password(world.ctx, world.admin, auditor, "dudao")
    context = _context(browser, size)
    page = context.new_page()
    _first_sign_in(page, server, "dudao", issued.password, f"auditor-{size}")
    page.click("nav >> text=审计记录")
    page.wait_for_url("**/audit")
    shot(page, f"auditor-{size}-desk")
    page.click("button:has-text('立即校验')")
    page.wait_for_url("**/jobs/*")
    page.wait_for_selector(".notice.error", timeout=WAIT)
    message = page.locator(".notice.error").inner_text()
    assert f"第 {target} 条" in message and "审计链" in message
    assert str(target) in page.locator("main").inner_text()
    shot(page, f"auditor-{size}-broken")
    context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_education_bureau_compares_its_schools_and_downloads_the_workbook(
    served: tuple[World, Server], browser: Any, size: str
) -> None:
    from casework.services import accounts, county, setup

    world, server = served
    world.fire(world.case(), "assess")
    other = setup.init(world.ctx, admin="乙校管理员", school="石桥乡小学")
    officer = str(setup.add_staff(world.ctx, world.admin, "县教育局王科长", ["bureau"]))
    county.oversee(world.ctx, str(other.admin_id), officer, "石桥乡小学")
    issued = accounts.issue_password(world.ctx, world.admin, officer, "jiaoyuju")
    context = _context(browser, size)
    page = context.new_page()
    _first_sign_in(page, server, "jiaoyuju", issued.password, f"bureau-{size}")
    page.click("main >> text=全县汇总")  # the desk points the way: no lists of children
    page.wait_for_url("**/county")
    main = page.locator("main").inner_text()
    assert "石桥乡小学" in main and "建档率" in main and "各项指标学校排名" in main
    assert page.locator("main a[href^='/cases/'], main a[href^='/children/']").count() == 0
    # the page itself never scrolls sideways at a phone's width: the wide table scrolls in its frame
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, f"bureau-{size}-county")
    with page.expect_download() as caught:
        page.click("text=下载 XLSX")
    assert caught.value.suggested_filename.endswith(".xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(Path(caught.value.path()).read_bytes())).worksheets[0]
    assert "石桥乡小学" in [c.value for row in sheet.iter_rows() for c in row]
    context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_an_administrator_imports_a_gbk_roster_after_fixing_its_bad_row(
    served: tuple[World, Server], browser: Any, size: str, tmp_path: Path
) -> None:
    from casework.services import accounts

    world, server = served
    issued = accounts.issue_password(world.ctx, world.admin, world.admin, "guanli")
    rows = children(5, seed=3)
    born = rows[1]["出生日期"]
    rows[1]["出生日期"] = "2016-13-01"
    (tmp_path / "bad").mkdir()
    bad = write_csv(tmp_path / "bad" / "花名册.csv", rows, "gbk")
    context = _context(browser, size)
    page = context.new_page()
    _first_sign_in(page, server, "guanli", issued.password, f"admin-{size}")
    page.goto(server.url + "/roster")
    page.set_input_files("#r-file", str(bad))
    shot(page, f"admin-{size}-roster")
    page.click("button:has-text('上传并检查')")
    page.wait_for_url("**/jobs/*")
    page.wait_for_selector(".notice.error", timeout=WAIT)
    listed = page.locator("main").inner_text()
    assert "2016-13-01" in listed and "拒绝" in listed
    assert page.locator("a:has-text('下载错误清单')").count() == 1
    shot(page, f"admin-{size}-dry-run-refused")
    rows[1]["出生日期"] = born
    (tmp_path / "good").mkdir()
    good = write_csv(tmp_path / "good" / "花名册.csv", rows, "gbk")
    page.goto(server.url + "/roster")
    page.set_input_files("#r-file", str(good))
    page.click("button:has-text('上传并检查')")
    page.wait_for_selector("button:has-text('导入以上全部记录')", timeout=WAIT)
    assert "将新增 5 人" in page.locator(".notice.ok").inner_text()
    shot(page, f"admin-{size}-dry-run")
    with unscoped(world.ctx.db) as session:
        before = session.scalar(select(func.count()).select_from(Child))
    page.click("button:has-text('导入以上全部记录')")
    page.wait_for_selector(".notice.ok:has-text('已导入')", timeout=WAIT)
    shot(page, f"admin-{size}-imported")
    with unscoped(world.ctx.db) as session:
        assert session.scalar(select(func.count()).select_from(Child)) == before + 5
    context.close()
