"""School-wide care (篇2, 篇4, 篇6): seminars, stars and groups each term, a study helper for every child in care."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from casework.domain.facts import CaseFacts
from casework.rules.base import Obligation, Parameter, RuleModule
from casework.text import Msg


class SchoolCare(RuleModule):
    name = "school_care"
    version = "1"
    description = Msg(
        "School-wide care: a seminar of mentors, children and guardians each term, stars of left-behind children "
        "chosen twice a term, 3+2+1+1 groups, and a study helper for every child in care"
    )
    parameters = (
        Parameter("seminars_per_term", 1, Msg("seminars of mentors, children and guardians each term")),
        Parameter("star_rounds_per_term", 2, Msg("selections of stars of left-behind children each term")),
        Parameter("group_pupils", 3, Msg("ordinary pupils in a 3+2+1+1 group")),
        Parameter("group_left_behind", 2, Msg("left-behind children in a 3+2+1+1 group")),
        Parameter("study_helper_days", 14, Msg("days into a stage by which a child in care has a study helper")),
        Parameter(
            "study_helper_in",
            ["individual_plan", "mentored", "reviewed"],
            Msg("stages in which every child in care has a study helper"),
        ),
        Parameter("holiday_grace_days", 14, Msg("days into the next term for a duty that falls in a holiday")),
    )

    def obligations(self, facts: CaseFacts) -> Sequence[Obligation]:
        """篇2, 篇4: 「每个留守儿童由老师牵头确立一名学习帮手」: a duty of the class teacher until one is paired."""
        if facts.state not in self.params["study_helper_in"] or "study_helper" in facts.active_pairings:
            return ()
        start = facts.state_since or facts.today
        due = facts.calendar.shift_out_of_holiday(
            start + timedelta(days=self.params["study_helper_days"]), self.params["holiday_grace_days"]
        )
        return (Obligation("study_helper", Msg("a study helper paired with the child"), "class_teacher", due),)
