"""The leadership group's review: stalled cases, the daily sweep, mentor load, meetings and decisions."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casework.domain import access as policy
from casework.domain import limits
from casework.domain.listing import ListedCase, urgency
from casework.errors import InvalidInput, NotFound
from casework.formats.gcpause import without_cyclic_gc
from casework.persistence import queries
from casework.persistence.tables import (
    AuditEvent,
    Case,
    Child,
    Pairing,
    School,
    Staff,
)
from casework.rules.review import ReviewRules
from casework.services import access
from casework.services.actors import home_school, resolve_staff
from casework.services.context import Context

LEADERSHIP_ROLES = ("leader", "deputy")


def review_params(ctx: Context) -> dict[str, Any]:
    module = ctx.rule_set.module("review")
    return dict(module.params) if module else ReviewRules().params


LEVELS = (queries.DUE, queries.OVERDUE, queries.STALLED)


def staff_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids))).all())


def listed_cases(
    session: Session,
    level: str,
    today: date,
    escalate_after: int,
    school_id: int | None,
    class_id: int | None,
    responsible_id: int | None,
    ahead: int = 0,
) -> list[ListedCase]:
    """One level's list over every school (or one), most urgent first: the query, not yet the actor's view."""
    with without_cyclic_gc():
        return _listed_rows(session, level, today, escalate_after, school_id, class_id, responsible_id, ahead)


def stalled_cases(
    session: Session,
    today: date,
    school_id: int | None,
    class_id: int | None,
    responsible_id: int | None,
    escalate_after: int = 3,
) -> list[ListedCase]:
    return listed_cases(session, queries.STALLED, today, escalate_after, school_id, class_id, responsible_id)


def _listed_rows(
    session: Session,
    level: str,
    today: date,
    escalate_after: int,
    school_id: int | None,
    class_id: int | None,
    responsible_id: int | None,
    ahead: int,
) -> list[ListedCase]:
    # One school at a time: each query then runs on the school's index, as a shard would.
    schools = [school_id] if school_id is not None else list(session.scalars(select(School.id).order_by(School.id)))
    found = [
        queries.listed(session, level, today, escalate_after, ahead, sid, class_id, responsible_id) for sid in schools
    ]
    if len(found) == 1:
        return found[0]
    return sorted((c for cases in found for c in cases), key=urgency)


# The lists last computed, by what they were computed from. The stalled page is read by a school's
# whole leadership group many times a day, and recomputing it costs a query over every duty of the
# school; the key holds, per school, the sequence number of its last audit event that is not a read
# nor about an account (a sign-in, a password), so that any change the lists could see (a move, a
# record, an extension, a sweep) computes it anew.
_LISTS: OrderedDict[tuple[Any, ...], list[ListedCase]] = OrderedDict()
_LISTS_LOCK = threading.Lock()
LISTS_KEPT = 16


def forget_lists() -> None:
    """Drop every kept list, so that the next listing computes (for a benchmark timing the computation)."""
    with _LISTS_LOCK:
        _LISTS.clear()


def _last_changes(session: Session, schools: list[int]) -> tuple[tuple[int, int], ...]:
    found = []
    for school_id in sorted(schools):
        seq = session.scalar(
            select(AuditEvent.seq)
            .where(
                AuditEvent.school_id == school_id,
                AuditEvent.action.not_in(["access.read", "access.denied"]),
                AuditEvent.action.not_like("account.%"),  # sign-ins and passwords change no list
            )
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
        found.append((school_id, int(seq or 0)))
    return tuple(found)


# The lists being computed, by the same key: ten leaders opening the page just after a change wait for
# one computation rather than run ten at once (each seconds of Python on a county-sized school).
_COMPUTING: dict[tuple[Any, ...], threading.Event] = {}


def _listed_kept(session: Session, db_url: str, schools: list[int], *args: Any) -> list[ListedCase]:
    """``listed_cases(session, *args)``, computed once for as long as nothing in the schools changes."""
    key = (db_url, _last_changes(session, schools), *args)
    while True:
        with _LISTS_LOCK:
            kept = _LISTS.get(key)
            if kept is not None:
                _LISTS.move_to_end(key)
                return kept
            computing = _COMPUTING.get(key)
            if computing is None:
                computing = _COMPUTING[key] = threading.Event()
                break
        computing.wait()  # then kept, or (if that computation failed) computed here
    try:
        found = listed_cases(session, *args)
        with _LISTS_LOCK:
            _LISTS[key] = found
            while len(_LISTS) > LISTS_KEPT:
                _LISTS.popitem(last=False)
    finally:
        with _LISTS_LOCK:
            del _COMPUTING[key]
        computing.set()
    return found


def kept_stalled(session: Session, ctx: Context, today: date, school_id: int) -> list[ListedCase]:
    """The school's stalled list as ``review stalled`` shows it to the whole school (kept while
    nothing in the school changes): the indicators count it by stage and by who must act. In a
    snapshot (``Database.snapshot``), as every caller that keeps a list reads it, the list and
    the last change it is filed under are of the same moment."""
    return _kept_list(session, ctx, review_params(ctx), [school_id], queries.STALLED, today, school_id, None, None)


def _kept_list(
    session: Session,
    ctx: Context,
    params: dict[str, Any],
    schools: list[int],
    level: str,
    today: date,
    school_id: int | None,
    class_id: int | None,
    responsible_id: int | None,
) -> list[ListedCase]:
    """The list kept under its key: the one way the stalled page, ``review`` and the indicators
    name a list, so that each finds what the others computed."""
    return _listed_kept(
        session,
        str(ctx.db.url),
        schools,
        level,
        today,
        int(params["escalate_after_days"]),
        school_id,
        class_id,
        responsible_id,
        int(params["due_ahead_days"]),
    )


def school_filter(session: Session, school: str | None) -> int | None:
    if school is None:
        return None
    found = session.scalars(
        select(School.id).where(or_(School.name == school, School.id == (limits.as_id(school) or -1)))
    ).first()
    if found is None:
        raise NotFound("no school '{school}'", school=school)
    return found


def listing(
    ctx: Context,
    actor: str | None,
    level: str,
    school: str | None = None,
    class_ref: str | None = None,
    responsible: str | None = None,
    mine: bool = False,
) -> list[ListedCase]:
    """One level's list in the actor's record scope, most urgent first, with every reason and who
    must act; the children's names only for roles that read contact data.

    ``mine``: only the actor's own duties (a staff member's to-do list).
    """
    from casework.services.setup import resolve_class

    if level not in LEVELS:
        raise InvalidInput("'{value}' is not one of {choices}", value=level, choices=", ".join(LEVELS))
    params = review_params(ctx)
    today = ctx.now().date()
    # One snapshot (REPEATABLE READ on PostgreSQL): the list kept is filed under the school's last
    # change read in the same snapshot as the list, so a report reusing it sees the same moment.
    with ctx.db.snapshot() as session:
        who = access.enter(session, actor, today)
        school_id = school_filter(session, school)
        class_id = None
        if class_ref is not None:
            if school_id is None:
                schools = session.scalars(select(School.id)).all()
                if len(schools) != 1:
                    raise InvalidInput("--class needs --school when there are several schools")
                school_id = schools[0]
            class_id = resolve_class(session, school_id, class_ref).id
        responsible_id = resolve_staff(session, responsible).id if responsible else None
        if mine:
            responsible_id = who.staff_id
        found = in_scope(session, ctx, who, level, today, school_id, class_id, responsible_id, params=params, mine=mine)
        found, reads = named(who, found)
    access.log_reads(ctx, reads, f"review.{level}")
    return found


def in_scope(
    session: Session,
    ctx: Context,
    who: access.Principal,
    level: str,
    today: date,
    school_id: int | None,
    class_id: int | None,
    responsible_id: int | None,
    params: dict[str, Any] | None = None,
    mine: bool = False,
) -> list[ListedCase]:
    """One level's list as far as the bound actor ``who`` may see it, names not yet cut nor logged.

    Where the actor sees every case of every school listed, this is the kept list itself (the same
    object while nothing changes, for callers that keep what they derive from it): never change it.
    """
    params = params if params is not None else review_params(ctx)
    # What the actor may see is decided per school, once, not per case.
    schools = [school_id] if school_id is not None else list(session.scalars(select(School.id)))
    held = {sid: roles for sid in schools if (roles := who.roles_at(sid))}
    narrow = {sid for sid, roles in held.items() if policy.widest_scope(roles) != policy.SCHOOL}
    kept = _kept_list(session, ctx, params, schools, level, today, school_id, class_id, responsible_id)
    if len(held) == len(schools) and not narrow:
        return kept
    found = [c for c in kept if c.school_id in held]
    if narrow:
        # The lists are plain SQL per school; where the actor sees only some cases, keep the
        # ones the session's scope reaches (and, on a to-do list, the actor's own duties).
        ids = {c.case_id for c in found if c.school_id in narrow}
        visible = set(session.scalars(select(Case.id).where(Case.id.in_(ids))))
        found = [c for c in found if c.school_id not in narrow or c.case_id in visible or mine]
    return found


def named(who: access.Principal, cases: list[ListedCase]) -> tuple[list[ListedCase], access.Reads]:
    """``cases`` with the child's name only where the actor's role reads contact data, and the reads to log."""
    # Asked once a school, not once a case: a province's list has tens of thousands of cases.
    names_read = {sid for sid in {c.school_id for c in cases} if who.may_read(sid, policy.T1)}
    shown: dict[int, list[int]] = {sid: [] for sid in names_read}
    out = []
    for c in cases:
        if c.school_id in names_read:
            shown[c.school_id].append(c.child_id)
            out.append(c)
        else:
            # every field but the name, by position (as a dataclass or a named tuple builds it)
            out.append(
                ListedCase(
                    c.level, c.case_id, c.school_id, c.state, c.child_id, None, c.class_name, c.risk_level, c.reasons
                )
            )
    reads = access.Reads(who)
    for sid, child_ids in shown.items():
        reads.add(sid, child_ids, policy.T1)
    return out, reads


def stalled(
    ctx: Context,
    actor: str | None,
    school: str | None = None,
    class_ref: str | None = None,
    responsible: str | None = None,
) -> list[ListedCase]:
    """What the leadership group must look at: stage deadlines passed, duties escalated, a critical
    flag not acknowledged in time, the same move refused again with nothing changed."""
    return listing(ctx, actor, queries.STALLED, school, class_ref, responsible)


def overdue(
    ctx: Context,
    actor: str | None,
    school: str | None = None,
    class_ref: str | None = None,
    responsible: str | None = None,
) -> list[ListedCase]:
    """Duties past their grace that have not yet gone to the leadership group."""
    return listing(ctx, actor, queries.OVERDUE, school, class_ref, responsible)


def due(
    ctx: Context,
    actor: str | None,
    school: str | None = None,
    class_ref: str | None = None,
    responsible: str | None = None,
) -> list[ListedCase]:
    """A staff member's to-do: their duties due within ``due_ahead_days`` and not yet overdue
    (someone else's with ``responsible``)."""
    return listing(ctx, actor, queries.DUE, school, class_ref, responsible, mine=responsible is None)


def mentor_load(ctx: Context, actor: str | None, school: str | None = None) -> dict[str, Any]:
    """Mentors over the limit, and key children without a caring-parent pairing: for the leadership group."""
    params = review_params(ctx)
    today = ctx.now().date()
    active = (Pairing.from_on <= today, or_(Pairing.to_on.is_(None), Pairing.to_on >= today))
    with ctx.db.read() as session:
        staff = leader(session, actor, None, today, school)
        school_id = school_filter(session, school) or home_school(session, staff, today)
        load_q = (
            select(Pairing.staff_id, func.count(func.distinct(Pairing.case_id)))
            .join(Case, Case.id == Pairing.case_id)
            .where(Pairing.kind == "mentor", Case.state != "closed", *active)
            .group_by(Pairing.staff_id)
            .having(func.count(func.distinct(Pairing.case_id)) > int(params["mentor_max_children"]))
        )
        caring = select(Pairing.case_id).where(Pairing.kind == "caring_parent", *active)
        key_q = (
            select(Case.id, Child.name, Case.risk_level)
            .join(Child, Child.id == Case.child_id)
            .where(Case.state != "closed", Case.risk_level.in_(list(params["key_risk_levels"])), Case.id.not_in(caring))
            .order_by(Case.id)
        )
        load_q = load_q.where(Case.school_id == school_id)
        key_q = key_q.where(Case.school_id == school_id)
        overloaded = session.execute(load_q).all()
        names = staff_names(session, {s for s, _ in overloaded if s is not None})
        return {
            "limit": int(params["mentor_max_children"]),
            "overloaded_mentors": [
                {"id": s, "name": names.get(s) if s is not None else None, "children": n} for s, n in overloaded
            ],
            "key_children_without_caring_parent": [
                {"case_id": cid, "child": name, "risk_level": risk} for cid, name, risk in session.execute(key_q)
            ],
        }


# -- meetings -------------------------------------------------------------------------------------


def leader(session: Session, actor: str | None, school_id: int | None, today: date, school: str | None = None) -> Staff:
    """Bind the actor's scope; they must be of the leadership group of the school (or of --school)."""
    who = access.enter(session, actor, today)
    staff = access.staff_of(session, who)
    if school_id is None:
        school_id = home_school(session, staff, today, school)
    access.require(who, school_id, policy.REVIEW_MEETING)
    return staff
