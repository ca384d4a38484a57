"""The leadership review's thresholds: the escalation ladder, mentor load, key children, indicator targets."""

from __future__ import annotations

from casework.rules.base import Parameter, RuleModule
from casework.text import Msg

# The care work's indicators, then the child's five ones (五个一), each the share of children with it.
INDICATORS = (
    "file_rate",
    "enrolment_rate",
    "retention_rate",
    "aid_rate",
    "talk_coverage",
    "mentor_coverage",
    "feedback_coverage",
    "five_call_home",
    "five_letter",
    "five_class_teacher",
    "five_subject_teacher",
    "five_visit_home",
)
FIVE_ONES = tuple(i for i in INDICATORS if i.startswith("five_"))


class ReviewRules(RuleModule):
    name = "review"
    version = "2"
    description = Msg(
        "Leadership review: how long after the overdue reminder a duty goes to the leadership group, how "
        "far ahead a to-do list looks, how many children a mentor may carry, which children are key, and "
        "the target of each indicator"
    )
    parameters = (
        Parameter(
            "escalate_after_days",
            3,
            Msg("days after the overdue reminder before a duty still not done goes to the leadership group"),
        ),
        Parameter("due_ahead_days", 7, Msg("days ahead a staff member's to-do list looks")),
        Parameter("mentor_max_children", 5, Msg("most children one mentor looks after")),
        Parameter("key_risk_levels", ["high", "critical"], Msg("risk levels that make a child a key child")),
        Parameter(
            "targets",
            {name: 1.0 for name in INDICATORS},
            Msg("target of each indicator, as a share (1.0 is 100%)"),
        ),
    )
