"""The leadership group's review: stalled cases, the daily sweep, mentor load, meetings and decisions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casework.domain import access as policy
from casework.errors import InvalidInput, NotFound
from casework.formats.gcpause import without_cyclic_gc
from casework.persistence import queries
from casework.persistence.tables import (
    Case,
    Child,
    Pairing,
    School,
    Staff,
    Stall,
)
from casework.rules.review import ReviewRules
from casework.services import access, trail
from casework.services.actors import home_school, resolve_staff
from casework.services.context import Context

LEADERSHIP_ROLES = ("leader", "deputy")


def review_params(ctx: Context) -> dict[str, Any]:
    module = ctx.rule_set.module("review")
    return dict(module.params) if module else ReviewRules().params


new_tuple = tuple.__new__


class Reason(NamedTuple):
    """One reason a case is stalled: what, since when, how late, and who must act."""

    reason: str
    since: date
    days_overdue: int
    role: str | None
    responsible_id: int | None
    responsible_name: str | None

    def as_data(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "since": self.since.isoformat(),
            "days_overdue": self.days_overdue,
            "responsible": {"role": self.role, "id": self.responsible_id, "name": self.responsible_name},
        }


@dataclass
class StalledCase:
    case_id: int
    school_id: int
    state: str
    child_id: int
    child_name: str | None
    class_name: str | None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def days_overdue(self) -> int:
        return max(r.days_overdue for r in self.reasons)

    def as_data(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "school_id": self.school_id,
            "state": self.state,
            "child": {"id": self.child_id, "name": self.child_name},
            "class": self.class_name,
            "days_overdue": self.days_overdue,
            "reasons": [r.as_data() for r in self.reasons],
        }


def staff_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids))).all())


def stalled_cases(
    session: Session, today: date, school_id: int | None, class_id: int | None, responsible_id: int | None
) -> list[StalledCase]:
    with without_cyclic_gc():
        return _stalled_rows(session, today, school_id, class_id, responsible_id)


def _stalled_rows(
    session: Session, today: date, school_id: int | None, class_id: int | None, responsible_id: int | None
) -> list[StalledCase]:
    # One school at a time: each query then runs on the (school_id, due_on) index, as a shard would.
    schools = [school_id] if school_id is not None else list(session.scalars(select(School.id).order_by(School.id)))
    rows = [r for sid in schools for r in queries.stalled(session, today, sid, class_id, responsible_id)]
    staff = staff_names(session, {r.responsible_id for r in rows if r.responsible_id is not None})
    found: dict[int, StalledCase] = {}
    worst: dict[int, int] = {}
    today_ordinal = today.toordinal()
    overdue: dict[date, int] = {}
    for r in rows:
        entry = found.get(r.case_id)
        if entry is None:
            entry = found[r.case_id] = StalledCase(
                r.case_id, r.school_id, r.state, r.child_id, r.child_name, r.class_label
            )
        days = overdue.get(r.since, -1)
        if days < 0:
            days = overdue[r.since] = max(0, today_ordinal - r.since.toordinal())
        # tuple.__new__ directly: a NamedTuple's own constructor costs more than the row itself
        entry.reasons.append(
            new_tuple(
                Reason,
                (
                    r.reason,
                    r.since,
                    days,
                    r.responsible_role,
                    r.responsible_id,
                    staff.get(r.responsible_id) if r.responsible_id else None,
                ),
            )
        )
        if days >= worst.get(r.case_id, -1):
            worst[r.case_id] = days
    for entry in found.values():
        if len(entry.reasons) > 1:
            entry.reasons.sort(key=lambda x: (-x.days_overdue, x.reason))
    return sorted(found.values(), key=lambda c: (-worst[c.case_id], c.case_id))


def school_filter(session: Session, school: str | None) -> int | None:
    if school is None:
        return None
    found = session.scalars(
        select(School.id).where(or_(School.name == school, School.id == (int(school) if school.isdigit() else -1)))
    ).first()
    if found is None:
        raise NotFound("no school '{school}'", school=school)
    return found


def stalled(
    ctx: Context,
    actor: str | None,
    school: str | None = None,
    class_ref: str | None = None,
    responsible: str | None = None,
) -> list[StalledCase]:
    """Stalled cases in the actor's record scope, most urgent first, with every reason, days overdue
    and who is responsible; the children's names only for roles that read contact data."""
    from casework.services.setup import resolve_class

    today = ctx.now().date()
    with ctx.db.read() as session:
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
        # What the actor may see is decided per school, once, not per case.
        schools = [school_id] if school_id is not None else list(session.scalars(select(School.id)))
        held = {sid: roles for sid in schools if (roles := who.roles_at(sid))}
        narrow = {sid for sid, roles in held.items() if policy.widest_scope(roles) != policy.SCHOOL}
        found = [c for c in stalled_cases(session, today, school_id, class_id, responsible_id) if c.school_id in held]
        if narrow:
            # The stalled queries are plain SQL per school; where the actor sees only some cases,
            # keep the ones the session's scope reaches.
            ids = {c.case_id for c in found if c.school_id in narrow}
            visible = set(session.scalars(select(Case.id).where(Case.id.in_(ids))))
            found = [c for c in found if c.school_id not in narrow or c.case_id in visible]
        names_read = {sid for sid in held if who.may_read(sid, policy.T1)}
        shown: dict[int, list[int]] = {sid: [] for sid in names_read}
        for c in found:
            if c.school_id in names_read:
                shown[c.school_id].append(c.child_id)
            else:
                c.child_name = None
        reads = access.Reads(who)
        for sid, child_ids in shown.items():
            reads.add(sid, child_ids, policy.T1)
    access.log_reads(ctx, reads, "review.stalled")
    return found


