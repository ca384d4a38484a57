"""Journeys in Chromium at a phone's and a desktop's size: a counsellor's case, a class teacher's sheet,
and one journey by keyboard alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import VIEWPORTS, Server, shot
from tests.helpers import World

NEW = "山高水长天天向上2026"


def _first_sign_in(page: Any, server: Server, login: str, one_time: str, name: str) -> None:
    page.goto(server.url + "/")
    shot(page, f"{name}-sign-in")
    page.fill("#login", login)
    page.fill("#password", one_time)
    page.click("button.primary")
    page.wait_for_url("**/password")
    assert "一次性密码" in page.content()
    page.fill("#current", one_time)
    page.fill("#new", NEW)
    page.fill("#repeat", NEW)
    page.click("button.primary")
    page.wait_for_url("**/desk*")


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_a_counsellor_moves_a_case_after_recording_what_was_missing(
    served: tuple[World, Server], browser: Any, size: str, tmp_path: Path
) -> None:
    from casework.services import accounts

    world, server = served
    case_id = world.case()
    world.fire(case_id, "assess")
    issued = accounts.issue_password(world.ctx, world.admin, world.counsellor, "xinyi")
    context = browser.new_context(viewport=VIEWPORTS[size], accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    _first_sign_in(page, server, "xinyi", issued.password, f"counsellor-{size}")
    shot(page, f"counsellor-{size}-desk")
    page.goto(f"{server.url}/cases/{case_id}")
    page.click("form.move-form:has(input[value='plan']) button")
    refused = page.locator(".notice.error")
    assert "尚未记录评估" in refused.inner_text()
    shot(page, f"counsellor-{size}-refused")
    page.click(f"a[href='/cases/{case_id}/record/assessment']")
    page.check("input[name='categories'][value='learning']")
    page.fill("#f-summary", "父母在外务工，成绩下滑，需要学习辅导")
    shot(page, f"counsellor-{size}-assessment")
    page.click("button.primary")
    page.wait_for_url(f"**/cases/{case_id}?done=recorded")
    page.click("form.move-form:has(input[value='plan']) button")
    page.wait_for_url(f"**/cases/{case_id}?done=moved")
    assert "个别帮扶计划" in page.locator(".stage").inner_text()
    shot(page, f"counsellor-{size}-moved")
    page.click(f"a[href='/cases/{case_id}/documents']")
    page.select_option("#stage", "assessed")  # the assessment just recorded
    page.select_option("#format", "pdf")
    page.click("button.primary")
    page.wait_for_load_state()
    assert "done=rendered" in page.url, page.locator("main").inner_text()
    shot(page, f"counsellor-{size}-documents")
    with page.expect_download() as download:
        page.click("a:has-text('下载')")
    saved = tmp_path / "document.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_a_class_teacher_fixes_the_bad_row_and_saves_the_sheet(
    served: tuple[World, Server], browser: Any, size: str
) -> None:
    from casework.services import accounts

    world, server = served
    first, second = world.case(), world.case()
    for case_id in (first, second):
        world.drive(case_id, "mentored")
    issued = accounts.issue_password(world.ctx, world.admin, world.teacher, "chen")
    context = browser.new_context(viewport=VIEWPORTS[size], locale="zh-CN")
    page = context.new_page()
    _first_sign_in(page, server, "chen", issued.password, f"teacher-{size}")
    page.click("nav a[href='/class-sheet']")
    page.check(f"#talk-{first}")
    page.fill(f"#note-{first}", "本月谈心，情绪稳定")
    page.check(f"#call_home-{second}")
    page.fill(f"#call_home-date-{second}", "2030-01-01")
    page.fill(f"#note-{second}", "给妈妈打了电话")
    page.click("button.primary")
    bad = page.locator(f"#row-{second} .row-errors")
    assert "2030-01-01" in bad.inner_text()
    assert page.input_value(f"#note-{first}") == "本月谈心，情绪稳定"  # what was typed is kept
    shot(page, f"teacher-{size}-bad-row")
    page.fill(f"#call_home-date-{second}", "")
    page.click("button.primary")
    page.wait_for_url("**done=saved")
    assert "已保存" in page.content()
    shot(page, f"teacher-{size}-saved")
    context.close()


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_a_mentor_signs_in_and_records_a_visit_by_keyboard_alone(served: tuple[World, Server], browser: Any) -> None:
    from casework.services import accounts

    world, server = served
    case_id = world.case()
    world.drive(case_id, "mentored")
    world.clock.advance(40)
    issued = accounts.issue_password(world.ctx, world.admin, world.teacher, "chen")
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + "/sign-in")
    _tab_to(page, "#login")
    page.keyboard.type("chen")
    _tab_to(page, "#password")
    page.keyboard.type(issued.password)
    page.keyboard.press("Enter")
    page.wait_for_url("**/password")
    _tab_to(page, "#current")
    page.keyboard.type(issued.password)
    _tab_to(page, "#new")
    page.keyboard.type(NEW)
    _tab_to(page, "#repeat")
    page.keyboard.type(NEW)
    page.keyboard.press("Enter")
    page.wait_for_url("**/desk*")
    _tab_to(page, ".quick button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/desk?done=recorded")
    assert "已记录" in page.content()
    shot(page, "keyboard-desk-recorded")
    context.close()
