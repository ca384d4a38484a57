"""Values as schools type them: dates, phone numbers, choices, field names."""

from __future__ import annotations

from datetime import date

import pytest

from casework.domain.child import parse_fields
from casework.domain.validation import parse_bool, parse_date, parse_phone
from casework.errors import InvalidInput


@pytest.mark.parametrize("text", ["2015-03-08", "2015/3/8", "2015.3.8", "2015年3月8日", " 2015-3-8 "])
def test_dates_as_schools_type_them(text: str) -> None:
    assert parse_date(text, "d") == date(2015, 3, 8)


@pytest.mark.parametrize("text", ["2015-02-30", "08/03/2015", "yesterday", "", "2015-13-01"])
def test_bad_dates_name_the_field(text: str) -> None:
    with pytest.raises(InvalidInput, match="birth"):
        parse_date(text, "birth")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0851-12345678", "0851-12345678"),
        ("010-1234567", "010-1234567"),
    ],
)
def test_phone_numbers(text: str, expected: str) -> None:
    assert parse_phone(text, "p") == expected


@pytest.mark.parametrize("text", ["12812345678", "1381234567", "138123456789", "12345", "abc"])
def test_bad_phone_numbers(text: str) -> None:
    with pytest.raises(InvalidInput, match="phone"):
        parse_phone(text, "phone")


def test_fields_parse_by_kind() -> None:
    parsed = parse_fields(
        {
            "sex": "女",
            "boarding": "是",
            "guardian_age": "71",
            "family_situation": "隔代监护",
            "birth_date": "2016年5月1日",
            "health": "",
        }
    )
    assert parsed == {
        "sex": "female",
        "boarding": True,
        "guardian_age": 71,
        "family_situation": "grandparent_care",
        "birth_date": date(2016, 5, 1),
        "health": None,
    }
    assert parse_bool("否", "b") is False


def test_unknown_field_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown field 'shoe_size'"):
        parse_fields({"shoe_size": "38"})
