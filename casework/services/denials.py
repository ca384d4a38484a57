"""Refused attempts: what the access log keeps of each, and logging it in the school's chain after the rollback."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from casework.errors import PermissionDenied
from casework.persistence import scope as scoping
from casework.persistence.db import Database
from casework.services import trail
from casework.services.actors import active_memberships


@dataclass(frozen=True)
class Denial:
    """What a refused attempt was, for the access log: who, where, as what, trying what."""

    school_id: int | None
    staff_id: int
    roles: tuple[str, ...]
    what: str


def log(now: Callable[[], datetime], db: Database, exc: PermissionDenied) -> None:
    """Record a refused attempt in the school's chain (every school of the staff member when the
    attempt named none), after the refused transaction rolled back."""
    denial = exc.denial
    if not isinstance(denial, Denial):
        return
    moment = now()
    with db.write() as session:
        scoping.bind(session, scoping.Scope.system())
        schools = (
            [denial.school_id] if denial.school_id is not None else _schools_of(session, denial.staff_id, moment.date())
        )
        for school_id in schools:
            trail.Scribe(session, school_id, moment, denial.staff_id).write(
                "access.denied", data={"roles": list(denial.roles), "what": denial.what}
            )


def page_refused(now: Callable[[], datetime], db: Database, staff_id: int, roles: Iterable[str], page: str) -> None:
    """A page the route table keeps from the person's roles, refused before any use case ran:
    logged as every other refusal is (``what``: ``page:NAME``)."""
    exc = PermissionDenied("page {page} is not open to these roles", page=page)
    exc.denial = Denial(None, staff_id, tuple(sorted(roles)), f"page:{page}")
    log(now, db, exc)


def _schools_of(session: Session, staff_id: int, today: date) -> list[int]:
    return sorted({m.school_id for m in active_memberships(session, staff_id, today)})
