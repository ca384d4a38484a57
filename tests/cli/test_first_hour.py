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
    r"\S*\.(?:db|key|pub|toml|xlsx|csv|pdf|docx|html|md|json|jsonl)\b",  # file names and extensions
    r"'casework[^']*'",  # a command quoted in a hint
    r"casework(?: [a-z][a-z-]*)*",  # the program and a command path (用法： casework case show)
    r"--[a-z][a-z-]*",  # option names
    r"(?<![A-Za-z])(?:PDF|DOCX|XLSX|CSV|HTML|SDQ|JSON)(?![A-Za-z])",
    r"\b[0-9a-f]*\d[0-9a-f]*\b",  # hexadecimal versions (rule set, workflow), ids
    r"'[a-z][a-z-]*'",  # a command name quoted in a hint (没有命令 'lists'，您是否想输入 'list')
]
# Help lists what a person types: the commands, -h, the language codes, the environment variables,
# input quoted `like this`, and the formats an option offers ([html|md|docx|pdf], [默认：html]);
# and names no one translates: the SQLite database, Markdown and Excel, the encodings and keys.
FORMAT = r"(?:text|html|md|docx|pdf|xlsx|csv|jsonl)"
HELP_ALLOWED = [
    r"(?m)^  [a-z][a-z-]*(?=\s)",
    r"-h\b",
    r"\bzh_CN\b",
    r"\ben\*?(?![a-z])",
    r"\bLANG\b",
    r"\bCASEWORK_[A-Z_]+\b",
    r"`[^`\n]+`",
    rf"\[{FORMAT}(?:\|{FORMAT})*\]",
    rf"默认：{FORMAT}\]",
    r"\b(?:SQLite|Markdown|Excel|UTF-8|BOM|Ed25519|SHA-256)\b",
]
LATIN = re.compile(r"[A-Za-z]+")


def latin_in(text: str, help_text: bool = False) -> list[str]:
    for pattern in (HELP_ALLOWED if help_text else []) + ALLOWED:
        text = re.sub(pattern, " ", text)
    return LATIN.findall(text)


def test_the_allow_list_lets_file_names_and_hints_through_and_nothing_else() -> None:
    assert latin_in("已写入 out/report.xlsx（XLSX）；请先用 'casework record consent' 登记，见 --as") == []
    assert latin_in("可执行操作 plan, close") == ["plan", "close"]
    assert latin_in("没有编号为 2 的child") == ["child"]
    assert latin_in("--format [html|md]  格式  [默认：html]", help_text=True) == []
    assert latin_in("--flag 取值  [默认：critical]", help_text=True) == ["critical"]
    assert latin_in("--month YYYY-MM  Defaults to the current month.", help_text=True) == ["YYYY", "MM", "Defaults"] + [
        "to",
        "the",
        "current",
        "month",
    ]


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


def _every_command() -> list[tuple[list[str], Any]]:
    """Each command and subcommand of the assembled application, by its path (the root's is [])."""
    import click

    from casework.cli import app

    found: list[tuple[list[str], Any]] = []

    def walk(command: click.Command, path: list[str]) -> None:
        found.append((path, command))
        if isinstance(command, click.Group):
            for name in sorted(command.commands):
                walk(command.commands[name], [*path, name])

    walk(app(), [])
    return found


def _help(path: list[str], *before: str, env: dict[str, str] | None = None) -> str:
    from click.testing import CliRunner

    from casework.cli import app

    result = CliRunner(catch_exceptions=False).invoke(app(), [*before, *path, "--help"], env=env)
    assert result.exit_code == 0, result.output
    output: str = result.output
    return output


def _written_help() -> list[tuple[list[str], str]]:
    """Each help text as the code writes it ("English. 中文。"), with the path of its command: the
    command's own and its options' (a vocabulary option's help is its labels, made when shown)."""
    import click

    from casework.cli import App, app
    from casework.commands.common import Vocab
    from casework.commands.toolkit import restore

    root = app()
    restore(root)  # the texts as written, whatever an earlier run in this process chose
    assert isinstance(root, App)
    texts: list[tuple[list[str], str]] = []
    for path, command in _every_command():
        texts += [(path, command.help)] if command.help else []
        for param in command.params:
            if isinstance(param, click.Option) and param.help and not isinstance(param.type, Vocab):
                texts.append((path, param.help))
    return texts


