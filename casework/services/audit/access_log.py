"""The access log for the auditor: who read which tier of sealed fields of which children, when; and who was refused."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select

from casework.persistence.tables import AuditEvent, Staff
from casework.services import access
from casework.services.audit.chain import auditable
from casework.services.context import Context

ACTIONS = ("access.read", "access.denied")
PAGE = 100


@dataclass(frozen=True)
class AccessFilters:
    since: date | None = None
    until: date | None = None  # included
    staff_id: int | None = None
    child_id: int | None = None
    action: str | None = None  # access.read or access.denied


@dataclass(frozen=True)
class AccessEntry:
    school_id: int
    seq: int
    ts: str
    action: str
    staff_id: int | None
    staff: str | None
    tier: str | None
    what: str
    roles: tuple[str, ...]
    child_ids: tuple[int, ...]


def entries(
    ctx: Context, actor: str | None, filters: AccessFilters, offset: int = 0, limit: int = PAGE
) -> tuple[list[AccessEntry], bool]:
    """The access events of the actor's AUDIT_READ schools that pass ``filters``, newest first, and
    whether there are more after this page. Children are named by id: the log never holds a name."""
    _, schools = auditable(ctx, actor)
    query = (
        select(AuditEvent, Staff.name)
        .outerjoin(Staff, Staff.id == AuditEvent.actor_id)
        .where(AuditEvent.school_id.in_(schools))
        .where(AuditEvent.action.in_([filters.action] if filters.action in ACTIONS else list(ACTIONS)))
        .order_by(AuditEvent.ts.desc(), AuditEvent.school_id, AuditEvent.seq.desc())
    )
    if filters.since is not None:
        query = query.where(AuditEvent.ts >= filters.since.isoformat())
    if filters.until is not None:
        query = query.where(AuditEvent.ts < (filters.until + timedelta(days=1)).isoformat())
    if filters.staff_id is not None:
        query = query.where(AuditEvent.actor_id == filters.staff_id)
    if filters.child_id is not None:
        n = filters.child_id  # canonical JSON: "child_ids":[3,17,40] without spaces
        query = query.where(or_(*(AuditEvent.data.like(f"%{p}%") for p in (f"[{n},", f",{n},", f",{n}]", f"[{n}]"))))
    with ctx.db.read() as session:
        access.system(session)  # the query itself keeps to the actor's schools
        rows = session.execute(query.offset(offset).limit(limit + 1)).all()
    found = []
    for event, name in rows[:limit]:
        data = json.loads(event.data)
        found.append(
            AccessEntry(
                event.school_id,
                event.seq,
                event.ts,
                event.action,
                event.actor_id,
                name,
                data.get("tier"),
                str(data.get("what", "")),
                tuple(data.get("roles", [])),
                tuple(int(c) for c in data.get("child_ids", [])),
            )
        )
    return found, len(rows) > limit
