"""Conduct (品德行为偏差, 人格发展不健全, 道德发展失范): an education management plan, talks every 14 days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from casework import states
from casework.domain.facts import AssessmentFacts, CaseFacts
from casework.rules.base import Category, Obligation, Parameter, PlanRequirement, RuleModule
from casework.text import Msg

CATEGORIES = ("conduct", "personality", "moral")


class Conduct(RuleModule):
    name = "conduct"
    version = "2"
    description = Msg(
        "Conduct problems, unsound personality development, moral deviance: an individual education "
        "management plan with correction targets; a talk at least every 14 days while mentored"
    )
    parameters = (
        Parameter("talk_days", 14, Msg("most days between talks while mentored")),
        Parameter("grace_days", 3, Msg("days past due before a talk counts as overdue")),
        Parameter("holiday_grace_days", 14, Msg("days into the next term for a duty that falls in a holiday")),
    )

    def classify(self, facts: AssessmentFacts) -> Sequence[Category]:
        return [Category(code, {"counsellor": True}, risk="medium") for code in CATEGORIES if code in facts.indicated]

    def plan_requirements(self, category: str, facts: CaseFacts) -> Sequence[PlanRequirement]:
        if category not in CATEGORIES:
            return ()
        return [
            PlanRequirement(
                category,
                "education_management_plan",
                Msg("an individual education management plan item with correction targets"),
                item_kind="correction",
            )
        ]

    def obligations(self, facts: CaseFacts) -> Sequence[Obligation]:
        if not set(CATEGORIES) & set(facts.categories) or facts.state != states.MENTORED:
            return ()
        if facts.state_since is None:
            return ()
        last = facts.last_contacts.get("talk")
        start = max(d for d in (last, facts.state_since) if d is not None)
        due = facts.calendar.shift_out_of_holiday(
            start + timedelta(days=self.params["talk_days"]), self.params["holiday_grace_days"]
        )
        return [
            Obligation(
                "conduct_talk",
                Msg("a talk about conduct"),
                "mentor",
                due,
                self.params["talk_days"],
                last,
                grace_days=int(self.params["grace_days"]),
            )
        ]
