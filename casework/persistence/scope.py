"""Record scope, enforced for every ORM statement of a session: which schools, cases and children it may touch.

A service binds a Scope to its session (``bind``) once it knows who is acting; from then on every
ORM SELECT, UPDATE and DELETE on a table holding case data is narrowed by ``with_loader_criteria``
to the rows the scope allows, whatever the query joins or lists. A session that touches case data
with no scope bound is a programming error and raises: deny by default. The plain SQL of the hot
path (store.py, queries.py) checks scope itself through ``Store.case_visible``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, event, false, or_, select, true, union
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from casework.persistence import tables as t

SCHOOL, ASSIGNED, SYSTEM = "school", "assigned", "system"
SCOPE_KEY = "casework_scope"


class UnscopedQuery(RuntimeError):
    """A query on case data from a session no scope was bound to."""


@dataclass(frozen=True)
class Scope:
    """What one actor may reach: per school, the whole school or only the cases assigned to them.

    ``grants`` maps a school id to SCHOOL or ASSIGNED; a school not named is out of reach.
    Assignment: the case's counsellor, an active pairing, a plan item the staff member is
    responsible for, a class they teach (membership with a class), or a child they filed.
    """

    kind: str
    staff_id: int | None = None
    today: date | None = None
    grants: dict[int, str] = field(default_factory=dict)
    class_ids: frozenset[int] = frozenset()

    @classmethod
    def system(cls) -> Scope:
        """For the program's own jobs (migrations, sweeps, the demo's setup): no narrowing."""
        return cls(kind=SYSTEM)

    def schools(self) -> frozenset[int]:
        return frozenset(self.grants)

    def key(self) -> tuple[Any, ...]:
        """What tells this scope from any other: equal keys, equal criteria."""
        return (self.kind, self.staff_id, self.today, tuple(sorted(self.grants.items())), self.class_ids)

    def assigned_cases(self, school_id: int, case: Any) -> ColumnElement[bool]:
        """``case``: the ORM entity (for the criteria) or the Core columns (inside subqueries).

        Subqueries use Core tables: the scope's own criteria must not apply to themselves. The
        assigned case ids are one UNION of index lookups (counsellor, pairing, plan item, class),
        evaluated once per statement, rather than an OR of EXISTS probes run for every case of
        the school.
        """
        return and_(case.school_id == school_id, case.id.in_(self.assigned_case_ids()))

    def assigned_case_ids(self) -> Any:
        """The ids of the cases assigned to the staff member, at any school (the caller narrows)."""
        staff, today = self.staff_id, self.today
        assert staff is not None and today is not None
        case, pairing, plan, item = _core(t.Case), _core(t.Pairing), _core(t.Plan), _core(t.PlanItem)
        parts = [
            select(case.id).where(case.counsellor_id == staff),
            select(pairing.case_id).where(
                pairing.staff_id == staff,
                pairing.from_on <= today,
                or_(pairing.to_on.is_(None), pairing.to_on >= today),
            ),
            select(plan.case_id).where(item.plan_id == plan.id, item.responsible_id == staff),
        ]
        if self.class_ids:
            parts.append(select(case.id).where(case.class_id.in_(sorted(self.class_ids))))
        return union(*parts)

    def cases(self, case: Any = None) -> ColumnElement[bool]:
        """The condition on case_file rows this scope reaches."""
        case = t.Case if case is None else case
        if self.kind == SYSTEM:
            return true()
        parts: list[ColumnElement[bool]] = []
        for school_id, grant in sorted(self.grants.items()):
            parts.append(case.school_id == school_id if grant == SCHOOL else self.assigned_cases(school_id, case))
        return or_(*parts) if parts else false()

    def children(self, child: Any = None) -> ColumnElement[bool]:
        """Children of a reachable case, of a class taught, or filed by the staff member themself."""
        child = t.Child if child is None else child
        if self.kind == SYSTEM:
            return true()
        case = _core(t.Case)
        parts: list[ColumnElement[bool]] = []
        for school_id, grant in sorted(self.grants.items()):
            if grant == SCHOOL:
                parts.append(child.school_id == school_id)
                continue
            by_case = child.id.in_(select(case.child_id).where(self.assigned_cases(school_id, case)))
            mine: list[ColumnElement[bool]] = [by_case, child.created_by == self.staff_id]
            if self.class_ids:
                mine.append(child.class_id.in_(sorted(self.class_ids)))
            parts.append(and_(child.school_id == school_id, or_(*mine)))
        return or_(*parts) if parts else false()

    def case_ids(self) -> Any:
        case = _core(t.Case)
        return select(case.id).where(self.cases(case))

    def child_ids(self) -> Any:
        child = _core(t.Child)
        return select(child.id).where(self.children(child))


def _core(entity: Any) -> Any:
    """The Core columns of a mapped class's table."""
    return entity.__table__.c


