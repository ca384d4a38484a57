"""Signed checkpoints: a chain rewritten from some event on passes plain verification but not this."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3

import pytest
from sqlalchemy import text

from casework import audit
from casework.errors import InvalidInput
from casework.persistence.db import Database
from casework.services import Context
from casework.services.audit import chain, checkpoint


def _events(world, n: int = 4) -> int:
    for _ in range(n):
        world.fire(world.case(), "assess")
    return chain.verify(world.ctx).events


def _recompute_from(rows: list[dict], k: int) -> list[dict]:
    """The attacker's move: change event k, then re-link and re-hash every event after it."""
    prev = rows[k - 2]["hash"] if k > 1 else audit.GENESIS
    out = []
    for row in rows[k - 1 :]:
        event = dict(row, data=json.loads(row["data"]) if isinstance(row["data"], str) else row["data"])
        if event["seq"] == k:
            event["action"] = "case.refused"
        event["prev_hash"] = prev
        event["hash"] = prev = audit.event_hash(event)
        out.append(event)
    return out


def _rewrite(execute, fetch, k: int) -> None:
    cols = ", ".join([*audit.FIELDS, "hash"])
    rows = [
        dict(zip([*audit.FIELDS, "hash"], r, strict=True))
        for r in fetch(f"SELECT {cols} FROM audit_event WHERE school_id = 1 ORDER BY seq")
    ]
    for event in _recompute_from(rows, k):
        execute(
            "UPDATE audit_event SET action = :action, prev_hash = :prev_hash, hash = :hash "
            "WHERE school_id = 1 AND seq = :seq",
            event,
        )
        last = event
    execute("UPDATE audit_head SET hash = :hash WHERE school_id = 1", last)


def test_a_recomputed_chain_fails_against_an_earlier_checkpoint(world, tmp_path) -> None:
    key = tmp_path / "audit.key"
    public = checkpoint.keygen(str(key))
    last = _events(world)
    written = checkpoint.write(world.ctx, world.admin, str(tmp_path / "cp.json"), str(key))
    assert written.events == last
    assert checkpoint.verify(world.ctx, world.admin, str(tmp_path / "cp.json"), public).ok
    _events(world, 1)  # the chain goes on after the checkpoint: still fine
    assert checkpoint.verify(world.ctx, world.admin, str(tmp_path / "cp.json"), public).ok

    with world.ctx.db.engine.begin() as conn:
        _rewrite(lambda sql, p: conn.execute(text(sql), p), lambda sql: conn.execute(text(sql)).all(), 5)
    assert chain.verify(world.ctx).ok  # self-consistent: plain verification cannot see it
    problem = checkpoint.verify(world.ctx, world.admin, str(tmp_path / "cp.json"), public).problem
    assert (problem.seq, problem.kind) == (5, "rewritten")


def test_a_forged_or_foreign_checkpoint_is_refused(world, tmp_path) -> None:
    key, other = tmp_path / "a.key", tmp_path / "b.key"
    checkpoint.keygen(str(key))
    checkpoint.keygen(str(other))
    _events(world, 1)
    path = tmp_path / "cp.json"
    checkpoint.write(world.ctx, world.admin, str(path), str(key))
    with pytest.raises(InvalidInput, match="not signed with the key"):
        checkpoint.verify(world.ctx, world.admin, str(path), f"{other}.pub")
    document = json.loads(path.read_text(encoding="utf-8"))
    document["payload"]["schools"][0]["seq"] -= 1
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InvalidInput, match="bad signature"):
        checkpoint.verify(world.ctx, world.admin, str(path))
    with pytest.raises(InvalidInput, match="exists"):
        checkpoint.keygen(str(key))


MUTATIONS = ("edit", "delete", "swap", "truncate", "recompute")


@pytest.mark.slow
def test_mutation_campaign(tmp_path) -> None:
    """At least 250 mutations of a checkpointed chain, each found at its exact sequence number."""
    from tests.helpers import build_world

    world = build_world(str(tmp_path / "base.db"))
    for _ in range(12):
        case_id = world.case()
        world.fire(case_id, "assess")
    last = chain.verify(world.ctx).events
    key = tmp_path / "audit.key"
    public = checkpoint.keygen(str(key))
    checkpoint.write(world.ctx, world.admin, str(tmp_path / "cp.json"), str(key))
    world.ctx.db.dispose()
    rng = random.Random(250)
    found = 0
    for n in range(250):
        kind = MUTATIONS[n % len(MUTATIONS)]
        k = rng.randint(1, last - 1)
        copy = tmp_path / f"m{n}.db"
        shutil.copy(tmp_path / "base.db", copy)
        con = sqlite3.connect(copy)
        with con:
            if kind == "edit":
                con.execute("UPDATE audit_event SET actor_id = 999 WHERE school_id = 1 AND seq = ?", (k,))
            elif kind == "delete":
                con.execute("DELETE FROM audit_event WHERE school_id = 1 AND seq = ?", (k,))
            elif kind == "swap":
                j = rng.randint(k + 1, last)
                con.execute("UPDATE audit_event SET seq = -1 WHERE school_id = 1 AND seq = ?", (k,))
                con.execute("UPDATE audit_event SET seq = ? WHERE school_id = 1 AND seq = ?", (k, j))
                con.execute("UPDATE audit_event SET seq = ? WHERE school_id = 1 AND seq = -1", (j,))
            elif kind == "truncate":  # and hide it: the head now says the chain ends before k
                con.execute("DELETE FROM audit_event WHERE school_id = 1 AND seq >= ?", (k,))
                prev = con.execute("SELECT hash FROM audit_event WHERE school_id = 1 AND seq = ?", (k - 1,)).fetchone()
                con.execute(
                    "UPDATE audit_head SET seq = ?, hash = ? WHERE school_id = 1",
                    (k - 1, prev[0] if prev else audit.GENESIS),
                )
            else:
                _rewrite(con.execute, lambda sql, c=con: c.execute(sql).fetchall(), k)
        con.close()
        ctx = Context(db=Database(str(copy)))
        try:
            problem = checkpoint.verify(ctx, world.admin, str(tmp_path / "cp.json"), public).problem
        finally:
            ctx.db.dispose()
            for suffix in ("", "-wal", "-shm"):
                (tmp_path / f"m{n}.db{suffix}").unlink(missing_ok=True)
        assert problem is not None, (n, kind, k)
        assert problem.seq == k, (n, kind, k, problem)
        found += 1
    assert found >= 250
