"""What the care plans ask for (issue 21), from the command line: the card, the indicators' inputs, school-wide care."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import CARD
from tests.rosters import HEADERS, children, write_csv


@pytest.fixture
def run(cli):
    return cli(
        ("init", "--admin", "赵校务", "--school", "白岩小学"),
        ("class", "add", "4", "1班", "--as", "1"),
        ("staff", "add", "郑心怡", "--role", "counsellor", "--as", "1"),  # 2
        ("staff", "add", "周建国", "--role", "leader", "--as", "1"),  # 3
        ("staff", "add", "李帮扶", "--role", "mentor", "--as", "1", "--phone", "13512345678"),  # 4
        ("child", "add", "王小红", "--class", "4/1班", *CARD, "--as", "1"),
        ("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "3"),
        ("case", "open", "1", "--as", "2"),
    )


def test_the_guardians_literacy_is_on_the_card(run) -> None:
    assert "监护人是否识字" in run("child", "edit", "1", "--set", "guardian_literate=不识字", "--as", "3").output
    shown = json.loads(run("child", "show", "1", "--as", "3", "--json").output)
    assert shown["fields"]["guardian_literate"] == "0"
    result = run("child", "edit", "1", "--set", "guardian_literate=也许", "--as", "3", code=1)
    assert "监护人是否识字" in result.output


def test_a_register_column_says_whether_the_guardian_reads(run, tmp_path: Path) -> None:
    rows = children(3, seed=5)
    for row, literate in zip(rows, ("是", "否", "文盲"), strict=True):
        row["监护人是否识字"] = literate
    path = write_csv(tmp_path / "花名册.csv", rows, "utf-8", headers=[*HEADERS, "监护人是否识字"])
    run("import", "children", str(path), "--as", "赵校务")
    found = [json.loads(run("child", "show", str(i), "--as", "3", "--json").output) for i in (2, 3, 4)]
    assert [f["fields"]["guardian_literate"] for f in found] == ["1", "0", "0"]


def test_a_teachers_phone_for_the_guardian(run, tmp_path: Path) -> None:
    assert "联系电话已登记" in run("staff", "edit", "李帮扶", "--phone", "0851-12345678", "--as", "李帮扶").output
    run("staff", "edit", "郑心怡", "--phone", "13512345678", "--as", "李帮扶", code=5)
    run("staff", "edit", "李帮扶", "--phone", "12345", "--as", "李帮扶", code=1)
    run("staff", "add", "钱老师", "--role", "mentor", "--phone", "电话", "--as", "1", code=1)
    run("record", "pairing", "1", "--kind", "mentor", "--staff", "李帮扶", "--as", "2")
    out = tmp_path / "card.md"
    run("doc", "render", "1", "--template", "child_card", "--format", "md", "--out", str(out), "--as", "3")
    assert "| 帮扶教师 | 李帮扶 | 0851-12345678 |" in out.read_text(encoding="utf-8")


def test_enrolment_and_aid_from_the_command_line(run) -> None:
    out = run("record", "enrolment", "1", "--year", "2026", "--term", "1", "--status", "在读", "--as", "3").output
    assert "在读状态已记录" in out
    run("record", "enrolment", "1", "--year", "2026", "--term", "3", "--status", "在读", "--as", "3", code=1)
    run("record", "enrolment", "1", "--year", "2026", "--term", "1", "--status", "请假", "--as", "3", code=1)
    out = run("record", "aid", "1", "--kind", "衣物", "--description", "冬季棉衣一件", "--as", "3").output
    assert "物质帮助已记录" in out
    run("record", "aid", "1", "--kind", "衣物", "--description", "x", "--date", "2099-01-01", "--as", "3", code=1)
    doc = json.loads(run("report", "indicators", "--as", "3", "--json").output)
    school = {r["indicator"]: r for r in doc["indicators"] if r["scope"] == "school"}
    assert (school["enrolment_rate"]["numerator"], school["aid_rate"]["numerator"]) == (1, 1)


def test_a_close_reason_code_and_the_report(run) -> None:
    run("case", "advance", "1", "close", "--closure", "other", "--as", "3", code=3)
    run("case", "advance", "1", "close", "--closure", "搬家", "--reason", "x", "--as", "3", code=1)
    run("case", "advance", "1", "close", "--closure", "年满18岁", "--as", "3")
    text = run("report", "indicators", "--as", "3").output
    assert "年满18岁" in text and "本学年尚未导入摸底名册" in text
    doc = json.loads(run("report", "indicators", "--as", "3", "--json").output)
    assert doc["closures"] == {"turned_18": 1} and doc["family_situations"] == {"grandparent_care": 1}


def test_the_survey_from_the_command_line(run, tmp_path: Path) -> None:
    path = tmp_path / "摸底.csv"
    path.write_text("学生姓名,学籍号,年级,班级,是否留守儿童\n李想,S2,4,1班,是\n张一,S3,4,1班,否\n", encoding="utf-8")
    dry = run("import", "survey", str(path), "--dry-run", "--as", "赵校务").output
    assert "摸底学生数" in dry
    out = run("import", "survey", str(path), "--as", "赵校务").output
    assert "摸底确认的留守儿童" in out
    text = run("report", "indicators", "--as", "3").output
    assert "建档率以" in text and "2名学生中留守儿童1名" in text
    run("import", "children", str(path), "--as", "赵校务", code=1)


def test_school_wide_care_from_the_command_line(run, tmp_path: Path) -> None:
    run("staff", "add", "刘爱心", "--role", "caring_parent", "--as", "1")  # 5
    run("staff", "add", "陈老师", "--role", "class_teacher", "--class", "4/1班", "--as", "1")  # 6
    for name in ("李想", "张恒"):
        run("child", "add", name, "--class", "4/1班", "--as", "1")
    seminar = ("care", "seminar", "--title", "期中座谈会", "--staff", "李帮扶", "--child", "1", "--as", "3")
    run(*seminar, code=1)  # no minutes
    assert "座谈会已记录" in run(*seminar, "--guardians", "王大山", "--minutes", "约定每周通话").output
    run(
        "care", "activity", "--kind", "亲情电话", "--title", "周五亲情电话", "--child", "1", "--child", "2", "--as", "3"
    )
    run("care", "activity", "--kind", "篮球", "--title", "x", "--as", "3", code=1)
    assert "留守少儿之星已记录" in run("care", "star", "1", "--round", "1", "--reason", "自立", "--as", "3").output
    run("care", "star", "1", "--round", "1", "--reason", "again", "--as", "3", code=4)
    group = ("care", "group", "阳光小组", "--teacher", "陈老师", "--parent", "刘爱心", "--child", "2", "--child", "3")
    run(*group, "--pupil", "甲", "--as", "3", code=1)
    run(*group, "--pupil", "甲", "--pupil", "乙", "--pupil", "丙", "--as", "3")
    listed = run("care", "list", "--as", "3").output
    assert "期中座谈会" in listed and "亲情电话" in listed and "阳光小组" in listed and "自立" in listed
    doc = json.loads(run("care", "list", "--as", "3", "--json").output)
    assert [e["kind"] for e in doc["events"]] == ["seminar", "family_phone"]
    run("record", "pairing", "1", "--kind", "mentor", "--staff", "李帮扶", "--as", "2")
    assert "已记录成长日记" in run("record", "diary", "1", "--summary", "主动发言", "--as", "4").output
    text = run("report", "term", "--as", "3").output
    assert "帮扶教师、留守儿童、监护人座谈会" in text and "1（计划要求1）" in text
    summary = json.loads(run("report", "term", "--as", "3", "--json").output)
    assert summary["contacts"]["growth_diary"] == 1 and summary["groups"] == 1
    out = tmp_path / "总结.md"
    run("report", "term", "--term", "2026-1", "--format", "md", "--out", str(out), "--as", "3")
    assert "留守儿童关爱工作学期总结" in out.read_text(encoding="utf-8")
    run("report", "term", "--term", "2026-3", "--as", "3", code=1)


def test_a_child_moves_school_from_the_command_line(run, tmp_path: Path) -> None:
    run("init", "--admin", "中学管理员", "--school", "白岩中学")  # staff 5
    run("staff", "add", "吴校长", "--role", "leader", "--as", "中学管理员")  # 6
    run("transfer", "move", "1", "--to", "白岩中学", "--as", "2", code=5)  # a counsellor may not
    out = run("transfer", "move", "1", "--to", "白岩中学", "--as", "3").output
    assert "已从白岩小学转入白岩中学" in out and "档案只读保留" in out
    run("child", "edit", "1", "--set", "health=良好", "--as", "3", code=1)
    doc = json.loads(run("child", "show", "2", "--as", "吴校长", "--json").output)
    assert doc["fields"]["name"] == "王小红" and doc["school_id"] == 2


def test_a_package_from_the_command_line(run, tmp_path: Path) -> None:
    run("init", "--admin", "中学管理员", "--school", "白岩中学")
    run("staff", "add", "吴校长", "--role", "leader", "--as", "中学管理员")
    key = tmp_path / "school.key"
    run("audit", "keygen", "--out", str(key))
    package = tmp_path / "转学.json"
    args = ("transfer", "export", "1", "--to", "白岩中学", "--key", str(key), "--out", str(package))
    assert "已签名的转学包已写入" in run(*args, "--as", "3").output
    altered = tmp_path / "改.json"
    altered.write_text(package.read_text(encoding="utf-8").replace("王小红", "王小绿"), encoding="utf-8")
    result = run("transfer", "import", str(altered), "--public-key", f"{key}.pub", "--as", "吴校长", code=1)
    assert "签名无效" in result.output
    received = json.loads(
        run("transfer", "import", str(package), "--public-key", f"{key}.pub", "--as", "吴校长", "--json").output
    )
    assert received["state"] == "identified" and received["to_school"]["name"] == "白岩中学"
