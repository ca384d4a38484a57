"""Evaluation and rewards (考核及奖励): the seed's exact scoring table, with its figures as parameters."""

from __future__ import annotations

from collections.abc import Iterable

from casework.domain.evaluation import ChildYear, Evaluation, Scale, evaluate, scale_from
from casework.rules.base import Parameter, RuleModule
from casework.text import Msg


class EvaluationRules(RuleModule):
    name = "evaluation"
    version = "1"
    description = Msg(
        "Yearly scoring: mentors and class teachers earn points for their children's ranks, conduct and "
        "titles; pupils earn awards for first place, top five and progress"
    )
    parameters = tuple(
        Parameter(name, getattr(Scale(), name), Msg("evaluation table figure {name}", {"name": name}))
        for name in Scale.__dataclass_fields__
    )

    def evaluate(self, years: Iterable[ChildYear]) -> Evaluation:
        return evaluate(years, scale_from(self.params))
