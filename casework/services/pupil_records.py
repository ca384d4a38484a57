"""What the school records of a pupil each term: exam results, enrolment and material aid."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.domain import access as policy
from casework.domain.validation import parse_choice, parse_int, require_text
from casework.errors import InvalidInput
from casework.persistence.tables import (
    Staff,
    TermResult,
)
from casework.services import access, consent, trail
from casework.services.context import Context


@contextmanager
def _child_write(
    ctx: Context, actor: str | None, child_id: int, tier: str
) -> Iterator[tuple[Session, Staff, Any, datetime]]:
    """One write transaction about a child (not a case) in the actor's scope; ``tier``: what is written."""
    now = ctx.now()
    with ctx.db.write() as session:
        principal = access.enter(session, actor, now.date())
        child = access.child_in_scope(session, principal, child_id)
        access.require_tier(principal, child.school_id, policy.WRITE, tier)
        if tier == policy.T2:
            consent.require_for_records(session, child.id, now.date(), principal, child.school_id)
        who = access.staff_of(session, principal)
        yield session, who, child, now


def _check_term(school_year: int, term: int) -> None:
    if term not in (1, 2):
        raise InvalidInput("--term: {term} is not 1 (autumn) or 2 (spring)", term=term)
    parse_int(str(school_year), "--year", 2000, 2100)


def _per_term(session: Session, model: Any, child: Any, school_year: int, term: int) -> tuple[Any, bool]:
    """The child's row of ``model`` for the term, new if there is none; and whether it existed."""
    row = session.scalars(
        select(model).where(model.child_id == child.id, model.school_year == school_year, model.term == term)
    ).first()
    if row is not None:
        return row, True
    row = model(school_id=child.school_id, child_id=child.id, school_year=school_year, term=term)
    session.add(row)
    return row, False


def term_result(
    ctx: Context,
    actor: str | None,
    child_id: int,
    *,
    school_year: int,
    term: int,
    total: float,
    rank: int,
    class_size: int | None = None,
    subjects: dict[str, float] | None = None,
    three_good: bool = False,
    serious_violation: bool = False,
) -> int:
    """A child's final exam of one term; recording the same term again replaces it (audited)."""
    _check_term(school_year, term)
    if rank < 1 or (class_size is not None and rank > class_size):
        raise InvalidInput("--rank: {rank} is not a place in the class", rank=rank)
    if total < 0 or any(v < 0 for v in (subjects or {}).values()):
        raise InvalidInput("scores must not be negative")
    with _child_write(ctx, actor, child_id, policy.T0) as (session, who, child, now):
        row, replaced = _per_term(session, TermResult, child, school_year, term)
        row.total_score, row.class_rank, row.class_size = total, rank, class_size
        row.subjects, row.three_good, row.serious_violation = dict(subjects or {}), three_good, serious_violation
        row.recorded_at, row.recorded_by = now, who.id
        session.flush()
        trail.append(
            session,
            school_id=child.school_id,
            at=now,
            actor_id=who.id,
            action="term_result.recorded",
            object_type="term_result",
            object_id=row.id,
            data={"child_id": child.id, "school_year": school_year, "term": term, "replaced": replaced},
        )
        return int(row.id)


def enrolment(ctx: Context, actor: str | None, child_id: int, *, school_year: int, term: int, status: str) -> int:
    """A child's enrolment status in a term; recording the same term again replaces it (audited)."""
    from casework.domain.vocab import ENROLMENT_STATUSES
    from casework.persistence.tables import Enrolment

    if term not in (1, 2):
        raise InvalidInput("--term: {term} is not 1 (autumn) or 2 (spring)", term=term)
    parse_int(str(school_year), "--year", 2000, 2100)
    code = parse_choice(
        status,
        "--status",
        ENROLMENT_STATUSES,
        {"在读": "enrolled", "在校": "enrolled", "辍学": "dropped_out", "转学": "transferred", "休学": "suspended"},
    )
    with _child_write(ctx, actor, child_id, policy.T0) as (session, who, child, now):
        row, replaced = _per_term(session, Enrolment, child, school_year, term)
        row.status, row.recorded_at, row.recorded_by = code, now, who.id
        row.class_id = child.class_id  # the class the child is in this term, for the counts per class
        session.flush()
        trail.append(
            session,
            school_id=child.school_id,
            at=now,
            actor_id=who.id,
            action="enrolment.recorded",
            object_type="enrolment",
            object_id=row.id,
            data={"child_id": child.id, "school_year": school_year, "term": term, "status": code, "replaced": replaced},
        )
        return int(row.id)


def aid(
    ctx: Context, actor: str | None, child_id: int, *, kind: str, description: str, given_on: date | None = None
) -> int:
    """Material help given to a child (物质帮助)."""
    from casework.domain.vocab import AID_KINDS
    from casework.persistence.tables import Aid

    code = parse_choice(
        kind,
        "--kind",
        AID_KINDS,
        {
            "衣物": "clothing",
            "学习用品": "stationery",
            "文具": "stationery",
            "餐食": "meals",
            "助学金": "money",
            "现金": "money",
            "其他": "other",
        },
    )
    text = require_text(description, "--description", 2000)
    with _child_write(ctx, actor, child_id, policy.T2) as (session, who, child, now):
        day = given_on or now.date()
        if day > now.date():
            raise InvalidInput("--date {day} is in the future", day=day.isoformat())
        row = Aid(
            school_id=child.school_id,
            child_id=child.id,
            kind=code,
            given_on=day,
            description=text,
            recorded_at=now,
            recorded_by=who.id,
        )
        session.add(row)
        session.flush()
        trail.append(
            session,
            school_id=child.school_id,
            at=now,
            actor_id=who.id,
            action="aid.recorded",
            object_type="aid",
            object_id=row.id,
            data={"child_id": child.id, "kind": code},
        )
        return row.id
