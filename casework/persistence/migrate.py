"""Run the Alembic revisions shipped inside the package: init upgrades a database to head."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from casework.errors import CaseworkError

MIGRATIONS = Path(__file__).parent / "migrations"


def config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head", name: str | None = None) -> None:
    """Upgrade to ``revision``; a database already past every revision this casework knows is
    refused with one line (Alembic itself would print a traceback)."""
    current = current_revision(engine)
    if current is not None and is_newer(current):
        raise newer_schema(name or engine.url.render_as_string(hide_password=True), current)
    command.upgrade(config(engine), revision)


def is_newer(revision: str) -> bool:
    """Whether a database's revision is one this casework does not ship: a newer casework wrote it."""
    return revision not in revisions()


def newer_schema(db: str, current: str) -> CaseworkError:
    return CaseworkError(
        "the database {db} is at schema {current}, newer than this casework (schema {head}): upgrade casework",
        db=db,
        current=current,
        head=head_revision(),
    )


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(config()).get_current_head()


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    return list(_revisions())


@cache
def _revisions() -> tuple[str, ...]:
    # The revisions ship inside the package: read once a process (every command asks, some twice).
    script = ScriptDirectory.from_config(config())
    return tuple(r.revision for r in reversed(list(script.walk_revisions())))
