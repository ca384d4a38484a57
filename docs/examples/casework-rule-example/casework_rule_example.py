"""An example third-party rule module: the parents hear from the school before a case closes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from casework.domain.facts import CaseFacts
from casework.rules import Obligation, Parameter, RuleModule, Verdict
from casework.text import Msg


class ParentsInformed(RuleModule):
    name = "parents_informed"
    version = "1.0"
    description = Msg(
        "Parents hear from the school before a case closes, and get a call every few weeks",
        translations={"zh_CN": "结案前须已向家长反馈；每隔几周与家长通话一次"},
    )
    parameters = (
        Parameter(
            "call_days",
            21,
            Msg("most days between calls to the parents", translations={"zh_CN": "两次与家长通话的最长间隔（天）"}),
        ),
    )

    def check(self, event: str, facts: CaseFacts) -> Sequence[Verdict]:
        if event != "close":
            return ()
        informed = "parent_feedback" in facts.last_contacts
        return [
            self.verdict(
                "parents_informed" if informed else "parents_not_informed",
                informed,
                Msg("the parents have had feedback", translations={"zh_CN": "已向家长反馈"})
                if informed
                else Msg(
                    "tell the parents before closing: record feedback first",
                    translations={"zh_CN": "结案前请先向家长反馈并记录"},
                ),
                {"parent_feedback": informed},
            )
        ]

    def obligations(self, facts: CaseFacts) -> Sequence[Obligation]:
        if facts.state != "mentored":
            return ()
        last = facts.last_contacts.get("phone_call")
        start = last or facts.state_since or facts.today
        return [
            Obligation(
                "parents_call",
                Msg("a call to the parents", translations={"zh_CN": "与家长通话"}),
                "mentor",
                start + timedelta(days=self.params["call_days"]),
                self.params["call_days"],
                last,
            )
        ]
