"""Children and their contact cards: add, show, edit with dated and attributed history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.domain.child import CHILD_FIELDS, as_text, field_label, parse_fields
from casework.errors import Conflict, InvalidInput, NotFound
from casework.persistence import queries
from casework.persistence.tables import Case, Child, ChildChange, SchoolClass, Staff
from casework.services import trail
from casework.services.actors import home_school, require_actor, require_member
from casework.services.context import Context
from casework.services.setup import resolve_class
from casework.text import Msg


def _check_unique(session: Session, school_id: int, values: Mapping[str, Any], child_id: int | None) -> None:
    for field in ("student_no", "id_number"):
        value = values.get(field)
        if not value:
            continue
        column = getattr(Child, field)
        clash = session.scalars(
            select(Child.id).where(Child.school_id == school_id, column == value, Child.id != (child_id or -1))
        ).first()
        if clash is not None:
            raise Conflict("{field} is already on the card of child {id}", field=Msg(field_label(field)), id=clash)


def add(
    ctx: Context,
    actor: str | None,
    raw: Mapping[str, str],
    class_ref: str | None = None,
    school: str | None = None,
) -> int:
    values = parse_fields(raw)
    if not values.get("name"):
        raise InvalidInput("name is required")
    now = ctx.now()
    with ctx.db.write() as session:
        who = require_actor(session, actor)
        school_id = home_school(session, who, now.date(), school)
        class_id = resolve_class(session, school_id, class_ref).id if class_ref else None
        _check_unique(session, school_id, values, None)
        child = Child(school_id=school_id, class_id=class_id, created_at=now, created_by=who.id, **values)
        session.add(child)
        session.flush()
        trail.append(
            session,
            school_id=school_id,
            at=now,
            actor_id=who.id,
            action="child.added",
            object_type="child",
            object_id=child.id,
            data={"fields": sorted(k for k, v in values.items() if v is not None) + (["class"] if class_id else [])},
        )
        return child.id


def get_child(session: Session, child_id: int) -> Child:
    child = session.get(Child, child_id)
    if child is None:
        raise NotFound("no child with id {id}", id=child_id)
    return child


def edit(
    ctx: Context,
    actor: str | None,
    child_id: int,
    raw: Mapping[str, str],
    class_ref: str | None = None,
) -> list[str]:
    """Change fields; every changed field keeps its old value in history. Returns what changed."""
    values = parse_fields(raw)
    if not values and class_ref is None:
        raise InvalidInput("nothing to change: give --set FIELD=VALUE or --class")
    now = ctx.now()
    with ctx.db.write() as session:
        who = require_actor(session, actor)
        child = get_child(session, child_id)
        require_member(session, who, child.school_id, now.date())
        _check_unique(session, child.school_id, values, child.id)
        if class_ref is not None:
            values["class_id"] = resolve_class(session, child.school_id, class_ref).id
        changed = []
        for field, new in values.items():
            old = getattr(child, field)
            if old == new:
                continue
            session.add(
                ChildChange(
                    school_id=child.school_id,
                    child_id=child.id,
                    field=field,
                    old_value=as_text(old),
                    new_value=as_text(new),
                    changed_at=now,
                    changed_by=who.id,
                )
            )
            setattr(child, field, new)
            changed.append(field)
        if "class_id" in changed:
            session.flush()
            queries.follow_child_class(session, [child.id])
        if changed:
            trail.append(
                session,
                school_id=child.school_id,
                at=now,
                actor_id=who.id,
                action="child.changed",
                object_type="child",
                object_id=child.id,
                data={"fields": sorted(changed)},
            )
        return changed


def show(ctx: Context, child_id: int) -> dict[str, Any]:
    with ctx.db.read() as session:
        child = get_child(session, child_id)
        cls = session.get(SchoolClass, child.class_id) if child.class_id else None
        cases = session.scalars(select(Case).where(Case.child_id == child.id).order_by(Case.id)).all()
        history = session.execute(
            select(ChildChange, Staff.name)
            .join(Staff, Staff.id == ChildChange.changed_by)
            .where(ChildChange.child_id == child.id)
            .order_by(ChildChange.id)
        ).all()
        return {
            "id": child.id,
            "school_id": child.school_id,
            "class": {"id": cls.id, "grade": cls.grade, "name": cls.name} if cls else None,
            "fields": {f.name: as_text(getattr(child, f.name)) for f in CHILD_FIELDS},
            "cases": [{"id": c.id, "state": c.state, "version": c.version} for c in cases],
            "history": [
                {
                    "field": change.field,
                    "old": change.old_value,
                    "new": change.new_value,
                    "changed_at": change.changed_at.isoformat(),
                    "changed_by": {"id": change.changed_by, "name": name},
                }
                for change, name in history
            ],
        }


def list_children(ctx: Context) -> list[dict[str, Any]]:
    with ctx.db.read() as session:
        rows = session.execute(
            select(Child.id, Child.name, Child.school_id, SchoolClass.grade, SchoolClass.name)
            .outerjoin(SchoolClass, SchoolClass.id == Child.class_id)
            .order_by(Child.id)
        )
        return [
            {"id": i, "name": n, "school_id": s, "class": f"{g}/{c}" if g is not None else None}
            for i, n, s, g, c in rows
        ]
