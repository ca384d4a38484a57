"""casework backup: a consistent copy that restores into a fresh database whose audit chain verifies."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from casework.errors import InvalidInput, PermissionDenied
from casework.persistence.backup import pg_search_path
from casework.persistence.db import Database
from casework.persistence.tables import AuditEvent, Case
from casework.services import Context, backup
from casework.services.audit import chain
from tests.helpers import pg_base_url, unscoped


def _restore_pg(dump: Path, url: str) -> tuple[str, str]:
    """pg_restore into a new database on the same server: (its URL with the same search_path, its name)."""
    name = f"cw_restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_base_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    target = sa.engine.make_url(url).set(database=name)
    plain = target.set(drivername="postgresql").set(query={})
    subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "-d",
            plain.render_as_string(False),
            str(dump),
        ],
        check=True,
        capture_output=True,
    )
    return target.render_as_string(hide_password=False), name


def _drop_pg(name: str) -> None:
    admin = sa.create_engine(pg_base_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_a_backup_restores_and_its_chain_verifies(world, tmp_path: Path) -> None:
    case = world.case()
    world.fire(case, "assess")
    out = tmp_path / "backups" / "casework.backup"
    out.parent.mkdir()
    made = backup.make(world.ctx, world.admin, str(out))
    assert out.exists() and made.size == out.stat().st_size
    assert made.key_id is not None  # the key the backup needs, named; the key itself is not in it
    key = world.ctx.db.keyring
    assert key is not None
    assert key.current.master not in out.read_bytes()
    if world.ctx.db.is_sqlite:
        restored_url, dropped = str(tmp_path / "restored" / "casework.db"), None
        Path(restored_url).parent.mkdir()
        shutil.copyfile(out, restored_url)
    else:
        assert pg_search_path(world.url) is not None
        restored_url, dropped = _restore_pg(out, world.url)
    try:
        restored = Context(db=Database(restored_url, keyring=key), clock=world.clock)
        try:
            result = chain.verify(restored)
            assert result.ok, result.problem
            with unscoped(restored.db) as session:
                assert session.get(Case, case).state == "assessed"
                actions = session.scalars(sa.select(AuditEvent.action)).all()
            assert "backup.made" in actions  # the copy carries the record of itself
        finally:
            restored.db.dispose()
    finally:
        if dropped is not None:
            _drop_pg(dropped)


def test_a_backup_never_overwrites_and_keeps_apart_from_the_key(world, tmp_path: Path) -> None:
    existing = tmp_path / "there.backup"
    existing.write_bytes(b"keep me")
    with pytest.raises(InvalidInput):
        backup.make(world.ctx, world.admin, str(existing))
    assert existing.read_bytes() == b"keep me"
    key_file = tmp_path / "keys" / "casework.key"
    key_file.parent.mkdir()
    ring = world.ctx.db.keyring
    assert ring is not None
    world.ctx.db.use_keyring(type(ring)(ring.current, source=str(key_file)))
    with pytest.raises(InvalidInput, match="key"):
        backup.make(world.ctx, world.admin, str(key_file.parent / "beside.backup"))
    assert not (key_file.parent / "beside.backup").exists()


def test_only_who_may_back_up_every_school_does(world, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        backup.make(world.ctx, world.counsellor, str(tmp_path / "no.backup"))
    assert not (tmp_path / "no.backup").exists()
