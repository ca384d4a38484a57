"""Write a batch of rows through one %-template: the per-value decisions taken a column at a time.

Written cell by cell in Python, a row of the audit export's 13 columns costs 4–8 µs (a type
test, an escape check and a piece of text per cell), then its encoding to UTF-8 about 2 µs
more. The rows of a batch come from one table, so a column is nearly always of one type and its
texts seldom need escaping: each column of the batch is looked at once (the types it holds;
its texts joined, encoded and checked by the format's ``fit``), a bytes template with one
piece per column is put together, and the rows go through ``%``, which writes a whole row in C.
A column ``fit`` turns down (mixed types, text to escape, a value of another type) is written
value by value by the format's own careful function, so the output is the same either way;
only the time differs (``Layout.careful`` is that slow way, for the tests to compare).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from casework.formats.spreadsheets import DANGEROUS_START

NoneType = type(None)
_DANGEROUS = tuple(start.encode() for start in DANGEROUS_START)
# The first bytes of a formula: texts holding none of them hold no formula.
FORMULA_BYTES = b"".join(_DANGEROUS)
# A text starting like a formula, in texts joined by NUL (``screened``).
_FORMULA_AFTER_NUL = re.compile(b"\\x00[" + re.escape(FORMULA_BYTES) + b"]")


def _safe_bytes(unsafe: bytes) -> bytes:
    """Every byte but NUL and those of ``unsafe``: a deletion table leaving NUL and ``unsafe``."""
    return bytes(b for b in range(1, 256) if b not in unsafe)


def screened(texts: list[str], unsafe: bytes, rare: bytes = b"") -> tuple[bytes, bytes] | None:
    """The texts in UTF-8 joined by NUL, for ``.split(b"\\x00")``, and their NULs and bytes of ``rare``
    and of ``FORMULA_BYTES`` (those not in ``unsafe``) in order, the rest left out; None when a text
    cannot be encoded (a lone surrogate), holds NUL or holds a byte of ``unsafe``.

    A format's closer checks (an escape sequence, a formula's first character) need to look at
    the texts only where the bytes such a thing is made of are there, in that order: in this
    short extract when its bytes are among ``rare``, where each check would be another pass over
    the texts.
    """
    try:
        data = "\x00".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        return None
    keep, allowed = _screen(unsafe, rare)
    found = data.translate(None, keep)  # the NULs, unsafe and rare bytes, in order
    if found.count(0) != len(texts) - 1:
        return None
    if len(found) > len(texts) - 1 and found.translate(None, allowed):  # an unsafe byte
        return None
    return data, found


_SCREENS: dict[tuple[bytes, bytes], tuple[bytes, bytes]] = {}


def _screen(unsafe: bytes, rare: bytes) -> tuple[bytes, bytes]:
    """The deletion table keeping NUL, ``unsafe``, ``rare`` and the formula bytes; NUL and the kept
    bytes that are not unsafe. The formula bytes are always kept, so that whatever ``screened``
    gives can serve ``formula_prefixed``."""
    if (unsafe, rare) not in _SCREENS:
        kept = rare + FORMULA_BYTES
        allowed = bytes(b for b in kept if b not in unsafe)
        _SCREENS[unsafe, rare] = _safe_bytes(unsafe + kept), b"\x00" + allowed
    return _SCREENS[unsafe, rare]


def formula_prefixed(data: bytes, found: bytes | None = None) -> list[bytes]:
    """The texts of ``data`` (``screened``), a ' before each that starts like a formula (= + - @ TAB CR).

    One search over the joined texts finds whether any does, after one over ``found`` when
    given: the extract ``screened`` made, which keeps the formula bytes, where a text starting
    like a formula shows as a NUL (or the start) and that byte.
    """
    texts = data.split(b"\x00")
    if found is not None and not (found.startswith(_DANGEROUS) or _FORMULA_AFTER_NUL.search(found)):
        return texts
    if texts[0].startswith(_DANGEROUS) or _FORMULA_AFTER_NUL.search(data):
        return [b"'" + t if t.startswith(_DANGEROUS) else t for t in texts]
    return texts


def split(texts: list[str], unsafe: bytes = b"") -> list[bytes] | None:
    """The texts encoded, each as it is; None when ``screened`` turns them down."""
    screened_texts = screened(texts, unsafe)
    return None if screened_texts is None else screened_texts[0].split(b"\x00")


def _without_none(column: Sequence[Any], nulls: bool) -> list[Any]:
    return [v for v in column if v is not None] if nulls else list(column)


@dataclass(frozen=True)
class Slot:
    """How one column of the rows is written.

    ``integer`` and ``text`` are template pieces holding ``%d`` and ``%b``: for a column whose
    values are all ints (None when ints are not written this way), and for a column of texts
    that ``fit`` returns encoded (escaped as the format needs; None when one needs the careful
    function). ``null`` is the piece for a column of None; ``one`` writes any value.
    """

    column: int
    integer: bytes | None
    text: bytes | None
    null: bytes
    one: Callable[[Any], bytes]
    fit: Callable[[list[str]], list[bytes] | None] = split


@dataclass(frozen=True)
class Layout:
    """Rows written as ``start``, the slots' pieces in order, ``end``; numbered when ``numbered``
    (``start`` then holds the number's ``%d``)."""

    slots: Sequence[Slot]
    start: bytes
    end: bytes
    numbered: bool = False

    def __post_init__(self) -> None:
        start = self.start.replace(b"%d", b"", 1) if self.numbered else self.start
        for piece in (start, self.end, *(s.null for s in self.slots)):
            if b"%" in piece:
                raise ValueError(f"a fixed piece of a row template holds a %: {piece!r}")

    def format(self, rows: Sequence[Sequence[Any]], first: int = 1) -> bytes:
        """The rows (all of one width: ValueError otherwise) in UTF-8, numbered from ``first``: the
        bytes ``careful`` gives, faster."""
        if not rows:
            return b""
        columns = list(zip(*rows, strict=True))
        pieces = [self.start]
        values: list[Sequence[Any]] = [range(first, first + len(rows))] if self.numbered else []
        for slot in self.slots:
            column = columns[slot.column]
            kinds = set(map(type, column))
            nulls = NoneType in kinds
            kinds.discard(NoneType)
            if not kinds:
                pieces.append(slot.null)
                continue
            piece: bytes | None = None
            fitted: Sequence[Any] | None = None
            if kinds == {int} and slot.integer is not None:
                piece, fitted = slot.integer, _without_none(column, nulls)
            elif kinds == {str} and slot.text is not None:
                piece, fitted = slot.text, slot.fit(_without_none(column, nulls))
            if piece is None or fitted is None:
                pieces.append(b"%b")
                values.append(list(map(slot.one, column)))
            elif nulls:  # None among them: each value set in its piece here
                each = iter(fitted)
                pieces.append(b"%b")
                values.append([slot.null if v is None else piece % next(each) for v in column])
            else:
                pieces.append(piece)
                values.append(fitted)
        pieces.append(self.end)
        template = b"".join(pieces)
        if not values:  # every column None, no number: each row is the template as it is
            return template * len(rows)
        return b"".join([template % row for row in zip(*values, strict=True)])

    def careful(self, rows: Sequence[Sequence[Any]], first: int = 1) -> bytes:
        """The rows written value by value by each slot's own function: what ``format`` must equal."""
        if len({len(row) for row in rows}) > 1:
            raise ValueError("the rows of a batch are not all of one width")
        out = []
        for n, row in enumerate(rows, start=first):
            start = self.start % n if self.numbered else self.start
            out.append(start + b"".join(slot.one(row[slot.column]) for slot in self.slots) + self.end)
        return b"".join(out)
