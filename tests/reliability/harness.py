"""What the reliability tests share: the scale knob, forked writers that log what they committed, the checks after."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

# CI runs the campaign small; CASEWORK_RELIABILITY_SCALE=10 runs ten times as many kills, races and examples.
SCALE = max(0.1, float(os.environ.get("CASEWORK_RELIABILITY_SCALE", "1")))
FORK = multiprocessing.get_context("fork")  # children start with casework imported: a kill costs milliseconds


def scaled(n: int) -> int:
    return max(1, round(n * SCALE))


@dataclass
class Figures:
    """Counts the campaign reports (docs/reliability.md keeps them)."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] += n


FIGURES = Figures()


def writer(url: str, key_file: str | None, log: str, cases: list[int], leader: str, counsellor: str, seed: int) -> None:
    """Moves and records through the service layer, forever; each one logged (fsynced) once committed.

    Runs in a forked child until it is killed. A rotation of the key makes it re-read the key file.
    """
    from casework.domain.inputs import RecordContact
    from casework.errors import CaseworkError, Conflict
    from casework.persistence import crypto
    from casework.persistence.db import Database
    from casework.services import Context, mentoring
    from casework.services import cases as case_service

    rng = random.Random(seed)
    ring = crypto.read_key_ring(Path(key_file)) if key_file else None
    db = Database(url, keyring=ring)
    ctx = Context(db=db)
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def note(entry: dict[str, Any]) -> None:
        os.write(out, (json.dumps(entry) + "\n").encode())
        os.fsync(out)

    while True:
        # A short pause between writes, as between a school's users: SQLite's lock is not fair, and
        # writers that never pause would starve a rotation waiting for it (busy_timeout, then "locked").
        time.sleep(rng.uniform(0.002, 0.02))
        case_id = rng.choice(cases)
        try:
            if rng.random() < 0.5:
                row = mentoring.contact(
                    ctx, counsellor, RecordContact(case_id=case_id, kind="talk", summary=f"谈心 {rng.random():.6f}")
                )
                note({"kind": "talk", "id": row, "case": case_id})
            else:
                try:
                    moved = case_service.advance(ctx, leader, case_id, "close", "父母返乡")
                except CaseworkError as exc:
                    if isinstance(exc, Conflict):
                        continue
                    moved = case_service.advance(ctx, leader, case_id, "reopen", "父母再次外出")
                note({"kind": "move", "case": case_id, "version": moved.version, "to": moved.to_state})
        except crypto.KeyProblem:
            if key_file is None:
                raise
            ring = crypto.read_key_ring(Path(key_file))  # rotated under us: the key file has the new key
            db.use_keyring(ring)
            db.check_key()
        except CaseworkError:
            pass  # refused (closed case, a racing writer won): nothing to log
        except Exception as exc:  # noqa: BLE001 - a driver's error: the command line says it in one line
            note({"kind": "error", "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"})


def start_writers(n: int, *args: Any) -> list[Any]:
    procs = []
    for i in range(n):
        p = FORK.Process(target=writer, args=(*args, random.randrange(1 << 30) + i), daemon=True)
        p.start()
        procs.append(p)
    return procs


def kill_at_random(procs: list[Any], log: Path, low: float = 0.02, high: float = 0.4) -> int:
    """Wait until some writer has committed something, then SIGKILL each at a random moment."""
    deadline = time.monotonic() + 60
    while (not log.exists() or log.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    kills = 0
    for p in procs:
        time.sleep(random.uniform(low, high))
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        kills += 1
    return kills


def logged(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    entries = []
    for line in log.read_text().splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            pass  # the last line may be cut by the kill: not reported committed
    return entries


def check_database(ctx: Any, entries: list[dict[str, Any]]) -> None:
    """Integrity, the chain, every logged write present with exactly one audit event, each case
    where its history says."""
    from casework.services.audit import chain
    from tests.helpers import unscoped

    db = ctx.db
    if db.is_sqlite:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    result = chain.verify(ctx)
    assert result.ok, result.problem
    with unscoped(db) as session:
        conn = session.connection()
        events = conn.execute(sa.text("SELECT action, object_id, case_id, data FROM audit_event")).all()
        moved = Counter()
        recorded = Counter()
        for action, object_id, case_id, data in events:
            if action == "case.moved":
                moved[(int(case_id), int(json.loads(data)["version"]))] += 1
            elif action == "contact.recorded":
                recorded[int(object_id)] += 1
        assert all(n == 1 for n in moved.values()), "a move audited twice"
        assert all(n == 1 for n in recorded.values()), "a record audited twice"
        talks = {int(r[0]) for r in conn.execute(sa.text("SELECT id FROM contact_entry"))}
        history = {
            (int(c), int(v)): s
            for c, v, s in conn.execute(sa.text("SELECT case_id, version, to_state FROM case_event"))
        }
        for entry in entries:
            if entry["kind"] == "error":
                continue
            if entry["kind"] == "talk":
                assert entry["id"] in talks and recorded[entry["id"]] == 1, entry
            else:
                key = (entry["case"], entry["version"])
                assert history.get(key) == entry["to"] and moved[key] == 1, entry
        for case_id, state, version in conn.execute(sa.text("SELECT id, state, version FROM case_file")):
            mine = {v: s for (c, v), s in history.items() if c == case_id}
            if mine:
                top = max(mine)
                assert (int(version), state) == (top, mine[top]), (case_id, version, state, top, mine[top])
        for key in history:  # every move in the history was audited, once
            assert moved[key] == 1, key
