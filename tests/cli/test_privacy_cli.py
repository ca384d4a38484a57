"""Consent, purge and the privacy report from the command line: output in both languages, exit codes."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import CARD


@pytest.fixture
def run(cli):
    return cli(
        ("init", "--admin", "赵校务", "--school", "白岩小学"),  # 1
        ("class", "add", "4", "1班", "--as", "1"),
        ("staff", "add", "郑心怡", "--role", "counsellor", "--as", "1"),  # 2
        ("staff", "add", "周建国", "--role", "leader", "--as", "1"),  # 3
        ("staff", "add", "李帮扶", "--role", "mentor", "--as", "1"),  # 4
        ("child", "add", "王小红", "--class", "4/1班", *CARD, "--as", "1"),
        ("case", "open", "1", "--as", "2"),
    )


def _year() -> str:
    from datetime import UTC, datetime

    return str(datetime.now(UTC).year)  # the command line runs on the system clock


def test_a_talk_is_refused_until_the_guardian_consents(run) -> None:
    refused = run("record", "talk", "1", "--summary", "谈心", "--as", "2", code=3)
    (line,) = refused.output.strip().splitlines()
    assert line.startswith("已拒绝：儿童 1 在 ") and "没有涵盖帮扶记录的有效监护人同意，未作任何记录" in line
    show = run("child", "show", "1", "--as", "3").output
    assert "可写入帮扶记录: 否" in show
    assert (
        "已登记监护人同意"
        in run("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "2").output
    )
    assert "已记录谈心（编号 1）" in run("record", "talk", "1", "--summary", "谈心", "--as", "2").output
    show = json.loads(run("child", "show", "1", "--json", "--as", "3").output)
    assert show["consent"]["records_allowed"] and show["consent"]["consents"][0]["guardian"] == "王大山"
    english = run("--lang", "en", "record", "consent", "1", "--withdraw", "--as", "3").output
    assert english.strip() == "child 1: consent withdrawn (1)"
    out = run("--lang", "en", "record", "visit", "1", "--summary", "家访", "--as", "2", code=3).output
    assert "child 1 has no guardian's consent in force" in out
    report = json.loads(run("privacy", "report", "--year", _year(), "--json", "--as", "1").output)
    assert report["denied"] == [{"roles": "counsellor", "what": "consent", "attempts": 2}]  # logged by the CLI


def test_consent_bad_input_and_denial(run) -> None:
    assert "--guardian" in run("record", "consent", "1", "--as", "2", code=1).output
    assert (
        "--scope"
        in run(
            "record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--scope", "x", "--as", "2", code=1
        ).output
    )
    assert (
        "2099-01-01"
        in run(
            "record",
            "consent",
            "1",
            "--guardian",
            "王大山",
            "--relation",
            "祖父",
            "--on",
            "2099-01-01",
            "--as",
            "2",
            code=1,
        ).output
    )
    run("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "4", code=5)
    run("record", "consent", "1", "--withdraw", "--as", "2", code=1)  # nothing in force to withdraw
    assert (
        "--withdraw" in run("record", "consent", "1", "--withdraw", "--guardian", "王大山", "--as", "2", code=1).output
    )


def test_purge_and_report(run) -> None:
    run("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "2")
    run("case", "advance", "1", "close", "--reason", "转学", "--as", "3")
    run("privacy", "purge", "--as", "3", code=5)  # the leader may not purge
    run("privacy", "purge", "--retention-days", "-1", "--as", "1", code=1)
    dry = json.loads(run("privacy", "purge", "--retention-days", "0", "--dry-run", "--json", "--as", "1").output)
    assert dry["dry_run"] and dry["totals"]["children"] == 0  # closed today: not longer than 0 days
    text = run("privacy", "purge", "--as", "1").output
    assert "已清除儿童 0 名" in text and "保留期 1095 天" in text
    report = json.loads(run("privacy", "report", "--year", _year(), "--json", "--as", "1").output)
    assert report["consents"] == {"recorded": 1, "withdrawn": 0} and report["purges"]["runs"] == 0
    assert report["denied"] == [{"roles": "leader", "what": "privacy.purge", "attempts": 1}]
    english = run("--lang", "en", "privacy", "report", "--year", _year(), "--as", "1").output
    assert f"privacy report {_year()}, school 1" in english and "consents: 1 recorded, 0 withdrawn" in english
    run("privacy", "report", "--year", _year(), "--as", "4", code=5)
    # without --year: the current school year (from 1 September)
    from datetime import UTC, datetime

    today = datetime.now(UTC).date()
    school_year = today.year if today.month >= 9 else today.year - 1
    current = json.loads(run("privacy", "report", "--json", "--as", "1").output)
    assert current["year"] is None and current["school_year"] == school_year
    assert current["consents"] == {"recorded": 1, "withdrawn": 0}
    assert f"{school_year}—{school_year + 1}学年" in run("privacy", "report", "--as", "1").output
