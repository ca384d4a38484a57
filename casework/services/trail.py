"""Append to the per-school audit chain inside the caller's transaction; verify and export it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit
from casework.domain import access as policy
from casework.errors import InvalidInput
from casework.persistence import audit_rows
from casework.persistence.store import Store
from casework.persistence.tables import AuditHead
from casework.services import access, audit_export, audit_workers
from casework.services.context import Context
from casework.services.files import atomic_path
from casework.text import N_

STREAM_BATCH = 2000


def timestamp(moment: datetime) -> str:
    """The event's time as the chain hashes it: 2026-09-01T08:00:00.000000Z (``moment`` is UTC)."""
    return moment.replace(tzinfo=None).isoformat("T", "microseconds") + "Z"


def append(
    target: Session | Store,
    *,
    school_id: int,
    at: datetime,
    actor_id: int | None,
    action: str,
    object_type: str | None = None,
    object_id: int | None = None,
    case_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    data: Mapping[str, Any] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """Append one event to the school's chain, in the caller's transaction; returns the event as
    stored (its data as canonical JSON text).

    ``body``, instead of ``data``, is that text made by the caller (``audit.embed``).

    The head row is locked (FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction already
    holds the write lock), so appends within one school are serialised and schools never wait
    for each other. Callers take the head lock last, after any case row they update.
    """
    if isinstance(target, Store):
        store = target
    else:
        target.flush()  # rows the caller added through the ORM go first: the store writes directly
        store = Store.of(target)
    if body is None:
        body = audit.dumps(dict(data or {}))
    elif data is not None:
        raise TypeError("append takes data or its body, not both")
    head = store.audit_head(school_id)
    event: dict[str, Any] = {
        "ts": timestamp(at),
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "case_id": case_id,
        "from_state": from_state,
        "to_state": to_state,
        "data": body,
    }
    (linked,) = audit.chain(school_id, head or (0, audit.GENESIS), [event], body)
    store.append_audit(linked, body, new_head=head is None)
    return linked


def auditable(ctx: Context, actor: str | None) -> tuple[access.Principal, list[int]]:
    """The actor and the schools whose chain they may read: those where they hold AUDIT_READ.

    A staff member who holds it nowhere is refused (exit 5), at the first school they work at.
    """
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
    schools = sorted(s for s, roles in who.roles.items() if policy.may(roles, policy.AUDIT_READ))
    if not schools and who.roles:
        access.require(who, min(who.roles), policy.AUDIT_READ)
    if not schools:
        raise who.denied(
            None,
            policy.AUDIT_READ,
            N_("{name} (staff {id}) has no role at any school"),
            name=who.name,
            id=who.staff_id,
        )
    return who, schools


def _heads(session: Session, school_ids: Collection[int] | None) -> dict[int, tuple[int, str]]:
    query = select(AuditHead.school_id, AuditHead.seq, AuditHead.hash)
    if school_ids is not None:
        query = query.where(AuditHead.school_id.in_(list(school_ids)))
    return {int(sid): (int(seq), str(h)) for sid, seq, h in session.execute(query)}


def verify(
    ctx: Context,
    school_ids: Collection[int] | None = None,
    *,
    parallel_from: int = audit_workers.PARALLEL_FROM,
    parts: int | None = None,
) -> audit.VerifyResult:
    """Recompute the chains of the given schools (all when None): the program's own check.

    Rows come through the driver cursor and are hashed over the canonical bytes built from
    the stored text (casework.audit.verify_rows): no ORM objects, no JSON parsing. From
    ``parallel_from`` events on, key ranges of the chains are verified side by side in worker
    processes (casework.services.audit_workers), with the same verdict.
    """
    with ctx.db.read() as session:
        heads = _heads(session, school_ids)
        schools = audit_rows.school_ids(session) if school_ids is None else school_ids
        ranges = audit_rows.plan(session, schools, parts or audit_workers.PARTS, audit_workers.HEAD_START)
        ranges = [r for r in ranges if r]
        if len(ranges) < 2 or sum(s.count for r in ranges for s in r) < parallel_from:
            with closing(audit_rows.stream(session, school_ids)) as rows:
                return audit.verify_rows(rows, heads)
        starts = audit_workers.starts_of(ranges, lambda school, seq: audit_rows.stored_hash(session, school, seq))
    return audit_workers.verify(ctx.db, ranges, starts, heads)


def verify_as(ctx: Context, actor: str | None) -> audit.VerifyResult:
    """``verify`` over the schools where the actor holds AUDIT_READ."""
    _, schools = auditable(ctx, actor)
    return verify(ctx, schools)


EXPORT_FORMATS = audit_export.FORMATS
HEADERS = audit_export.HEADERS


@dataclass(frozen=True)
class Exported:
    """What an export wrote: how many events, of which schools, and whether numbers were masked."""

    path: str
    format: str
    events: int
    schools: tuple[int, ...]
    masked: bool


def export_file(
    ctx: Context, actor: str | None, fmt: str, path: str, *, parallel_from: int = audit_workers.PARALLEL_FROM
) -> Exported:
    """Stream the chains of the actor's AUDIT_READ schools to ``path`` in constant memory.

    Where the actor's roles may not read contact data (T1), every phone or ID number in an
    event's text is masked. The file is written under a temporary name; each exported
    school's chain then records the export ("audit.exported": format, events, roles, masked),
    and only then does the file take its name. From ``parallel_from`` events on, ranges of
    the chain are written by worker processes side by side (casework.services.audit_export).
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of jsonl, csv, xlsx", fmt=fmt)
    who, schools = auditable(ctx, actor)
    masked = frozenset(s for s in schools if not who.may_read(s, policy.T1))
    with atomic_path(path) as partial:
        counts = audit_export.write(ctx.db, fmt, partial, schools, masked, parallel_from=parallel_from)
        now = ctx.now()
        with ctx.db.write() as session:
            access.system(session)
            for school_id in schools:
                append(
                    session,
                    school_id=school_id,
                    at=now,
                    actor_id=who.staff_id,
                    action="audit.exported",
                    object_type="school",
                    object_id=school_id,
                    data={
                        "format": fmt,
                        "events": counts.get(school_id, 0),
                        "roles": sorted(who.roles_at(school_id)),
                        "masked": school_id in masked,
                    },
                )
    return Exported(path, fmt, sum(counts.values()), tuple(schools), bool(masked))
