"""The seed's scoring table (考核及奖励), against hand-computed cases and its boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from casework.domain import evaluation as table
from casework.domain.calendar import SchoolCalendar, Term
from casework.domain.classes import grade_in
from casework.domain.evaluation import ChildYear, Scale, Scope, choose_baseline, evaluate, score_child
from casework.rules.evaluation import EvaluationRules

# (rank term 1, rank term 2, three-good, violation) -> (mentor points, pupil yuan)
CASES = [
    # ranks rising: 12 -> 7 is 5 ranks: 50 points, +20 no violation; progress award 15 yuan
    ((12, 7, False, False), (70, 15)),
    # exactly 5 ranks risen into the top five: 50 + 20; excellence 30 + progress 15
    ((10, 5, False, False), (70, 45)),
    # 4 ranks risen: 40 + 20; no progress award
    ((10, 6, False, False), (60, 0)),
    # holding the top 5: 10 + 20; excellence for rank 3
    ((3, 3, False, False), (30, 30)),
    # rank 5 against rank 6: in the top five both terms or not
    ((5, 5, False, False), (30, 30)),
    ((5, 6, False, False), (20, 0)),
    ((6, 5, False, False), (30, 30)),
    # rank 1: first-place award, not the excellence award
    ((1, 1, True, False), (40, 100)),
    ((2, 1, False, False), (40, 100)),
    # a serious violation loses the 20 points
    ((8, 8, False, True), (0, 0)),
    # three-good title
    ((20, 20, True, False), (30, 0)),
    # falling ranks earn nothing for ranks
    ((4, 9, False, False), (20, 0)),
]


@pytest.mark.parametrize(("given", "expected"), CASES, ids=[f"{c[0][0]}->{c[0][1]}" for c in CASES])
def test_child_points_and_awards(given: tuple[int, int, bool, bool], expected: tuple[int, int]) -> None:
    r1, r2, three_good, violation = given
    scored = score_child(ChildYear(1, 1, r2, r1, table.BASELINE_TERM1, three_good, violation))
    assert (scored.total_points, scored.total_yuan) == expected
    assert scored.next_baseline_rank == r2


def test_mentors_sum_and_class_teachers_average() -> None:
    years = [
        ChildYear(1, 10, 7, 12, mentor_ids=(100,)),  # 70
        ChildYear(2, 10, 3, 3, mentor_ids=(100, 101)),  # 30
        ChildYear(3, 11, 8, 8, serious_violation=True, mentor_ids=(101,)),  # 0
        ChildYear(4, 10, 20, 20, three_good=True),  # 30
    ]
    result = evaluate(years)
    assert result.mentors == {100: 100, 101: 30} and result.mentor_children == {100: 2, 101: 2}
    assert result.class_teachers == {10: pytest.approx((70 + 30 + 30) / 3), 11: 0}
    assert result.class_children == {10: 3, 11: 1}


def test_figures_are_parameters() -> None:
    module = EvaluationRules({"per_rank_risen": 5, "first_place_yuan": 200, "from_grade": 1})
    (child,) = module.evaluate([ChildYear(1, 1, 1, 3)]).children
    assert child.points["ranks_risen"] == 10 and child.awards["first_place"] == 200
    assert Scale().progress_ranks == 5
    assert module.scope == Scope(from_grade=1, before_age=18)


def test_a_child_without_a_baseline_still_earns_the_second_term_awards() -> None:
    """篇5 pays the pupils on the second-term rank alone; rank points and the progress award need a baseline."""
    scored = score_child(ChildYear(1, 1, rank_term2=2, baseline_rank=None, baseline=table.BASELINE_NONE))
    assert scored.ranks_risen == 0 and scored.points == {
        "ranks_risen": 0,
        "top_n": 0,
        "no_violation": 20,
        "three_good": 0,
    }
    assert scored.awards == {"first_place": 0, "excellence": 30, "progress": 0}


BASELINES = [
    # previous year's second term, in the scheme: it wins over this year's first term
    ((9, True, 12), (9, table.BASELINE_PREVIOUS_YEAR)),
    # the previous year was not in the scheme (grade 6): this year's first term
    ((9, False, 12), (12, table.BASELINE_TERM1)),
    # second year, no first-term result this year: the previous year's second term
    ((9, True, None), (9, table.BASELINE_PREVIOUS_YEAR)),
    ((None, False, 12), (12, table.BASELINE_TERM1)),
    ((None, False, None), (None, table.BASELINE_NONE)),
]


@pytest.mark.parametrize(("given", "expected"), BASELINES, ids=[str(b[0]) for b in BASELINES])
def test_the_baseline_of_a_year(given: tuple[int | None, bool, int | None], expected: tuple[int | None, str]) -> None:
    assert choose_baseline(*given) == expected


SCOPES = [
    # grade 7 on, until the day before the 18th birthday (「从七年级开始，直至18岁之前」)
    ((7, date(2013, 3, 1)), None),
    ((6, date(2014, 3, 1)), table.BELOW_GRADE),
    ((9, date(2008, 9, 1)), table.AGED_OUT),  # 18 on the very day
    ((9, date(2008, 9, 2)), None),  # 18 the day after
    ((8, None), None),  # no birth date: the grade decides
    ((None, date(2013, 3, 1)), table.GRADE_UNKNOWN),
]


@pytest.mark.parametrize(("given", "expected"), SCOPES, ids=[str(s[0]) for s in SCOPES])
def test_the_scope_of_the_scheme(given: tuple[int | None, date | None], expected: str | None) -> None:
    assert Scope().excludes(given[0], given[1], date(2026, 9, 1)) == expected


def test_a_school_may_take_its_own_scope() -> None:
    assert Scope(from_grade=4, before_age=16).excludes(4, date(2010, 9, 1), date(2026, 9, 1)) == table.AGED_OUT
    assert Scope(from_grade=4, before_age=16).excludes(4, date(2010, 9, 2), date(2026, 9, 1)) is None


def test_the_grade_a_class_had_in_a_past_year() -> None:
    # class now in grade 8, moved up by the rollovers preparing 2025 and 2026
    assert [grade_in(8, [2025, 2026], year) for year in (2024, 2025, 2026, 2027)] == [6, 7, 8, 8]


def test_the_terms_of_a_school_year() -> None:
    assert SchoolCalendar().term(2026, 2) == Term("2026-spring", date(2027, 2, 15), date(2027, 7, 5))
    listed = SchoolCalendar((Term("秋", date(2026, 8, 31), date(2027, 1, 20)),))
    assert listed.term(2026, 1).start == date(2026, 8, 31) and listed.term(2026, 2).start == date(2027, 2, 15)
