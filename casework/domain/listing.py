"""What the due, overdue and stalled lists hold: a case and its reasons, each with who must act.

Plain immutable values, built by the reporting queries straight from the database's rows and
read by the services, the web pages and the documents.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

RISK_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class Reason(NamedTuple):
    """One reason a case is on a list: what, due since when, how late, and who must act.

    Immutable, as the web renders it; a named tuple rather than a dataclass because a province's
    stalled list builds tens of thousands of them.
    """

    reason: str
    since: date
    days_overdue: int
    role: str | None
    responsible_id: int | None
    responsible_name: str | None
    stand_in: bool = False  # the person stands in for a role nobody holds yet (the case's counsellor)
    overdue_on: date | None = None

    def as_data(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "since": self.since.isoformat(),
            "overdue_on": self.overdue_on.isoformat() if self.overdue_on else None,
            "days_overdue": self.days_overdue,
            "responsible": {
                "role": self.role,
                "id": self.responsible_id,
                "name": self.responsible_name,
                "stand_in": self.stand_in,
            },
        }


class ListedCase(NamedTuple):
    """A case on the due, overdue or stalled list, with every reason of that level, most urgent first.

    Immutable; a named tuple rather than a frozen dataclass, as ``Reason`` is: a
    province's list builds tens of thousands, and a frozen dataclass's constructor sets each field
    through ``object.__setattr__``.
    """

    level: str
    case_id: int
    school_id: int
    state: str
    child_id: int
    child_name: str | None
    class_name: str | None
    risk_level: str | None
    reasons: tuple[Reason, ...]

    @property
    def days_overdue(self) -> int:
        return max(r.days_overdue for r in self.reasons)  # not reasons[0]: a case built by hand need not be sorted

    def as_data(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "case_id": self.case_id,
            "school_id": self.school_id,
            "state": self.state,
            "child": {"id": self.child_id, "name": self.child_name},
            "class": self.class_name,
            "risk_level": self.risk_level,
            "days_overdue": self.days_overdue,
            "reasons": [r.as_data() for r in self.reasons],
        }


StalledCase = ListedCase  # the stalled list's cases (the name the meetings and indicators use)


def urgency(case: ListedCase) -> tuple[int, int, int]:
    """Riskiest first, then the most days overdue, then the oldest case."""
    return (RISK_ORDER.get(case.risk_level or "", 4), -case.days_overdue, case.case_id)
