"""When a guardian's consent is in force, what it covers, and the retention boundary."""

from __future__ import annotations

from datetime import date

import pytest

from casework.domain.consent import CONSENT_SCOPES, covers_records, in_force, past_retention

D = date(2026, 9, 10)


@pytest.mark.parametrize(
    "given, withdrawn, day, expected",
    [
        (D, None, D, True),  # in force from the day it is given
        (D, None, date(2026, 9, 9), False),  # not before
        (D, date(2026, 9, 20), date(2026, 9, 19), True),
        (D, date(2026, 9, 20), date(2026, 9, 20), False),  # a withdrawal takes effect on its day
        (D, date(2026, 9, 20), date(2027, 1, 1), False),
    ],
)
def test_in_force(given: date, withdrawn: date | None, day: date, expected: bool) -> None:
    assert in_force(given, withdrawn, day) is expected


def test_scopes_that_cover_counselling_records() -> None:
    assert {s for s in CONSENT_SCOPES if covers_records(s)} == {"all", "counselling"}


@pytest.mark.parametrize("days_ago, expected", [(29, False), (30, False), (31, True)])
def test_retention_is_closed_longer_than_the_period(days_ago: int, expected: bool) -> None:
    from datetime import timedelta

    assert past_retention(D - timedelta(days=days_ago), D, 30) is expected
