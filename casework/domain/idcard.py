"""Resident identity card numbers (居民身份证号码, GB 11643-1999): check digit, birth date, sex."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from operator import mul

from casework.domain.validation import Label
from casework.errors import InvalidInput

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ZERO = ord("0") * sum(_WEIGHTS)
_SHAPE = re.compile(r"^\d{17}[\dX]$")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+\d+$", re.IGNORECASE)


def check_digit(first17: str) -> str:
    """The 18th character (ISO 7064 MOD 11-2) of a number whose first 17 digits are given."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("check_digit needs exactly 17 digits")
    # Bytes iterate as their codes: subtracting '0' once from the weighted sum avoids 17 int() calls.
    return _CHECK[(sum(map(mul, first17.encode("ascii"), _WEIGHTS)) - _ZERO) % 11]


@dataclass(frozen=True)
class IdNumber:
    """A checked 18-character number and what it says about its holder."""

    number: str
    birth_date: date
    sex: str  # the code of casework.domain.vocab.SEXES

    @property
    def region(self) -> str:
        return self.number[:6]


def parse_id_number(text: str, field: Label) -> IdNumber:
    """Check shape, check digit and birth date; refuse numbers Excel turned into floats."""
    value = text.upper() if len(text) == 18 else re.sub(r"\s", "", text).upper()
    if _SCIENTIFIC.match(value):
        raise InvalidInput(
            "{field}: '{value}' was stored as a number and Excel rounded it: format the column "
            "as text (文本) and type the number again",
            field=field,
            value=text.strip(),
        )
    if len(value) == 15 and value.isdigit():
        raise InvalidInput(
            "{field}: '{value}' is an old 15-digit number; give the 18-digit resident ID number",
            field=field,
            value=value,
        )
    if not _SHAPE.match(value):
        raise InvalidInput(
            "{field}: '{value}' is not an 18-digit resident ID number",
            field=field,
            value=text.strip(),
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidInput(
            "{field}: '{value}' holds no valid birth date (digits 7 to 14)",
            field=field,
            value=value,
        ) from None
    if check_digit(value[:17]) != value[17]:
        raise InvalidInput(
            "{field}: '{value}' has a wrong check digit (a digit is mistyped)",
            field=field,
            value=value,
        )
    return IdNumber(value, born, "male" if int(value[16]) % 2 else "female")
