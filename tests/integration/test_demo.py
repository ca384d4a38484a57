"""The demo tells the story a leader recognises: most cases on track, a few overdue, three stalled for a reason each."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from casework.persistence import crypto
from casework.persistence.db import Database
from casework.services import Context, demo, review

# Each stalled case of the demo and the reason it is stalled for: nothing else may be on the list.
STALLED = {
    "critical": {"critical_acknowledgement"},  # the leader is away; the flag waits past its two days
    "silent": {"monthly_talk"},  # the class teacher has not talked with the child since September
    "stuck": {"repeated_refusal:mentor", "stage_deadline:individual_plan"},  # no mentor will take the child
}


@pytest.mark.slow
@pytest.mark.parametrize("today", [date(2026, 11, 24), date(2026, 12, 6)])
def test_the_demo_shows_a_few_stalled_cases_each_for_a_reason(tmp_path, today: date) -> None:
    path = str(tmp_path / "demo.db")
    report = demo.run(path, today=today)
    assert report.as_of == today.isoformat()
    assert report.stalled <= 0.15 * report.open_cases
    assert sorted(set(r) for _, r in report.stalled_reasons) == sorted(STALLED.values(), key=sorted)
    assert 1 <= report.overdue <= 5 and report.due < report.open_cases

    # asked afterwards, on the same day, the list is the same
    ctx = Context(
        db=Database(path, keyring=crypto.KeyRing(crypto.read_key_file(Path(path + ".key")))),
        clock=lambda: datetime(today.year, today.month, today.day, 20, tzinfo=UTC),
    )
    try:
        stalled = review.stalled(ctx, report.leader)
        assert [c.case_id for c in stalled] == [case for case, _ in report.stalled_reasons]
        assert stalled[0].risk_level == "critical"  # riskiest first
        overdue = {r.reason for c in review.overdue(ctx, report.leader) for r in c.reasons}
        assert overdue <= {"counselling_session", "conduct_talk"}
    finally:
        ctx.db.dispose()
