"""A staff member's desk: their duties due this week or overdue, the cases in their care, and child search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from casework import states
from casework.domain import access as policy
from casework.persistence import scope as scoping
from casework.persistence.store import Store
from casework.persistence.tables import Case, Child, Duty, PlanItem, SchoolClass
from casework.services import access
from casework.services import facts as case_facts
from casework.services.context import Context

# The record a duty asks for, so the desk can offer it in one tap.
DUTY_CONTACT: dict[str, str] = {
    "monthly_talk": "talk",
    "boarder_talk": "talk",
    "parent_feedback": "parent_feedback",
    "home_visit": "home_visit",
    "guardian_visit": "home_visit",
    "family_phone": "call_home",
    "counselling_session": "counselling",
    "conduct_talk": "talk",
}
WEEK = 7


@dataclass(frozen=True)
class DeskDuty:
    case_id: int
    child_id: int
    child_name: str | None
    class_name: str | None
    state: str
    code: str
    due_on: date
    days_overdue: int  # negative: days left
    contact_kind: str | None  # the record that fulfils it, when one does


@dataclass(frozen=True)
class DeskCase:
    case_id: int
    child_id: int
    child_name: str | None
    class_name: str | None
    state: str
    risk_level: str | None


@dataclass(frozen=True)
class Desk:
    today: date
    duties: list[DeskDuty]
    duties_total: int
    cases: list[DeskCase]
    cases_total: int


@dataclass(frozen=True)
class ChildHit:
    child_id: int
    name: str
    class_name: str | None
    cases: list[tuple[int, str]]


@dataclass(frozen=True)
class PlanItemRow:
    item_id: int
    category: str
    kind: str
    subject: str | None
    stage_target: str | None


def _class_name(grade: int | None, name: str | None) -> str | None:
    return f"{grade}/{name}" if grade is not None else None


def desk(ctx: Context, actor: str | None, limit: int = 40) -> Desk:
    """The duties the actor answers for, due within a week or overdue, most overdue first; and the
    cases assigned to them (as counsellor, partner, responsible person or class teacher).

    Both lists stop at ``limit`` with their totals, so a desk over many cases stays one short page.
    """
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        due = (
            select(Duty, Case.state, Case.child_id, Child.name, SchoolClass.grade, SchoolClass.name, Case.school_id)
            .join(Case, Case.id == Duty.case_id)
            .join(Child, Child.id == Case.child_id)
            .outerjoin(SchoolClass, SchoolClass.id == Child.class_id)
            .where(Duty.responsible_id == who.staff_id, Duty.due_on <= today + timedelta(days=WEEK))
            .where(Case.state != states.CLOSED)
        )
        duties_total = session.scalar(select(func.count()).select_from(due.subquery())) or 0
        reads = access.Reads(who)
        duties = []
        for duty, state, child_id, name, grade, cname, school_id in session.execute(
            due.order_by(Duty.due_on, Duty.case_id).limit(limit)
        ):
            named = who.may_read(school_id, policy.T1)
            if named:
                reads.add(school_id, [child_id], policy.T1)
            duties.append(
                DeskDuty(
                    duty.case_id,
                    child_id,
                    name if named else None,
                    _class_name(grade, cname),
                    state,
                    duty.code,
                    duty.due_on,
                    (today - duty.due_on).days,
                    DUTY_CONTACT.get(duty.code),
                )
            )
        # Then only the cases assigned to the actor, even for a role that sees the whole school.
        # the cases assigned to the actor, even for a role that sees the whole school.
        scoping.bind(
            session,
            scoping.Scope(
                kind="staff",
                staff_id=who.staff_id,
                today=today,
                grants={s: scoping.ASSIGNED for s in who.roles},
                class_ids=who.class_ids,
            ),
        )
        mine = (
            select(Case, Child.name, SchoolClass.grade, SchoolClass.name)
            .join(Child, Child.id == Case.child_id)
            .outerjoin(SchoolClass, SchoolClass.id == Child.class_id)
            .where(Case.state != states.CLOSED)
        )
        cases_total = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
        cases = []
        for case, name, grade, cname in session.execute(mine.order_by(Case.state_since).limit(limit)):
            named = who.may_read(case.school_id, policy.T1)
            if named:
                reads.add(case.school_id, [case.child_id], policy.T1)
            cases.append(
                DeskCase(
                    case.id,
                    case.child_id,
                    name if named else None,
                    _class_name(grade, cname),
                    case.state,
                    case.risk_level,
                )
            )
    access.log_reads(ctx, reads, "desk")
    return Desk(today, duties, int(duties_total), cases, int(cases_total))


def find_children(ctx: Context, actor: str | None, text: str, limit: int = 50) -> list[ChildHit]:
    """Children in the actor's record scope whose name contains ``text``.

    Names are sealed at rest, so they are opened and compared here, not in SQL; only the children
    shown are logged as read. A role that reads names at none of its schools is refused (and the refusal logged).
    """
    needle = text.strip().casefold()
    if not needle:
        return []
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        access.searchable_schools(who, policy.T1, "child.find")
        rows = session.execute(
            select(Child.id, Child.name, Child.school_id, SchoolClass.grade, SchoolClass.name)
            .outerjoin(SchoolClass, SchoolClass.id == Child.class_id)
            .order_by(Child.id)
        ).all()
        hits = [r for r in rows if who.may_read(r[2], policy.T1) and r[1] and needle in r[1].casefold()][:limit]
        by_child: dict[int, list[tuple[int, str]]] = {}
        if hits:
            for case_id, child_id, state in session.execute(
                select(Case.id, Case.child_id, Case.state)
                .where(Case.child_id.in_([h[0] for h in hits]))
                .order_by(Case.id)
            ):
                by_child.setdefault(child_id, []).append((case_id, state))
        reads = access.Reads(who)
        for child_id, _name, school_id, _g, _c in hits:
            reads.add(school_id, [child_id], policy.T1)
    access.log_reads(ctx, reads, "child.find")
    return [ChildHit(i, n, _class_name(g, c), by_child.get(i, [])) for i, n, _s, g, c in hits]


def plan_items(ctx: Context, actor: str | None, case_id: int) -> list[PlanItemRow]:
    """The items of the case's current plan (what a stage review judges), for a role that reads counselling content."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        case = access.case_in_scope(session, who, case_id)
        if not who.may_read(case.school_id, policy.T2):
            return []
        rounds = case_facts.rounds(Store.of(session), case)
        plan = case_facts.current_plan(session, case, rounds.plan)
        if plan is None:
            return []
        items = session.scalars(select(PlanItem).where(PlanItem.plan_id == plan.id).order_by(PlanItem.id)).all()
        reads = access.Reads(who)
        reads.add(case.school_id, [case.child_id], policy.T2)
        found = [PlanItemRow(i.id, i.category, i.kind, i.subject, i.stage_target) for i in items]
    access.log_reads(ctx, reads, "plan.items")
    return found


@dataclass(frozen=True)
class Reached:
    """A case or child the actor's scope reaches, with the name a form's heading shows."""

    id: int
    child_id: int
    child_name: str | None
    state: str | None  # the case's stage; None for a child


def reach(ctx: Context, actor: str | None, *, case_id: int | None = None, child_id: int | None = None) -> Reached:
    """The case (or child) if the actor may reach it: the same NotFound or denial as any service gives."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        if case_id is not None:
            case = access.case_in_scope(session, who, case_id)
            school_id, kid, state, ident = case.school_id, case.child_id, case.state, case.id
        else:
            assert child_id is not None
            child = access.child_in_scope(session, who, child_id)
            school_id, kid, state, ident = child.school_id, child.id, None, child.id
        reads = access.Reads(who)
        name = None
        if who.may_read(school_id, policy.T1):
            name = session.scalar(select(Child.name).where(Child.id == kid))
            reads.add(school_id, [kid], policy.T1)
    access.log_reads(ctx, reads, "form")
    return Reached(ident, kid, name, state)
