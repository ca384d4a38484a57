"""The lists' order: the one integer the query ranks cases by sorts them as ``urgency`` does."""

from __future__ import annotations

import random
from datetime import date

from casework.domain.listing import RISK_ORDER, ListedCase, Reason, urgency
from casework.persistence.queries import _rank


def test_the_integer_rank_sorts_as_urgency() -> None:
    rng = random.Random(7)
    risks = [*RISK_ORDER, None, "unheard_of"]
    cases = []
    for case_id in rng.sample(range(1, 2**39), 3000):
        days = [rng.choice([0, 1, 2, 30, 365, rng.randint(0, 20000)]) for _ in range(rng.randint(1, 3))]
        reasons = tuple(
            Reason(f"duty{i}", date(2026, 1, 1), d, None, None, None) for i, d in enumerate(sorted(days, reverse=True))
        )
        cases.append(ListedCase("stalled", case_id, 1, "assessed", 1, None, None, rng.choice(risks), reasons))
    by_rank = sorted(cases, key=lambda c: _rank(RISK_ORDER.get(c.risk_level or "", 4), c.days_overdue, c.case_id))
    assert [c.case_id for c in by_rank] == [c.case_id for c in sorted(cases, key=urgency)]
