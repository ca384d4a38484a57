"""Who is acting: resolve --as STAFF and check the staff member belongs to the school concerned."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from casework.errors import InvalidInput, NotFound, PermissionDenied
from casework.persistence.tables import Membership, School, Staff


def resolve_staff(session: Session, ref: str | int) -> Staff:
    """A staff member by id or by exact name; an ambiguous name lists the candidates."""
    text = str(ref).strip()
    if text.isdigit():
        staff = session.get(Staff, int(text))
        if staff is None:
            raise NotFound("no staff member with id {id}", id=text)
        return staff
    found = session.scalars(select(Staff).where(Staff.name == text)).all()
    if not found:
        raise NotFound("no staff member named '{name}'", name=text)
    if len(found) > 1:
        raise InvalidInput(
            "more than one staff member is named '{name}' (ids {ids}); use the id",
            name=text,
            ids=", ".join(str(s.id) for s in found),
        )
    return found[0]


def require_actor(session: Session, ref: str | None) -> Staff:
    if ref is None or not str(ref).strip():
        raise InvalidInput(
            "who is acting? pass --as STAFF or set CASEWORK_ACTOR "
            "(casework init --admin NAME creates the first administrator)"
        )
    return resolve_staff(session, ref)


def active_memberships(session: Session, staff_id: int, today: date, school_id: int | None = None) -> list[Membership]:
    query = select(Membership).where(
        Membership.staff_id == staff_id,
        Membership.started_on <= today,
        or_(Membership.ended_on.is_(None), Membership.ended_on >= today),
    )
    if school_id is not None:
        query = query.where(Membership.school_id == school_id)
    return list(session.scalars(query.order_by(Membership.id)))


def require_member(session: Session, staff: Staff, school_id: int, today: date) -> list[str]:
    """The actor's roles at the school; refuses a staff member who does not work there."""
    roles = [m.role for m in active_memberships(session, staff.id, today, school_id)]
    if not roles:
        raise PermissionDenied(
            "{name} (staff {id}) has no role at school {school}",
            name=staff.name,
            id=staff.id,
            school=school_id,
        )
    return roles


def home_school(session: Session, staff: Staff, today: date, school: str | None = None) -> int:
    """The school an actor works in: the one named by --school, else their only school."""
    if school is not None:
        found = session.scalars(
            select(School).where(or_(School.name == school, School.id == (int(school) if school.isdigit() else -1)))
        ).first()
        if found is None:
            raise NotFound("no school '{school}'", school=school)
        require_member(session, staff, found.id, today)
        return found.id
    schools = sorted({m.school_id for m in active_memberships(session, staff.id, today)})
    if not schools:
        raise PermissionDenied("{name} (staff {id}) has no role at any school", name=staff.name, id=staff.id)
    if len(schools) > 1:
        raise InvalidInput(
            "{name} works at several schools ({ids}); name one with --school",
            name=staff.name,
            ids=", ".join(map(str, schools)),
        )
    return schools[0]
