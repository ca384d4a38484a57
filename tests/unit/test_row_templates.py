"""Rows written a batch at a time through one template read exactly as the same rows written value by value."""

from __future__ import annotations

import csv
import io
import json
from enum import IntEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.formats import row_templates, xlsx_stream
from casework.formats.row_templates import Layout, Slot
from casework.services.audit import export as audit_export

WIDTH = len(audit_export.HEADERS)
ODD = [
    "=1+1",
    "+86 138 0000 0000",
    "-2",
    "@home",
    "\tTAB first",
    "\rCR first",
    'say "hi"',
    "back\\slash",
    "a & b < c > d",
    "_x0041_",
    "line\nbreak",
    "bell\x07",
    "\ufffe\uffff",
    "lone \ud800 surrogate",
    "家长电话 13812345678",
    "",
    "%s %d %%",
    "\U0001f600 non-BMP",
    "\ud83d\ude00",
]


class Label(str):
    """A str subclass: not the exact type the fast path takes."""


class Level(IntEnum):
    HIGH = 3


texts = st.one_of(st.sampled_from(ODD), st.text(max_size=12), st.sampled_from(["case.moved", "case", "assessed"]))
values = st.one_of(
    st.none(),
    st.integers(-(2**70), 2**70),
    texts,
    st.floats(allow_nan=False),
    st.booleans(),
    st.binary(max_size=4),
    st.just(Label("=subclass")),
    st.just(Level.HIGH),
)


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[object, ...]]:
    """A batch whose columns are each of one kind, of a kind with None, or mixed."""
    n = draw(st.integers(1, 8))
    kinds = [draw(st.sampled_from(["int", "text", "none", "int+none", "text+none", "any"])) for _ in range(WIDTH)]

    def value(kind: str) -> object:
        if kind == "int":
            return draw(st.integers(0, 10**12))
        if kind == "text":
            return draw(texts)
        if kind == "none":
            return None
        if kind == "int+none":
            return draw(st.one_of(st.none(), st.integers(0, 10**12)))
        if kind == "text+none":
            return draw(st.one_of(st.none(), texts))
        return draw(values)

    return [tuple(value(k) for k in kinds) for _ in range(n)]


LAYOUTS = {
    "jsonl": audit_export.JSON_LINES,
    "csv": audit_export.CSV_RECORDS,
    "xlsx": xlsx_stream.layout(WIDTH),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@settings(max_examples=300, deadline=None)
@given(rows=batches(), first=st.integers(1, 10**6))
def test_a_batch_through_the_template_is_the_rows_written_one_by_one(name: str, rows, first: int) -> None:
    layout = LAYOUTS[name]
    assert layout.format(rows, first) == layout.careful(rows, first)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_rows_of_none_alone_are_written_each(name: str) -> None:
    rows = [(None,) * WIDTH] * 3
    assert LAYOUTS[name].format(rows) == LAYOUTS[name].careful(rows)
    assert LAYOUTS[name].format(rows).count(LAYOUTS[name].end) == 3


def test_a_batch_of_rows_of_several_widths_is_refused_both_ways() -> None:
    rows = [(1,) * WIDTH, (1,) * (WIDTH + 1)]
    with pytest.raises(ValueError):
        audit_export.CSV_RECORDS.format(rows)
    with pytest.raises(ValueError):
        audit_export.CSV_RECORDS.careful(rows)


def _chain_row(n: int, text: str, data: dict, none_at: int | None = None) -> tuple[object, ...]:
    """A row as the chain stores it (FIELDS then hash); ``none_at``: a nullable column left empty."""
    row: list[object] = [1, n, "2026-10-01T08:00:00.000000Z", 7, "case.moved", "case", n, n]
    row += [text, "assessed", json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))]
    row += ["a" * 64, "b" * 64]
    if none_at is not None:
        row[none_at] = None
    return tuple(row)


CHAIN_ROWS = [
    _chain_row(1, "identified", {"event": "assess", "note": '家长说"好"，=1+1'}),
    _chain_row(2, "=SUM(A1)", {"verdicts": [{"message": {"zh_CN": "联络卡", "en": 'card, "complete"'}}]}, 3),
    _chain_row(3, 'say "hi"\nnext line', {}, 8),
    _chain_row(4, "-2", {"n": 10**15}, 7),
]


def test_json_lines_read_back_as_the_rows() -> None:
    lines = audit_export.JSON_LINES.format(CHAIN_ROWS).decode("utf-8").splitlines()
    for line, row in zip(lines, CHAIN_ROWS, strict=True):
        event = json.loads(line)
        expected = dict(zip(audit_export.HEADERS, row, strict=True))
        expected["data"] = json.loads(row[10])
        assert event == expected
        assert list(event) == sorted(event)  # keys in sorted order


def test_csv_records_read_back_as_the_rows_with_formulas_neutralised() -> None:
    text = audit_export.CSV_RECORDS.format(CHAIN_ROWS).decode("utf-8")
    records = list(csv.reader(io.StringIO(text, newline="")))
    for record, row in zip(records, CHAIN_ROWS, strict=True):
        expected = [
            "" if v is None else ("'" + v if v.startswith(("=", "-")) else v) if isinstance(v, str) else str(v)
            for v in row
        ]
        assert record == expected


