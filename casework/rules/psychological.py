"""Psychological needs (心理): SDQ-style screening bands, a psychological help plan, sessions every 14 days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from casework import states
from casework.domain.facts import AssessmentFacts, CaseFacts
from casework.rules.base import Category, Obligation, Parameter, PlanRequirement, RuleModule
from casework.text import Msg

CATEGORY = "psychological"


class Psychological(RuleModule):
    name = "psychological"
    version = "2"
    description = Msg(
        "Psychological needs: screening bands or the counsellor's view; a psychological help plan; "
        "a counselling session at least every 14 days while mentored"
    )
    parameters = (
        Parameter("trigger_bands", ["abnormal"], Msg("screening bands of the total or a subscale that classify")),
        Parameter("session_days", 14, Msg("most days between counselling sessions while mentored")),
        Parameter("grace_days", 3, Msg("days past due before a session counts as overdue")),
        Parameter("holiday_grace_days", 14, Msg("days into the next term for a duty that falls in a holiday")),
    )

    def classify(self, facts: AssessmentFacts) -> Sequence[Category]:
        evidence: dict[str, object] = {}
        hits: list[str] = []
        if facts.screening is not None:
            bands = dict(facts.screening.get("bands", {}))
            hits = sorted(s for s, b in bands.items() if b in self.params["trigger_bands"])
            if hits:
                evidence = {"screening": facts.screening.get("informant"), "scales": hits, "bands": bands}
        if CATEGORY in facts.indicated:
            evidence["counsellor"] = True
        if not evidence:
            return ()
        return [Category(CATEGORY, evidence, risk="high" if "total" in hits else "medium")]

    def plan_requirements(self, category: str, facts: CaseFacts) -> Sequence[PlanRequirement]:
        if category != CATEGORY:
            return ()
        return [
            PlanRequirement(
                CATEGORY,
                "psych_help_plan",
                Msg("a psychological help plan item with time, content and stage target"),
                item_kind="psych_help",
            )
        ]

    def obligations(self, facts: CaseFacts) -> Sequence[Obligation]:
        if CATEGORY not in facts.categories or facts.state != states.MENTORED or facts.state_since is None:
            return ()
        last = facts.last_contacts.get("counselling")
        start = max(d for d in (last, facts.state_since) if d is not None)
        due = facts.calendar.shift_out_of_holiday(
            start + timedelta(days=self.params["session_days"]), self.params["holiday_grace_days"]
        )
        return [
            Obligation(
                "counselling_session",
                Msg("a counselling session"),
                "counsellor",
                due,
                self.params["session_days"],
                last,
                grace_days=int(self.params["grace_days"]),
            )
        ]
