"""Evaluation and rewards (考核及奖励): the seed's exact scoring table, with its figures and scope as parameters."""

from __future__ import annotations

from collections.abc import Iterable

from casework.domain.evaluation import ChildYear, Evaluation, Scope, evaluate, scale_from, scope_from
from casework.rules.base import Parameter, RuleModule
from casework.text import Msg


class EvaluationRules(RuleModule):
    name = "evaluation"
    version = "2"
    description = Msg(
        "Yearly scoring: mentors and class teachers earn points for their children's ranks, conduct and "
        "titles; pupils earn awards for first place, top five and progress"
    )
    parameters = (
        Parameter("per_rank_risen", 10, Msg("points for each class rank the child rises from the baseline")),
        Parameter("top_n", 5, Msg("the class's top places that count as staying at the top")),
        Parameter("top_n_points", 10, Msg("points when the child stays in the top places")),
        Parameter("no_violation_points", 20, Msg("points when the child has no serious violation")),
        Parameter("three_good_points", 10, Msg("points when the child is named a three-good student")),
        Parameter("first_place_yuan", 100, Msg("yuan for the pupil first in the class in the second term")),
        Parameter("excellence_yuan", 30, Msg("yuan for the pupils second to top_n in the second term")),
        Parameter("progress_yuan", 15, Msg("yuan for a pupil who rises progress_ranks or more")),
        Parameter("progress_ranks", 5, Msg("ranks a pupil must rise for the progress award")),
        Parameter("from_grade", 7, Msg("the scheme covers children from this grade on")),
        Parameter("before_age", 18, Msg("the scheme covers children younger than this")),
    )

    @property
    def scope(self) -> Scope:
        return scope_from(self.params)

    def evaluate(self, years: Iterable[ChildYear]) -> Evaluation:
        return evaluate(years, scale_from(self.params))
