"""The streaming XLSX writer: ranges written apart join into the sheets one writer would make."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest

from casework.services import xlsx_stream


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


def test_a_workbook_without_rows_has_the_header(tmp_path) -> None:
    _write(tmp_path / "empty.xlsx", [], [])
    assert _sheets(tmp_path / "empty.xlsx") == [[("n", "text")]]
