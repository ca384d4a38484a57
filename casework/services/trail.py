"""Append to a school's audit chain inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from casework import audit
from casework.persistence.store import Store


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
