"""Consistent copies of the database: SQLite's online backup API, pg_dump's one snapshot for PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from casework.errors import InvalidInput


def sqlite_copy(source: str, out: Path) -> None:
    """Copy the SQLite file ``source`` page by page as of one moment (other writers may go on)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(out)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no WAL beside it
        finally:
            dst.close()
    finally:
        src.close()


def pg_search_path(url: str) -> str | None:
    """The schema a URL works in when it sets one (``options=-csearch_path=…``), else None."""
    options = make_url(url).query.get("options")
    text = options if isinstance(options, str) else " ".join(options or ())
    if "search_path=" not in text:
        return None
    return text.split("search_path=", 1)[1].split()[0].split(",")[0]


def pg_dump(url: str, out: Path) -> None:
    """``pg_dump --format=custom`` of the database (or of the one schema the URL works in): one
    REPEATABLE READ snapshot, restored with ``pg_restore``."""
    program = shutil.which("pg_dump")
    if program is None:
        raise InvalidInput("pg_dump is not installed: install the PostgreSQL client (Debian: postgresql-client)")
    parsed = make_url(url)
    args = [program, "--format=custom", "--no-owner", "--no-privileges", f"--file={out}"]
    args += ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    schema = pg_search_path(url)
    if schema is not None:
        args.append(f"--schema={schema}")
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    done = subprocess.run([*args, parsed.database or "postgres"], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        problem = (done.stderr.strip().splitlines() or ["?"])[0]
        raise InvalidInput("pg_dump failed: {problem}", problem=problem)
