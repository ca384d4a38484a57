"""Backups: a consistent copy of the whole database, sealed values sealed, the key kept apart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from casework.domain import access as policy
from casework.errors import InvalidInput
from casework.persistence import backup as copies
from casework.persistence.db import normalise_url
from casework.persistence.tables import School
from casework.services import access, trail
from casework.services.context import Context


@dataclass(frozen=True)
class BackupMade:
    path: str
    method: str  # "sqlite-backup" or "pg_dump"
    size: int  # bytes
    key_id: str | None  # the key the sealed values are sealed under: keep it, apart from the backup
    schools: int


def make(ctx: Context, actor: str | None, out: str) -> BackupMade:
    """Write a consistent copy of the database to ``out``, which must not exist.

    A backup holds every school's data, so the actor must hold ``backup.make`` at every school.
    Each school's chain records the backup first (``backup.made``), so the copy carries its own
    record. The key is never in a backup, and a backup is not written beside the key file: a copy
    that travels with its key protects nothing.
    """
    target = Path(out)
    if target.exists():
        raise InvalidInput("--out: {path} exists; a backup never overwrites a file", path=out)
    if not target.parent.is_dir():
        raise InvalidInput("--out: the folder {folder} does not exist", folder=str(target.parent))
    ring = ctx.db.keyring
    if ring is not None and ring.source is not None:
        key_folder = Path(ring.source).resolve().parent
        if key_folder == target.resolve().parent:
            raise InvalidInput(
                "--out: {path} is in the folder of the key file {key}; keep backups and the key apart",
                path=out,
                key=ring.source,
            )
    stored = ctx.db.stored_key()
    url = normalise_url(ctx.db.url)
    now = ctx.now()
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        access.system(session)  # the schools themselves, not the actor's record scope
        schools = list(session.scalars(select(School.id).order_by(School.id)))
        for school_id in schools:
            access.require(who, school_id, policy.BACKUP_MAKE)
        for school_id in schools:
            trail.Scribe(session, school_id, now, who.staff_id).write(
                "backup.made", data={"key_id": stored[0] if stored else None}
            )
    if ctx.db.is_sqlite:
        database = make_url(url).database
        assert database is not None
        copies.sqlite_copy(database, target)
        method = "sqlite-backup"
    else:
        copies.pg_dump(url.replace("postgresql+psycopg://", "postgresql://", 1), target)
        method = "pg_dump"
    return BackupMade(str(target), method, target.stat().st_size, stored[0] if stored else None, len(schools))
