"""Append to a school's audit chain inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from casework import audit
from casework.persistence import class_months
from casework.persistence.store import Store


def timestamp(moment: datetime) -> str:
    """The event's time as the chain hashes it: 2026-09-01T08:00:00.000000Z (``moment`` is UTC)."""
    return moment.replace(tzinfo=None).isoformat("T", "microseconds") + "Z"


@dataclass(frozen=True)
class Entry:
    """One event before it is chained: in which school, when, by whom, what, to which object.

    ``body``, instead of ``data``, is the data's canonical JSON text made by the caller
    (``audit.embed``): the hot path builds it from pieces it keeps.
    """

    school_id: int
    at: datetime
    actor_id: int | None
    action: str
    object_type: str | None = None
    object_id: int | None = None
    case_id: int | None = None
    from_state: str | None = None
    to_state: str | None = None
    data: Mapping[str, Any] | None = None
    body: str | None = None


@dataclass(frozen=True)
class Scribe:
    """One actor writing in one school's chain at one moment, in the caller's transaction: fills in
    school, time and actor, so that each use case says only what happened."""

    target: Session | Store
    school_id: int
    at: datetime
    actor_id: int | None

    def write(
        self, action: str, object_type: str | None = None, object_id: int | None = None, **more: Any
    ) -> dict[str, Any]:
        """Append ``action`` on (``object_type``, ``object_id``); ``more``: the other fields of Entry."""
        return append(
            self.target, Entry(self.school_id, self.at, self.actor_id, action, object_type, object_id, **more)
        )


def append(target: Session | Store, entry: Entry) -> dict[str, Any]:
    """Append one event to the school's chain, in the caller's transaction; returns the event as
    stored (its data as canonical JSON text).

    The head row is locked (FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction already
    holds the write lock), so appends within one school are serialised and schools never wait
    for each other. Callers take the head lock last, after any case row they update.
    """
    if isinstance(target, Store):
        store = target
    else:
        target.flush()  # rows the caller added through the ORM go first: the store writes directly
        store = Store.of(target)
        # holding the head, the transaction counts the school's stale class months at its commit
        class_months.holds_head(target, entry.school_id)
    body = entry.body
    if body is None:
        body = audit.dumps(dict(entry.data or {}))
    elif entry.data is not None:
        raise TypeError("an entry has data or its body, not both")
    school_id = entry.school_id
    head = store.audit_head(school_id)
    event: dict[str, Any] = {
        "ts": timestamp(entry.at),
        "actor_id": entry.actor_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "case_id": entry.case_id,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "data": body,
    }
    (linked,) = audit.chain(school_id, head or (0, audit.GENESIS), [event], body)
    store.append_audit(linked, body, new_head=head is None)
    return linked
