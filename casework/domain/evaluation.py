"""The yearly scoring of mentors and class teachers and the pupils' awards (考核及奖励), as the seed sets it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChildYear:
    """One child's school year: first- and second-term final-exam class ranks and the year's facts."""

    child_id: int
    class_id: int | None
    rank_term1: int
    rank_term2: int
    three_good: bool = False
    serious_violation: bool = False
    mentor_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Scale:
    """The points and yuan of the table; parameters of the evaluation module."""

    per_rank_risen: int = 10
    top_n: int = 5
    top_n_points: int = 10
    no_violation_points: int = 20
    three_good_points: int = 10
    first_place_yuan: int = 100
    excellence_yuan: int = 30
    progress_yuan: int = 15
    progress_ranks: int = 5


@dataclass(frozen=True)
class ChildScore:
    child_id: int
    ranks_risen: int
    points: dict[str, int]
    awards: dict[str, int]
    baseline_rank: int

    @property
    def total_points(self) -> int:
        return sum(self.points.values())

    @property
    def total_yuan(self) -> int:
        return sum(self.awards.values())


@dataclass
class Evaluation:
    children: list[ChildScore] = field(default_factory=list)
    mentors: dict[int, int] = field(default_factory=dict)  # staff id -> points (= yuan)
    class_teachers: dict[int, float] = field(default_factory=dict)  # class id -> average points


def score_child(year: ChildYear, scale: Scale = Scale()) -> ChildScore:
    risen = max(0, year.rank_term1 - year.rank_term2)
    points = {
        "ranks_risen": risen * scale.per_rank_risen,
        "top_n": scale.top_n_points if year.rank_term1 <= scale.top_n and year.rank_term2 <= scale.top_n else 0,
        "no_violation": 0 if year.serious_violation else scale.no_violation_points,
        "three_good": scale.three_good_points if year.three_good else 0,
    }
    awards = {
        "first_place": scale.first_place_yuan if year.rank_term2 == 1 else 0,
        "excellence": scale.excellence_yuan if 2 <= year.rank_term2 <= scale.top_n else 0,
        "progress": scale.progress_yuan if risen >= scale.progress_ranks else 0,
    }
    # Next year's baseline is this year's second-term ranking.
    return ChildScore(year.child_id, risen, points, awards, year.rank_term2)


def evaluate(years: Iterable[ChildYear], scale: Scale = Scale()) -> Evaluation:
    """Mentors: the sum over their children. Class teachers: the average over the class's children."""
    result = Evaluation()
    by_class: dict[int, list[int]] = {}
    for year in years:
        child = score_child(year, scale)
        result.children.append(child)
        for mentor in year.mentor_ids:
            result.mentors[mentor] = result.mentors.get(mentor, 0) + child.total_points
        if year.class_id is not None:
            by_class.setdefault(year.class_id, []).append(child.total_points)
    result.class_teachers = {cid: sum(p) / len(p) for cid, p in sorted(by_class.items())}
    result.mentors = dict(sorted(result.mentors.items()))
    return result


def scale_from(params: Mapping[str, int]) -> Scale:
    return Scale(**{k: v for k, v in params.items() if k in Scale.__dataclass_fields__})


def yuan_summary(children: Sequence[ChildScore]) -> int:
    return sum(c.total_yuan for c in children)
