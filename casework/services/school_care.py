"""School-wide care (篇2, 篇6): seminars and activities with the children in care who came, stars, 3+2+1+1 groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.domain import access as policy
from casework.domain.child import check_on_file
from casework.domain.inputs import ChooseStar, FormGroup, RecordCareEvent
from casework.domain.inputs import field as input_field
from casework.domain.results import Named, key
from casework.errors import Conflict, InvalidInput
from casework.persistence.tables import (
    CareAttendance,
    CareEvent,
    CareGroup,
    CareGroupMember,
    Child,
    SchoolClass,
    Staff,
    Star,
)
from casework.rules.school_care import SchoolCare
from casework.services import access, trail
from casework.services.actors import home_school, require_member, resolve_staff
from casework.services.context import Context
from casework.services.setup import resolve_class


def params(ctx: Context) -> dict[str, Any]:
    """The school_care module's parameters in force, or its defaults when a school switched it off."""
    module = ctx.rule_set.module("school_care")
    return dict(module.params) if isinstance(module, SchoolCare) else dict(SchoolCare().params)


def _children_at(session: Session, who: access.Principal, school_id: int, child_ids: tuple[int, ...]) -> list[Child]:
    """The children named, each in the actor's record scope and at the school."""
    found = []
    for child_id in child_ids:
        child = access.child_in_scope(session, who, child_id)
        check_on_file(child.id, child.transferred_out_on)
        if child.school_id != school_id:
            raise InvalidInput("child {child} is not at this school", child=child_id)
        found.append(child)
    return found


def _staff_at(session: Session, refs: tuple[str, ...], school_id: int, today: date) -> list[Staff]:
    staff = []
    for ref in refs:
        person = resolve_staff(session, ref)
        require_member(session, person, school_id, today)
        staff.append(person)
    return staff


def record_event(ctx: Context, actor: str | None, given: RecordCareEvent, school: str | None = None) -> int:
    """A seminar or activity of the actor's school; recording it needs write access to what it holds
    (minutes: counselling content; the guardians' names: contact data)."""
    now = ctx.now()
    day = given.held_on or now.date()
    if day > now.date():
        with input_field("held_on"):
            raise InvalidInput("--date {day} is in the future", day=day.isoformat())
    tier = policy.T2 if given.minutes else policy.T1 if given.guardians else policy.T0
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        staff = access.staff_of(session, who)
        school_id = home_school(session, staff, now.date(), school)
        access.require_tier(who, school_id, policy.WRITE, tier)
        with input_field("class_ref"):
            cls = resolve_class(session, school_id, given.class_ref) if given.class_ref else None
        with input_field("staff"):
            came = _staff_at(session, tuple(given.staff), school_id, now.date())
        with input_field("children"):
            kids = _children_at(session, who, school_id, tuple(given.children))
        row = CareEvent(
            school_id=school_id,
            kind=given.kind,
            held_on=day,
            title=given.title,
            class_id=cls.id if cls else None,
            staff_ids=[str(s.id) for s in came],
            guardians=given.guardians,
            minutes=given.minutes,
            recorded_at=now,
            recorded_by=who.staff_id,
        )
        session.add(row)
        session.flush()
        session.add_all(CareAttendance(school_id=school_id, event_id=row.id, child_id=k.id) for k in kids)
        trail.Scribe(session, school_id, now, who.staff_id).write(
            "care_event.recorded",
            "care_event",
            row.id,
            data={
                "kind": given.kind,
                "held_on": day.isoformat(),
                "staff_ids": [s.id for s in came],
                "child_ids": [k.id for k in kids],
                "fields": sorted(f for f in ("guardians", "minutes") if getattr(given, f)),
            },
        )
        return int(row.id)


def choose_star(ctx: Context, actor: str | None, given: ChooseStar) -> int:
    """留守少儿之星 (篇6: 「学校每学期评选2次留守少儿之星」): a decision of the leadership group, in one of
    the term's ``star_rounds_per_term`` selections."""
    now = ctx.now()
    day = given.chosen_on or now.date()
    if day > now.date():
        with input_field("chosen_on"):
            raise InvalidInput("--date {day} is in the future", day=day.isoformat())
    rounds = params(ctx)["star_rounds_per_term"]
    if given.round > rounds:
        with input_field("round"):
            raise InvalidInput("--round: the school chooses stars {n} time(s) a term", n=rounds)
    year, term = ctx.rule_set.calendar.term_number(day)
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        child = access.child_in_scope(session, who, given.child_id)
        access.require(who, child.school_id, policy.REVIEW_MEETING)
        access.require_tier(who, child.school_id, policy.WRITE, policy.T2)
        already = session.scalars(
            select(Star.id).where(
                Star.child_id == child.id, Star.school_year == year, Star.term == term, Star.round == given.round
            )
        ).first()
        if already is not None:
            raise Conflict(
                "child {child} is already a star of selection {round} of this term", child=child.id, round=given.round
            )
        row = Star(
            school_id=child.school_id,
            child_id=child.id,
            school_year=year,
            term=term,
            round=given.round,
            chosen_on=day,
            reason=given.reason,
            recorded_at=now,
            recorded_by=who.staff_id,
        )
        session.add(row)
        session.flush()
        trail.Scribe(session, child.school_id, now, who.staff_id).write(
            "star.chosen",
            "star",
            row.id,
            data={"child_id": child.id, "school_year": year, "term": term, "round": given.round},
        )
        return int(row.id)


