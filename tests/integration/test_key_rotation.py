"""Key rotation under concurrent writers: no value sealed under a retired key, retired keys kept until unused,
an interrupted rotation said with how to recover."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from casework.cli import app
from casework.persistence import crypto
from casework.persistence.db import Database
from casework.persistence.tables import Child
from casework.services import Context, cases, keys
from tests.helpers import TEST_KEY, unscoped


def _children(db: Database) -> int:
    with unscoped(db) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Child)) or 0)


def test_a_writer_still_holding_the_old_key_is_refused_once_a_rotation_committed(world, tmp_path) -> None:
    case_id = world.case()
    stale_db = Database(world.url, keyring=crypto.KeyRing(crypto.Key.decode(TEST_KEY, "test")))
    stale_db.check_key()  # the key was right when this writer started
    stale = Context(db=stale_db, clock=world.clock)
    new_file = tmp_path / "new.key"
    keys.rotate(world.ctx, world.admin, out=str(new_file))
    before = _children(world.ctx.db)
    from casework.services import children

    with pytest.raises(crypto.KeyProblem, match="was changed"):
        children.add(stale, world.leader, {"name": "旧钥匙"}, world.class_ref)
    with pytest.raises(crypto.KeyProblem, match="was changed"):  # the hot path checks too
        cases.advance(stale, world.counsellor, case_id, "assess")
    stale_db.dispose()
    assert _children(world.ctx.db) == before
    fresh = Database(world.url, keyring=crypto.read_key_ring(new_file))
    with unscoped(fresh) as session:
        assert all(n for n in session.scalars(sa.select(Child.name)))  # every name opens with the new key alone
    fresh.dispose()


def test_retired_keys_leave_the_key_file_only_when_nothing_is_sealed_under_them(world, tmp_path) -> None:
    world.child(name="保留")
    new_file = tmp_path / "new.key"
    done = keys.rotate(world.ctx, world.admin, out=str(new_file))
    assert done.retired_kept == ()
    assert len(new_file.read_text().split()) == 1  # the reseal proved the old key unused
    # A value that is (somehow) still under the old key keeps the old key in the file.
    old = crypto.KeyRing(crypto.Key.decode(TEST_KEY, "test"))
    with world.ctx.db.engine.begin() as conn:
        row_id = conn.execute(sa.text("SELECT min(id) FROM child")).scalar_one()
        blob = old.seal("child", "name", row_id, "旧封".encode())
        conn.execute(sa.text("UPDATE child SET name = :b WHERE id = :i"), {"b": blob, "i": row_id})
        assert old.current.hex_id in crypto.key_ids_in_use(conn)
    ring = crypto.read_key_ring(new_file)
    kept = keys._prune_retired(world.ctx.db, new_file, ring.current, [old.current])
    assert kept == (old.current.hex_id,)
    reread = crypto.read_key_ring(new_file)
    assert reread.current.id == ring.current.id and old.current.id in reread.keys
    fresh = Database(world.url, keyring=reread)
    with unscoped(fresh) as session:
        assert session.scalar(sa.select(Child.name).where(Child.id == row_id)) == "旧封"
    fresh.dispose()


def _cli(db: Path):
    runner = CliRunner(catch_exceptions=False)

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app(), ["--db", str(db), "--lang", "en", *args])
        assert result.exit_code == code, result.output
        return result.output

    return run


def test_a_rotation_killed_after_its_commit_is_said_with_how_to_recover(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CASEWORK_KEY")
    db = tmp_path / "k.db"
    run = _cli(db)
    run("init", "--admin", "管理员")
    run("child", "add", "中断", "--as", "1")
    key_file = Path(f"{db}.key")
    old_key = key_file.read_text()
    run("keys", "rotate", "--as", "1")
    # As if killed between the commit and the rename: the new key in .new, the old one in place.
    shutil.copy(key_file, f"{key_file}.new")
    key_file.write_text(old_key)
    out = run("child", "list", "--as", "1", code=1)
    assert f"{key_file}.new" in out and "mv" in out and "Traceback" not in out
    shutil.move(f"{key_file}.new", key_file)
    assert "中断" in run("child", "list", "--as", "1")


def test_a_leftover_from_a_rotation_that_did_not_commit_is_named_by_the_next_rotation(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CASEWORK_KEY")
    db = tmp_path / "k.db"
    run = _cli(db)
    run("init", "--admin", "管理员")
    staged = Path(f"{db}.key.new")
    crypto.write_key_file(staged, crypto.Key.generate())
    assert "did not commit" in run("keys", "rotate", "--as", "1", code=1)
    run("child", "list", "--as", "1")  # the database's own key still works
    staged.unlink()
    assert "the key is now in" in run("keys", "rotate", "--as", "1")
