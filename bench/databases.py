"""Where a benchmark's databases live: SQLite files in a folder, or fresh PostgreSQL databases on a server.

Every benchmark takes ``--db`` as a SQLite file (or nothing: a file in a temporary folder) or a
PostgreSQL URL. A URL names the server (its database part is where we connect to create and drop
others): each run creates databases of its own there, named ``casework_bench_<what>_<pid>``, and
drops them when it ends, whatever happened. Copies (the same database before anything moved,
for the raw loops) are ``CREATE DATABASE … TEMPLATE`` on PostgreSQL and the backup API on SQLite.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
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


_INSERT = re.compile(r"INSERT INTO (\w+) \(([^)]*)\)\s*VALUES \((.*)\)\s*$", re.S)


def _literal(token: str) -> object:
    token = token.strip()
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if token.upper() in ("TRUE", "FALSE"):
        return token.upper() == "TRUE"
    if token.upper() == "NULL":
        return None
    return int(token)


def _values(text: str) -> list[str]:
    """The comma-separated items of a VALUES list, commas inside quotes kept."""
    items, current, quoted = [], [], False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        if ch == "," and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return items


class Loader:
    """Bulk rows into a fresh database: sqlite3 ``executemany`` in large transactions, or
    PostgreSQL ``COPY`` (never row inserts), from the same ``INSERT … VALUES (?, 'const', …)``
    text and the same row tuples: on PostgreSQL the constants join each row and COPY takes them."""

    def __init__(self, target: str) -> None:
        self.pg = is_pg(target)
        if self.pg:
            import psycopg

            self.db: object = psycopg.connect(_admin_url(target))
            # the triggers marking classes' months stale (revision 0073) do not fire for a bulk load:
            # the months are counted once it is done (keep_class_months)
            self.db.execute("SET session_replication_role = replica")  # type: ignore[attr-defined]
            self._triggers: list[str] = []
        else:
            con = sqlite3.connect(target, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=OFF")  # bulk load only; the engine runs with FULL
            # SQLite cannot turn its triggers off: they are dropped for the load and made again after
            self._triggers = [sql for (sql,) in con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'")]
            for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                con.execute(f"DROP TRIGGER {name}")
            self.db = con

    def begin(self) -> None:
        if not self.pg:
            self.db.execute("BEGIN")  # type: ignore[attr-defined]

    def commit(self) -> None:
        if self.pg:
            self.db.commit()  # type: ignore[attr-defined]
        else:
            self.db.execute("COMMIT")  # type: ignore[attr-defined]

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> None:
        self.db.execute(sql.replace("?", "%s") if self.pg else sql, params)  # type: ignore[attr-defined]

    def one(self, sql: str, params: tuple[object, ...] = ()) -> tuple[object, ...] | None:
        row = self.db.execute(sql.replace("?", "%s") if self.pg else sql, params).fetchone()  # type: ignore[attr-defined]
        return None if row is None else tuple(row)

    def put(self, sql: str, rows: Iterable[tuple[object, ...]]) -> None:
        if not self.pg:
            self.db.executemany(sql, rows)  # type: ignore[attr-defined]
            return
        found = _INSERT.match(sql.strip())
        assert found, sql
        table, columns, values = found.group(1), found.group(2), _values(found.group(3))
        slots = [None if v.strip() == "?" else (_literal(v),) for v in values]
        with self.db.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                given = iter(row)
                copy.write_row([next(given) if slot is None else slot[0] for slot in slots])

    def keep_contact_months(self) -> None:
        """The months the program keeps with each contact it records (``contact_month``), made from
        the contact entries loaded in bulk: the statement a recount runs."""
        from casework.persistence.contact_months import recount_sql

        self.begin()
        self.db.execute(recount_sql("postgresql" if self.pg else "sqlite"))  # type: ignore[attr-defined]
        self.commit()

    def finish(self, tables: Iterable[str] = ()) -> None:
        """Sequences past the ids given (PostgreSQL), then statistics for the planner."""
        if self.pg:
            for table in tables:
                self.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                )
            self.db.commit()  # type: ignore[attr-defined]
            self.db.autocommit = True  # type: ignore[attr-defined]
            self.execute("VACUUM ANALYZE")
        else:
            for sql in self._triggers:
                self.execute(sql)
            self.execute("ANALYZE")
        self.db.close()  # type: ignore[attr-defined]


def keep_class_months(target: str) -> None:
    """Each class's counts of every month with contacts (``class_month``), as the program keeps them
    (casework.persistence.class_months), once a bulk load is done: a count of each month."""
    from sqlalchemy import select

    from casework.persistence import class_months
    from casework.persistence.db import Database
    from casework.persistence.scope import Scope, bind
    from casework.persistence.tables import ContactMonth, School

    db = Database(target)
    with db.write() as session:
        bind(session, Scope.system())
        months = list(session.scalars(select(ContactMonth.month).distinct()))
        class_months.keep(session, list(session.scalars(select(School.id))), months)
    db.dispose()


class Conn:
    """A plain driver connection to a benchmark's database, sqlite3 or psycopg, with ``?`` placeholders."""

    def __init__(self, target: str) -> None:
        self.pg = is_pg(target)
        if self.pg:
            import psycopg

            self.db: object = psycopg.connect(_admin_url(target))
        else:
            self.db = sqlite3.connect(target)

    def execute(self, sql: str, params: tuple[object, ...] | list[object] = ()) -> object:
        return self.db.execute(sql.replace("?", "%s") if self.pg else sql, params)  # type: ignore[attr-defined]

    def executemany(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        if self.pg:
            with self.db.cursor() as cursor:  # type: ignore[attr-defined]
                cursor.executemany(sql.replace("?", "%s"), rows)
        else:
            self.db.executemany(sql, rows)  # type: ignore[attr-defined]

    def commit(self) -> None:
        self.db.commit()  # type: ignore[attr-defined]

    def close(self) -> None:
        self.db.close()  # type: ignore[attr-defined]
