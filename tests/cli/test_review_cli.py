"""The leadership group's commands: stalled list, sweep, load, meeting with decisions and minutes, indicators."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Cli, copy_world


@pytest.fixture
def world_cli(tmp_path_factory):
    """Cases made in September through the services; the commands then run on today's date."""
    world = copy_world("sqlite", tmp_path_factory)
    stale = world.case()
    moving = world.case()
    world.drive(moving, "mentored")
    world.ctx.db.dispose()
    run = Cli(world.url)

    return world, run, stale, moving


def test_stalled_sweep_and_load(world_cli) -> None:
    world, run, stale, moving = world_cli
    doc = json.loads(run("review", "stalled", "--as", world.leader, "--json").output)
    by_case = {c["case_id"]: c for c in doc}
    assert set(by_case) == {stale, moving}
    assert doc[0]["days_overdue"] >= doc[1]["days_overdue"]  # most urgent first
    assert "stage_deadline:identified" in {r["reason"] for r in by_case[stale]["reasons"]}
    assert "monthly_talk" in {r["reason"] for r in by_case[moving]["reasons"]}
    text = run("review", "stalled", "--as", world.leader).output
    assert "阶段期限已过" in text and "王小明" in text
    assert (
        json.loads(run("review", "stalled", "--as", world.leader, "--responsible", world.mentor, "--json").output)[0][
            "case_id"
        ]
        == moving
    )
    first = json.loads(run("review", "sweep", "--json").output)
    assert first["escalated"] > 0 and first["unreachable"] > 0  # no [notify] channel: nobody can be told
    assert json.loads(run("review", "sweep", "--json").output) == {
        "reminded": 0,
        "overdue": 0,
        "escalated": 0,
        "resolved": 0,
        "digests": 0,
        "unreachable": 0,
    }
    # the to-do of the class teacher, and the overdue list, each a list of its own
    todo = json.loads(run("review", "due", "--as", world.teacher, "--json").output)
    assert all(r["responsible"]["id"] == int(world.teacher) for c in todo for r in c["reasons"])
    assert all(c["level"] == "due" for c in todo)
    assert "待办" in run("review", "due", "--as", world.teacher).output
    overdue = json.loads(run("review", "overdue", "--as", world.leader, "--json").output)
    assert {c["case_id"] for c in overdue} <= {stale, moving}
    english = run("--lang", "en", "review", "stalled", "--as", world.leader).output
    assert "deadline" in english and "stage_deadline" not in english  # a label, never the code
    assert json.loads(run("review", "load", "--as", world.leader, "--json").output)["overloaded_mentors"] == []


def test_meeting_from_the_command_line(world_cli, tmp_path) -> None:
    world, run, stale, moving = world_cli
    run("review", "meeting", "new", "--as", world.counsellor, code=5)
    assert "2" in run("review", "meeting", "new", "--member", world.counsellor, "--as", world.leader).output
    run(
        "review",
        "meeting",
        "decide",
        "1",
        str(stale),
        "--decision",
        "extend",
        "--until",
        "2099-01-01",
        "--reason",
        "补齐材料",
        "--as",
        world.leader,
    )
    run("review", "meeting", "decide", "1", str(stale), "--decision", "close", "--as", world.leader, code=1)
    run("review", "meeting", "decide", "1", str(moving), "--decision", "continue", "--as", world.leader, code=3)
    run("review", "meeting", "decide", "1", str(moving), "--decision", "dance", "--as", world.leader, code=1)
    # a second meeting the same day is refused, naming the first; --another opens it
    refused = run("review", "meeting", "new", "--as", world.leader, code=4)
    assert "会议 1" in refused.output and "--another" in refused.output
    assert "2" in run("review", "meeting", "new", "--another", "--as", world.leader).output
    run("review", "meeting", "add", "2", str(moving), "--as", world.leader, code=4)  # on its agenda already
    shown = json.loads(run("review", "meeting", "show", "--as", world.leader, "1", "--json").output)
    assert {i["case_id"]: i["decision"] for i in shown["items"]} == {stale: "extend", moving: None}
    stalled = {c["case_id"]: c for c in json.loads(run("review", "stalled", "--as", world.leader, "--json").output)}
    assert stale not in stalled


def test_indicators_report(world_cli, tmp_path) -> None:
    world, run, stale, moving = world_cli
    doc = json.loads(run("report", "indicators", "--as", world.leader, "--month", "2026-09", "--json").output)
    school = {r["indicator"]: (r["numerator"], r["denominator"]) for r in doc["indicators"] if r["scope"] == "school"}
    assert school["file_rate"] == (2, 2) and school["mentor_coverage"] == (1, 2)
    assert doc["funnel"]["identified"] == 1 and doc["funnel"]["mentored"] == 1
    run("report", "indicators", "--as", world.leader, "--format", "xlsx", "--out", str(tmp_path / "i.xlsx"))
    assert (tmp_path / "i.xlsx").stat().st_size > 0
    run("report", "indicators", "--as", world.leader, "--format", "xlsx", code=2)
    run("report", "indicators", "--as", world.leader, "--month", "2026-13", code=1)
    # a second school in the database is none of the leader's business: no --school needed
    run("init", "--admin", "另校管理员", "--school", "另一所小学")
    again = run("report", "indicators", "--as", world.leader, "--month", "2026-09", "--json").output
    assert json.loads(again)["school_id"] == doc["school_id"]


def test_notify_from_the_command_line(world_cli, tmp_path) -> None:
    world, run, stale, moving = world_cli
    settings = tmp_path / "casework.toml"
    settings.write_text(
        '[notify.school."测试小学".sms]\nurl = "http://127.0.0.1:9/sms"\n', encoding="utf-8"
    )  # nothing listens on port 9: every attempt is refused
    with_settings = ("--settings", str(settings))
    run(*with_settings, "notify", "address", world.leader, "--phone", "13812345678", "--as", world.admin)
    run(*with_settings, "notify", "address", world.leader, "--email", "not-an-address", "--as", world.admin, code=1)
    swept = json.loads(run(*with_settings, "review", "sweep", "--json").output)
    assert swept["digests"] == 1  # the leader has a mobile number; the others have none
    sent = json.loads(run(*with_settings, "notify", "send", "--json").output)
    assert sent["sent"] == 0 and sent["retrying"] == 1
    status = json.loads(run(*with_settings, "notify", "status", "--json").output)
    assert {c["channel"]: c["pending"] for c in status["channels"]}["sms"] == 1
    assert status["failed"][0]["last_error"].startswith("ConnectionRefused")
    text = run(*with_settings, "notify", "status").output
    assert "短信" in text and "待发送" in text
