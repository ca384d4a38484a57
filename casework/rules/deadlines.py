"""Stage deadlines: how long a case may stay in each stage before it counts as stalled."""

from __future__ import annotations

from datetime import timedelta

from casework import states
from casework.domain.facts import CaseFacts
from casework.rules.base import Obligation, Parameter, RuleModule
from casework.text import Msg

STAGES = ("identified", "assessed", "individual_plan", "mentored", "reviewed")


class Deadlines(RuleModule):
    name = "deadlines"
    version = "2"
    description = Msg(
        "Stage deadlines: identified 14 days, assessed 14, individual plan 7, mentored until the term's "
        "review date or 120 days, reviewed 14"
    )
    parameters = (
        Parameter("identified", 14, Msg("most days in identified")),
        Parameter("assessed", 14, Msg("most days in assessed")),
        Parameter("individual_plan", 7, Msg("most days in individual plan")),
        Parameter("mentored", 120, Msg("most days in mentored; the term's end comes first if sooner")),
        Parameter("reviewed", 14, Msg("most days in reviewed")),
        Parameter("grace_days", 0, Msg("days past a stage deadline before the case is stalled")),
    )

    def deadline_days(self, state: str) -> int | None:
        value = self.params.get(state) if state in STAGES else None
        return int(value) if value is not None else None

    def deadline(self, facts: CaseFacts) -> Obligation | None:
        days = self.deadline_days(facts.state)
        if days is None or facts.state_since is None:
            return None
        due = facts.state_since + timedelta(days=days)
        if facts.state == states.MENTORED:
            term = facts.calendar.term_of(facts.state_since) or facts.calendar.next_term(facts.state_since)
            due = min(due, term.end)
        return Obligation(
            f"stage_deadline:{facts.state}",
            Msg("leave the stage {state}", {"state": states.state_label(facts.state)}),
            "counsellor" if facts.state != states.REVIEWED else "leader",
            due,
            grace_days=int(self.params["grace_days"]),
            escalates=False,  # a passed stage deadline is itself for the leadership group
        )