# Tables narrowed through their case, their child, or their school. Reference data (school,
# class, staff, membership, rule_set) is not case data and stays readable to any bound scope.
_BY_CASE = (
    t.CaseEvent,
    t.Assessment,
    t.Plan,
    t.Pairing,
    t.ContactEntry,
    t.ContactMonth,
    t.Review,
    t.Screening,
    t.Referral,
    t.CaseFlag,
    t.Duty,
    t.Refusal,
    t.Stall,
    t.Extension,
    t.MeetingItem,
    t.Document,
)
_BY_CHILD = (t.ChildChange, t.TermResult, t.Enrolment, t.Aid, t.Consent, t.SurveyChild, t.Star, t.CareAttendance)
# The audit chain holds ids and field names, never personal values: reading it is a capability
# (AUDIT_READ), checked by the audit services, not a record scope.
_BY_SCHOOL = (t.Meeting, t.Survey, t.SurveyClass, t.CareEvent, t.CareGroup, t.Transfer)
CASE_DATA = frozenset(
    m.__table__.name  # type: ignore[attr-defined]
    for m in (t.Case, t.Child, t.PlanItem, t.ReviewEffect, t.CareGroupMember, *_BY_CASE, *_BY_CHILD, *_BY_SCHOOL)
)


def criteria(scope: Scope) -> list[Any]:
    case_ids, child_ids = scope.case_ids(), scope.child_ids()
    schools = sorted(scope.schools())
    options: list[Any] = [
        with_loader_criteria(t.Case, scope.cases(), include_aliases=True),
        with_loader_criteria(t.Child, scope.children(), include_aliases=True),
        with_loader_criteria(t.PlanItem, t.PlanItem.plan_id.in_(select(t.Plan.id).where(t.Plan.case_id.in_(case_ids)))),
        with_loader_criteria(
            t.ReviewEffect, t.ReviewEffect.review_id.in_(select(t.Review.id).where(t.Review.case_id.in_(case_ids)))
        ),
    ]
    options += [with_loader_criteria(m, m.case_id.in_(case_ids)) for m in _BY_CASE]
    options += [with_loader_criteria(m, m.child_id.in_(child_ids)) for m in _BY_CHILD]
    options += [with_loader_criteria(m, m.school_id.in_(schools)) for m in _BY_SCHOOL]
    # A group's ordinary pupils are no child on file: reached through the school, its children as children.
    member = t.CareGroupMember
    options.append(
        with_loader_criteria(
            member,
            or_(member.child_id.in_(child_ids), and_(member.child_id.is_(None), member.school_id.in_(schools))),
        )
    )
    return options


_CRITERIA_KEY = "casework_scope_criteria"


def bind(session: Session, scope: Scope) -> None:
    session.info[SCOPE_KEY] = scope
    session.info.pop(_CRITERIA_KEY, None)


def _criteria_of(session: Session, scope: Scope) -> list[Any]:
    """The scope's loader criteria, built once per scope: fifty options cost tens of milliseconds
    to build, and the same option objects let SQLAlchemy find its compiled statements again (new
    ones each time make every statement a new cache entry)."""
    cached = session.info.get(_CRITERIA_KEY)
    if cached is None or cached[0] is not scope:
        cached = session.info[_CRITERIA_KEY] = (scope, _shared_criteria(scope.key()))
    options: list[Any] = cached[1]
    return options


@lru_cache(maxsize=256)
def _shared_criteria(key: tuple[Any, ...]) -> list[Any]:
    kind, staff_id, today, grants, class_ids = key
    return criteria(Scope(kind, staff_id, today, dict(grants), class_ids))


def bound(session: Session) -> Scope | None:
    scope = session.info.get(SCOPE_KEY)
    return scope if isinstance(scope, Scope) else None


def _tables(state: ORMExecuteState) -> set[str]:
    return {m.local_table.name for m in state.all_mappers}  # type: ignore[attr-defined]


def install(factory: sessionmaker[Session]) -> None:
    """Narrow every ORM statement of the factory's sessions to the scope bound to the session."""

    @event.listens_for(factory, "do_orm_execute")
    def _narrow(state: ORMExecuteState) -> None:
        if not (state.is_select or state.is_update or state.is_delete):
            return
        if state.is_select and (state.is_column_load or state.is_relationship_load):
            return  # the entity was loaded under the criteria already
        scope = bound(state.session)
        if scope is None:
            touched = _tables(state) & CASE_DATA
            if touched:
                raise UnscopedQuery(f"query on {', '.join(sorted(touched))} with no scope bound to the session")
            return
        if scope.kind != SYSTEM:
            state.statement = state.statement.options(*_criteria_of(state.session, scope))


def column_of(session: Session, entity: type[Any], row_id: int, column: str) -> Any:
    """One column of a row whatever the scope (a Core statement, which the scope does not narrow):
    tells "outside your scope" from "does not exist"."""
    table = entity.__table__
    return session.connection().execute(select(table.c[column]).where(table.c.id == row_id)).scalar()


def school_of(session: Session, entity: type[Any], row_id: int) -> int | None:
    school_id = column_of(session, entity, row_id, "school_id")
    return None if school_id is None else int(school_id)
