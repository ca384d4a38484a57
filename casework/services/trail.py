"""Append to the per-school audit chain inside the caller's transaction; verify and export it."""

from __future__ import annotations

import csv
from collections.abc import Generator, Mapping
from contextlib import closing
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit
from casework.errors import InvalidInput
from casework.persistence.store import Store
from casework.persistence.tables import AuditEvent, AuditHead
from casework.services.context import Context
from casework.services.files import atomic_path

STREAM_BATCH = 2000


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
) -> dict[str, Any]:
    """Append one event to the school's chain, in the caller's transaction; returns the event.

    The head row is locked (FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction already
    holds the write lock), so appends within one school are serialised and schools never wait
    for each other. Callers take the head lock last, after any case row they update.
    """
    if isinstance(target, Store):
        store = target
    else:
        target.flush()  # rows the caller added through the ORM go first: the store writes directly
        store = Store.of(target)
    head = store.audit_head(school_id)
    body = audit.dumps(dict(data or {}))
    event: dict[str, Any] = {
        "ts": timestamp(at),
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "case_id": case_id,
        "from_state": from_state,
        "to_state": to_state,
        "data": dict(data or {}),
    }
    (linked,) = audit.chain(school_id, head or (0, audit.GENESIS), [event], body)
    store.append_audit(linked, body, new_head=head is None)
    return linked


_COLUMNS = (
    AuditEvent.school_id,
    AuditEvent.seq,
    AuditEvent.ts,
    AuditEvent.actor_id,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.case_id,
    AuditEvent.from_state,
    AuditEvent.to_state,
    AuditEvent.data,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)
_KEYS = tuple(c.key for c in _COLUMNS)


def _stream(session: Session, school_id: int | None = None) -> Generator[dict[str, Any], None, None]:
    """Events in chain order as dicts; ``data`` stays the canonical text it was stored as.

    Rows, not ORM objects, and no JSON parsing: verification hashes the stored text as it is
    (casework.audit.canonical with a body), at the speed an auditor's million events need.
    """
    query = select(*_COLUMNS).order_by(AuditEvent.school_id, AuditEvent.seq)
    if school_id is not None:
        query = query.where(AuditEvent.school_id == school_id)
    # yield_per streams through a server-side cursor on PostgreSQL; close it even when the
    # consumer stops early (verify stops at the first problem).
    result = session.execute(query.execution_options(yield_per=STREAM_BATCH))
    try:
        for row in result:
            yield dict(zip(_KEYS, row, strict=True))
    finally:
        result.close()


def verify(ctx: Context, school_id: int | None = None) -> audit.VerifyResult:
    with ctx.db.read() as session:
        heads_q = select(AuditHead.school_id, AuditHead.seq, AuditHead.hash)
        if school_id is not None:
            heads_q = heads_q.where(AuditHead.school_id == school_id)
        heads = {sid: (seq, h) for sid, seq, h in session.execute(heads_q)}
        with closing(_stream(session, school_id)) as events:
            return audit.verify(events, heads)


EXPORT_FORMATS = ("jsonl", "csv")


def export(ctx: Context, fmt: str, out: IO[str], school_id: int | None = None) -> int:
    """Stream every event to ``out`` in constant memory; returns how many were written."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of jsonl, csv", fmt=fmt)
    count = 0
    with ctx.db.read() as session:
        if fmt == "jsonl":
            for event in _stream(session, school_id):
                out.write(audit.json_line(event) + "\n")
                count += 1
        else:
            writer = csv.writer(out)
            writer.writerow([*audit.FIELDS, "hash"])
            for event in _stream(session, school_id):
                writer.writerow([event[k] for k in (*audit.FIELDS, "hash")])
                count += 1
    return count


def export_file(ctx: Context, fmt: str, path: str) -> int:
    """Export to ``path`` through a temporary file, so a failed export leaves no half file."""
    with atomic_path(path) as partial, open(partial, "w", encoding="utf-8", newline="") as out:
        return export(ctx, fmt, out)
