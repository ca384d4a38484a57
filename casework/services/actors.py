"""Who is acting: resolve --as STAFF and check the staff member belongs to the school concerned."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from casework.domain import limits
from casework.errors import InvalidInput, NotFound, PermissionDenied
from casework.persistence.tables import Membership, School, Staff

T = TypeVar("T")


def pick_staff(
    ref: str | int, by_id: Callable[[int], T | None], by_name: Callable[[str], Sequence[T]], id_of: Callable[[T], int]
) -> T:
    """A staff member by id or by exact name, looked up by the caller's functions.

    Both the ORM path and the hot path's plain SQL resolve staff this way; an ambiguous name
    lists the candidates.
    """
    text = str(ref).strip()
    number = staff_ref(ref)
    if isinstance(number, int):
        staff = by_id(number)
        if staff is None:
            raise NotFound("no staff member with id {id}", id=text)
        return staff
    found = by_name(text)
    if not found:
        raise NotFound("no staff member named '{name}'", name=text)
    if len(found) > 1:
        raise InvalidInput(
            "more than one staff member is named '{name}' (ids {ids}); use the id",
            name=text,
            ids=", ".join(str(id_of(s)) for s in found),
        )
    return found[0]


def staff_ref(ref: str | int) -> int | str:
    """What a staff reference names, as ``pick_staff`` reads it: an id, else an exact name."""
    text = str(ref).strip()
    number = limits.as_id(text)
    return text if number is None else number


def resolve_staff(session: Session, ref: str | int) -> Staff:
    """A staff member by id or by exact name; an ambiguous name lists the candidates."""
    return pick_staff(
        ref,
        lambda i: session.get(Staff, i),
        lambda name: session.scalars(select(Staff).where(Staff.name == name)).all(),
        lambda s: s.id,
    )


def acting(ref: str | None) -> str:
    """The --as reference, or one clear error when nobody is named."""
    if ref is None or not str(ref).strip():
        raise InvalidInput(
            "who is acting? pass --as STAFF or set CASEWORK_ACTOR "
            "(casework init --admin NAME creates the first administrator)"
        )
    return str(ref)


def require_actor(session: Session, ref: str | None) -> Staff:
    return resolve_staff(session, acting(ref))


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
            select(School).where(or_(School.name == school, School.id == (limits.as_id(school) or -1)))
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