def form_group(ctx: Context, actor: str | None, given: FormGroup, school: str | None = None) -> int:
    """A 3+2+1+1 group: its shape (the module's ``group_pupils`` and ``group_left_behind``, one caring
    parent, one teacher) is checked, and a left-behind child belongs to one group at most."""
    shape = params(ctx)
    if len(given.pupils) != shape["group_pupils"] or len(given.children) != shape["group_left_behind"]:
        raise InvalidInput(
            "a group is {pupils} pupils (--pupil) and {children} left-behind children (--child), "
            "with a caring parent and a teacher; given {given_pupils} and {given_children}",
            pupils=shape["group_pupils"],
            children=shape["group_left_behind"],
            given_pupils=len(given.pupils),
            given_children=len(given.children),
        )
    now = ctx.now()
    day = given.formed_on or now.date()
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        staff = access.staff_of(session, who)
        school_id = home_school(session, staff, now.date(), None)
        access.require_tier(who, school_id, policy.WRITE, policy.T1)
        with input_field("teacher"):
            (teacher,) = _staff_at(session, (given.teacher,), school_id, now.date())
        with input_field("parent"):
            (parent,) = _staff_at(session, (given.parent,), school_id, now.date())
            if "caring_parent" not in require_member(session, parent, school_id, now.date()):
                raise InvalidInput(
                    "--parent: {name} (staff {id}) is not a caring parent of this school",
                    name=parent.name,
                    id=parent.id,
                )
        with input_field("children"):
            kids = _children_at(session, who, school_id, tuple(given.children))
            grouped = session.execute(
                select(CareGroupMember.child_id, CareGroup.name)
                .join(CareGroup, CareGroup.id == CareGroupMember.group_id)
                .where(CareGroupMember.child_id.in_([k.id for k in kids]))
            ).first()
            if grouped is not None:
                raise Conflict("child {child} is already in group {group}", child=grouped[0], group=grouped[1])
        if session.scalars(
            select(CareGroup.id).where(CareGroup.school_id == school_id, CareGroup.name == given.name)
        ).first():
            raise Conflict("a group named {name} exists already", name=given.name)
        group = CareGroup(
            school_id=school_id,
            name=given.name,
            teacher_id=teacher.id,
            parent_id=parent.id,
            formed_on=day,
            recorded_at=now,
            recorded_by=who.staff_id,
        )
        session.add(group)
        session.flush()
        session.add_all(CareGroupMember(school_id=school_id, group_id=group.id, child_id=k.id) for k in kids)
        session.add_all(CareGroupMember(school_id=school_id, group_id=group.id, pupil_name=p) for p in given.pupils)
        trail.Scribe(session, school_id, now, who.staff_id).write(
            "care_group.formed",
            "care_group",
            group.id,
            data={
                "teacher_id": teacher.id,
                "parent_id": parent.id,
                "child_ids": [k.id for k in kids],
                "pupils": len(given.pupils),
            },
        )
        return int(group.id)


# ---------------------------------------------------------------------------- what inspectors ask to see


@dataclass(frozen=True)
class EventLine:
    id: int
    kind: str
    held_on: date
    title: str
    class_: str | None = field(metadata=key("class"))
    staff: tuple[Named, ...]
    children: tuple[Named, ...]
    guardians: str | None
    minutes: str | None


@dataclass(frozen=True)
class StarLine:
    child: Named
    round: int
    chosen_on: date
    reason: str | None


@dataclass(frozen=True)
class GroupLine:
    name: str
    teacher: Named
    parent: Named
    children: tuple[Named, ...]
    pupils: tuple[str, ...]
    formed_on: date


@dataclass(frozen=True)
class TermCare:
    """A term's school-wide care at one school: seminars and activities, stars, the groups in being.

    Names and the minutes only where the reader's role reads them (contact data, counselling content).
    """

    school_id: int
    school_year: int
    term: int
    start: date
    end: date
    events: tuple[EventLine, ...]
    stars: tuple[StarLine, ...]
    groups: tuple[GroupLine, ...]


