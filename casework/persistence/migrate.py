"""Run the Alembic revisions shipped inside the package: init upgrades a database to head.

Alembic is imported by the functions that migrate, never to check a schema: every command checks
that its database is at head, and importing Alembic costs more than the rest of a quick command.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

from casework.errors import CaseworkError

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
_REVISION = re.compile(r"^revision(?:\s*:\s*[\w\[\]| ]+)?\s*=\s*[\"'](\w+)[\"']", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:\s*:\s*[\w\[\]| ,]+)?\s*=\s*(.+)$", re.MULTILINE)


def config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head", name: str | None = None) -> None:
    """Upgrade to ``revision``; a database already past every revision this casework knows is
    refused with one line (Alembic itself would print a traceback)."""
    from alembic import command

    current = current_revision(engine)
    if current is not None and is_newer(current):
        raise newer_schema(name or engine.url.render_as_string(hide_password=True), current)
    command.upgrade(config(engine), revision)


def is_newer(revision: str) -> bool:
    """Whether a database's revision is one this casework does not ship: a newer casework wrote it."""
    return revision not in _chain()


def newer_schema(db: str, current: str) -> CaseworkError:
    return CaseworkError(
        "the database {db} is at schema {current}, newer than this casework (schema {head}): upgrade casework",
        db=db,
        current=current,
        head=head_revision(),
    )


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (Alembic's version table, read without Alembic)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        found = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return found[0] if len(found) == 1 else None


@cache
def _chain() -> dict[str, tuple[str, ...]]:
    """Each revision and the revisions it follows, read once a process from the revision files' own
    headers (``revision = "0019"``, ``down_revision = "0018"``) without importing Alembic, which
    costs more than the rest of a read command; Alembic agrees (tests/unit/test_migrate_head.py)."""
    chain: dict[str, tuple[str, ...]] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        down = _DOWN.search(source)
        chain[found.group(1)] = tuple(re.findall(r"[\"'](\w+)[\"']", down.group(1))) if down else ()
    return chain


@cache
def head_revision() -> str | None:
    """The one revision no other revision follows."""
    chain = _chain()
    followed = {down for downs in chain.values() for down in downs}
    heads = sorted(set(chain) - followed)
    return heads[0] if len(heads) == 1 else None


def revisions() -> list[str]:
    """Every revision id, oldest first (each after every revision it follows)."""
    return list(_revisions())


@cache
def _revisions() -> tuple[str, ...]:
    chain = _chain()
    ordered: list[str] = []
    placed: set[str] = set()

    def place(revision: str) -> None:
        if revision in placed or revision not in chain:
            return
        placed.add(revision)
        for down in chain[revision]:
            place(down)
        ordered.append(revision)

    for revision in sorted(chain):
        place(revision)
    return tuple(ordered)
