"""Audit events streamed through the driver's cursor in large batches: verification and export read millions."""

from __future__ import annotations

import itertools
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
BATCH = 10_000
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
        while batch := cursor.fetchmany(BATCH):
            yield batch
    finally:
        cursor.close()
