"""Set up a database: migrate to head, the first school and administrator, classes and staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.domain import access as policy
from casework.domain import limits
from casework.domain.inputs import SetStaffPhone, field
from casework.domain.validation import parse_int, require_text
from casework.domain.vocab import ROLES
from casework.errors import Conflict, InvalidInput, NotFound
from casework.persistence import migrate
from casework.persistence.tables import Membership, School, SchoolClass, Staff
from casework.services import access, keys, trail
from casework.services.actors import active_memberships
from casework.services.context import Context
from casework.text import N_


@dataclass(frozen=True)
class InitResult:
    revision: str | None
    school_id: int | None
    admin_id: int | None
    created: bool
    key_file: str | None = None  # the key file init created, if it created one


def init(ctx: Context, admin: str | None = None, school: str | None = None) -> InitResult:
    """Upgrade to head; with ``admin``, create the school and its first administrator once.

    Encryption at rest is always on: a database not sealed yet (new, or from an older release)
    is sealed under the key given (CASEWORK_KEY_FILE, CASEWORK_KEY) or, for a SQLite file with
    no key anywhere, under a new key written to ``<file>.key`` beside it (mode 0600).
    """
    key_file = keys.ensure_key(ctx.db)
    migrate.upgrade(ctx.db.engine, name=ctx.db.url)
    ctx.db.check_key()
    revision = migrate.current_revision(ctx.db.engine)
    if admin is None:
        return InitResult(revision, None, None, False, key_file)
    admin = require_text(admin, "--admin", limits.NAME)
    now = ctx.now()
    with ctx.db.write() as session:
        schools = list(session.scalars(select(School).order_by(School.id)))
        if school is None and len(schools) > 1:
            raise InvalidInput("several schools exist; name one with --school")
        name = require_text(school, "--school", limits.LINE) if school else None
        target = next((s for s in schools if name is None or s.name == name), None)
        if target is None:
            target = School(name=name or "示例学校", created_at=now)
            session.add(target)
            session.flush()
            trail.Scribe(session, target.id, now, None).write("school.created", "school", target.id)
        existing = session.execute(
            select(Staff)
            .join(Membership, Membership.staff_id == Staff.id)
            .where(Staff.name == admin, Membership.role == "admin", Membership.school_id == target.id)
        ).scalar_one_or_none()
        if existing is not None:
            return InitResult(revision, target.id, existing.id, False, key_file)
        staff = _new_staff(session, target.id, admin, ["admin"], None, now)
        trail.Scribe(session, target.id, now, None).write(
            "staff.added", "staff", staff.id, data={"roles": ["admin"], "bootstrap": True}
        )
        return InitResult(revision, target.id, staff.id, True, key_file)


def _new_staff(session: Session, school_id: int, name: str, roles: list[str], class_id: int | None, now: Any) -> Staff:
    staff = Staff(name=name, created_at=now)
    session.add(staff)
    session.flush()
    for role in roles:
        session.add(
            Membership(
                staff_id=staff.id,
                school_id=school_id,
                role=role,
                class_id=class_id if role == "class_teacher" else None,
                started_on=now.date(),
            )
        )
    session.flush()
    return staff


def parse_roles(roles: list[str]) -> list[str]:
    if not roles:
        raise InvalidInput("--role: give at least one of {roles}", roles=", ".join(ROLES))
    for role in roles:
        if role not in ROLES:
            raise InvalidInput("--role: '{role}' is not one of {roles}", role=role, roles=", ".join(ROLES))
    return sorted(set(roles), key=list(ROLES).index)


def add_staff(
    ctx: Context,
    actor: str | None,
    name: str,
    roles: list[str],
    class_ref: str | None = None,
    school: str | None = None,
    phone: str | None = None,
) -> int:
    """A staff member with their roles at the school; ``phone``: the number given to the children's
    guardians (sealed)."""
    name = require_text(name, "name", limits.NAME)
    roles = parse_roles(roles)
    number = SetStaffPhone(staff=name, phone=phone).phone
    now = ctx.now()
    with ctx.db.write() as session:
        _, who, school_id = access.at_school(session, actor, now.date(), school, policy.STAFF_MANAGE)
        class_id = resolve_class(session, school_id, class_ref).id if class_ref else None
        if "class_teacher" in roles and class_id is None:
            raise InvalidInput("a class teacher needs --class")
        staff = _new_staff(session, school_id, name, roles, class_id, now)
        staff.phone = number
        data: dict[str, Any] = {"roles": roles, **({"fields": ["phone"]} if number else {})}
        trail.Scribe(session, school_id, now, who.id).write("staff.added", "staff", staff.id, data=data)
        return staff.id


def set_staff_phone(ctx: Context, actor: str | None, given: SetStaffPhone) -> None:
    """Set (or, with no number, clear) a staff member's phone: by themselves, or by whoever manages the
    staff of a school they work at. Audited in that school's chain, without the number."""
    now = ctx.now()
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        with field("staff"):
            staff = access.resolve_staff(session, given.staff)
        schools = sorted({m.school_id for m in active_memberships(session, staff.id, now.date())})
        managed = [s for s in schools if policy.may(who.roles_at(s), policy.STAFF_MANAGE)]
        school_id: int | None = schools[0] if staff.id == who.staff_id and schools else next(iter(managed), None)
        if school_id is None:
            raise who.denied(
                schools[0] if schools else None,
                f"staff:{staff.id}",
                N_("{name} (staff {id}) may not change the record of staff {other}"),
                name=who.name,
                id=who.staff_id,
                other=staff.id,
            )
        if staff.phone == given.phone:
            return
        staff.phone = given.phone
        trail.Scribe(session, school_id, now, who.staff_id).write(
            "staff.changed", "staff", staff.id, data={"fields": ["phone"]}
        )