@dataclass(frozen=True)
class SweepResult:
    new: int
    reminded: int
    escalated: int
    resolved: int

    @property
    def changed(self) -> bool:
        return bool(self.new or self.reminded or self.escalated or self.resolved)


def sweep(ctx: Context) -> SweepResult:
    """Record newly stalled reasons, remind, escalate after N days, resolve; twice a day changes nothing."""
    now = ctx.now()
    today = now.date()
    after = int(review_params(ctx)["escalate_after_days"])
    totals = {"new": 0, "reminded": 0, "escalated": 0, "resolved": 0}
    with ctx.db.write() as session:
        access.system(session)  # the daily job of the program itself, not of a person
        current = stalled_cases(session, today, None, None, None)
        wanted = {(c.case_id, r.reason, r.since): (c.school_id, r.responsible_id) for c in current for r in c.reasons}
        open_rows = session.scalars(select(Stall).where(Stall.resolved_on.is_(None))).all()
        known = {(s.case_id, s.reason, s.since): s for s in open_rows}
        per_school: dict[int, dict[str, int]] = defaultdict(
            lambda: {"new": 0, "reminded": 0, "escalated": 0, "resolved": 0}
        )
        for key, (school_id, who) in wanted.items():
            row = known.get(key)
            if row is None:
                row = Stall(
                    school_id=school_id,
                    case_id=key[0],
                    reason=key[1],
                    since=key[2],
                    responsible_id=who,
                    found_on=today,
                    reminded_on=today,
                )
                session.add(row)
                per_school[school_id]["new"] += 1
                per_school[school_id]["reminded"] += 1
            elif row.escalated_on is None and row.reminded_on is not None and (today - row.reminded_on).days >= after:
                row.escalated_on = today
                per_school[row.school_id]["escalated"] += 1
        for key, row in known.items():
            if key not in wanted:
                row.resolved_on = today
                per_school[row.school_id]["resolved"] += 1
        session.flush()
        for school_id, counts in sorted(per_school.items()):
            for k, v in counts.items():
                totals[k] += v
            trail.Scribe(session, school_id, now, None).write("review.swept", "school", school_id, data=dict(counts))
    return SweepResult(**totals)


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