def term_care(
    ctx: Context, actor: str | None, term: tuple[int, int] | None = None, school: str | None = None
) -> TermCare:
    """The term's seminars, activities and stars, and the groups formed by its end (default: this term)."""
    today = ctx.now().date()
    calendar = ctx.rule_set.calendar
    year, number = term or calendar.term_number(today)
    span = calendar.term(year, number)
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        staff = access.staff_of(session, who)
        school_id = home_school(session, staff, today, school)
        access.require_school(who, school_id)
        names = who.may_read(school_id, policy.T1)
        content = who.may_read(school_id, policy.T2)
        found = collect(session, school_id, span.start, span.end, (year, number), names, content)
        reads = access.Reads(who)
        reads.add(school_id, found.child_ids, *((policy.T1,) if names else ()), *((policy.T2,) if content else ()))
    access.log_reads(ctx, reads, "care.list")
    return TermCare(school_id, year, number, span.start, span.end, found.events, found.stars, found.groups)


@dataclass
class Collected:
    events: tuple[EventLine, ...]
    stars: tuple[StarLine, ...]
    groups: tuple[GroupLine, ...]
    child_ids: set[int]


def collect(
    session: Session, school_id: int, start: date, end: date, term: tuple[int, int], names: bool, content: bool
) -> Collected:
    """The care records of a period, in the caller's session (bound to a scope that reaches the school)."""
    rows = session.scalars(
        select(CareEvent)
        .where(CareEvent.school_id == school_id, CareEvent.held_on >= start, CareEvent.held_on <= end)
        .order_by(CareEvent.held_on, CareEvent.id)
    ).all()
    came: dict[int, list[int]] = {}
    for event_id, child_id in session.execute(
        select(CareAttendance.event_id, CareAttendance.child_id)
        .where(CareAttendance.event_id.in_([r.id for r in rows]))
        .order_by(CareAttendance.id)
    ):
        came.setdefault(event_id, []).append(child_id)
    year, number = term
    star_rows = session.scalars(
        select(Star)
        .where(Star.school_id == school_id, Star.school_year == year, Star.term == number)
        .order_by(Star.round, Star.chosen_on, Star.id)
    ).all()
    group_rows = session.scalars(
        select(CareGroup).where(CareGroup.school_id == school_id, CareGroup.formed_on <= end).order_by(CareGroup.id)
    ).all()
    members: dict[int, list[CareGroupMember]] = {}
    for member in session.scalars(
        select(CareGroupMember)
        .where(CareGroupMember.group_id.in_([g.id for g in group_rows]))
        .order_by(CareGroupMember.id)
    ):
        members.setdefault(member.group_id, []).append(member)
    child_ids = {c for ids in came.values() for c in ids} | {s.child_id for s in star_rows}
    child_ids |= {m.child_id for ms in members.values() for m in ms if m.child_id is not None}
    child_names: dict[int, str | None] = {i: None for i in child_ids}
    if names:
        child_names.update(session.execute(select(Child.id, Child.name).where(Child.id.in_(child_ids))).all())
    staff_ids = {int(s) for r in rows for s in r.staff_ids} | {g.teacher_id for g in group_rows}
    staff_ids |= {g.parent_id for g in group_rows}
    staff_names = dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(staff_ids))).all())
    classes = {
        c.id: f"{c.grade}/{c.name}"
        for c in session.scalars(select(SchoolClass).where(SchoolClass.school_id == school_id))
    }

    def child(child_id: int) -> Named:
        return Named(child_id, child_names.get(child_id))

    events = tuple(
        EventLine(
            id=row.id,
            kind=row.kind,
            held_on=row.held_on,
            title=row.title,
            class_=classes.get(row.class_id) if row.class_id else None,
            staff=tuple(Named(int(s), staff_names.get(int(s))) for s in row.staff_ids),
            children=tuple(child(c) for c in came.get(row.id, [])),
            guardians=row.guardians if names else None,
            minutes=row.minutes if content else None,
        )
        for row in rows
    )
    stars = tuple(StarLine(child(s.child_id), s.round, s.chosen_on, s.reason if content else None) for s in star_rows)
    groups = tuple(
        GroupLine(
            name=g.name,
            teacher=Named(g.teacher_id, staff_names.get(g.teacher_id)),
            parent=Named(g.parent_id, staff_names.get(g.parent_id)),
            children=tuple(child(m.child_id) for m in members.get(g.id, []) if m.child_id is not None),
            pupils=tuple((m.pupil_name or "") if names else "—" for m in members.get(g.id, []) if m.child_id is None),
            formed_on=g.formed_on,
        )
        for g in group_rows
    )
    return Collected(events, stars, groups, child_ids)
