"""Bulk inserts of many rows at once through the driver's executemany, for imports of whole registers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert tuples (one value per column, in order) in the session's transaction.

    ``session.execute(insert(table), dicts)`` builds and type-processes a parameter dictionary per
    row, which is most of an import's database time; here the statement is compiled once and each
    column's bind processor (dates for SQLite, say) is applied directly, so 100,000 rows cost what
    the driver's own executemany costs.
    """
    connection = session.connection()
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    processors: list[Callable[[Any], Any] | None] = [table.c[c].type.bind_processor(dialect) for c in columns]
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
