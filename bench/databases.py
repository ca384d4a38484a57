"""Where a benchmark's databases live: SQLite files in a folder, or fresh PostgreSQL databases on a server.

Every benchmark takes ``--db`` as a SQLite file (or nothing: a file in a temporary folder) or a
PostgreSQL URL. A URL names the server (its database part is where we connect to create and drop
others): each run creates databases of its own there, named ``casework_bench_<what>_<pid>``, and
drops them when it ends, whatever happened. Copies (the same database before anything moved,
for the raw loops) are ``CREATE DATABASE … TEMPLATE`` on PostgreSQL and the backup API on SQLite.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from casework.persistence.db import normalise_url

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def is_pg(db: str | None) -> bool:
    return bool(db) and "://" in str(db) and str(db).split("://", 1)[0].startswith("postgres")


def _admin_url(server: str) -> str:
    """The server URL with psycopg's plain scheme, for psycopg.connect."""
    url = make_url(normalise_url(server))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(server: str, name: str) -> str:
    url = make_url(normalise_url(server))
    return url.set(database=name).render_as_string(hide_password=False)


@dataclass
class Place:
    """Where one run keeps its databases, and what it must drop when it ends."""

    server: str | None  # a PostgreSQL server URL, or None for SQLite files
    folder: Path
    made: list[str] = field(default_factory=list)

    @property
    def pg(self) -> bool:
        return self.server is not None

    @property
    def kind(self) -> str:
        return "PostgreSQL" if self.pg else "SQLite"

    def new(self, what: str) -> str:
        """The URL (PostgreSQL) or file path (SQLite) of a new, empty database."""
        if self.server is None:
            path = self.folder / f"{what}.db"
            return str(path)
        name = f"casework_bench_{what}_{os.getpid()}"
        self._admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return _with_database(self.server, name)

    def copy(self, source: str, what: str) -> str:
        """A copy of the database ``source`` (no connection may be open on it, on PostgreSQL)."""
        if self.server is None:
            target = self.folder / f"{what}.db"
            src, dst = sqlite3.connect(source), sqlite3.connect(target)
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()
            key = Path(f"{source}.key")
            if key.exists():
                shutil.copy(key, f"{target}.key")
            return str(target)
        name = f"casework_bench_{what}_{os.getpid()}"
        template = make_url(normalise_url(source)).database
        self._admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.made.append(name)
        return _with_database(self.server, name)

    def driver_dsn(self, url: str) -> str:
        """A URL psycopg.connect takes (no '+psycopg')."""
        return _admin_url(url)

    def _admin(self, *statements: str) -> None:
        import psycopg

        assert self.server is not None
        with psycopg.connect(_admin_url(self.server), autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)  # type: ignore[arg-type]

    def drop_all(self) -> None:
        if self.server is None or not self.made:
            return
        import psycopg

        with psycopg.connect(_admin_url(self.server), autocommit=True) as conn:
            for name in reversed(self.made):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        self.made.clear()

    def size(self, url: str) -> int:
        """Bytes on disk of the database at ``url``."""
        if self.server is None:
            return sum(p.stat().st_size for p in Path(url).parent.glob(Path(url).name + "*"))
        import psycopg

        with psycopg.connect(_admin_url(self.server), autocommit=True) as conn:
            row = conn.execute("SELECT pg_database_size(%s)", (make_url(normalise_url(url)).database,)).fetchone()
        return int(row[0]) if row else 0


@contextmanager
def place(db: str | None, folder: str | Path) -> Iterator[Place]:
    """The place a run's databases go: ``db`` a PostgreSQL URL (fresh databases there, dropped
    after) or anything else (SQLite files in ``folder``)."""
    spot = Place(db if is_pg(db) else None, Path(folder))
    try:
        yield spot
    finally:
        spot.drop_all()


def copy_rows(dsn: str, table: str, columns: tuple[str, ...], rows: Iterator[tuple[object, ...]] | list) -> int:  # type: ignore[type-arg]
    """COPY rows into a PostgreSQL table (binary-safe text protocol through psycopg's copy)."""
    import psycopg

    count = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[arg-type]
            for row in rows:
                copy.write_row(row)
                count += 1
    return count
