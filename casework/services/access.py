"""Who is acting and what they may reach: bind the record scope, check the policy table, log reads and denials."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import states
from casework.domain import access as policy
from casework.domain.results import key
from casework.domain.vocab import role_labels
from casework.errors import NotFound, PermissionDenied
from casework.persistence import scope as scoping
from casework.persistence.tables import Case, Child, Document, SchoolClass, Staff
from casework.services import trail
from casework.services.actors import active_memberships, home_school, require_actor, resolve_staff
from casework.services.context import Context
from casework.services.denials import Denial
from casework.text import N_, Msg

T = TypeVar("T")
__all__ = ["Principal", "Reads", "enter", "principal", "principal_of", "resolve_staff", "system"]


@dataclass(frozen=True)
class Principal:
    """The acting staff member with their roles per school and the classes they teach."""

    staff_id: int
    name: str
    roles: Mapping[int, frozenset[str]]
    class_ids: frozenset[int]
    today: date

    def roles_at(self, school_id: int) -> frozenset[str]:
        return self.roles.get(school_id, frozenset())

    def all_roles(self) -> frozenset[str]:
        return frozenset(r for roles in self.roles.values() for r in roles)

    def scope(self) -> scoping.Scope:
        grants: dict[int, str] = {}
        for school_id, roles in self.roles.items():
            widest = policy.widest_scope(roles)
            if widest == policy.SCHOOL:
                grants[school_id] = scoping.SCHOOL
            elif widest == policy.ASSIGNED:
                grants[school_id] = scoping.ASSIGNED
        return scoping.Scope(
            kind="staff", staff_id=self.staff_id, today=self.today, grants=grants, class_ids=self.class_ids
        )

    def may_read(self, school_id: int, tier: str) -> bool:
        return policy.may_tier(self.roles_at(school_id), policy.READ, tier)

    def denied(self, school_id: int | None, what: str, msgid: str, **params: Any) -> PermissionDenied:
        roles = self.roles_at(school_id) if school_id is not None else self.all_roles()
        return denied(school_id, self.staff_id, roles, what, msgid, **params)


def denied(
    school_id: int | None,
    staff_id: int,
    held: Iterable[str],
    what: str,
    msgid: str,
    kind: type[PermissionDenied] = PermissionDenied,
    **params: Any,
) -> PermissionDenied:
    """A PermissionDenied carrying what the access log records of it (``held``: the actor's roles)."""
    exc = kind(msgid, **params)
    exc.denial = Denial(school_id, staff_id, tuple(sorted(held)), what)
    return exc


def principal(session: Session, actor: str | None, today: date) -> Principal:
    return principal_of(session, require_actor(session, actor), today)


def principal_of(session: Session, who: Staff, today: date) -> Principal:
    roles: dict[int, set[str]] = defaultdict(set)
    classes: set[int] = set()
    for membership in active_memberships(session, who.id, today):
        roles[membership.school_id].add(membership.role)
        if membership.class_id is not None:
            classes.add(membership.class_id)
    return Principal(who.id, who.name, {s: frozenset(r) for s, r in roles.items()}, frozenset(classes), today)


def enter(session: Session, actor: str | None, today: date) -> Principal:
    """Resolve the actor and bind their record scope to the session: every later query obeys it."""
    who = principal(session, actor, today)
    scoping.bind(session, who.scope())
    return who


def at_school(
    session: Session, actor: str | None, today: date, school: str | None, capability: str
) -> tuple[Principal, Staff, int]:
    """Bind the actor's scope and find their school (--school, else their only one), where they
    must hold ``capability``."""
    who = enter(session, actor, today)
    staff = staff_of(session, who)
    school_id = home_school(session, staff, today, school)
    require(who, school_id, capability)
    return who, staff, school_id


def staff_of(session: Session, who: Principal) -> Staff:
    """The acting person's staff row (for the services that record ``by`` or resolve a school)."""
    staff = session.get(Staff, who.staff_id)
    assert staff is not None  # resolved moments ago in the same transaction
    return staff


def bind(session: Session, who: Principal) -> None:
    """Bind an already resolved actor's scope to another session of the same command."""
    scoping.bind(session, who.scope())


def case_of_document(session: Session, document_id: int) -> int:
    """The case a document belongs to, whatever the scope; NotFound when there is no such document."""
    case_id = scoping.column_of(session, Document, document_id, "case_id")
    if case_id is None:
        raise NotFound("no stored document with id {id}", id=document_id)
    return int(case_id)


def system(session: Session) -> None:
    """Bind the program's own scope: for jobs nobody in particular runs (setup, sweeps)."""
    scoping.bind(session, scoping.Scope.system())


def require_school(who: Principal, school_id: int) -> frozenset[str]:
    roles = who.roles_at(school_id)
    if not roles:
        raise who.denied(
            school_id,
            "school",
            N_("{name} (staff {id}) has no role at school {school}"),
            name=who.name,
            id=who.staff_id,
            school=school_id,
        )
    return roles


def require(who: Principal, school_id: int, capability: str) -> frozenset[str]:
    roles = require_school(who, school_id)
    if not policy.may(roles, capability):
        raise who.denied(
            school_id,
            capability,
            N_("{name} (staff {id}, {roles}) may not do this: {capability}"),
            name=who.name,
            id=who.staff_id,
            roles=role_labels(roles),
            capability=Msg(policy.CAPABILITY_LABELS.get(capability, capability)),
        )
    return roles


def require_tier(who: Principal, school_id: int, action: str, tier: str) -> frozenset[str]:
    roles = require_school(who, school_id)
    if not policy.may_tier(roles, action, tier):
        raise who.denied(
            school_id,
            f"{action}:{tier}",
            N_("{name} (staff {id}, {roles}) may not {action} {tier}"),
            name=who.name,
            id=who.staff_id,
            roles=role_labels(roles),
            action=Msg(policy.ACTION_LABELS.get(action, action)),
            tier=Msg(policy.TIER_LABELS.get(tier, tier)),
        )
    return roles


def searchable_schools(who: Principal, tier: str, what: str) -> frozenset[int]:
    """The schools where the actor reads ``tier``: a search over fields of that tier looks only
    there. None at all is a refusal (logged as ``access.denied``): a substring or exact-match
    search over sealed fields would otherwise rebuild or confirm what the role may not read."""
    schools = frozenset(s for s in who.roles if who.may_read(s, tier))
    if not schools:
        roles = who.all_roles()
        single = next(iter(who.roles)) if len(who.roles) == 1 else None
        raise denied(
            single,
            who.staff_id,
            roles,
            f"search:{what}:{tier}",
            N_("{name} (staff {id}, {roles}) may not search {tier}"),
            name=who.name,
            id=who.staff_id,
            roles=role_labels(roles),
            tier=Msg(policy.TIER_LABELS.get(tier, tier)),
        )
    return schools


def require_event(who: Principal, school_id: int, event: str, source: str) -> frozenset[str]:
    roles = require_school(who, school_id)
    if not policy.may_fire(roles, event, source):
        raise who.denied(
            school_id,
            f"event:{event}",
            N_("{name} (staff {id}, {roles}) may not fire '{event}' from {state}"),
            name=who.name,
            id=who.staff_id,
            roles=role_labels(roles),
            event=states.event_label(event),
            state=states.state_label(source),
        )
    return roles


def _in_scope(session: Session, who: Principal, entity: type[T], row_id: int, kind: str, msg: str) -> T:
    found = session.get(entity, row_id)
    if found is not None:
        return found
    school_id = scoping.school_of(session, entity, row_id)
    if school_id is None:
        raise NotFound("no {kind} with id {id}", kind=Msg(kind), id=row_id)  # "case", "child": labels
    raise who.denied(school_id, f"{kind}:{row_id}", msg, name=who.name, id=who.staff_id, row=row_id)


def case_in_scope(session: Session, who: Principal, case_id: int) -> Case:
    """The case if the actor's scope reaches it; a case outside it is a denial, a missing one NotFound."""
    return _in_scope(
        session, who, Case, case_id, "case", N_("case {row} is outside the record scope of {name} (staff {id})")
    )


def child_in_scope(session: Session, who: Principal, child_id: int) -> Child:
    return _in_scope(
        session, who, Child, child_id, "child", N_("child {row} is outside the record scope of {name} (staff {id})")
    )


def child_to_open(session: Session, who: Principal, child_id: int) -> Child:
    """A child a case may be opened for: in the actor's scope, or any child of a school where the
    actor holds CASE_OPEN (the counsellor identifies children before anyone is assigned)."""
    school_id = scoping.school_of(session, Child, child_id)
    if school_id is not None and policy.may(who.roles_at(school_id), policy.CASE_OPEN):
        scoping.bind(session, scoping.Scope.system())
        try:
            child = session.get(Child, child_id)
        finally:
            scoping.bind(session, who.scope())
        assert child is not None
        return child
    return child_in_scope(session, who, child_id)


@dataclass
class Reads:
    """The T1 and T2 fields of which children a command shows its user, for the access log."""

    who: Principal
    seen: dict[tuple[int, str], set[int]] = field(default_factory=lambda: defaultdict(set))

    def add(self, school_id: int, child_ids: Iterable[int], *tiers: str) -> None:
        ids = set(child_ids)
        if not ids:
            return
        for tier in tiers:
            if tier != policy.T0 and self.who.may_read(school_id, tier):
                self.seen[(school_id, tier)].update(ids)


# The reads of the use cases run inside ``reads_held``: written together when it ends.
_held: ContextVar[list[tuple[Reads, str]] | None] = ContextVar("casework_held_reads", default=None)


def log_reads(ctx: Context, reads: Reads, what: str) -> None:
    """Append one access event per school and tier read: who, which children, which tier, when.

    Inside ``reads_held`` (a web page) the events wait for its end and go in one transaction.
    """
    if not reads.seen:
        return
    held = _held.get()
    if held is not None:
        held.append((reads, what))
        return
    _write_reads(ctx, [(reads, what)])


@contextmanager
def reads_held(ctx: Context) -> Iterator[None]:
    """Hold the access events of what runs inside and write them in one transaction when it ends,
    whether it ends well or not: a page that calls several use cases pays for one commit."""
    token = _held.set([])
    try:
        yield
    finally:
        held = _held.get()
        _held.reset(token)
        if held:
            _write_reads(ctx, held)


def _write_reads(ctx: Context, items: list[tuple[Reads, str]]) -> None:
    """The events on the hot path's connection: no ORM session, whose bookkeeping costs more than
    the few statements of an append (a page pays this once, after it is built)."""
    now = ctx.now()
    with ctx.db.raw_write() as store:
        for reads, what in items:
            for (school_id, tier), child_ids in sorted(reads.seen.items()):
                trail.Scribe(store, school_id, now, reads.who.staff_id).write(
                    "access.read",
                    data={
                        "tier": tier,
                        "roles": sorted(reads.who.roles_at(school_id)),
                        "what": what,
                        "child_ids": sorted(child_ids),
                    },
                )


@dataclass(frozen=True)
class ChildSummary:
    """A child as a list shows it: id, name (to T1 readers only), school and class."""

    id: int
    name: str | None
    school_id: int
    class_: str | None = field(metadata=key("class"))


def child_summaries(
    session: Session, who: Principal, ids: Sequence[int] | None = None
) -> tuple[list[ChildSummary], Reads]:
    """Id, name, school and class of the children in scope (those of ``ids`` when given), and the
    T1 reads to log: a name only where the actor's role reads contact data."""
    query = select(Child.id, Child.name, Child.school_id, SchoolClass.grade, SchoolClass.name).outerjoin(
        SchoolClass, SchoolClass.id == Child.class_id
    )
    if ids is not None:
        query = query.where(Child.id.in_(ids))
    reads = Reads(who)
    found = []
    for i, n, s, g, c in session.execute(query.order_by(Child.id)).all():
        named = who.may_read(s, policy.T1)
        if named:
            reads.add(s, [i], policy.T1)
        found.append(ChildSummary(i, n if named else None, s, f"{g}/{c}" if g is not None else None))
    return found, reads