@dataclass(frozen=True)
class StaffMember:
    """A staff member with the roles they hold (at ``school``) and the class they teach, if any."""

    id: int
    name: str
    school: str
    roles: tuple[str, ...]
    class_id: int | None


def list_staff(ctx: Context, school: str | None = None) -> list[StaffMember]:
    with ctx.db.read() as session:
        query = (
            select(Staff, Membership, School.name)
            .join(Membership, Membership.staff_id == Staff.id)
            .join(School, School.id == Membership.school_id)
            .order_by(Staff.id, Membership.id)
        )
        if school is not None:
            query = query.where(School.name == school)
        found: dict[int, tuple[Staff, str, list[str], list[int]]] = {}
        for staff, membership, school_name in session.execute(query):
            _, _, roles, classes = found.setdefault(staff.id, (staff, school_name, [], []))
            if membership.ended_on is None:
                roles.append(membership.role)
            if membership.class_id is not None:
                classes.append(membership.class_id)
        return [
            StaffMember(staff.id, staff.name, name, tuple(roles), classes[-1] if classes else None)
            for staff, name, roles, classes in found.values()
        ]


def resolve_class(session: Session, school_id: int, ref: str) -> SchoolClass:
    """A class by id, or by "GRADE/NAME" such as 3/1班."""
    text = ref.strip()
    number = limits.as_id(text)
    if number is not None:
        found = session.get(SchoolClass, number)
        if found is None or found.school_id != school_id:
            raise NotFound("no class with id {id} at this school", id=text)
        return found
    if "/" not in text:
        raise InvalidInput("--class: '{ref}' is neither a class id nor GRADE/NAME such as 3/1班", ref=text)
    grade_text, name = text.split("/", 1)
    grade = parse_int(grade_text, "--class grade", 1, 12)
    found = session.scalars(
        select(SchoolClass).where(
            SchoolClass.school_id == school_id, SchoolClass.grade == grade, SchoolClass.name == name
        )
    ).first()
    if found is None:
        raise NotFound("no class {grade}/{name} at this school", grade=grade, name=name)
    return found


def add_class(ctx: Context, actor: str | None, grade: int, name: str, school: str | None = None) -> int:
    name = require_text(name, "name", limits.NAME)
    if not 1 <= grade <= 12:
        raise InvalidInput("grade: {grade} is outside 1–12", grade=grade)
    now = ctx.now()
    with ctx.db.write() as session:
        _, who, school_id = access.at_school(session, actor, now.date(), school, policy.STAFF_MANAGE)
        clash = session.scalars(
            select(SchoolClass).where(
                SchoolClass.school_id == school_id,
                SchoolClass.grade == grade,
                SchoolClass.name == name,
            )
        ).first()
        if clash is not None:
            raise Conflict("class {grade}/{name} already exists (id {id})", grade=grade, name=name, id=clash.id)
        cls = SchoolClass(school_id=school_id, grade=grade, name=name)
        session.add(cls)
        session.flush()
        trail.Scribe(session, school_id, now, who.id).write("class.added", "school_class", cls.id)
        return cls.id


@dataclass(frozen=True)
class ClassEntry:
    id: int
    school: str
    grade: int
    name: str
    ref: str  # GRADE/NAME, as commands take it: 3/1班


def list_classes(ctx: Context) -> list[ClassEntry]:
    with ctx.db.read() as session:
        rows = session.execute(
            select(SchoolClass, School.name)
            .join(School, School.id == SchoolClass.school_id)
            .order_by(SchoolClass.school_id, SchoolClass.grade, SchoolClass.name)
        )
        return [ClassEntry(c.id, s, c.grade, c.name, f"{c.grade}/{c.name}") for c, s in rows]
