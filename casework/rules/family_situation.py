"""Family situation (家庭情况): who is away, who cares for the child, and how able the guardian is."""

from __future__ import annotations

from collections.abc import Sequence

from casework.domain.facts import AssessmentFacts
from casework.rules.base import RISK_LEVELS, Category, Parameter, RuleModule
from casework.text import Msg

BASE_RISK = {"both_away": "medium", "grandparent_care": "medium", "one_away": "low", "divorced_single": "low"}


class FamilySituation(RuleModule):
    name = "family_situation"
    version = "1"
    description = Msg(
        "Family situation: both parents away, one away, divorced single parent, grandparent care; "
        "an old, ill or illiterate guardian raises the risk"
    )
    parameters = (
        Parameter("old_guardian_age", 70, Msg("a guardian this old or older raises the risk level")),
        Parameter(
            "poor_health_words",
            ["差", "较差", "病", "残", "poor", "ill"],
            Msg("words in the guardian's health that count as poor health"),
        ),
    )

    def classify(self, facts: AssessmentFacts) -> Sequence[Category]:
        base = BASE_RISK.get(facts.family_situation or "")
        if base is None:
            return ()
        factors = []
        if facts.guardian_age is not None and facts.guardian_age >= self.params["old_guardian_age"]:
            factors.append("guardian_old")
        health = (facts.guardian_health or "").lower()
        if health and any(word in health for word in self.params["poor_health_words"]):
            factors.append("guardian_poor_health")
        if facts.guardian_literate is False:
            factors.append("guardian_cannot_read")
        level = RISK_LEVELS[min(RISK_LEVELS.index(base) + len(factors), RISK_LEVELS.index("high"))]
        return [
            Category(
                "life",
                {"family_situation": facts.family_situation, "guardian_factors": factors},
                risk=level,
            )
        ]