def test_a_fixed_piece_holding_a_percent_sign_is_refused() -> None:
    with pytest.raises(ValueError, match="holds a %"):
        Layout([Slot(0, b"%d", b"%b", b"100%", bytes)], b"", b"")
    with pytest.raises(ValueError, match="holds a %"):
        Layout([Slot(0, b"%d", b"%b", b"<c/>", bytes)], b'<row r="%d" x="%">', b"", numbered=True)


def test_formula_like_texts_get_a_quote_and_only_those() -> None:
    texts = ["=SUM(A1)", "plain", "-1", "a=b", "\t", "@x", "+", "", "x\n=y", "\r"]
    screened = row_templates.screened(texts, b"")  # the formula bytes are always kept
    assert screened is not None
    data, found = screened
    assert found == b"=\x00\x00-\x00=\x00\t\x00@\x00+\x00\x00=\x00\r"
    expected = [b"'=SUM(A1)", b"plain", b"'-1", b"a=b", b"'\t", b"'@x", b"'+", b"", b"x\n=y", b"'\r"]
    assert row_templates.formula_prefixed(data) == expected
    assert row_templates.formula_prefixed(data, found) == expected
    assert row_templates.formula_prefixed(b"plain\x00x") == [b"plain", b"x"]
    # Told where the formula bytes are, it looks no further (a wrong answer shows it did not).
    assert row_templates.formula_prefixed(b"=x\x00y", b"\x00") == [b"=x", b"y"]
    assert row_templates.formula_prefixed(b"=x\x00y", b"=\x00") == [b"'=x", b"y"]
    # Whatever rare bytes a format screens for, the extract keeps the formula bytes: it can always serve.
    screened = row_templates.screened(["x", "=y", "+"], b"&", b"_")
    assert screened is not None
    assert row_templates.formula_prefixed(*screened) == [b"x", b"'=y", b"'+"]
    # A formula byte inside a text is no formula.
    assert row_templates.formula_prefixed(b"a=b\x00c-d", b"=\x00-") == [b"a=b", b"c-d"]


def test_texts_that_cannot_be_encoded_or_hold_a_separator_or_an_unsafe_byte_are_turned_down() -> None:
    assert row_templates.screened(["a", "b"], b"") == (b"a\x00b", b"\x00")
    assert row_templates.screened(["家", ""], b"") == ("家\x00".encode(), b"\x00")
    assert row_templates.screened(["a\x00b"], b"") is None
    assert row_templates.screened(["\ud800"], b"") is None
    assert row_templates.screened(["a", "b"], b"&") == (b"a\x00b", b"\x00")
    assert row_templates.screened(["a&", "b"], b"&") is None
    assert row_templates.screened(["a\x00", "b"], b"&") is None
    assert row_templates.split(["a", "b&"]) == [b"a", b"b&"]
    assert row_templates.split(["a", "b&"], b"&") is None


def test_screened_keeps_the_rare_bytes_in_order_and_an_unsafe_byte_wins_over_rare() -> None:
    assert row_templates.screened(["a_b", "=c", "dx_"], b"&", b"_=x") == (b"a_b\x00=c\x00dx_", b"_\x00=\x00x_")
    assert row_templates.screened(["abc", "def"], b"&", b"_=") == (b"abc\x00def", b"\x00")
    # CR is rare to one format and unsafe to another: unsafe, it turns the texts down.
    assert row_templates.screened(["a\rb"], b"\r", b"\r") is None
    assert row_templates.screened(["a\rb"], b"", b"\r") == (b"a\rb", b"\r")
    assert row_templates.screened(["\ufffe"], b"", b"\xef\xbf\xbe") == ("\ufffe".encode(), "\ufffe".encode())
    # A NUL inside a text is never taken for a separator, rare bytes or not.
    assert row_templates.screened(["a\x00_", "b"], b"", b"_") is None


def test_a_column_whose_extract_suggests_an_escape_it_does_not_need_is_still_written_fast() -> None:
    # _ and x with a letter between: the extract (_, x and formula bytes kept) shows _x, the text does not.
    assert row_templates.screened(["a_bx"], b"", xlsx_stream._RARE) == (b"a_bx", b"_x")
    assert xlsx_stream._fit(["a_bx"]) == [b"a_bx"]
    assert xlsx_stream._fit(["_x0041_"]) is None
    # U+F03F U+00BE is EF 80 BF C2 BE: its extract holds EF BF BE, U+FFFE's bytes; the text does not.
    assert row_templates.screened(["\uf03f\u00be"], b"", xlsx_stream._RARE)[1] == "\ufffe".encode()
    assert xlsx_stream._fit(["\uf03f\u00be"]) == ["\uf03f\u00be".encode()]
    assert xlsx_stream._fit(["ok", "\ufffe"]) is None
    assert xlsx_stream._fit(["\uffff"]) is None
