"""Parsing and checking of values as schools type them: dates, phone numbers, choices."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from casework.domain import limits
from casework.errors import InvalidInput
from casework.text import Msg

# A field is named by its code (--date) or by its catalogue label, rendered in the reader's language.
Label = str | Msg

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# An area code is 0 and two or three digits, not starting 0; a local number never starts 0.
_LANDLINE = re.compile(r"^0[1-9]\d{1,2}-?[1-9]\d{6,7}(-\d{1,6})?$")


def parse_date(text: str, field: Label) -> date:
    """Accept 2015-03-08, 2015/3/8, 2015.3.8 and 2015年3月8日."""
    value = text.strip()
    for pattern in _DATE_PATTERNS:
        m = pattern.match(value)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    raise InvalidInput(
        "{field}: '{value}' is not a date (use 2015-03-08, 2015/3/8, 2015.3.8 or 2015年3月8日)",
        field=field,
        value=value,
    )


def parse_phone(text: str, field: Label) -> str:
    """A mainland mobile number (11 digits, 1[3-9]...) or a landline with its area code."""
    value = re.sub(r"[\s()（）]", "", text.strip())
    if value.startswith("+86"):
        value = value[3:]
    if _MOBILE.match(value) or _LANDLINE.match(value):
        return value
    raise InvalidInput(
        "{field}: '{value}' is not a phone number (an 11-digit mobile number or a landline "
        "with area code, such as 0851-12345678)",
        field=field,
        value=text.strip(),
    )


def parse_choice(text: str, field: Label, choices: Mapping[str, str], aliases: Mapping[str, str]) -> str:
    """Map a code, an English label or a Chinese alias onto a vocabulary code."""
    value = text.strip()
    if value in choices:
        return value
    lowered = value.lower()
    for code, label in choices.items():
        if lowered == label.lower():
            return code
    if value in aliases:
        return aliases[value]
    raise InvalidInput(
        "{field}: '{value}' is not one of {choices}",
        field=field,
        value=value,
        choices=[Msg(label) for label in choices.values()],
    )


def parse_int(text: str, field: Label, low: int, high: int) -> int:
    try:
        number = int(text.strip())
    except ValueError:
        raise InvalidInput("{field}: '{value}' is not a whole number", field=field, value=text) from None
    if not low <= number <= high:
        raise InvalidInput(
            "{field}: {value} is outside {low}–{high}",
            field=field,
            value=number,
            low=low,
            high=high,
        )
    return number


def parse_bool(text: str, field: Label) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "y", "是", "寄宿"}:
        return True
    if value in {"0", "false", "no", "n", "否", "不寄宿", "走读"}:
        return False
    raise InvalidInput("{field}: '{value}' is not yes or no (是/否)", field=field, value=text)


def require_text(text: str, field: Label, max_length: int = limits.LINE, *, multiline: bool | None = None) -> str:
    """Text a person typed: not empty, within its kind's limit (casework.domain.limits), and free of
    control and text-direction characters; prose (a limit above a line's) keeps newlines and tabs."""
    value = text.strip()
    if not value:
        raise InvalidInput("{field} must not be empty", field=field)
    if len(value) > max_length:
        raise InvalidInput("{field} is longer than {limit} characters", field=field, limit=max_length)
    return limits.check_characters(value, field, max_length > limits.LINE if multiline is None else multiline)
