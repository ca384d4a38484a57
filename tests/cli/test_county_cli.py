"""The education bureau on the command line: every command it runs either is refused or shows no child."""

from __future__ import annotations

import pytest

CHILD = "县里乙童"


@pytest.fixture
def run(cli):
    return cli(
        ("init", "--admin", "赵校务", "--school", "白岩小学"),
        ("class", "add", "4", "1班", "--as", "1"),
        ("staff", "add", "郑心怡", "--role", "counsellor", "--as", "1"),
        ("staff", "add", "县教育局王科长", "--role", "bureau", "--as", "1"),
        ("child", "add", CHILD, "--class", "4/1班", "--as", "1"),
        ("case", "open", "1", "--as", "郑心怡"),
    )


# Every read command a bureau officer might try, with the child and case that exist.
COMMANDS = [
    ("report", "county", "--month", "2026-09"),
    ("report", "county", "--month", "2026-09", "--json"),
    ("case", "list"),
    ("case", "list", "--json"),
    ("case", "show", "1"),
    ("case", "history", "1"),
    ("case", "why", "1", "assess"),
    ("child", "list"),
    ("child", "show", "1"),
    ("child", "find", "--name", "乙童"),
    ("review", "stalled"),
    ("review", "due"),
    ("report", "indicators"),
    ("report", "five-ones"),
    ("export", "children", "--out", "children.csv"),
    ("audit", "export", "--out", "audit.jsonl"),
    ("doc", "list", "1"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_no_child_reaches_the_bureau(run, args, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(*args, "--as", "县教育局王科长", code=None)  # code: any; judged below
    assert result.exit_code in (0, 1, 5), result.output
    assert CHILD not in result.output
    assert "Traceback" not in result.output
    if args[:2] == ("report", "county"):
        assert result.exit_code == 0, result.output
        assert "白岩小学" in result.output
    for written in tmp_path.iterdir():
        assert CHILD.encode() not in written.read_bytes()


def test_the_county_report_as_a_document(run, tmp_path) -> None:
    for fmt in ("html", "xlsx", "pdf"):
        out = tmp_path / f"county.{fmt}"
        run("report", "county", "--month", "2026-09", "--format", fmt, "--out", str(out), "--as", "县教育局王科长")
        assert out.stat().st_size > 0
        assert CHILD.encode() not in out.read_bytes()
