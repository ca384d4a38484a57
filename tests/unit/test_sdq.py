"""SDQ-style scoring: subscales, reversed items, total difficulties and the published bands."""

from __future__ import annotations

import pytest

from casework.domain import sdq
from casework.errors import InvalidInput


def items(**by_item: int) -> list[int]:
    scores = [0] * 25
    for key, value in by_item.items():
        scores[int(key[1:]) - 1] = value
    return scores


def test_all_zero_means_reversed_items_score_high() -> None:
    result = sdq.score([0] * 25)
    # items 7, 11, 14, 21 and 25 are reversed: a 0 there is a 2 on its difficulty scale
    assert result.scores == {"emotional": 0, "conduct": 2, "hyperactivity": 4, "peer": 4, "prosocial": 0, "total": 10}
    assert result.bands["prosocial"] == "abnormal" and result.bands["total"] == "normal"


def test_each_scale_sums_its_items() -> None:
    result = sdq.score(items(i3=2, i8=2, i13=1, i7=2, i11=2, i14=2, i21=2, i25=2, i1=2, i4=2, i9=1))
    assert result.scores["emotional"] == 5 and result.bands["emotional"] == "abnormal"
    assert result.scores["conduct"] == 0 and result.scores["peer"] == 0 and result.scores["hyperactivity"] == 0
    assert result.scores["prosocial"] == 5 and result.bands["prosocial"] == "borderline"
    assert result.total == 5


@pytest.mark.parametrize(
    ("informant", "total", "band"),
    [
        ("parent", 13, "normal"),
        ("parent", 14, "borderline"),
        ("parent", 16, "borderline"),
        ("parent", 17, "abnormal"),
        ("teacher", 11, "normal"),
        ("teacher", 12, "borderline"),
        ("teacher", 16, "abnormal"),
        ("self", 15, "normal"),
        ("self", 19, "borderline"),
        ("self", 20, "abnormal"),
    ],
)
def test_total_bands(informant: str, total: int, band: str) -> None:
    assert sdq.band("total", total, informant) == band


def test_bad_input() -> None:
    with pytest.raises(InvalidInput, match="25"):
        sdq.parse_items("0,1,2")
    with pytest.raises(InvalidInput, match="item 3"):
        sdq.parse_items("0,1,3" + ",0" * 22)
    assert sdq.parse_items("0" * 25) == [0] * 25
    with pytest.raises(InvalidInput):
        sdq.score([0] * 25, "grandmother")
