"""What the leadership group's pages pick from: the school's classes and staff, its meetings, the proposed agenda."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from casework.domain import access as policy
from casework.persistence.tables import Meeting, MeetingItem, Membership, School, SchoolClass, Staff
from casework.services import access
from casework.services.actors import home_school
from casework.services.context import Context
from casework.services.meetings import proposed_agenda
from casework.services.review import review_params


@dataclass(frozen=True)
class Colleague:
    id: int
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ClassChoice:
    id: int
    grade: int
    name: str

    @property
    def ref(self) -> str:
        return f"{self.grade}/{self.name}"


@dataclass(frozen=True)
class SchoolChoices:
    """The actor's school with the classes and the staff (active roles) a filter or a meeting may name."""

    school_id: int
    school: str
    classes: tuple[ClassChoice, ...]
    staff: tuple[Colleague, ...]


@dataclass(frozen=True)
class MeetingRow:
    id: int
    held_on: date
    title: str
    items: int
    decided: int


def home(ctx: Context, actor: str | None, capability: str) -> int:
    """The actor's school (their only one), where they must hold ``capability``."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        school_id = home_school(session, access.staff_of(session, who), today)
        access.require(who, school_id, capability)
    return school_id


def choices(
    ctx: Context, actor: str | None, capability: str = policy.REVIEW_MEETING, with_staff: bool = True
) -> SchoolChoices:
    """The classes and (unless not ``with_staff``) the staff of the actor's school, for a person holding
    ``capability`` there."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        staff = access.staff_of(session, who)
        school_id = home_school(session, staff, today)
        access.require(who, school_id, capability)
        school = session.scalar(select(School.name).where(School.id == school_id)) or str(school_id)
        classes = tuple(
            ClassChoice(c.id, c.grade, c.name)
            for c in session.scalars(
                select(SchoolClass)
                .where(SchoolClass.school_id == school_id)
                .order_by(SchoolClass.grade, SchoolClass.name)
            )
        )
        roles: dict[int, list[str]] = {}
        names: dict[int, str] = {}
        if not with_staff:
            return SchoolChoices(school_id, school, classes, ())
        rows = session.execute(
            select(Staff.id, Staff.name, Membership.role)
            .join(Membership, Membership.staff_id == Staff.id)
            .where(
                Membership.school_id == school_id,
                or_(Membership.ended_on.is_(None), Membership.ended_on >= today),
                Membership.started_on <= today,
            )
            .order_by(Staff.name, Staff.id, Membership.role)
        )
        for staff_id, name, role in rows:
            names[staff_id] = name
            if role not in roles.setdefault(staff_id, []):
                roles[staff_id].append(role)
        colleagues = tuple(Colleague(i, names[i], tuple(roles[i])) for i in names)
    return SchoolChoices(school_id, school, classes, colleagues)


def meetings(ctx: Context, actor: str | None, limit: int = 50) -> list[MeetingRow]:
    """The school's meetings, newest first, each with its agenda's size and how many cases are decided."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        school_id = home_school(session, access.staff_of(session, who), today)
        access.require(who, school_id, policy.REVIEW_MEETING)
        items = (
            select(
                MeetingItem.meeting_id,
                func.count().label("n_items"),
                func.count(MeetingItem.decision).label("n_decided"),
            )
            .where(MeetingItem.school_id == school_id)
            .group_by(MeetingItem.meeting_id)
            .subquery()
        )
        rows = session.execute(
            select(Meeting.id, Meeting.held_on, Meeting.title, items.c.n_items, items.c.n_decided)
            .outerjoin(items, items.c.meeting_id == Meeting.id)
            .where(Meeting.school_id == school_id)
            .order_by(Meeting.held_on.desc(), Meeting.id.desc())
            .limit(limit)
        ).all()
    return [MeetingRow(i, day, title, int(n or 0), int(d or 0)) for i, day, title, n, d in rows]


def proposed(ctx: Context, actor: str | None) -> dict[int, list[str]]:
    """The cases a new meeting's agenda proposes (escalated and critical), riskiest first, with their reasons."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        school_id = home_school(session, access.staff_of(session, who), today)
        access.require(who, school_id, policy.REVIEW_MEETING)
        agenda = proposed_agenda(session, school_id, today, int(review_params(ctx)["escalate_after_days"]))
    return dict(agenda)
