"""Suspected illegal behaviour (涉嫌违法): critical at once, leadership acknowledgement, referral, leader's close."""

from __future__ import annotations

from collections.abc import Sequence

from casework.domain.facts import AssessmentFacts, CaseFacts
from casework.domain.vocab import REFERRAL_AGENCIES
from casework.rules.base import Category, Obligation, Parameter, RuleModule, Verdict
from casework.text import Msg

CATEGORY = "suspected_illegal"
LEADERSHIP = frozenset({"leader", "deputy"})


class SuspectedIllegal(RuleModule):
    name = "suspected_illegal"
    version = "2"
    description = Msg(
        "Suspected illegal behaviour: flagged critical at once; the leadership acknowledges within 2 days; "
        "an external referral before plan; only a leader closes the case"
    )
    parameters = (
        Parameter("ack_days", 2, Msg("days the leadership group has to acknowledge the critical flag")),
        Parameter(
            "agencies",
            ["police", "civil_affairs", "womens_federation", "procuratorate_minors"],
            Msg("agencies a referral may go to"),
        ),
    )

    def classify(self, facts: AssessmentFacts) -> Sequence[Category]:
        if CATEGORY not in facts.indicated:
            return ()
        return [Category(CATEGORY, {"counsellor": True}, risk="critical", flag="critical")]

    def check(self, event: str, facts: CaseFacts) -> Sequence[Verdict]:
        if CATEGORY not in facts.categories:
            return ()
        if event == "plan":
            referred = [a for a in facts.referrals if a in self.params["agencies"]]
            return [
                self.verdict(
                    "referral_recorded" if referred else "referral_missing",
                    bool(referred),
                    Msg("an external referral is recorded")
                    if referred
                    else Msg(
                        "suspected illegal behaviour: record an external referral ({agencies}) before plan",
                        {"agencies": [Msg(REFERRAL_AGENCIES.get(a, a)) for a in self.params["agencies"]]},
                    ),
                    {"referrals": referred},
                )
            ]
        if event == "close":
            leader = bool(facts.actor_roles & LEADERSHIP)
            return [
                self.verdict(
                    "leader_decision" if leader else "leader_decision_missing",
                    leader,
                    Msg("closed by the leadership group")
                    if leader
                    else Msg("suspected illegal behaviour: only the leader or deputy leader may close this case"),
                    {"actor_roles": sorted(facts.actor_roles)},
                )
            ]
        return ()

    def obligations(self, facts: CaseFacts) -> Sequence[Obligation]:
        raised = facts.flags_raised.get("critical")
        if raised is None or facts.flags.get("critical") is not None or facts.state == "closed":
            return ()
        return [
            Obligation(
                "critical_acknowledgement",
                Msg("the leadership group acknowledges the critical flag"),
                "leader",
                raised,  # due the day it is raised: the leadership is told at once
                grace_days=int(self.params["ack_days"]),
                escalates=False,  # not acknowledged in time: stalled, whatever the ladder says
            )
        ]
