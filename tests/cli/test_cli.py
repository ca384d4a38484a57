"""The command line as a counsellor uses it: every command, every exit code, both languages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from casework.cli import app


@pytest.fixture
def run(cli):
    return cli(
        ("init", "--admin", "赵校务", "--school", "白岩小学"),
        ("class", "add", "4", "1班", "--as", "1"),
        ("staff", "add", "郑心怡", "--role", "counsellor", "--as", "赵校务"),
        ("staff", "add", "周建国", "--role", "leader", "--as", "1"),
        ("staff", "add", "李帮扶", "--role", "mentor", "--as", "1"),
    )


# One complete plan item: need category, measures, dates, content, stage target.
PLAN_ITEM = [
    "--category",
    "psychological",
    "--kind",
    "psych_help",
    "--measures",
    "团体辅导",
    "--start",
    "2026-09-15",
    "--end",
    "2027-01-15",
    "--content",
    "每两周一次",
    "--target",
    "情绪稳定",
]

CARD = [
    "--set",
    "sex=女",
    "--set",
    "birth_date=2016年3月8日",
    "--set",
    "home_address=白岩镇新村12号",
    "--set",
    "family_situation=隔代监护",
    "--set",
    "guardian_name=王大山",
    "--set",
    "guardian_relation=祖父",
    "--set",
    "guardian_phone=13812345678",
    "--set",
    "mother_name=李芳",
    "--set",
    "mother_phone=13987654321",
]


def test_a_case_through_every_stage_from_the_command_line(run) -> None:
    out = run("child", "add", "王小红", "--class", "4/1班", *CARD, "--as", "1").output
    assert "王小红" in out
    run("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "2")
    assert "个案 1" in run("case", "open", "1", "--as", "郑心怡").output
    run("case", "advance", "1", "assess", "--as", "2")
    run(
        "record",
        "assessment",
        "1",
        "--category",
        "学习",
        "--category",
        "psychological",
        "--summary",
        "想念父母",
        "--as",
        "2",
    )
    run("case", "advance", "1", "plan", "--as", "2")
    run(
        "record",
        "plan",
        "1",
        "--category",
        "learning",
        "--measures",
        "课后辅导",
        "--responsible",
        "2",
        "--start",
        "2026-09-15",
        "--end",
        "2027/1/15",
        "--content",
        "语文数学",
        "--target",
        "按时完成作业",
        "--as",
        "2",
    )
    run(
        "record",
        "plan",
        "1",
        *PLAN_ITEM,
        "--as",
        "2",
    )
    run("record", "pairing", "1", "--kind", "mentor", "--staff", "李帮扶", "--as", "2")
    run("record", "pairing", "1", "--kind", "study_helper", "--pupil", "张同学", "--as", "2")
    run("case", "advance", "1", "mentor", "--as", "2")
    for kind in ("talk", "visit", "feedback", "call"):
        # Dated today: a record is not dated before its case was opened (today, by the real clock).
        today = datetime.now(UTC).date().isoformat()
        run("record", kind, "1", "--summary", "本月情况良好", "--date", today, "--as", "2")
    run("case", "advance", "1", "review", "--as", "2")
    for item, result, effect in (("1", "met", "成绩提高"), ("2", "partly_met", "情绪好转")):
        run("record", "review", "1", "--item", item, "--result", result, "--effect", effect, "--as", "2")
    out = run("case", "advance", "1", "close", "--reason", "父母返乡", "--as", "3").output
    assert "已结案" in out
    history = json.loads(run("case", "history", "--as", "周建国", "1", "--json").output)
    assert [h["action"] for h in history].count("case.moved") == 5
    assert "审计链完整" in run("audit", "verify", "--as", "1").output


def test_json_documents_have_stable_keys(run) -> None:
    run("child", "add", "王小红", "--class", "4/1班", *CARD, "--as", "1")
    run("case", "open", "1", "--as", "2")
    shown = json.loads(run("case", "show", "--as", "周建国", "1", "--json").output)
    assert {"id", "state", "version", "child", "definition_version"} <= set(shown)
    listed = json.loads(run("case", "list", "--as", "周建国", "--state", "identified", "--json").output)
    assert [c["id"] for c in listed] == [1]
    moved = json.loads(run("case", "advance", "1", "assess", "--as", "2", "--json").output)
    assert (moved["state"], moved["version"]) == ("assessed", 1)
    why = json.loads(run("case", "why", "--as", "周建国", "1", "plan", "--json").output)
    assert why["allowed"] is False and why["verdicts"][-1]["code"] == "assessment_missing"
    assert json.loads(run("child", "show", "--as", "周建国", "1", "--json").output)["fields"]["sex"] == "female"


GIRL = "id_number=110101201603080029"  # a girl born on 2016-03-08


def test_exit_1_for_bad_input_with_one_line(run) -> None:
    for args in (
        ["case", "show", "42"],
        ["child", "add", "王小红", "--set", "birth_date=2016-02-30", "--as", "1"],
        ["child", "add", "王小红", "--set", "guardian_phone=12345", "--as", "1"],
        ["child", "add", "王小红", "--set", "shoe=38", "--as", "1"],
        # a check digit the register import would refuse: the file refuses it too
        ["child", "add", "王小红", "--set", "id_number=110101201603081234", "--as", "1"],
        ["child", "add", "王小红", "--set", "id_number=1101012016030812", "--as", "1"],
        # a card whose sex or birth date the ID number contradicts (it encodes a girl born 2016-03-08)
        ["child", "add", "王小红", "--set", GIRL, "--set", "sex=男", "--as", "1"],
        ["child", "add", "王小红", "--set", GIRL, "--set", "birth_date=2016-03-09", "--as", "1"],
        ["child", "add", "王小红"],
        ["case", "open", "1", "--as", "nobody"],
    ):
        result = run(*args, code=1)
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert json.loads(run("child", "list", "--as", "周建国", "--json").output) == []


def test_exit_2_for_usage(run) -> None:
    run("case", "advance", "1", code=2)
    run("case", "show", "--as", "周建国", "one", code=2)
    run("frobnicate", code=2)


def test_exit_3_prints_every_reason(run) -> None:
    run("child", "add", "王小红", "--class", "4/1班", "--as", "1")
    run("case", "open", "1", "--as", "2")
    result = run("case", "advance", "1", "assess", "--as", "2", code=3)
    assert "家庭住址" in result.output and "监护人电话" in result.output and "父母" in result.output
    assert run("case", "advance", "1", "close", "--as", "3", code=3).output.count("原因") == 1


def test_exit_4_for_a_conflict(run) -> None:
    run("child", "add", "王小红", "--class", "4/1班", *CARD, "--as", "1")
    run("case", "open", "1", "--as", "2")
    result = run("case", "advance", "1", "assess", "--expect-version", "3", "--as", "2", code=4)
    assert "已被他人修改" in result.output


def test_exit_5_for_staff_of_another_school(run) -> None:
    run("init", "--admin", "外校管理员", "--school", "另一所小学")
    run("child", "add", "王小红", "--class", "4/1班", *CARD, "--as", "1")
    run("case", "open", "1", "--as", "外校管理员", code=5)


def test_actor_from_environment_and_missing_actor(run) -> None:
    run("child", "add", "王小红", "--class", "4/1班", *CARD, env={"CASEWORK_ACTOR": "赵校务"})
    result = run("case", "open", "1", code=1)
    assert "--as" in result.output


def test_english(run) -> None:
    run("child", "add", "Wang", "--class", "4/1班", "--as", "1")
    run("case", "open", "1", "--as", "2")
    result = run("--lang", "en", "case", "advance", "1", "assess", "--as", "2", code=3)
    assert "the contact card is missing fields needed for the file: sex" in result.output
    result = run("case", "advance", "1", "assess", "--as", "2", code=3, env={"CASEWORK_LANG": "en"})
    assert "guardian phone" in result.output


def test_uninitialised_database(tmp_path) -> None:
    result = CliRunner().invoke(app(), ["--db", str(tmp_path / "none.db"), "case", "list"])
    assert result.exit_code == 1 and "casework init" in result.output
    assert not (tmp_path / "none.db").exists()  # no empty file left behind
    (tmp_path / "empty.db").touch()  # an empty file that is there: the same answer
    result = CliRunner().invoke(app(), ["--db", str(tmp_path / "empty.db"), "case", "list"])
    assert result.exit_code == 1 and "casework init" in result.output


def test_audit_verify_fails_with_exit_1_and_export(run, tmp_path) -> None:
    import sqlite3

    run("child", "add", "王小红", "--class", "4/1班", *CARD, "--as", "1")
    out = tmp_path / "trail.jsonl"
    assert "已将" in run("audit", "export", "--format", "jsonl", "--out", str(out), "--as", "1").output
    # school, admin, class, three staff, one child
    assert len(out.read_text(encoding="utf-8").splitlines()) == 7
    run("audit", "export", "--format", "xml", "--out", str(out), "--as", "1", code=2)
    db = run.url
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_event SET action = 'x' WHERE seq = 4")
    result = run("audit", "verify", "--as", "1", code=1)
    assert "第 4 条" in result.output


def test_demo_builds_a_school(tmp_path) -> None:
    path = str(tmp_path / "demo.db")
    # the root's --db names the file it builds (no --out)
    result = CliRunner().invoke(app(), ["--db", path, "demo", "--children", "16"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert Path(path).exists() and Path(path + ".key").exists() and not Path("casework-demo.db.key").exists()
    assert "完整无误" in result.output and "已结案" in result.output and "按规则拒绝" in result.output
    assert "监护人同意之前被拒绝的记录：\n  ✗ 已拒绝：儿童 " in result.output
    # The demo ends today: the line says which day, and how the open cases stand on it.
    assert re.search(
        r"\d{4}-\d\d-\d\d：\d+ 个在办个案中，本周有待办 \d+ 个，逾期 \d+ 个，停滞 \d+ 个", result.output
    ), result.output


def test_checkpoint_from_the_command_line(run, tmp_path) -> None:
    key = str(tmp_path / "audit.key")
    assert "audit.key.pub" in run("audit", "keygen", "--out", key).output
    run("audit", "keygen", "--out", key, code=1)
    cp = str(tmp_path / "cp.json")
    assert "检查点" in run("audit", "checkpoint", "--out", cp, "--key", key, "--as", "1").output
    verified = run("audit", "verify", "--checkpoint", cp, "--public-key", key + ".pub", "--as", "1").output
    assert "审计链完整" in verified and f"已对照检查点 {cp}" in verified and f"{key}.pub 中的密钥" in verified
    unpinned = run("--lang", "en", "audit", "verify", "--checkpoint", cp, "--as", "1").output
    assert f"checkpoint {cp} of " in unpinned and "the key embedded in the checkpoint, key id" in unpinned
    document = json.loads(run("audit", "verify", "--checkpoint", cp, "--json", "--as", "1").output)
    assert document["checkpoint"]["path"] == cp and len(document["checkpoint"]["key_id"]) == 16
    plain = run("audit", "verify", "--as", "1").output
    assert "检查点" not in plain
    run("audit", "checkpoint", "--out", cp, "--key", str(tmp_path / "missing.key"), "--as", "1", code=1)


def test_an_edit_that_contradicts_the_id_number_is_refused(run) -> None:
    run("child", "add", "王小红", "--set", "id_number=110101201603080029", "--set", "sex=女", "--as", "1")
    result = run("--lang", "en", "child", "edit", "1", "--set", "sex=男", "--as", "1", code=1)
    assert "differs from the sex the ID number encodes" in result.output
    run("child", "edit", "1", "--set", "id_number=110101201603080045", "--as", "1")  # another girl's number
    run("child", "edit", "1", "--set", "id_number=110101201603080010", "--as", "1", code=1)  # a boy's
    shown = json.loads(run("child", "show", "1", "--as", "1", "--json").output)
    assert (shown["fields"]["sex"], shown["fields"]["id_number"]) == ("female", "110101201603080045")


def test_case_history_json_keeps_a_moves_reason_key(run) -> None:
    """A move's entry says "reason": null when it has none, as it always did; other entries have no such key."""
    run("child", "add", "王小红", "--class", "4/1班", *CARD, "--as", "1")
    run("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "3")
    run("case", "open", "1", "--as", "2")
    run("case", "advance", "1", "assess", "--as", "2")
    entries = json.loads(run("case", "history", "1", "--as", "3", "--json").output)
    moved = [e for e in entries if e["action"] == "case.moved"]
    assert moved and all("reason" in e and e["reason"] is None for e in moved)
    assert all("reason" not in e for e in entries if e["action"] != "case.moved")
