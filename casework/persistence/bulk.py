"""Bulk inserts of many rows at once through the driver's executemany, for imports of whole registers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from casework.persistence import crypto


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert tuples (one value per column, in order) in the session's transaction.

    ``session.execute(insert(table), dicts)`` builds and type-processes a parameter dictionary per
    row, which is most of an import's database time; here the statement is compiled once and each
    column's bind processor (dates for SQLite, say) is applied directly, so 100,000 rows cost what
    the driver's own executemany costs.
    """
    connection = session.connection()
    dialect = connection.dialect
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

    def params(row: Sequence[Any]) -> Any:
        values = [
            value if proc is None or value is None else proc(value) for proc, value in zip(processors, row, strict=True)
        ]
        if positional:
            return tuple(values[index[name]] for name in order)
        return dict(zip(columns, values, strict=True))

    batch = [params(row) for row in rows]
    if batch:
        connection.exec_driver_sql(compiled.string, batch)


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
