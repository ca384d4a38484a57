"""Registers from the command line, as a school's administrator uses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rosters import children, write_csv, write_xlsx


@pytest.fixture
def run(cli):
    return cli(("init", "--admin", "管理员", "--school", "测试小学"), env={"CASEWORK_ACTOR": "管理员"})


def test_a_gbk_register_goes_in_with_one_command(run, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "花名册.csv", children(40, seed=21), "gbk")
    out = run("--lang", "en", "import", "children", str(path)).output
    assert "children added" in out and "40" in out
    listed = run("child", "list", "--as", "管理员").output
    assert listed.count("\n") > 40
    again = run("--lang", "en", "import", "children", str(path)).output
    assert "unchanged" in again


def test_errors_come_back_as_a_fixable_spreadsheet(run, tmp_path: Path) -> None:
    rows = children(20, seed=22)
    rows[4]["父亲电话"] = "12345"
    rows[9]["出生日期"] = "2015-02-30"
    path = write_csv(tmp_path / "花名册.csv", rows, "gb18030")
    errors = tmp_path / "errors.xlsx"
    result = run("--lang", "en", "import", "children", str(path), "--errors-out", str(errors), code=1)
    assert "row 6, column J: 父亲电话" in result.output
    assert "row 11, column D: 出生日期" in result.output
    assert "2 problem(s) found, nothing was imported" in result.output
    assert "Traceback" not in result.output
    from openpyxl import load_workbook

    book = load_workbook(errors, read_only=True)
    table = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    assert table[0] == ["row", "column", "value", "problem"]
    assert [r[:3] for r in table[1:]] == [[6, "J 父亲电话", "12345"], [11, "D 出生日期", "2015-02-30"]]
    assert run("child", "list", "--as", "管理员", "--json").output.strip() == "[]"


def test_dry_run_export_and_rollover(run, tmp_path: Path) -> None:
    rows = children(10, seed=23, grades=(6,))
    path = write_xlsx(tmp_path / "花名册.xlsx", rows, title="六年级花名册")
    out = run("--lang", "en", "import", "children", str(path), "--dry-run").output
    assert "would be added" in out and "nothing was written" in out
    assert run("child", "list", "--as", "管理员", "--json").output.strip() == "[]"
    run("import", "children", str(path))
    export = tmp_path / "out.csv"
    assert "10" in run("export", "children", "--out", str(export)).output
    assert export.read_bytes().startswith(b"\xef\xbb\xbf")
    run("export", "cases", "--format", "xlsx", "--out", str(tmp_path / "cases.xlsx"))
    run("case", "open", "1", "--as", "管理员")
    out = run("--lang", "en", "year", "rollover").output
    assert "10 children graduated; 1 open case(s) closed" in out
    result = run("--lang", "en", "year", "rollover", code=4)
    assert "done already" in result.output


def test_a_missing_file_is_one_clear_line(run, tmp_path: Path) -> None:
    result = run("import", "children", str(tmp_path / "nope.csv"), code=1)
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
