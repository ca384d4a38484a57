"""Load what rules may know about a case (CaseFacts) in a few queries, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casework import states
from casework.domain.child import CHILD_FIELDS, filled
from casework.domain.facts import CaseFacts, PlanItemFacts
from casework.persistence.tables import (
    Assessment,
    Case,
    CaseEvent,
    Child,
    Pairing,
    Plan,
    PlanItem,
    Review,
    ReviewEffect,
)

# A new round of each record starts with these events: after them, older records no longer count.
ASSESSMENT_ROUND = ("reassess", "reopen")
PLAN_ROUND = ("reassess", "reopen", "revise")


@dataclass(frozen=True)
class Rounds:
    assessment: int
    plan: int


def rounds(session: Session, case: Case) -> Rounds:
    rows = session.execute(
        select(CaseEvent.event, func.max(CaseEvent.version))
        .where(CaseEvent.case_id == case.id, CaseEvent.event.in_(PLAN_ROUND))
        .group_by(CaseEvent.event)
    ).all()
    latest = {event: int(version) for event, version in rows}
    return Rounds(
        assessment=max((latest.get(e, 0) for e in ASSESSMENT_ROUND), default=0),
        plan=max((latest.get(e, 0) for e in PLAN_ROUND), default=0),
    )


def current_plan(session: Session, case: Case, plan_round: int) -> Plan | None:
    return session.scalars(
        select(Plan)
        .where(Plan.case_id == case.id, Plan.case_version >= plan_round)
        .order_by(Plan.id.desc())
        .limit(1)
    ).first()


def current_review(session: Session, case: Case) -> Review | None:
    """The review recorded since the case entered its current stage (only in reviewed)."""
    if case.state != states.REVIEWED:
        return None
    return session.scalars(
        select(Review)
        .where(Review.case_id == case.id, Review.case_version == case.version)
        .order_by(Review.id.desc())
        .limit(1)
    ).first()


def load(session: Session, case: Case, today: date, reason_given: bool = False) -> CaseFacts:
    child = session.get(Child, case.child_id)
    assert child is not None  # foreign key
    r = rounds(session, case)
    assessments = session.scalars(
        select(Assessment.categories).where(
            Assessment.case_id == case.id, Assessment.case_version >= r.assessment
        )
    ).all()
    plan = current_plan(session, case, r.plan)
    items: list[PlanItem] = (
        list(session.scalars(select(PlanItem).where(PlanItem.plan_id == plan.id).order_by(PlanItem.id)))
        if plan
        else []
    )
    pairings = session.scalars(
        select(Pairing.kind).where(
            Pairing.case_id == case.id,
            Pairing.from_on <= today,
            or_(Pairing.to_on.is_(None), Pairing.to_on >= today),
        )
    ).all()
    review = current_review(session, case)
    reviewed_items = (
        set(session.scalars(select(ReviewEffect.plan_item_id).where(ReviewEffect.review_id == review.id)))
        if review
        else set()
    )
    categories = sorted({c for cats in assessments for c in cats})
    return CaseFacts(
        case_id=case.id,
        school_id=case.school_id,
        state=case.state,
        version=case.version,
        today=today,
        filled_fields=filled({f.name: getattr(child, f.name) for f in CHILD_FIELDS}),
        in_class=child.class_id is not None,
        assessments=len(assessments),
        categories=tuple(categories),
        plan_items=tuple(
            PlanItemFacts(
                id=i.id,
                category=i.category,
                has_time=i.start_on is not None and i.end_on is not None,
                has_content=bool(i.content),
                has_target=bool(i.stage_target),
                has_responsible=i.responsible_id is not None,
            )
            for i in items
        ),
        active_pairings=frozenset(pairings),
        review_recorded=review is not None,
        reviewed_items=frozenset(reviewed_items),
        reason_given=reason_given,
    )
