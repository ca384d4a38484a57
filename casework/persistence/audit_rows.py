"""Audit events streamed through the driver's cursor in large batches: verification and export read millions."""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Collection, Generator
from contextlib import closing
from typing import Any

from sqlalchemy.orm import Session

# The stored event in the order casework.audit.FIELDS names its fields, then its hash.
COLUMNS: tuple[str, ...] = (
    "school_id",
    "seq",
    "ts",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "from_state",
    "to_state",
    "data",
    "prev_hash",
    "hash",
)
BATCH = 4_000
_names = itertools.count()


def stream(session: Session, school_ids: Collection[int] | None = None) -> Generator[tuple[Any, ...], None, None]:
    """Rows of ``audit_event`` in chain order (school, then sequence), as plain tuples."""
    with closing(batches(session, school_ids)) as source:
        for batch in source:
            yield from batch


def batches(
    session: Session, school_ids: Collection[int] | None = None
) -> Generator[list[tuple[Any, ...]], None, None]:
    """Rows of ``audit_event`` in chain order, in lists of up to BATCH rows.

    Through the driver cursor, not ORM rows: a row costs a microsecond instead of ten. On
    PostgreSQL a named (server-side) cursor keeps memory constant whatever the chain's length;
    SQLite's cursor steps through the table as it is fetched. The cursor is closed even when
    the consumer stops early (verification stops at the first problem).
    """
    connection = session.connection()
    pg = connection.dialect.name == "postgresql"
    raw: Any = connection.connection.driver_connection
    sql = f"SELECT {', '.join(COLUMNS)} FROM audit_event"
    params: tuple[int, ...] = ()
    if school_ids is not None:
        params = tuple(sorted(int(s) for s in school_ids))
        if not params:
            return
        sql += f" WHERE school_id IN ({', '.join('?' * len(params))})"
    sql += " ORDER BY school_id, seq"
    if pg:
        cursor = raw.cursor(name=f"casework_audit_{next(_names)}")
        sql = sql.replace("?", "%s")
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        yield from _prefetched(cursor)
    finally:
        cursor.close()


_DONE = object()


def _prefetched(cursor: Any) -> Generator[list[tuple[Any, ...]], None, None]:
    """The cursor's batches, the next one fetched in a second thread while the caller works.

    The drivers release the GIL while the database steps through rows, so reading overlaps
    the hashing or formatting of the batch before (about a quarter faster on two cores).
    At most one batch waits; an error in the reader is raised here; when the caller stops
    early the reader is told to stop and joined before the cursor is closed.
    """
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set() and (batch := cursor.fetchmany(BATCH)):
                ready.put(batch)
            ready.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed over to the reading generator
            ready.put(exc)

    reader = threading.Thread(target=read, name="casework-audit-reader", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting to put, then wait for it
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
        reader.join()
