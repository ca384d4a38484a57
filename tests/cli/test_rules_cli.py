"""The rule commands from the command line: list, explain, evaluate, results, screenings, referrals, flags."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import CARD


@pytest.fixture
def run(cli):
    return cli(
        ("init", "--admin", "赵校务", "--school", "白岩小学"),
        ("class", "add", "4", "1班", "--as", "1"),
        ("staff", "add", "郑心怡", "--role", "counsellor", "--as", "1"),  # 2
        ("staff", "add", "周建国", "--role", "leader", "--as", "1"),  # 3
        ("staff", "add", "李帮扶", "--role", "mentor", "--as", "1"),  # 4
        ("child", "add", "王小红", "--class", "4/1班", *CARD, "--as", "1"),
        ("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "3"),
        ("case", "open", "1", "--as", "2"),
    )


def test_rules_list(run) -> None:
    doc = json.loads(run("rules", "list", "--json").output)
    names = [m["name"] for m in doc["modules"]]
    assert "academic_slide" in names and "evaluation" in names
    text = run("rules", "list").output
    assert "两学期间名次下降达到此数即为严重滑坡：10" in text and "学习严重滑坡" in text
    assert "rank_drop = 10" in run("--lang", "en", "rules", "list").output  # casework.toml's keys, in English


def test_results_screening_assessment_and_explain(run) -> None:
    run(
        "record",
        "result",
        "1",
        "--year",
        "2025",
        "--term",
        "1",
        "--total",
        "480",
        "--rank",
        "3",
        "--subject",
        "数学=88",
        "--as",
        "1",
    )
    run(
        "record",
        "result",
        "1",
        "--year",
        "2025",
        "--term",
        "春季学期",  # a term by its label, as by its number
        "--total",
        "400",
        "--rank",
        "15",
        "--subject",
        "数学=52",
        "--as",
        "1",
    )
    run("case", "advance", "1", "assess", "--as", "2")
    out = run("record", "screening", "1", "--scores", "2" * 25, "--informant", "本人", "--as", "2").output
    assert "困难总分" in out and "异常" in out
    run("record", "assessment", "1", "--summary", "成绩下滑", "--as", "2")
    doc = json.loads(run("rules", "explain", "--as", "周建国", "1", "--json").output)
    assert doc["categories"] == ["academic_slide", "life", "psychological"]
    assert {e: v["allowed"] for e, v in doc["events"].items()} == {"plan": True, "close": True}
    text = run("rules", "explain", "--as", "周建国", "1").output
    assert "学习严重滑坡" in text and "数学辅导教师" in text


def test_referral_and_acknowledgement(run) -> None:
    run("case", "advance", "1", "assess", "--as", "2")
    run("record", "assessment", "1", "--category", "涉嫌违法", "--summary", "疑似盗窃", "--as", "2")
    run("case", "ack", "1", "--as", "2", code=5)
    assert "已确认" in run("case", "ack", "1", "--flag", "紧急", "--as", "3").output
    assert "已确认" in run("case", "ack", "1", "--as", "3", code=1).output  # the default, critical: done already
    result = run("case", "advance", "1", "plan", "--as", "2", code=3)
    assert "转介" in result.output
    run("record", "referral", "1", "--agency", "法院", "--summary", "x", "--as", "2", code=1)
    run("record", "referral", "1", "--agency", "妇联", "--summary", "联系妇联儿童之家", "--as", "2")
    run("case", "advance", "1", "plan", "--as", "2")


def test_evaluate(run, tmp_path) -> None:
    for term, rank in ((1, 9), (2, 3)):
        run(
            "record",
            "result",
            "1",
            "--year",
            "2025",
            "--term",
            str(term),
            "--total",
            "450",
            "--rank",
            str(rank),
            "--as",
            "1",
        )
    # the seed's scheme starts in grade 7 (篇5): this grade-4 child is not scored
    doc = json.loads(run("evaluate", "--as", "周建国", "--year", "2025", "--json").output)
    assert doc["children"] == [] and doc["excluded"][0]["reason"] == "below_grade"
    settings = tmp_path / "casework.toml"
    settings.write_text("[rules.evaluation]\nfrom_grade = 4\n", encoding="utf-8")
    own = ("--settings", str(settings))
    doc = json.loads(run(*own, "evaluate", "--as", "周建国", "--year", "2025", "--json").output)
    (child,) = doc["children"]
    assert (child["total_points"], child["total_yuan"]) == (80, 45)  # 6 ranks 60 + 20; 30 + 15 yuan
    assert child["child"] == {"id": 1, "name": "王小红"} and child["baseline"] == "term1"
    text = run(*own, "evaluate", "--as", "周建国", "--year", "2025").output
    assert "王小红" in text and "第一学期期末 9" in text
    book = tmp_path / "考核.xlsx"
    run(*own, "evaluate", "--as", "周建国", "--year", "2025", "--format", "xlsx", "--out", str(book))
    from openpyxl import load_workbook

    rows = list(load_workbook(book)["学生奖励"].iter_rows(values_only=True))
    assert rows[1][:2] == ("王小红", "4/1班") and rows[1][-1] == 45
    page = tmp_path / "考核.md"
    run(*own, "evaluate", "--as", "周建国", "--year", "2025", "--format", "md", "--out", str(page))
    assert "财务室" in page.read_text(encoding="utf-8")
    result = run("evaluate", "--as", "周建国", "--year", "2025", "--format", "xlsx", code=2)
    assert "--out" in result.output


def test_a_result_of_a_term_not_begun_is_refused(run) -> None:
    args = ("--total", "450", "--rank", "3", "--as", "1")
    result = run("record", "result", "1", "--year", "2099", "--term", "1", *args, code=1)
    assert "尚未开始" in result.output


def test_bad_settings_stop_every_command(run, tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules.academic_slide]\nrank_drop = 'many'\n", encoding="utf-8")
    result = run("--settings", str(bad), "case", "list", code=1)
    assert "rules.academic_slide.rank_drop" in result.output and len(result.output.strip().splitlines()) == 1
    result = run("case", "list", "--as", "周建国", code=1, env={"CASEWORK_SETTINGS": str(tmp_path / "missing.toml")})
    assert "missing.toml" in result.output


def test_bad_screening_and_results(run) -> None:
    run("record", "screening", "1", "--scores", "0,1", "--as", "2", code=1)
    run("record", "result", "1", "--year", "2025", "--term", "3", "--total", "1", "--rank", "1", "--as", "1", code=1)
    run(
        "record",
        "result",
        "1",
        "--year",
        "2025",
        "--term",
        "1",
        "--total",
        "1",
        "--rank",
        "1",
        "--subject",
        "数学=abc",
        "--as",
        "1",
        code=1,
    )
