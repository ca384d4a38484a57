"""Resident ID numbers: the check digit, the birth date and sex they encode, and what Excel does to them."""

from __future__ import annotations

from datetime import date

import pytest
from faker import Faker

from casework.domain.idcard import check_digit, parse_id_number
from casework.errors import InvalidInput


def test_the_standard_example_has_check_digit_x() -> None:
    assert check_digit("11010519491231002") == "X"
    parsed = parse_id_number("11010519491231002x", "身份证号")
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "female"
    assert parsed.region == "110105"


def test_faker_zh_cn_numbers_are_valid_and_agree_with_their_holder() -> None:
    fake = Faker("zh_CN")
    fake.seed_instance(3)
    for gender, sex in (("M", "male"), ("F", "female")):
        for _ in range(200):
            number = fake.ssn(min_age=6, max_age=14, gender=gender)
            parsed = parse_id_number(number, "身份证号")
            assert parsed.sex == sex
            assert parsed.birth_date == date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("110105194912310021", "check digit"),
        ("110105194913310028", "birth date"),
        ("11010519491231002", "18-digit"),
        ("1101051949123100AX", "18-digit"),
        ("110105491231002", "15-digit"),
        ("1.10105E+17", "Excel rounded"),
        ("5.20102201503081E+17", "Excel rounded"),
    ],
    ids=["check-digit", "month-13", "17-digits", "letters", "old-15-digit", "scientific", "scientific-long"],
)
def test_bad_numbers_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_id_number(text, "身份证号")
    assert fragment in str(caught.value)
    assert "身份证号" in str(caught.value)


def test_check_digit_needs_17_digits() -> None:
    with pytest.raises(ValueError):
        check_digit("123")
