"""Our hand-written codecs against the libraries they stand in for: what openpyxl writes, our XLSX reader
reads back equal; what we write into a DOCX, python-docx opens with the text intact."""

from __future__ import annotations

import html
import io
import math
import re
from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from casework.documents import render, samples
from casework.documents.docx import from_html
from casework.formats import xlsx_stream, xmltext
from casework.formats.xlsx import Workbook

# Text openpyxl accepts in a cell (it refuses XML's forbidden controls); no leading "=", which
# openpyxl would store as a formula.
cell_text = st.text(max_size=40).filter(lambda t: not ILLEGAL_CHARACTERS_RE.search(t) and not t.startswith("="))
cell_value = st.one_of(
    st.none(),
    cell_text,
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda f: f == 0 or 1e-300 < abs(f) < 1e300),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
)


def _same(ours: object, theirs: object) -> bool:
    if isinstance(theirs, float) and isinstance(ours, int | float):
        return math.isclose(ours, theirs, rel_tol=1e-15, abs_tol=0.0) or ours == theirs
    if isinstance(theirs, str) and theirs == "" and ours is None:
        return True  # an empty text cell is an empty cell to a register
    return ours == theirs and type(ours) is type(theirs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cell_value, min_size=1, max_size=6), min_size=1, max_size=6))
def test_what_openpyxl_writes_our_reader_reads_back_equal(tmp_path: Path, rows: list[list[object]]) -> None:
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    # openpyxl's own reading is the oracle: what Excel would show in each cell.
    oracle_book = openpyxl.load_workbook(path, read_only=True)
    try:
        theirs = [list(r) for r in oracle_book.active.iter_rows(values_only=True)]
    finally:
        oracle_book.close()
    ours_book = Workbook(str(path))
    try:
        part = next(p for _, p, _ in ours_book.sheets)
        ours = {number: cells for number, cells in ours_book.rows(part)}
    finally:
        ours_book.close()
    for number, expected in enumerate(theirs, start=1):
        got = ours.get(number, [])
        got = got + [None] * (len(expected) - len(got))
        for column, (mine, oracle) in enumerate(zip(got, expected, strict=False)):
            assert _same(mine, oracle), (number, column, mine, oracle)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_our_xlsx_writer_keeps_any_text_openpyxl_reads(tmp_path: Path, texts: list[str]) -> None:
    """The streaming writer escapes what XML cannot carry as _xHHHH_; openpyxl reads the text back."""
    texts = [t.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for t in texts]  # lone surrogates: U+FFFD
    path = tmp_path / "out.xlsx"
    with xlsx_stream.SheetRows(f"{path}.0", 0) as sheet:
        sheet.append(tuple(texts))
        parts = [sheet.close()]
    xlsx_stream.write_workbook(str(path), tuple(f"h{n}" for n in range(len(texts))), "audit", 1, parts)
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        row = next(book.active.iter_rows(min_row=2, values_only=True))
    finally:
        book.close()
    formula_like = ("=", "+", "-", "@", "\t", "\r")
    # Excel reads _xHHHH_ as the character; openpyxl leaves it: undone here as Excel would.
    shown = [re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), v or "") for v in row]
    assert shown == [("'" + t if t.startswith(formula_like) else t) for t in texts]


def _visible(text: str) -> list[str]:
    """The characters a reader sees: printable and not white space."""
    return [c for c in text if c.isprintable() and not c.isspace()]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_in_a_docx_opens_in_python_docx_intact(text: str) -> None:
    cell = f"<table><tr><td>{html.escape(text)}</td></tr></table>"
    page = f"<html><body><h1>标题</h1><p>{html.escape(text)}</p>{cell}</body></html>"
    document = docx.Document(io.BytesIO(from_html(page, "zh_CN")))
    body = "".join(p.text for p in document.paragraphs[1:]) + "".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert _visible(body) == _visible(text) * 2


@pytest.mark.parametrize("pasted", ["第一行\x0b第二行", "制表\t符", "分页\x0c之后", "铃声\x07", "回车\r\n换行"])
def test_text_pasted_from_word_renders_through_a_real_template(pasted: str) -> None:
    """Word's manual line break (\\x0b, pasted) used to go raw into the XML: python-docx refused the file."""
    context = samples.sample("talk_record", "zh_CN")
    first = context.talks[0]
    context = type(context)(**{**context.__dict__, "talks": [type(first)(**{**first.__dict__, "summary": pasted})]})
    data = render.render("talk_record", context, "docx", "zh_CN")
    document = docx.Document(io.BytesIO(data))
    text = "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    assert all(c in text for c in _visible(pasted))
    assert not xmltext.has_forbidden(text)
