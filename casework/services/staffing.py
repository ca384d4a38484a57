"""A staff member's roles at a school changed by an administrator: roles ended and begun as membership rows, audited."""

from __future__ import annotations

from datetime import timedelta

from casework.domain import access as policy
from casework.errors import InvalidInput
from casework.persistence.tables import Membership
from casework.services import access, trail
from casework.services.actors import active_memberships, require_member, resolve_staff
from casework.services.context import Context
from casework.services.setup import parse_roles, resolve_class


def set_roles(
    ctx: Context, actor: str | None, staff_ref: str, roles: list[str], class_ref: str | None = None
) -> list[str]:
    """The staff member's roles at the actor's school become ``roles``: a role given up ends yesterday,
    a new one starts today (history is never rewritten). Returns the roles now held.

    A class teacher needs a class (``class_ref``, or the class of the role held already); nobody
    takes away their own administrator role.
    """
    roles = parse_roles(roles)
    now = ctx.now()
    today = now.date()
    with ctx.db.write() as session:
        who, me, school_id = access.at_school(session, actor, today, None, policy.STAFF_MANAGE)
        target = resolve_staff(session, staff_ref)
        require_member(session, target, school_id, today)
        if target.id == me.id and "admin" not in roles and "admin" in who.roles_at(school_id):
            raise InvalidInput("you cannot take away your own administrator role")
        held = active_memberships(session, target.id, today, school_id)
        class_id = resolve_class(session, school_id, class_ref).id if class_ref else None
        if class_id is None:
            class_id = next((m.class_id for m in held if m.role == "class_teacher" and m.class_id), None)
        if "class_teacher" in roles and class_id is None:
            raise InvalidInput("a class teacher needs a class")
        ended, begun = [], []
        for membership in held:
            moved = membership.role == "class_teacher" and "class_teacher" in roles and membership.class_id != class_id
            if membership.role not in roles or moved:
                membership.ended_on = today - timedelta(days=1)
                ended.append(membership.role)
        kept = {m.role for m in held if m.ended_on is None or m.ended_on >= today}
        for role in roles:
            if role not in kept:
                session.add(
                    Membership(
                        staff_id=target.id,
                        school_id=school_id,
                        role=role,
                        class_id=class_id if role == "class_teacher" else None,
                        started_on=today,
                    )
                )
                begun.append(role)
        if ended or begun:
            trail.Scribe(session, school_id, now, me.id).write(
                "staff.changed", "staff", target.id, data={"roles": roles, "ended": ended, "begun": begun}
            )
        return roles
