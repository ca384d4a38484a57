"""Grades and classes as schools write them (三年级, 3年级, (1)班, 一班), and the year's move up."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from casework.errors import InvalidInput

MIN_GRADE, MAX_GRADE = 1, 12
PRIMARY_TOP_GRADE = 6

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_STAGES = {"初": 6, "高": 9}  # 初一 = grade 7, 高一 = grade 10
_NUMBER = r"\d{1,2}|[零〇一二两三四五六七八九十]{1,3}"
_GRADE = re.compile(rf"^(?:(?P<stage>[初高])(?P<s>[一二三])|(?P<n>{_NUMBER}))(?:年级|年|级)?$")
_CLASS = re.compile(rf"^\(?(?P<n>{_NUMBER})\)?(?:班|班级)?$")
_GRADE_AND_CLASS = re.compile(
    rf"^(?:(?P<stage>[初高])(?P<s>[一二三])|(?P<g>{_NUMBER}))(?:年级|年|级)?"
    rf"[.\-·]?\((?P<n1>{_NUMBER})\)班?$"
    rf"|^(?:(?P<stage2>[初高])(?P<s2>[一二三])|(?P<g2>{_NUMBER}))(?:年级|年|级)(?P<n2>{_NUMBER})班$"
)
GRADUATED = re.compile(r"^\d{4}届")


def chinese_number(text: str) -> int | None:
    """1 to 99 written with digits or Chinese numerals (三, 十二, 二十一); None if neither."""
    if text.isdecimal():  # not isdigit: int() refuses superscripts ("²")
        return int(text)
    if not text or any(c not in _DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        return _DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def _clean(text: str) -> str:
    # NFKC folds full-width digits and brackets (１, （）) into their ASCII forms.
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


def _grade_number(stage: str | None, stage_number: str | None, number: str | None) -> int | None:
    if stage and stage_number:
        return _STAGES[stage] + _DIGITS[stage_number]
    return chinese_number(number) if number else None


def parse_grade(text: str, field: str) -> int:
    """3, 三, 三年级, 3年级, 初一 (7), 高二 (11)."""
    m = _GRADE.match(_clean(text))
    grade = _grade_number(m["stage"], m["s"], m["n"]) if m else None
    if grade is None or not MIN_GRADE <= grade <= MAX_GRADE:
        raise InvalidInput(
            "{field}: '{value}' is not a grade from 1 to 12 (such as 3, 三年级 or 初一)",
            field=field,
            value=text.strip(),
        )
    return grade


def class_name(text: str) -> str:
    """The stored form of a class name: 1, 01, 一班, (1)班, 1班级 all become 1班; 火箭班 stays."""
    cleaned = _clean(text)
    m = _CLASS.match(cleaned)
    number = chinese_number(m["n"]) if m else None
    return f"{number}班" if number is not None else cleaned


def split_grade_and_class(text: str) -> tuple[int | None, str]:
    """A class cell that also names the grade: 三年级1班, 3(1)班, 三（2）班 -> (3, 1班)."""
    cleaned = _clean(text)
    m = _GRADE_AND_CLASS.match(cleaned)
    if m is None:
        return None, class_name(cleaned)
    if m["n1"] is not None:
        grade = _grade_number(m["stage"], m["s"], m["g"])
        number = m["n1"]
    else:
        grade = _grade_number(m["stage2"], m["s2"], m["g2"])
        number = m["n2"]
    if grade is None or not MIN_GRADE <= grade <= MAX_GRADE:
        return None, class_name(cleaned)
    return grade, class_name(number)


def is_graduated(name: str) -> bool:
    """A class renamed by a year rollover when it graduated, e.g. 2026届1班."""
    return bool(GRADUATED.match(name))


def graduated_name(year: int, name: str) -> str:
    return f"{year}届{name}"


@dataclass(frozen=True)
class ClassRow:
    id: int
    grade: int
    name: str


@dataclass(frozen=True)
class RolloverPlan:
    """What a year rollover does: which classes move up a grade, which graduate."""

    moves: tuple[ClassRow, ...]  # grade + 1, taken top grade first
    graduates: tuple[ClassRow, ...]
    renamed: dict[int, str]


def plan_rollover(classes: Iterable[ClassRow], top_grade: int, year: int) -> RolloverPlan:
    """Classes below ``top_grade`` move up; classes in it graduate and are renamed 2026届1班.

    Already graduated classes stay where they are. A class above the top grade means the
    wrong top grade was given (a 九年一贯制 school has 9), so nothing moves.
    """
    if not MIN_GRADE <= top_grade <= MAX_GRADE:
        raise InvalidInput("--top-grade: {grade} is outside 1–12", grade=top_grade)
    current = [c for c in classes if not is_graduated(c.name)]
    above = sorted(f"{c.grade}/{c.name}" for c in current if c.grade > top_grade)
    if above:
        raise InvalidInput(
            "classes above grade {top} exist ({classes}): give the school's top grade with --top-grade",
            top=top_grade,
            classes=", ".join(above),
        )
    graduates = tuple(sorted((c for c in current if c.grade == top_grade), key=lambda c: c.id))
    moves = tuple(sorted((c for c in current if c.grade < top_grade), key=lambda c: (-c.grade, c.id)))
    return RolloverPlan(moves, graduates, {c.id: graduated_name(year, c.name) for c in graduates})


def school_year(year: int, month: int) -> int:
    """The school year a rollover on this date prepares: from July on, the one starting this autumn."""
    return year if month >= 7 else year - 1


def grade_in(grade_now: int, moved_in: Iterable[int], year: int) -> int:
    """The grade a class had in school year ``year``: its grade now, less one for every rollover after
    ``year`` that moved it up (``moved_in``: the school years those rollovers prepared)."""
    return grade_now - sum(1 for target in moved_in if target > year)
