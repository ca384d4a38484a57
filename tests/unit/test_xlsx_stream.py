"""The streaming XLSX writer: ranges written apart join into the sheets one writer would make."""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path

import pytest

from casework.formats import xlsx_stream


@pytest.mark.parametrize(("a", "b"), [(0, 0), (0, 9), (9, 0), (1, 1), (1000, 77_777), (3, 1 << 20)])
def test_crc32_combine_is_the_crc_of_the_joined_bytes(a, b) -> None:
    first, second = os.urandom(a), os.urandom(b)
    assert xlsx_stream.crc32_combine(zlib.crc32(first), zlib.crc32(second), b) == zlib.crc32(first + second)


def _sheets(path: Path) -> list[list[tuple]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]
    finally:
        book.close()


def _write(path: Path, rows: list[tuple], cuts: list[int]) -> None:
    parts = []
    for n, (start, end) in enumerate(zip([0, *cuts], [*cuts, len(rows)], strict=True)):
        with xlsx_stream.SheetRows(f"{path}.{n}", start) as sheet:
            for row in rows[start:end]:
                sheet.append(row)
            parts.append(sheet.close())
    xlsx_stream.write_workbook(str(path), ("n", "text"), "audit", len(rows), parts)


def test_ranges_written_apart_fill_the_same_sheets(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx_stream, "PER_SHEET", 4)  # sheets of a header and four rows
    rows = [(n, f"=row {n} & <{n}>") for n in range(11)]
    _write(tmp_path / "one.xlsx", rows, [])
    _write(tmp_path / "three.xlsx", rows, [3, 9])
    sheets = _sheets(tmp_path / "one.xlsx")
    assert sheets == _sheets(tmp_path / "three.xlsx")
    assert [len(s) for s in sheets] == [5, 5, 4]
    assert sheets[1][0] == ("n", "text") and sheets[1][1] == (4, "'=row 4 & <4>")


def test_batches_spread_over_sheets_read_back_as_their_rows(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx_stream, "PER_SHEET", 4)  # sheets of a header and four rows
    rows = [(n, f"=row {n}" if n % 3 else None, "a & b" if n == 5 else "plain") for n in range(11)]
    with xlsx_stream.SheetRows(f"{tmp_path}/batch", 0) as sheet:
        sheet.extend(rows[:3])  # a batch ending inside the first sheet
        sheet.extend(rows[3:])  # and one running over two sheet boundaries
        parts = [sheet.close()]
    xlsx_stream.write_workbook(str(tmp_path / "batch.xlsx"), ("n", "text", "more"), "audit", len(rows), parts)
    sheets = _sheets(tmp_path / "batch.xlsx")
    assert [len(s) for s in sheets] == [5, 5, 4]
    got = [row for s in sheets for row in s[1:]]
    assert got == [(n, None if t is None else "'" + t, m) for n, t, m in rows]


def test_a_workbook_without_rows_has_the_header(tmp_path) -> None:
    _write(tmp_path / "empty.xlsx", [], [])
    assert _sheets(tmp_path / "empty.xlsx") == [[("n", "text")]]


ODD_TEXTS = [
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    "bell\x07and\x0bvertical tab",
    "not a character \ufffe\uffff",
    "a & b < c > d",
    "looks escaped _x0041_",
    "=1+1",
    "-2",
    "家长电话 13812345678",
]


def test_text_xml_cannot_carry_as_it_is_still_makes_a_workbook(tmp_path) -> None:
    """Each odd text alone in a chunk of plain rows: its row is escaped, the others are not touched."""
    rows = [(n, f"row {n}") for n in range(50)]
    for n, text in enumerate(ODD_TEXTS):
        rows[3 + 4 * n] = (3 + 4 * n, text)
    _write(tmp_path / "odd.xlsx", rows, [])
    (sheet,) = _sheets(tmp_path / "odd.xlsx")
    # Excel reads _xHHHH_ as the character; openpyxl leaves it: undone here as Excel would.
    got = {row[0]: re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), row[1]) for row in sheet[1:]}
    for n, text in enumerate(ODD_TEXTS):
        shown = got[3 + 4 * n]
        assert shown is not None and not shown.startswith(("=", "-")), (text, shown)
        if text[0] not in "=-":
            assert shown == text, (text, shown)
    assert got[0] == "row 0" and got[49] == "row 49"
