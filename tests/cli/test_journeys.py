"""The four roles' journeys from the command line, on SQLite and PostgreSQL.

One school, two classes, two children whose cases have different counsellors. The counsellor
takes her case through every stage; the mentor and the class teacher see only that case; the
leadership group decides from the review; the auditor verifies and exports the trail with
contact data masked; the administrator manages staff and keys but reads no counselling content.
Every output of every role is checked for the rows outside that role's scope, and for the values
of a tier the role may not read.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.cli.test_cli import PLAN_ITEM
from tests.helpers import BACKENDS

ADMIN, COUNSELLOR, OTHER_COUNSELLOR = "赵校务", "郑心怡", "孙明"
LEADER, AUDITOR, MENTOR, CLASS_TEACHER = "周建国", "钱审计", "李帮扶", "王老师"

# The two children: the first is in the counsellor's case, the second in her colleague's.
MINE = {"name": "王小红", "phone": "13812345678", "id_number": "110101201603080029"}
THEIRS = {"name": "陈小明", "phone": "13987654321", "id_number": "110101201603080045"}
TALK = "孩子说很想念在广东打工的妈妈"  # counselling content (T2)

Run = Callable[..., Result]


def card(child: dict[str, str], guardian: str) -> list[str]:
    fields = {
        "sex": "女",
        "birth_date": "2016-03-08",
        "id_number": child["id_number"],
        "home_address": "白岩镇新村12号",
        "family_situation": "隔代监护",
        "guardian_name": guardian,
        "guardian_relation": "祖父",
        "guardian_phone": child["phone"],
        "mother_name": "李芳",
        "mother_phone": child["phone"],
    }
    return [arg for key, value in fields.items() for arg in ("--set", f"{key}={value}")]


@pytest.fixture(params=BACKENDS)
def run(request: pytest.FixtureRequest, cli: Any) -> Run:
    steps: list[tuple[str, ...]] = [
        ("init", "--admin", ADMIN, "--school", "白岩小学"),
        ("class", "add", "4", "1班", "--as", ADMIN),
        ("class", "add", "4", "2班", "--as", ADMIN),
    ]
    for name, role in (
        (COUNSELLOR, "counsellor"),
        (OTHER_COUNSELLOR, "counsellor"),
        (LEADER, "leader"),
        (AUDITOR, "auditor"),
        (MENTOR, "mentor"),
    ):
        steps.append(("staff", "add", name, "--role", role, "--as", ADMIN))
    steps += [
        ("staff", "add", CLASS_TEACHER, "--role", "class_teacher", "--class", "4/1班", "--as", ADMIN),
        ("child", "add", MINE["name"], "--class", "4/1班", *card(MINE, "王大山"), "--as", ADMIN),
        ("child", "add", THEIRS["name"], "--class", "4/2班", *card(THEIRS, "陈大海"), "--as", ADMIN),
        ("case", "open", "1", "--as", COUNSELLOR),
        ("case", "open", "2", "--counsellor", OTHER_COUNSELLOR, "--as", LEADER),
    ]
    return cli(*steps, backend=request.param)  # type: ignore[no-any-return]


def counsellor_takes_her_case_to_review(run: Run) -> None:
    """Consent first (a counselling record without one is refused), then every stage."""
    as_me = ("--as", COUNSELLOR)
    run("record", "assessment", "1", "--category", "psychological", "--summary", "想念父母", *as_me, code=3)
    run("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", *as_me)
    run("case", "advance", "1", "assess", *as_me)
    run("record", "assessment", "1", "--category", "psychological", "--summary", "想念父母", *as_me)
    run("case", "advance", "1", "plan", *as_me)
    run(
        "record",
        "plan",
        "1",
        *PLAN_ITEM,
        *as_me,
    )
    run("record", "pairing", "1", "--kind", "mentor", "--staff", MENTOR, *as_me)
    run("case", "advance", "1", "mentor", *as_me)
    # Dated today: a record is not dated before its case was opened (today, by the real clock).
    run("record", "talk", "1", "--summary", TALK, "--date", datetime.now(UTC).date().isoformat(), *as_me)
    run("case", "advance", "1", "review", *as_me)
    run("record", "review", "1", "--item", "1", "--result", "met", "--effect", "情绪好转", *as_me)


def case_ids(run: Run, who: str) -> list[int]:
    return sorted(c["id"] for c in json.loads(run("case", "list", "--as", who, "--json").output))


def outputs_of(run: Run, who: str) -> str:
    """Everything the read commands print for one person, in one text."""
    commands: list[tuple[str, ...]] = [
        ("case", "list"),
        ("case", "list", "--json"),
        ("child", "list"),
        ("child", "list", "--json"),
        ("review", "stalled"),
        ("review", "stalled", "--json"),
        # JSON: the text form names what was searched when nothing is found
        ("child", "find", "--name", THEIRS["name"], "--json"),
        ("child", "find", "--phone", THEIRS["phone"], "--json"),
        ("child", "find", "--id-number", THEIRS["id_number"], "--json"),
    ]
    # the auditor, who reads no contact data, may not search it either (exit 5, logged)
    return "\n".join(
        run(*command, "--as", who, code=5 if who == AUDITOR and command[1] == "find" else 0).output
        for command in commands
    )


def test_the_four_roles_journeys(run: Run, tmp_path: Path) -> None:
    # The counsellor: her case, through every stage; her colleague's case is out of her reach.
    counsellor_takes_her_case_to_review(run)
    assert case_ids(run, COUNSELLOR) == [1]
    shown = run("case", "show", "1", "--as", COUNSELLOR).output
    assert MINE["name"] in shown
    for command in (
        ("case", "show", "2"),
        ("case", "history", "2"),
        ("case", "why", "2", "assess"),
        ("child", "show", "2"),
        ("doc", "list", "2"),
        ("case", "advance", "2", "assess"),
        ("record", "talk", "2", "--summary", "越权", "--date", "2026-10-09"),
    ):
        denied = run(*command, "--as", COUNSELLOR, code=5)
        assert len(denied.output.strip().splitlines()) == 1, denied.output
    # Only the leadership group decides from the review.
    run("case", "advance", "1", "continue", "--as", COUNSELLOR, code=5)

    # Mentor and class teacher: the case they are assigned to, through the pairing and the class.
    assert case_ids(run, MENTOR) == [1]
    assert case_ids(run, CLASS_TEACHER) == [1]
    for who in (COUNSELLOR, MENTOR, CLASS_TEACHER):
        seen = outputs_of(run, who)
        for value in THEIRS.values():
            assert value not in seen, (who, value)

    # The leadership group: the whole school, and the decision from the review.
    assert case_ids(run, LEADER) == [1, 2]
    assert THEIRS["name"] in run("child", "show", "2", "--as", LEADER).output
    decided = json.loads(run("case", "advance", "1", "continue", "--as", LEADER, "--json").output)
    assert decided["state"] == "mentored"
    run("report", "indicators", "--as", LEADER)

    # The auditor: case metadata of the whole school, no contact data, no counselling content.
    assert case_ids(run, AUDITOR) == [1, 2]
    audited = "\n".join(
        [
            outputs_of(run, AUDITOR),
            run("case", "show", "1", "--as", AUDITOR).output,
            run("case", "history", "1", "--as", AUDITOR).output,
            run("child", "show", "1", "--as", AUDITOR).output,
        ]
    )
    for child in (MINE, THEIRS):
        for value in child.values():
            assert value not in audited, value
    assert TALK not in audited
    run("record", "talk", "1", "--summary", "审计员不能写", "--date", "2026-10-09", "--as", AUDITOR, code=5)
    assert "完整" in run("audit", "verify", "--as", AUDITOR).output
    for fmt in ("jsonl", "csv", "xlsx"):
        out = tmp_path / f"audit.{fmt}"
        run("audit", "export", "--format", fmt, "--out", str(out), "--as", AUDITOR)
        assert out.stat().st_size > 0
    exported = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    with (tmp_path / "audit.csv").open(encoding="utf-8-sig", newline="") as sheet:
        csv_events = len(list(csv.reader(sheet))) - 1  # the header
    assert csv_events == exported.count("\n") + 1  # the JSON lines export was recorded meanwhile
    for child in (MINE, THEIRS):
        for value in child.values():
            assert value not in exported
    report = json.loads(run("privacy", "report", "--year", "2026", "--as", AUDITOR, "--json").output)
    denied = {(d["roles"], d["what"]): d["attempts"] for d in report["denied"]}
    assert denied == {
        ("counsellor", "case"): 6,
        ("counsellor", "child"): 1,
        ("counsellor", "consent"): 1,
        ("counsellor", "event:continue"): 1,
        ("auditor", "write:T2"): 1,
        ("auditor", "search:child.find:T1"): 3,  # name, phone and ID number: a search is a read
    }
    assert report["exports"] == {"audit.exported": 3}
    assert report["consents"] == {"recorded": 1, "withdrawn": 0}
    reads = {(a["roles"], a["tier"]): a["children"] for a in report["access"]}
    assert reads[("leader", "T1")] == 2 and reads[("mentor", "T1")] == 1
    assert all(roles != "auditor" for roles, _ in reads)  # the auditor read no personal data

    # The administrator: staff and keys, contact data, never counselling content.
    run("staff", "add", "吴老师", "--role", "subject_teacher", "--as", ADMIN)
    admin_sees = run("case", "history", "1", "--as", ADMIN).output + run("case", "show", "1", "--as", ADMIN).output
    assert TALK not in admin_sees
    run("record", "talk", "1", "--summary", "管理员不能写", "--date", "2026-10-09", "--as", ADMIN, code=5)
    key = tmp_path / "rotated.key"
    run("keys", "rotate", "--out", str(key), "--as", ADMIN)
    after: dict[str, Any] = {"CASEWORK_KEY": None, "CASEWORK_KEY_FILE": str(key)}
    assert MINE["name"] in run("child", "show", "1", "--as", ADMIN, env=after).output
    run("privacy", "purge", "--dry-run", "--as", ADMIN, env=after)
    run("privacy", "purge", "--dry-run", "--as", LEADER, env=after, code=5)
    assert "完整" in run("audit", "verify", "--as", AUDITOR, env=after).output
