"""What the school records of a pupil each term: exam results, enrolment and material aid."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.domain import access as policy
from casework.domain.child import check_on_file
from casework.domain.classes import grade_in
from casework.domain.inputs import RecordAid, RecordEnrolment, RecordTermResult, field
from casework.errors import InvalidInput
from casework.persistence.tables import SchoolClass, Staff, TermResult
from casework.services import access, consent, trail
from casework.services.context import Context
from casework.services.rollover import class_moves


@contextmanager
def _child_write(
    ctx: Context, actor: str | None, child_id: int, tier: str
) -> Iterator[tuple[Session, Staff, Any, datetime]]:
    """One write transaction about a child (not a case) in the actor's scope; ``tier``: what is written."""
    now = ctx.now()
    with ctx.db.write() as session:
        principal = access.enter(session, actor, now.date())
        child = access.child_in_scope(session, principal, child_id)
        check_on_file(child.id, child.transferred_out_on)
        access.require_tier(principal, child.school_id, policy.WRITE, tier)
        if tier == policy.T2:
            consent.require_for_records(session, child.id, now.date(), principal, child.school_id)
        who = access.staff_of(session, principal)
        yield session, who, child, now


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


def term_result(ctx: Context, actor: str | None, given: RecordTermResult) -> int:
    """A child's final exam of one term; recording the same term again replaces it (audited).

    A term that has not begun has no final exam yet: refused. The result keeps the child's class
    and that class's grade in the result's school year (the rollover moves a class up in place).
    """
    school_year, term = given.school_year, given.term
    calendar = ctx.rule_set.calendar
    starts = calendar.term(school_year, term).start
    if ctx.now().date() < starts:
        with field("term"):
            raise InvalidInput(
                "term {term} of {year} has not begun (it starts on {start}): no final exam to record",
                term=term,
                year=school_year,
                start=starts.isoformat(),
            )
    with _child_write(ctx, actor, given.child_id, policy.T0) as (session, who, child, now):
        row, replaced = _per_term(session, TermResult, child, school_year, term)
        row.total_score, row.class_rank, row.class_size = given.total, given.rank, given.class_size
        row.subjects, row.three_good = dict(given.subjects), given.three_good
        row.serious_violation = given.serious_violation
        row.recorded_at, row.recorded_by = now, who.id
        row.class_id = child.class_id
        cls = session.get(SchoolClass, child.class_id) if child.class_id is not None else None
        if cls is not None:
            row.grade = grade_in(cls.grade, class_moves(session, child.school_id).get(cls.id, []), school_year)
        session.flush()
        trail.Scribe(session, child.school_id, now, who.id).write(
            "term_result.recorded",
            "term_result",
            row.id,
            data={"child_id": child.id, "school_year": school_year, "term": term, "replaced": replaced},
        )
        return int(row.id)


def enrolment(ctx: Context, actor: str | None, given: RecordEnrolment) -> int:
    """A child's enrolment status in a term; recording the same term again replaces it (audited)."""
    from casework.persistence.tables import Enrolment

    school_year, term, code = given.school_year, given.term, given.status
    with _child_write(ctx, actor, given.child_id, policy.T0) as (session, who, child, now):
        row, replaced = _per_term(session, Enrolment, child, school_year, term)
        row.status, row.recorded_at, row.recorded_by = code, now, who.id
        row.class_id = child.class_id  # the class the child is in this term, for the counts per class
        session.flush()
        trail.Scribe(session, child.school_id, now, who.id).write(
            "enrolment.recorded",
            "enrolment",
            row.id,
            data={"child_id": child.id, "school_year": school_year, "term": term, "status": code, "replaced": replaced},
        )
        return int(row.id)


def aid(ctx: Context, actor: str | None, given: RecordAid) -> int:
    """Material help given to a child (物质帮助)."""
    from casework.persistence.tables import Aid

    code, text = given.kind, given.description
    with _child_write(ctx, actor, given.child_id, policy.T2) as (session, who, child, now):
        day = given.given_on or now.date()
        if day > now.date():
            with field("given_on"):
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
        trail.Scribe(session, child.school_id, now, who.id).write(
            "aid.recorded", "aid", row.id, data={"child_id": child.id, "kind": code}
        )
        return row.id
