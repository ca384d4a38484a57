"""A Chinese-speaking school's first hour at the command line: every word a person reads is Chinese.

One journey of counsellor, class teacher, leader, auditor and administrator, with successes,
refusals and errors, typed in Chinese where the CLI takes a code (events, card fields, roles,
record kinds). Any run of Latin letters in any output fails the test, except what a person
types or a file is called: casework and its quoted commands, option names, file names and
extensions, the format names and SDQ, and the hexadecimal versions of the rule set and workflow.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

ADMIN, COUNSELLOR, LEADER, AUDITOR, MENTOR, TEACHER = "赵校务", "郑心怡", "周建国", "钱审计", "李帮扶", "王老师"

# What may be Latin in Chinese output, removed before looking for letters.
ALLOWED = [
    r"\S+\.(?:db|key|xlsx|csv|pdf|docx|html|md|json|jsonl)\b",  # file names
    r"'casework[^']*'",  # a command quoted in a hint
    r"casework(?: [a-z][a-z-]*)*",  # the program and a command path (用法： casework case show)
    r"--[a-z][a-z-]*",  # option names
    r"(?<![A-Za-z])(?:PDF|DOCX|XLSX|CSV|HTML|SDQ|JSON)(?![A-Za-z])",
    r"\b[0-9a-f]*\d[0-9a-f]*\b",  # hexadecimal versions (rule set, workflow), ids
    r"'[a-z][a-z-]*'",  # a command name quoted in a hint (没有命令 'lists'，您是否想输入 'list')
]
# Help lists what a person types: the commands, -h, and the language codes.
HELP_ALLOWED = [r"(?m)^  [a-z][a-z-]*(?=\s)", r"-h\b", r"\bzh_CN\b", r"\ben\*?(?![a-z])", r"\bLANG\b"]
LATIN = re.compile(r"[A-Za-z]+")


def latin_in(text: str, help_text: bool = False) -> list[str]:
    for pattern in ALLOWED + (HELP_ALLOWED if help_text else []):
        text = re.sub(pattern, " ", text)
    return LATIN.findall(text)


def test_the_allow_list_lets_file_names_and_hints_through_and_nothing_else() -> None:
    assert latin_in("已写入 out/report.xlsx（XLSX）；请先用 'casework record consent' 登记，见 --as") == []
    assert latin_in("可执行操作 plan, close") == ["plan", "close"]
    assert latin_in("没有编号为 2 的child") == ["child"]


@pytest.fixture
def run(cli: Any, tmp_path: Any) -> Any:
    steps: list[tuple[str, ...]] = [
        ("init", "--admin", ADMIN, "--school", "白岩小学"),
        ("class", "add", "4", "1班", "--as", ADMIN),
    ]
    for name, role in ((COUNSELLOR, "心理辅导老师"), (LEADER, "组长"), (AUDITOR, "审计"), (MENTOR, "帮扶教师")):
        steps.append(("staff", "add", name, "--role", role, "--as", ADMIN))
    steps.append(("staff", "add", TEACHER, "--role", "班主任", "--class", "4/1班", "--as", ADMIN))
    return cli(*steps)


def test_a_first_hour_in_chinese_shows_no_english(run: Any, tmp_path: Any) -> None:
    seen: list[tuple[tuple[str, ...], list[str]]] = []
    wrong: list[str] = []

    def step(*args: str, code: int = 0) -> str:
        try:
            output: str = run(*args, code=code).output
        except AssertionError as failed:  # every step's problem reported at once
            wrong.append(str(failed))
            return ""
        leaked = latin_in(output, help_text="--help" in args)
        if leaked:
            seen.append((args, leaked))
        return output

    card = ["--set", "性别=女", "--set", "出生日期=2016-03-08", "--set", "家庭住址=白岩镇新村12号"]
    card += ["--set", "家庭情况=隔代监护", "--set", "监护人姓名=王大山", "--set", "与儿童关系=祖父"]
    card += ["--set", "监护人电话=13812345678", "--set", "是否寄宿=否"]
    # the administrator files the child, in Chinese field names and values
    step("child", "add", "王小红", "--class", "4/1班", *card, "--as", ADMIN)
    step("child", "add", "李小明", "--class", "4/1班", "--set", "性别=火星人", "--as", ADMIN, code=1)
    step("child", "edit", "1", "--set", "星座=白羊", "--as", ADMIN, code=1)
    step("child", "fields")
    step("staff", "list", "--as", ADMIN)
    step("class", "list", "--as", ADMIN)
    step("staff", "add", "新老师", "--role", "校长", "--as", ADMIN, code=1)
    # the counsellor opens the case and is refused until the card and the consent are complete
    step("case", "open", "1", "--as", COUNSELLOR)
    step("case", "advance", "1", "评估分类", "--as", COUNSELLOR, code=3)
    step("case", "why", "1", "评估分类", "--as", COUNSELLOR)
    step("child", "edit", "1", "--set", "母亲姓名=李芳", "--set", "母亲电话=13987654321", "--as", COUNSELLOR)
    step("case", "advance", "1", "评估分类", "--as", COUNSELLOR)
    step("record", "assessment", "1", "--category", "学习", "--summary", "想念父母", "--as", COUNSELLOR, code=3)
    step("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", COUNSELLOR)
    step("record", "assessment", "1", "--category", "学习", "--summary", "想念父母", "--as", COUNSELLOR)
    step("record", "assessment", "1", "--category", "跳舞", "--summary", "想念父母", "--as", COUNSELLOR, code=1)
    step("case", "advance", "1", "跳舞", "--as", COUNSELLOR, code=1)
    step("case", "advance", "1", "开始结对帮扶", "--as", COUNSELLOR, code=3)
    step("case", "show", "1", "--as", COUNSELLOR)
    step("case", "history", "1", "--as", COUNSELLOR)
    step("child", "show", "1", "--as", COUNSELLOR)
    step("case", "list", "--as", COUNSELLOR)
    step("case", "list", "--state", "已结案", "--as", COUNSELLOR)
    step("child", "find", "--name", "王", "--as", COUNSELLOR)
    step("child", "find", "--name", "不存在", "--as", COUNSELLOR)
    step("case", "show", "99", "--as", COUNSELLOR, code=1)
    step("rules", "explain", "1", "--as", COUNSELLOR)
    step("doc", "list", "1", "--as", COUNSELLOR)
    step("audit", "verify", "--as", COUNSELLOR, code=5)
    # the class teacher writes the monthly talk; the mentor is refused a case not theirs
    step("record", "talk", "1", "--summary", "谈心", "--as", TEACHER)
    step("case", "list", "--as", TEACHER)
    step("review", "due", "--as", TEACHER)
    step("case", "show", "1", "--as", MENTOR, code=5)
    step("case", "list", "--as", MENTOR)
    # the leader
    step("review", "stalled", "--as", LEADER)
    step("review", "overdue", "--as", LEADER)
    step("review", "load", "--as", LEADER)
    step("review", "meeting", "new", "--as", LEADER)
    step("review", "meeting", "new", "--as", LEADER, code=4)
    step("review", "meeting", "show", "1", "--as", LEADER)
    step("report", "indicators", "--as", LEADER)
    step("report", "five-ones", "--as", LEADER)
    step("case", "advance", "1", "结案", "--as", LEADER, code=3)  # a reason is required
    step("privacy", "purge", "--as", LEADER, code=5)
    # the auditor: reads ids and states, searches no names, writes nothing
    step("audit", "verify", "--as", AUDITOR)
    step("child", "find", "--name", "王", "--as", AUDITOR, code=5)
    step("child", "find", "--phone", "13812345678", "--as", AUDITOR, code=5)
    step("record", "talk", "1", "--summary", "审计员不能写", "--as", AUDITOR, code=5)
    step("child", "show", "1", "--as", AUDITOR)
    step("case", "history", "1", "--as", AUDITOR)
    # the administrator's compliance report, and mistakes anyone makes
    step("privacy", "report", "--as", ADMIN)
    step("case", "show", "一", "--as", COUNSELLOR, code=2)
    step("case", "lists", "--as", COUNSELLOR, code=2)
    step("case", "show", "--as", COUNSELLOR, code=2)
    step("case", "show", "1", "--as", "不存在的人", code=1)
    step("case", "--help")
    step("case", "advance", "--help")
    step("record", "plan", "--help")
    step("staff", "add", "--help")
    step("--help")
    assert not wrong, "\n".join(wrong)
    assert len(seen) == 0, "\n".join(f"{' '.join(args)}: {', '.join(words)}" for args, words in seen)


def test_english_with_lang_en_or_an_english_locale_and_its_list_separator(run: Any) -> None:
    for how in ({"args": ("--lang", "en")}, {"env": {"LANG": "en_US.UTF-8"}}):
        args = (*how.get("args", ()), "staff", "add", "新老师", "--role", "dance", "--as", ADMIN)
        out = run(*args, code=1, env=how.get("env")).output
        assert "--role: 'dance' is not one of leader, deputy leader, class teacher" in out, out
        assert "、" not in out
    chinese = run("staff", "add", "新老师", "--role", "dance", "--as", ADMIN, code=1).output
    assert "组长、副组长、班主任" in chinese
    # --as before the command, after it, or from CASEWORK_ACTOR: accepted by every command
    run("--as", ADMIN, "staff", "list")
    run("staff", "list", "--as", ADMIN)
    run("review", "sweep", "--as", LEADER)
    run("class", "list", env={"CASEWORK_ACTOR": ADMIN})


def test_the_table_of_lazily_loaded_commands_names_each_command_once() -> None:
    import importlib

    from casework.cli import COMMAND_MODULES, SUMMARIES, app

    for module_name in set(COMMAND_MODULES.values()):
        module = importlib.import_module(f"casework.commands.{module_name}")
        for command in module.COMMANDS:
            assert COMMAND_MODULES.get(command.name or "") == module_name, command.name
    assert sorted(app().commands) == sorted(COMMAND_MODULES) == sorted(SUMMARIES)
    for name, command in app().commands.items():
        # what `casework --help` lists without importing the command is the command's own first line
        written = command.__dict__.get("casework_original", {}).get("help", command.help)
        assert SUMMARIES[name] == (written or "").strip().splitlines()[0], name


def test_an_empty_list_says_what_was_looked_for(run: Any) -> None:
    out = run("staff", "list", "--school", "无此校", "--as", ADMIN).output
    assert out.strip() == "未找到无此校的教职工", out
    assert "┏" not in out  # no empty frame
