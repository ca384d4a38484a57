"""Load what rules may know (CaseFacts, AssessmentFacts) and store the duties they set, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from casework import states
from casework.domain.child import CHILD_FIELDS, filled
from casework.domain.facts import AssessmentFacts, CaseFacts, PlanItemFacts, TermFacts
from casework.persistence.tables import (
    Assessment,
    Case,
    CaseEvent,
    CaseFlag,
    Child,
    ContactEntry,
    Duty,
    Membership,
    Pairing,
    Plan,
    PlanItem,
    Referral,
    Review,
    ReviewEffect,
    Screening,
    TermResult,
)
from casework.rules import Obligation, RuleSet, duties

# A new round of each record starts with these events: after them, older records no longer count.
ASSESSMENT_ROUND = ("reassess", "reopen")
PLAN_ROUND = ("reassess", "reopen", "revise")
_FIELD_NAMES = tuple(f.name for f in CHILD_FIELDS)


@dataclass(frozen=True)
class Rounds:
    assessment: int
    plan: int


def _day(moment: datetime) -> date:
    return moment.date()


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
        select(Plan).where(Plan.case_id == case.id, Plan.case_version >= plan_round).order_by(Plan.id.desc()).limit(1)
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


def term_results(session: Session, child_id: int) -> tuple[TermFacts, ...]:
    rows = session.scalars(
        select(TermResult).where(TermResult.child_id == child_id).order_by(TermResult.school_year, TermResult.term)
    )
    return tuple(TermFacts(r.school_year, r.term, r.total_score, r.class_rank, dict(r.subjects)) for r in rows)


def latest_screening(session: Session, case_id: int) -> dict[str, object] | None:
    row = session.scalars(
        select(Screening).where(Screening.case_id == case_id).order_by(Screening.id.desc()).limit(1)
    ).first()
    return dict(row.result) if row else None


def last_contacts(session: Session, case: Case) -> dict[str, date]:
    """Last date of each contact kind, and of each kind by each role its author holds at the school."""
    rows = session.execute(
        select(ContactEntry.kind, Membership.role, func.max(ContactEntry.occurred_on))
        .outerjoin(
            Membership,
            (Membership.staff_id == ContactEntry.by_id) & (Membership.school_id == ContactEntry.school_id),
        )
        .where(ContactEntry.case_id == case.id)
        .group_by(ContactEntry.kind, Membership.role)
    ).all()
    found: dict[str, date] = {}
    for kind, role, day in rows:
        found[kind] = max(found.get(kind, day), day)
        if role is not None:
            found[f"{kind}@{role}"] = day
    return found


def assessment_facts(session: Session, case: Case, indicated: frozenset[str]) -> AssessmentFacts:
    child = session.get(Child, case.child_id)
    assert child is not None  # foreign key
    return AssessmentFacts(
        family_situation=child.family_situation,
        guardian_age=child.guardian_age,
        guardian_health=child.guardian_health,
        guardian_literate=child.guardian_literate,
        term_results=term_results(session, child.id),
        screening=latest_screening(session, case.id),
        indicated=indicated,
    )


def load(
    session: Session,
    case: Case,
    today: date,
    rule_set: RuleSet,
    reason_given: bool = False,
    actor_roles: frozenset[str] = frozenset(),
) -> CaseFacts:
    child = session.get(Child, case.child_id)
    assert child is not None  # foreign key
    r = rounds(session, case)
    assessments = session.scalars(
        select(Assessment.categories).where(Assessment.case_id == case.id, Assessment.case_version >= r.assessment)
    ).all()
    plan = current_plan(session, case, r.plan)
    items: list[PlanItem] = (
        list(session.scalars(select(PlanItem).where(PlanItem.plan_id == plan.id).order_by(PlanItem.id))) if plan else []
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
    flags = session.execute(
        select(CaseFlag.code, CaseFlag.raised_at, CaseFlag.acknowledged_at).where(CaseFlag.case_id == case.id)
    ).all()
    referrals = session.scalars(select(Referral.agency).where(Referral.case_id == case.id)).all()
    return CaseFacts(
        case_id=case.id,
        school_id=case.school_id,
        state=case.state,
        version=case.version,
        today=today,
        filled_fields=filled({name: getattr(child, name) for name in _FIELD_NAMES}),
        in_class=child.class_id is not None,
        assessments=len(assessments),
        categories=tuple(sorted({c for cats in assessments for c in cats})),
        plan_items=tuple(
            PlanItemFacts(
                id=i.id,
                category=i.category,
                has_time=i.start_on is not None and i.end_on is not None,
                has_content=bool(i.content),
                has_target=bool(i.stage_target),
                has_responsible=i.responsible_id is not None,
                kind=i.kind,
                subject=i.subject,
            )
            for i in items
        ),
        active_pairings=frozenset(pairings),
        review_recorded=review is not None,
        reviewed_items=frozenset(reviewed_items),
        reason_given=reason_given,
        opened_on=_day(case.opened_at),
        state_since=_day(case.state_since),
        actor_roles=actor_roles,
        flags={code: (_day(ack) if ack else None) for code, _, ack in flags},
        flags_raised={code: _day(raised) for code, raised, _ in flags},
        referrals=tuple(referrals),
        term_results=term_results(session, child.id),
        last_contacts=last_contacts(session, case),
        calendar=rule_set.calendar,
    )


def after_move(facts: CaseFacts, case: Case) -> CaseFacts:
    """The same facts seen from the state the case just entered."""
    return replace(facts, state=case.state, version=case.version, state_since=_day(case.state_since))


def _responsible(session: Session, case: Case, today: date) -> dict[str, int]:
    child = session.get(Child, case.child_id)
    who: dict[str, int] = {"counsellor": case.opened_by}
    if child is not None and child.class_id is not None:
        teacher = session.scalars(
            select(Membership.staff_id).where(
                Membership.class_id == child.class_id,
                Membership.role == "class_teacher",
                or_(Membership.ended_on.is_(None), Membership.ended_on >= today),
            )
        ).first()
        if teacher is not None:
            who["class_teacher"] = teacher
    mentor = session.scalars(
        select(Pairing.staff_id)
        .where(
            Pairing.case_id == case.id,
            Pairing.kind == "mentor",
            Pairing.from_on <= today,
            or_(Pairing.to_on.is_(None), Pairing.to_on >= today),
        )
        .order_by(Pairing.id.desc())
    ).first()
    if mentor is not None:
        who["mentor"] = mentor
    return who


def plan_duties(facts: CaseFacts, rule_set: RuleSet) -> dict[str, Obligation]:
    """What the rules say the case owes in the state ``facts`` describe, by duty code.

    A rule module that raises propagates (casework.rules.engine.ModuleFailed): callers turn it
    into a refusal, so a broken module never leaves a case without its duties.
    """
    if facts.state == states.CLOSED:
        return {}
    return {d.code: d for d in duties(rule_set.modules, facts)}


def stage_due(wanted: dict[str, Obligation]) -> date | None:
    return next((d.due for code, d in wanted.items() if code.startswith("stage_deadline:")), None)


def store_duties(session: Session, case: Case, wanted: dict[str, Obligation], today: date, now: datetime) -> None:
    """Replace the case's duty rows with ``wanted``; "stalled" is a query on them."""
    existing = {d.code: d for d in session.scalars(select(Duty).where(Duty.case_id == case.id))}
    stale = [code for code in existing if code not in wanted]
    if stale:
        session.execute(delete(Duty).where(Duty.case_id == case.id, Duty.code.in_(stale)))
    who = _responsible(session, case, today) if wanted else {}
    for code, duty in wanted.items():
        row = existing.get(code) or Duty(school_id=case.school_id, case_id=case.id, code=code)
        row.rule, row.responsible_role = duty.rule, duty.responsible_role
        row.responsible_id = who.get(duty.responsible_role)
        row.rhythm_days, row.due_on, row.last_done_on = duty.rhythm_days, duty.due, duty.last_done
        row.computed_at = now
        if code not in existing:
            session.add(row)


def refresh_duties(session: Session, case: Case, facts: CaseFacts, rule_set: RuleSet, now: datetime) -> None:
    """After a record changed what the case owes: recompute and store duties and the stage deadline."""
    wanted = plan_duties(facts, rule_set)
    store_duties(session, case, wanted, facts.today, now)
    due = stage_due(wanted)
    if case.stage_due_on != due:
        case.stage_due_on = due
