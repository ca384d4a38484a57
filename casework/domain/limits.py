"""What a value may be, declared once: id range, length per kind of field, characters refused, plausible dates."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from casework.errors import InvalidInput
from casework.text import Msg

# Every id is a 64-bit signed integer in both databases.
MAX_ID = 2**63 - 1

# One length limit per kind of field, in characters.
NAME = 100  # a person's name, a guardian's relation, a login
LINE = 200  # any other one-line field: an address, a workplace, a title, an agency
TEXT = 5000  # prose: summaries, measures, targets, effects, reasons, follow-ups, minutes

# The ages a school serves (kindergarten to the end of senior middle school, with room for a
# late start or a repeated year): a birth date outside them is a typing error.
YOUNGEST = 2
OLDEST = 22
# A record is dated on or before tomorrow (a counsellor in another time zone, a clock a little
# fast) and not before its case was opened.
FUTURE_DAYS = 1

# Bidirectional formatting characters reorder what a terminal or a page shows (U+202E makes
# "exe.txt" read "txt.exe"); they have no place in a name or a note.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MULTILINE_OK = frozenset("\n\t")


def _refused(char: str, multiline: bool) -> bool:
    if char in _BIDI:
        return True
    if multiline and char in _MULTILINE_OK:
        return False
    return unicodedata.category(char) in ("Cc", "Cs")  # control characters, lone surrogates


def check_characters(text: str, field: str | Msg, multiline: bool = False) -> str:
    """Refuse control characters (ANSI escapes, a newline in a one-line field) and bidi overrides.

    Prose keeps its newlines and tabs (``multiline``); Windows line ends become plain ones.
    """
    if multiline:
        text = text.replace("\r\n", "\n")
    for position, char in enumerate(text, 1):
        if _refused(char, multiline):
            raise InvalidInput(
                "{field}: character {position} is a control or text-direction character ({code}), which is not allowed",
                field=field,
                position=position,
                code=f"U+{ord(char):04X}",
            )
    return text


def parse_id(text: str | int, field: str | Msg) -> int:
    """An id as typed: ASCII digits, from 1 to 2⁶³−1 (what the databases can hold)."""
    value = str(text).strip()
    if not re.fullmatch(r"[0-9]+", value):
        raise InvalidInput("{field}: '{value}' is not an id (a whole number)", field=field, value=value[:40])
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise InvalidInput(
            "{field}: {value} is not an id (ids run from 1 to {top})", field=field, value=value[:40], top=MAX_ID
        )
    return number


def as_id(text: str) -> int | None:
    """The id a reference that may be an id or a name holds; None when it is no id (a name, or a
    number too large to be one: looked up as a name, it is then simply not found)."""
    value = text.strip()
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    return None


def check_birth_date(born: date, today: date, field: str | Msg) -> date:
    """A child's birth date makes them between YOUNGEST and OLDEST years old today."""
    latest = _years_before(today, YOUNGEST)
    earliest = _years_before(today, OLDEST + 1) + timedelta(days=1)
    if not earliest <= born <= latest:
        raise InvalidInput(
            "{field}: {value} would make the child {age} years old; a school serves children aged {low} to {high}",
            field=field,
            value=born.isoformat(),
            age=_age(born, today),
            low=YOUNGEST,
            high=OLDEST,
        )
    return born


def check_record_date(on: date, opened: date, today: date, field: str | Msg) -> date:
    """A record's date is not before its case was opened, nor more than FUTURE_DAYS after today."""
    if on < opened:
        raise InvalidInput(
            "{field}: {value} is before the case was opened ({opened})",
            field=field,
            value=on.isoformat(),
            opened=opened.isoformat(),
        )
    if on > today + timedelta(days=FUTURE_DAYS):
        raise InvalidInput(
            "{field}: {value} is in the future (today is {today})", field=field, value=on.isoformat(), today=today
        )
    return on


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
