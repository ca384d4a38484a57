"""A guardian's consent: which scopes there are, when one is in force, and the retention cut-off; pure."""

from __future__ import annotations

from datetime import date, timedelta

from casework.text import N_

# What a guardian may consent to. "counselling" covers the counselling records of a case
# (assessments, screenings, plans, pairings, talks, visits, reviews, referrals, aid); "contact"
# only the contact card; "all" both.
CONSENT_SCOPES: dict[str, str] = {
    "all": N_("all processing"),
    "counselling": N_("counselling records"),
    "contact": N_("contact card only"),
}
COVERS_RECORDS = frozenset({"all", "counselling"})
SCOPE_ALIASES = {"全部": "all", "帮扶记录": "counselling", "心理辅导": "counselling", "联络卡": "contact"}

DEFAULT_RETENTION_DAYS = 1095  # three years after a child's last case closed


def in_force(given_on: date, withdrawn_on: date | None, day: date) -> bool:
    """Given on or before ``day`` and not withdrawn by then (a withdrawal takes effect on its day)."""
    return given_on <= day and (withdrawn_on is None or withdrawn_on > day)


def covers_records(scope: str) -> bool:
    return scope in COVERS_RECORDS


def past_retention(closed_on: date, today: date, retention_days: int) -> bool:
    """Closed *longer* than the retention period: a case closed exactly ``retention_days`` ago is kept."""
    return (today - closed_on) > timedelta(days=retention_days)
