"""The leadership review's thresholds: escalation, mentor load, key children, indicator targets."""

from __future__ import annotations

from casework.rules.base import Parameter, RuleModule
from casework.text import Msg

INDICATORS = (
    "file_rate",
    "enrolment_rate",
    "retention_rate",
    "aid_rate",
    "talk_coverage",
    "mentor_coverage",
    "feedback_coverage",
)


class ReviewRules(RuleModule):
    name = "review"
    version = "1"
    description = Msg(
        "Leadership review: when a reminder escalates to the leadership group, how many children a mentor "
        "may carry, which children are key, and the target of each indicator"
    )
    parameters = (
        Parameter(
            "escalate_after_days", 3, Msg("days after the reminder before a stalled case goes to the leadership")
        ),
        Parameter("mentor_max_children", 5, Msg("most children one mentor looks after")),
        Parameter("key_risk_levels", ["high", "critical"], Msg("risk levels that make a child a key child")),
        Parameter(
            "targets",
            {name: 1.0 for name in INDICATORS},
            Msg("target of each indicator, as a share (1.0 is 100%)"),
        ),
    )
