"""The seed's scoring table (考核及奖励), against hand-computed cases and its boundaries."""

from __future__ import annotations

import pytest

from casework.domain.evaluation import ChildYear, Scale, evaluate, score_child
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
    scored = score_child(ChildYear(1, 1, r1, r2, three_good, violation))
    assert (scored.total_points, scored.total_yuan) == expected
    assert scored.baseline_rank == r2


def test_mentors_sum_and_class_teachers_average() -> None:
    years = [
        ChildYear(1, 10, 12, 7, mentor_ids=(100,)),  # 70
        ChildYear(2, 10, 3, 3, mentor_ids=(100, 101)),  # 30
        ChildYear(3, 11, 8, 8, serious_violation=True, mentor_ids=(101,)),  # 0
        ChildYear(4, 10, 20, 20, three_good=True),  # 30
    ]
    result = evaluate(years)
    assert result.mentors == {100: 100, 101: 30}
    assert result.class_teachers == {10: pytest.approx((70 + 30 + 30) / 3), 11: 0}


def test_figures_are_parameters() -> None:
    module = EvaluationRules({"per_rank_risen": 5, "first_place_yuan": 200})
    (child,) = module.evaluate([ChildYear(1, 1, 3, 1)]).children
    assert child.points["ranks_risen"] == 10 and child.awards["first_place"] == 200
    assert Scale().progress_ranks == 5