def test_every_help_in_chinese_is_the_catalogues_translation_with_no_english() -> None:
    from casework import i18n
    from casework.text import help_parts

    written = _written_help()
    shown = {" ".join(path): _help(path) for path, _command in _every_command()}
    leaks = {path: latin_in(text, help_text=True) for path, text in shown.items()}
    assert not any(leaks.values()), "\n".join(f"casework {p} --help: {', '.join(w)}" for p, w in leaks.items() if w)
    untranslated, missing = [], []
    for path, text in written:
        english, _tag = help_parts(text)
        translated = i18n.gettext_(english, "zh_CN")
        if translated == english:
            untranslated.append(english)
        elif "".join(translated.split()) not in "".join(shown[" ".join(path)].split()):
            missing.append(f"casework {' '.join(path)} --help: {translated!r}")
    assert len(written) > 200
    assert not untranslated, "no translation in the zh_CN catalogue (make i18n, then translate):\n" + "\n".join(
        untranslated
    )
    assert not missing, "the translation is not what the help shows:\n" + "\n".join(missing)


def test_the_catalogue_holds_every_help_text_the_extractor_finds_and_translates_each() -> None:
    from pathlib import Path

    from babel.messages.pofile import read_po

    import casework
    from casework.i18n import LOCALE_DIR
    from casework.i18n.extract import help_texts
    from casework.text import help_parts

    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "casework.po").open("rb") as po:
        catalogue = read_po(po)
    found = {
        help_parts(text)[0]
        for source in Path(casework.__file__).parent.rglob("*.py")
        for _line, text in help_texts(source.read_text(encoding="utf-8"), {"SUMMARIES"})
    }
    found.discard("")
    assert "Fire an event: assess, plan, mentor, review, continue, revise, reassess, close, reopen." in found
    absent = sorted(msgid for msgid in found if catalogue.get(msgid) is None)
    empty = sorted(msgid for msgid in found if catalogue.get(msgid) is not None and not catalogue[msgid].string)
    assert not absent, "help texts missing from casework.po (run make i18n):\n" + "\n".join(absent)
    assert not empty, "help texts with an empty msgstr in zh_CN:\n" + "\n".join(empty)


# Chinese letters (and their punctuation) in English output.
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


def test_every_help_in_english_is_english_but_for_the_chinese_it_quotes() -> None:
    from casework.text import help_parts

    # the English texts as written: a line of help may break within what they quote (监护人 | 电话)
    quoted = "\n".join(help_parts(text)[0] for _path, text in _written_help())
    assert "数学=58" in quoted  # record result --subject: e.g. 数学=58
    chinese: list[str] = []
    for path, _command in _every_command():
        for how in ({"before": ("--lang", "en")}, {"env": {"LANG": "en_US.UTF-8"}}):
            output = _help(path, *how.get("before", ()), env=how.get("env"))
            chinese += [f"casework {' '.join(path)} --help: {run}" for run in CJK.findall(output) if run not in quoted]
            if path:
                break  # the locale is tried on the root's help only
    assert not chinese, "\n".join(chinese)


def test_every_help_fits_eighty_columns_a_chinese_character_taking_two() -> None:
    import unicodedata

    def columns(line: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)

    wide = [
        f"casework {' '.join(path)} --help ({columns(line)}): {line}"
        for path, _command in _every_command()
        for before in ((), ("--lang", "en"))
        for line in _help(path, *before).splitlines()
        if columns(line) > 80
    ]
    assert not wide, "\n".join(wide)


def test_an_empty_list_says_what_was_looked_for(run: Any) -> None:
    out = run("staff", "list", "--school", "无此校", "--as", ADMIN).output
    assert out.strip() == "未找到无此校的教职工", out
    assert "┏" not in out  # no empty frame
