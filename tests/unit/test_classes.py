"""Grades and classes as schools write them, and the plan of a year's rollover."""

from __future__ import annotations

import pytest

from casework.domain.classes import (
    ClassRow,
    chinese_number,
    class_name,
    is_graduated,
    parse_grade,
    plan_rollover,
    school_year,
    split_grade_and_class,
)
from casework.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "number"),
    [("3", 3), ("三", 3), ("十", 10), ("十二", 12), ("二十一", 21), ("七十", 70), ("两", 2), ("", None), ("三x", None)],
)
def test_chinese_numbers(text: str, number: int | None) -> None:
    assert chinese_number(text) == number


@pytest.mark.parametrize(
    ("text", "grade"),
    [("3", 3), ("三", 3), ("三年级", 3), ("3年级", 3), ("３年级", 3), (" 六 年级 ", 6), ("初一", 7), ("高三", 12)],
)
def test_grades(text: str, grade: int) -> None:
    assert parse_grade(text, "年级") == grade


@pytest.mark.parametrize("text", ["0", "13", "十五年级", "幼儿园", ""])
def test_bad_grades(text: str) -> None:
    with pytest.raises(InvalidInput, match="年级"):
        parse_grade(text, "年级")


@pytest.mark.parametrize(
    ("text", "name"),
    [("1班", "1班"), ("1", "1班"), ("01", "1班"), ("一班", "1班"), ("(1)班", "1班"), ("（1）班", "1班"),
     ("1班级", "1班"), ("火箭班", "火箭班")],
)  # fmt: skip
def test_class_names(text: str, name: str) -> None:
    assert class_name(text) == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [("三年级1班", (3, "1班")), ("3年级(2)班", (3, "2班")), ("三(1)班", (3, "1班")), ("3（1）班", (3, "1班")),
     ("初一(3)班", (7, "3班")), ("2班", (None, "2班")), ("实验班", (None, "实验班"))],
)  # fmt: skip
def test_a_class_cell_may_name_the_grade(text: str, expected: tuple[int | None, str]) -> None:
    assert split_grade_and_class(text) == expected


def test_rollover_moves_up_and_graduates_the_top_grade() -> None:
    classes = [ClassRow(1, 6, "1班"), ClassRow(2, 5, "1班"), ClassRow(3, 4, "2班"), ClassRow(4, 6, "2025届1班")]
    plan = plan_rollover(classes, 6, 2026)
    assert [c.id for c in plan.graduates] == [1]
    assert plan.renamed == {1: "2026届1班"}
    assert [c.id for c in plan.moves] == [2, 3]  # top grade first, so no two classes ever clash
    assert is_graduated("2026届1班") and not is_graduated("1班")


def test_a_class_above_the_top_grade_stops_the_rollover() -> None:
    with pytest.raises(InvalidInput, match="--top-grade"):
        plan_rollover([ClassRow(1, 9, "1班")], 6, 2026)


@pytest.mark.parametrize(("year", "month", "expected"), [(2026, 7, 2026), (2026, 8, 2026), (2027, 2, 2026)])
def test_school_year(year: int, month: int, expected: int) -> None:
    assert school_year(year, month) == expected
