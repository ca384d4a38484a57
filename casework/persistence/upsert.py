"""Insert-if-absent that is safe under concurrency on both SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from casework.persistence.tables import Base


def insert_if_absent(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: two writers adding the same row never fail each other."""
    table = model.__table__
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    session.execute(module.insert(table).values(**values).on_conflict_do_nothing())
