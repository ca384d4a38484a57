"""The yearly scoring of mentors and class teachers and the pupils' awards (考核及奖励), as the seed sets it.

篇5: 「以七年级第一学期期末学习成绩总分名次为考核基数,到第二学期期末,学习成绩在班级里每上升1个名次,被考核人
加10分,保持在班级前5名的加10分」; 「第二学年的考核就以第一学年第二学期期末学生考试成绩名次为依据」;
「凡牵手扶助联络留守儿童从七年级开始,直至18岁之前」.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

# Where a child's baseline rank comes from.
BASELINE_PREVIOUS_YEAR = "previous_year_term2"  # from the second year in the scheme on
BASELINE_TERM1 = "term1"  # the first year in the scheme
BASELINE_NONE = "none"  # neither: no rank points, no progress award, the second-term awards still count
BASELINES = (BASELINE_PREVIOUS_YEAR, BASELINE_TERM1, BASELINE_NONE)

# Why a child with results is not scored.
BELOW_GRADE = "below_grade"
AGED_OUT = "aged_out"
GRADE_UNKNOWN = "grade_unknown"
NO_SECOND_TERM = "no_second_term"
EXCLUSIONS = (BELOW_GRADE, AGED_OUT, GRADE_UNKNOWN, NO_SECOND_TERM)


@dataclass(frozen=True)
class Scope:
    """Which children the scheme covers: from grade ``from_grade`` until the day before ``before_age``."""

    from_grade: int = 7
    before_age: int = 18

    def excludes(self, grade: int | None, birth_date: date | None, on: date) -> str | None:
        """Why a child of ``grade`` born on ``birth_date`` is outside the scheme on ``on``; None when inside.

        An unknown grade cannot be judged and is excluded (the table pays money); an unknown birth
        date is judged by the grade alone.
        """
        if grade is None:
            return GRADE_UNKNOWN
        if grade < self.from_grade:
            return BELOW_GRADE
        if birth_date is not None and age_on(birth_date, on) >= self.before_age:
            return AGED_OUT
        return None


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on ``day`` (the birthday itself counts)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def choose_baseline(
    previous_term2: int | None, previous_year_in_scheme: bool, term1: int | None
) -> tuple[int | None, str]:
    """The rank a year is scored against, and where it comes from.

    From the second year in the scheme the previous year's second-term rank (「第二学年的考核就以第一学年
    第二学期期末…名次为依据」); in the first year, this year's first-term rank; else none.
    """
    if previous_term2 is not None and previous_year_in_scheme:
        return previous_term2, BASELINE_PREVIOUS_YEAR
    if term1 is not None:
        return term1, BASELINE_TERM1
    return None, BASELINE_NONE


@dataclass(frozen=True)
class ChildYear:
    """One child's school year as the table reads it: the baseline rank, the second-term rank, the year's facts."""

    child_id: int
    class_id: int | None
    rank_term2: int
    baseline_rank: int | None = None
    baseline: str = BASELINE_TERM1
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
    baseline_rank: int | None
    baseline: str
    rank_term2: int
    ranks_risen: int
    points: dict[str, int]
    awards: dict[str, int]

    @property
    def total_points(self) -> int:
        return sum(self.points.values())

    @property
    def total_yuan(self) -> int:
        return sum(self.awards.values())

    @property
    def next_baseline_rank(self) -> int:
        """Next year's baseline: this year's second-term rank."""
        return self.rank_term2


@dataclass
class Evaluation:
    children: list[ChildScore] = field(default_factory=list)
    mentors: dict[int, int] = field(default_factory=dict)  # staff id -> points (= yuan)
    mentor_children: dict[int, int] = field(default_factory=dict)  # staff id -> children scored
    class_teachers: dict[int, float] = field(default_factory=dict)  # class id -> average points
    class_children: dict[int, int] = field(default_factory=dict)  # class id -> children averaged


def score_child(year: ChildYear, scale: Scale = Scale()) -> ChildScore:
    base, second = year.baseline_rank, year.rank_term2
    risen = max(0, base - second) if base is not None else 0
    held_top = base is not None and base <= scale.top_n and second <= scale.top_n
    points = {
        "ranks_risen": risen * scale.per_rank_risen,
        "top_n": scale.top_n_points if held_top else 0,
        "no_violation": 0 if year.serious_violation else scale.no_violation_points,
        "three_good": scale.three_good_points if year.three_good else 0,
    }
    awards = {
        "first_place": scale.first_place_yuan if second == 1 else 0,
        "excellence": scale.excellence_yuan if 2 <= second <= scale.top_n else 0,
        "progress": scale.progress_yuan if base is not None and risen >= scale.progress_ranks else 0,
    }
    return ChildScore(year.child_id, base, year.baseline, second, risen, points, awards)


def evaluate(years: Iterable[ChildYear], scale: Scale = Scale()) -> Evaluation:
    """Mentors: the sum over their children. Class teachers: the average over the class's children
    in the scheme (「学校班主任按本班相关学生所得考核均分为实际考核得分」): ``years`` holds only those."""
    result = Evaluation()
    by_class: dict[int, list[int]] = {}
    for year in years:
        child = score_child(year, scale)
        result.children.append(child)
        for mentor in year.mentor_ids:
            result.mentors[mentor] = result.mentors.get(mentor, 0) + child.total_points
            result.mentor_children[mentor] = result.mentor_children.get(mentor, 0) + 1
        if year.class_id is not None:
            by_class.setdefault(year.class_id, []).append(child.total_points)
    result.class_teachers = {cid: sum(p) / len(p) for cid, p in sorted(by_class.items())}
    result.class_children = {cid: len(p) for cid, p in sorted(by_class.items())}
    result.mentors = dict(sorted(result.mentors.items()))
    return result


def scale_from(params: Mapping[str, int]) -> Scale:
    return Scale(**{k: v for k, v in params.items() if k in Scale.__dataclass_fields__})


def scope_from(params: Mapping[str, int]) -> Scope:
    return Scope(**{k: v for k, v in params.items() if k in Scope.__dataclass_fields__})
