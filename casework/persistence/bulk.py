"""Bulk inserts of many rows at once through the driver's executemany, for imports of whole registers."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from casework.persistence import crypto

# Page cache of a SQLite connection while it writes a whole register (KiB): the four blind indexes
# of ``child`` take random keys, and with SQLite's default 2 MB every insert evicts index pages
# and rewrites them to the WAL; 32 MB holds a 100,000-child school's indexes (about 20 MB).
BULK_CACHE_KIB = 32 * 1024


@contextmanager
def large_page_cache(session: Session) -> Iterator[None]:
    """Give the session's SQLite connection a larger page cache for a bulk write, restored after."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    driver: Any = connection.connection.driver_connection
    before = driver.execute("PRAGMA cache_size").fetchone()[0]
    driver.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size={int(before)}")


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> list[int] | None:
    """Insert tuples (one value per column, in order) in the session's transaction; the rows' ids, in
    order, for a table with sealed columns (allocated before the INSERT), else None.

    ``session.execute(insert(table), dicts)`` builds and type-processes a parameter dictionary per
    row, which is most of an import's database time; here the statement is compiled once and each
    column's bind processor (dates for SQLite, say) is applied directly, so 100,000 rows cost what
    the driver's own executemany costs.
    """
    connection = session.connection()
    dialect = connection.dialect
    ids: list[int] | None = None
    if crypto.sealed_columns(table.name):
        # Sealed values are bound to their row id, so the ids are allocated before the INSERT.
        rows = list(rows)
        ids = crypto.allocate_ids(connection, table.name, len(rows))
        columns, rows = crypto.seal_rows(crypto.ring_of(dialect), table.name, columns, ids, rows)
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    # Sealed columns arrive as the bytes to store (crypto.seal_rows): no processor.
    processors: list[Callable[[Any], Any] | None] = [
        None if isinstance(table.c[c].type, crypto.SealedType) else table.c[c].type.bind_processor(dialect)
        for c in columns
    ]
    positional = compiled.positiontup is not None
    order = list(compiled.positiontup or columns)
    index = {c: i for i, c in enumerate(columns)}
    # Only a few columns (dates, booleans) have a processor: apply those in place, then reorder.
    convert = [(i, proc) for i, proc in enumerate(processors) if proc is not None]
    picks = [index[name] for name in order]
    in_order = picks == list(range(len(columns)))

    def params(row: Sequence[Any]) -> Any:
        values = list(row)
        for i, proc in convert:
            value = values[i]
            if value is not None:
                values[i] = proc(value)
        if positional:
            return tuple(values) if in_order else tuple([values[i] for i in picks])
        return dict(zip(columns, values, strict=True))

    batch = [params(row) for row in rows]
    if batch and positional and dialect.name == "sqlite":
        _many_rows_at_once(connection, compiled.string, batch)
    elif batch and dialect.name == "postgresql":
        quote = dialect.identifier_preparer.quote
        copy_sql = f"COPY {quote(table.name)} ({', '.join(quote(table.c[c].name) for c in columns)}) FROM STDIN"
        _copy_rows(connection, copy_sql, [tuple(d[c] for c in columns) for d in batch])
    elif batch:
        connection.exec_driver_sql(compiled.string, batch)
    return ids


# At most this many rows a statement, and at most SQLite's limit of parameters a statement between
# them (32,766 since 3.32, 999 before).
ROWS_A_STATEMENT = 200


def _many_rows_at_once(connection: Any, sql: str, batch: list[Any]) -> None:
    """SQLite: ``INSERT … VALUES (…), (…), …`` up to a few hundred rows a statement. A table with a trigger
    (the kept counts' marks, revision 0074) makes SQLite open a statement journal for every
    statement: a statement a row cost 11 µs a row more for it; shared by a statement's rows, 2 µs.
    (PostgreSQL takes the rows by COPY: _copy_rows.)"""
    head, marks = sql.rsplit("VALUES", 1)
    marks = marks.strip()
    driver = connection.connection.driver_connection
    getlimit = getattr(driver, "getlimit", None)  # Python 3.11
    limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else 999
    step = max(1, min(ROWS_A_STATEMENT, limit // max(1, len(batch[0]))))
    full = len(batch) - len(batch) % step
    if full:
        chunks = [tuple(v for row in batch[i : i + step] for v in row) for i in range(0, full, step)]
        connection.exec_driver_sql(f"{head}VALUES {', '.join([marks] * step)}", chunks)
    if full < len(batch):
        rest = batch[full:]
        flat = tuple(v for row in rest for v in row)
        connection.exec_driver_sql(f"{head}VALUES {', '.join([marks] * len(rest))}", flat)


def _copy_rows(connection: Any, sql: str, batch: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: the rows through ``COPY … FROM STDIN`` in the transaction, each value adapted by
    psycopg as for a statement. A multi-row INSERT had psycopg scan its few thousand placeholders
    again on every statement (a query that long is not kept), a seventh of a 100,000-child import,
    and the server parse and plan each; COPY does neither, and fires the table's triggers (row and
    statement) as an INSERT does. (Every DateTime of ours has a time zone: into a column without
    one, COPY would keep an aware value's clock time where the INSERT converted it.)"""
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in batch:
            copy.write_row(row)


def seal_dicts(session: Session, table: str, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as dictionaries with their sealed columns sealed and blind indexes set; ids allocated if absent.

    For ORM bulk statements (``session.execute(update(Entity), rows)``, ``insert(Entity)``), which
    bypass the flush hooks that seal single rows.
    """
    names = set(crypto.sealed_columns(table))
    if not names or not rows:
        return list(rows)
    connection = session.connection()
    ring = crypto.ring_of(connection.dialect)
    missing = [r for r in rows if r.get("id") is None]
    fresh = iter(crypto.allocate_ids(connection, table, len(missing)))
    out = []
    for row in rows:
        row_id = row["id"] if row.get("id") is not None else next(fresh)
        sealed: dict[str, Any] = {"id": row_id}
        for key, value in row.items():
            if key == "id":
                continue
            sealed[key] = crypto.seal_value(ring, table, key, row_id, value) if key in names else value
        for key in crypto.BLIND_INDEXED.get(table, ()):
            if key in row:
                sealed[crypto.bidx_column(key)] = ring.blind_index(table, key, row[key])
        out.append(sealed)
    return out
