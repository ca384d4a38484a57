"""Measure how fast the service layer fires events, against the same writes done with raw sqlite3.

Fires ``assess`` once on each of N open cases, one transaction per event, through
``cases.advance`` (actor and membership checks, facts, rule modules, compare-and-set, case event,
duties, audit chain); then performs the writes the issue names (update the case, insert its
hashed audit row, commit) with raw sqlite3 and the same pragmas, twice: on two bare tables with
a small audit row, and on a copy of the engine's database (its tables and indexes, its audit
payload); then every write the engine makes, for reference. The four loops take turns, a block
of events each (``--block``), so that the machine's drift within a run falls on all of them alike.
Prints the rates, their ratios against the target, and checks that the engine's audit chain
still verifies.

    .venv/bin/python bench/advance.py [--cases 10000] [--dir DIR] [--db postgresql://postgres@127.0.0.1:5432/postgres]

On PostgreSQL (``--db`` a server URL) the raw loops are psycopg, each database fresh and dropped
after; the target there is 2.5× the raw loop on the engine's tables.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import func, select

from casework import states
from casework.domain.child import parse_fields
from casework.persistence import crypto
from casework.persistence.db import Database
from casework.persistence.tables import Case, Child
from casework.services import cases, setup, trail
from casework.services import facts as case_facts
from casework.services.audit import chain
from casework.services.context import Context

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import Place, is_pg, place  # noqa: E402

TARGET = 3.0  # the engine's rate may be at most this many times slower than the raw loop
TARGET_PG = 2.5  # on PostgreSQL, against the raw psycopg loop on the engine's tables (issue 22)
EVENT = "assess"
SCHOOL = "基准测试小学"
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=60000",
    "PRAGMA secure_delete=ON",
)


def fixed_clock() -> datetime:
    return NOW


def card(i: int) -> dict[str, str]:
    """A contact card complete enough for the core guard on ``assess``."""
    return {
        "name": f"学生{i:05d}",
        "sex": "女" if i % 2 else "男",
        "birth_date": "2016-03-08",
        "student_no": f"B{i:06d}",
        "home_address": "贵州省某县白岩镇",
        "family_situation": "both_away",
        "father_name": "父亲",
        "father_phone": "13800000000",
        "guardian_name": "祖母",
        "guardian_relation": "祖母",
        "guardian_phone": "13900000000",
    }


@dataclass
class Fixture:
    ctx: Context
    counsellor: str
    case_ids: list[int]


def build_engine_db(path: str, n: int) -> Fixture:
    """School, class and counsellor through the services; children and cases in one transaction.

    Adding 10,000 children and opening their cases one transaction each takes minutes, so they
    are written in bulk, with the same rows and audit events ``children.add`` and
    ``cases.open_case`` would append, so that the chain stays valid.
    """
    # PostgreSQL has no file to keep a key beside: the run's key is made here (SQLite's goes beside the file)
    ring = crypto.KeyRing(crypto.Key.generate()) if is_pg(path) else None
    ctx = Context(db=Database(path, keyring=ring), clock=fixed_clock)
    init = setup.init(ctx, admin="校务管理员", school=SCHOOL)
    assert init.school_id is not None and init.admin_id is not None
    admin = str(init.admin_id)
    class_id = setup.add_class(ctx, admin, 4, "1班")
    counsellor = setup.add_staff(ctx, admin, "郑心怡", ["counsellor"])
    school_id, now = init.school_id, ctx.now()
    with ctx.db.write() as session:
        kids, filled = [], []
        for i in range(n):
            values = parse_fields(card(i))
            kids.append(
                Child(
                    school_id=school_id,
                    class_id=class_id,
                    created_at=now,
                    created_by=init.admin_id,
                    **values,
                )
            )
            filled.append(sorted(k for k, v in values.items() if v is not None) + ["class"])
        session.add_all(kids)
        session.flush()
        for kid, fields in zip(kids, filled, strict=True):
            trail.Scribe(session, school_id, now, init.admin_id).write(
                "child.added", "child", kid.id, data={"fields": fields}
            )
        opened = [
            Case(
                school_id=school_id,
                child_id=kid.id,
                state=states.CURRENT.initial,
                version=0,
                definition_version=states.CURRENT.version,
                opened_at=now,
                opened_by=counsellor,
                counsellor_id=counsellor,
                state_since=now,
            )
            for kid in kids
        ]
        session.add_all(opened)
        session.flush()
        for case in opened:
            trail.Scribe(session, school_id, now, counsellor).write(
                "case.opened",
                "case",
                case.id,
                case_id=case.id,
                to_state=case.state,
                data={"child_id": case.child_id, "definition_version": case.definition_version},
            )
        case_ids = [case.id for case in opened]
    ctx.rules  # load the rule modules now, not inside the timed loop  # noqa: B018
    return Fixture(ctx, str(counsellor), case_ids)


@dataclass
class Stopwatch:
    """Time spent inside wrapped functions and how often they ran, summed over every call."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        self.seconds.setdefault(label, 0.0)
        self.calls.setdefault(label, 0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        return timed


# What ``cases.advance`` calls, by the module attribute it looks the function up on.
WATCHED: tuple[tuple[ModuleType, str, str], ...] = (
    (cases, "evaluate", "rule evaluation"),
    (case_facts, "plan_duties", "rule duties"),
    (case_facts, "load", "facts loading"),
)


@contextmanager
def watching(stopwatch: Stopwatch) -> Iterator[None]:
    """Time rule evaluation and facts loading while ``cases.advance`` runs; restore after."""
    originals = [(module, name, getattr(module, name)) for module, name, _ in WATCHED]
    for (module, name, label), (_, _, fn) in zip(WATCHED, originals, strict=True):
        setattr(module, name, stopwatch.wrap(label, fn))
    try:
        yield
    finally:
        for module, name, fn in originals:
            setattr(module, name, fn)


def engine_loop(fixture: Fixture, stopwatch: Stopwatch) -> Iterator[None]:
    """Fire the event on each case, one ``cases.advance`` transaction each, yielding after each."""
    ctx, actor = fixture.ctx, fixture.counsellor
    with watching(stopwatch):
        for case_id in fixture.case_ids:
            moved = cases.advance(ctx, actor, case_id, EVENT)
            if moved.to_state != states.ASSESSED:
                raise SystemExit(f"case {case_id} went to {moved.to_state}, not assessed")
            yield


def interleaved(loops: dict[str, Iterator[None]], n: int, block: int) -> dict[str, float]:
    """Run the loops in turns, ``block`` events each, until each has made ``n``: the seconds each took.

    The machine's speed drifts within a run; taking turns makes every loop meet the same drift,
    so that their ratios hold where their rates do not.
    """
    spent = dict.fromkeys(loops, 0.0)
    done = 0
    try:
        while done < n:
            size = min(block, n - done)
            for label, loop in loops.items():
                start = time.perf_counter()
                for _ in range(size):
                    next(loop)
                spent[label] += time.perf_counter() - start
            done += size
    finally:
        for loop in loops.values():
            loop.close()
    return spent


RAW_SCHEMA = """
CREATE TABLE case_file (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    state_since TEXT NOT NULL
);
CREATE TABLE audit_event (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    actor_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    case_id INTEGER NOT NULL REFERENCES case_file (id),
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""


class Raw:
    """A driver connection of the database under test, without the engine: raw sqlite3 (same pragmas,
    BEGIN IMMEDIATE) or raw psycopg (its own transaction, committed), with ``?`` placeholders."""

    def __init__(self, target: str) -> None:
        self.pg = is_pg(target)
        if self.pg:
            import psycopg

            self.db: Any = psycopg.connect(Place(target, Path(".")).driver_dsn(target))
        else:
            self.db = sqlite3.connect(target, isolation_level=None)  # we issue BEGIN and COMMIT ourselves
            for pragma in PRAGMAS:
                self.db.execute(pragma)

    def begin(self) -> None:
        if not self.pg:
            self.db.execute("BEGIN IMMEDIATE")  # psycopg opens its transaction with the first statement

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.db.execute(sql.replace("?", "%s") if self.pg else sql, params)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if self.pg:
            with self.db.cursor() as cursor:
                cursor.executemany(sql.replace("?", "%s"), rows)
        else:
            self.db.executemany(sql, rows)

    def commit(self) -> None:
        if self.pg:
            self.db.commit()
        else:
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


def raw_connect(target: str) -> Raw:
    return Raw(target)


def build_raw_db(target: str, n: int) -> list[int]:
    db = raw_connect(target)
    try:
        schema = RAW_SCHEMA.replace("INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY") if db.pg else RAW_SCHEMA
        db.begin()
        for statement in filter(str.strip, schema.split(";")):
            db.execute(statement)
        db.executemany(
            "INSERT INTO case_file (id, state, version, state_since) VALUES (?, ?, 0, ?)",
            [(i + 1, states.IDENTIFIED, NOW.isoformat()) for i in range(n)],
        )
        db.commit()
    finally:
        db.close()
    return list(range(1, n + 1))


def raw_loop(path: str, case_ids: list[int]) -> Iterator[None]:
    """The same writes without the engine: update the case, append a hashed audit row, commit."""
    db = raw_connect(path)
    ts, actor = NOW.isoformat(), 1
    prev = "0" * 64
    try:
        for seq, case_id in enumerate(case_ids, start=1):
            db.begin()
            moved = db.execute(
                "UPDATE case_file SET state = ?, version = version + 1, state_since = ? "
                "WHERE id = ? AND state = ? AND version = ?",
                (states.ASSESSED, ts, case_id, states.IDENTIFIED, 0),
            )
            if moved.rowcount != 1:
                raise SystemExit(f"raw: case {case_id} changed meanwhile")
            data = json.dumps({"event": EVENT, "version": 1}, separators=(",", ":"))
            row = (seq, ts, actor, "case.moved", case_id, states.IDENTIFIED, states.ASSESSED, data)
            digest = hashlib.sha256((prev + json.dumps(row)).encode()).hexdigest()
            db.execute(
                "INSERT INTO audit_event (seq, ts, actor_id, action, case_id, from_state, "
                "to_state, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, prev, digest),
            )
            db.commit()
            prev = digest
            yield
    finally:
        db.close()


def engine_sample(path: str) -> tuple[str, int]:
    """One 'case.moved' event's data as the engine wrote it, and how many duties a moved case has."""
    db = raw_connect(path)
    try:
        (data,) = db.execute("SELECT data FROM audit_event WHERE action = 'case.moved' LIMIT 1").fetchone()
        (duties,) = db.execute("SELECT COUNT(*) FROM duty GROUP BY case_id LIMIT 1").fetchone()
        return str(data), int(duties)
    finally:
        db.close()


def raw_schema_loop(
    path: str, case_ids: list[int], sample: Callable[[], tuple[str, int]], every: bool
) -> Iterator[None]:
    """The engine's writes in raw sqlite3 on a copy of its database, with none of its reads or rules.

    Per event: compare-and-set the case and insert its audit row (the engine's payload, hashed
    and chained): the writes the issue names, to the engine's tables with their indexes. With
    ``every``, also what the engine writes beyond those: the case's duty rows replaced, its
    case_event row, the audit head read and moved. ``sample``: the engine's audit payload and
    how many duties a moved case has, asked when the loop starts (after the engine's first block).
    """
    data, duties = sample()
    db = raw_connect(path)
    ts = NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    at: Any = NOW if db.pg else NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    due = "2026-09-15"
    overdue = "2026-09-16"  # the stage deadline has no grace: overdue the day after (0013)
    codes = [f"duty{i}" for i in range(duties)]
    seq, prev = db.execute("SELECT seq, hash FROM audit_head WHERE school_id = 1").fetchone()
    try:
        for case_id in case_ids:
            db.begin()
            moved = db.execute(
                "UPDATE case_file SET state = ?, version = ?, state_since = ?, stage_due_on = ? "
                "WHERE id = ? AND state = ? AND version = ?",
                (states.ASSESSED, 1, at, due, case_id, states.IDENTIFIED, 0),
            )
            if moved.rowcount != 1:
                raise SystemExit(f"raw: case {case_id} changed meanwhile")
            if every:
                db.execute(
                    f"DELETE FROM duty WHERE case_id = ? AND code NOT IN ({', '.join('?' for _ in codes)})",
                    (case_id, *codes),
                )
                db.executemany(
                    "INSERT INTO duty (school_id, case_id, code, rule, responsible_role, due_on, overdue_on, "
                    "escalates, computed_at) VALUES (1, ?, ?, 'deadlines', 'counsellor', ?, ?, ?, ?) "
                    "ON CONFLICT (case_id, code) DO UPDATE SET due_on = excluded.due_on, "
                    "overdue_on = excluded.overdue_on, computed_at = excluded.computed_at",
                    [(case_id, code, due, overdue, False if db.pg else 0, at) for code in codes],
                )
                db.execute(
                    "INSERT INTO case_event (school_id, case_id, version, event, from_state, to_state, at, "
                    "actor_id, rule_set) VALUES (1, ?, 1, ?, ?, ?, ?, 2, 'bench')",
                    (case_id, EVENT, states.IDENTIFIED, states.ASSESSED, at),
                )
                seq, prev = db.execute("SELECT seq, hash FROM audit_head WHERE school_id = 1").fetchone()
            event = [
                1,
                seq + 1,
                ts,
                2,
                "case.moved",
                "case",
                case_id,
                case_id,
                states.IDENTIFIED,
                states.ASSESSED,
                data,
                prev,
            ]
            digest = hashlib.sha256(json.dumps(event, ensure_ascii=False).encode()).hexdigest()
            db.execute(
                "INSERT INTO audit_event (school_id, seq, ts, actor_id, action, object_type, object_id, "
                "case_id, from_state, to_state, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*event, digest),
            )
            if every:
                db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE school_id = 1", (seq + 1, digest))
            db.commit()
            seq, prev = seq + 1, digest
            yield
    finally:
        db.close()


def assessed_count(ctx: Context) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).where(Case.state == states.ASSESSED)) or 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000, help="how many cases (10,000)")
    parser.add_argument("--dir", help="where to put the SQLite files (a fresh temporary directory)")
    parser.add_argument("--block", type=int, default=250, help="events per loop per turn (250): the loops take turns")
    parser.add_argument(
        "--db",
        help="a PostgreSQL server URL (postgresql://postgres@127.0.0.1:5432/postgres): fresh databases there, "
        "dropped after; otherwise SQLite files",
    )
    args = parser.parse_args(argv)
    if args.cases < 1:
        parser.error("--cases must be at least 1")
    n = args.cases
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="casework-bench-", dir=args.dir) as tmp, place(args.db, tmp) as spot:
        print(f"advance benchmark: {n:,} cases, one '{EVENT}' each, one transaction per event, {spot.kind}")
        if spot.pg:
            print(f"PostgreSQL databases on {args.db} (fresh, dropped after)")
        else:
            print(f"SQLite files in {tmp} (journal_mode=WAL, foreign_keys=ON, synchronous=FULL, secure_delete=ON)")

        start = time.perf_counter()
        engine_db = spot.new("engine")
        fixture = build_engine_db(engine_db, n)
        fixture.ctx.db.dispose()  # a PostgreSQL template may have no one connected
        tables_db = spot.copy(engine_db, "tables")
        same_db = spot.copy(engine_db, "same")
        raw_db = spot.new("raw")
        raw_ids = build_raw_db(raw_db, n)
        print(f"setup (not timed)      {time.perf_counter() - start:8.1f} s")

        stopwatch = Stopwatch()
        raw = "raw psycopg" if spot.pg else "raw sqlite3"
        sample: list[tuple[str, int]] = []

        def engine_payload() -> tuple[str, int]:
            if not sample:
                sample.append(engine_sample(engine_db))
            return sample[0]

        spent = interleaved(
            {
                "engine": engine_loop(fixture, stopwatch),
                f"{raw}, bare tables": raw_loop(raw_db, raw_ids),
                f"{raw}, engine's tables": raw_schema_loop(tables_db, fixture.case_ids, engine_payload, every=False),
                f"{raw}, every write": raw_schema_loop(same_db, fixture.case_ids, engine_payload, every=True),
            },
            n,
            args.block,
        )
        engine_s = spent.pop("engine")
        loops = spent
        target = TARGET_PG if spot.pg else TARGET
        print(f"{'engine (cases.advance)':<29}{n / engine_s:8,.0f} events/s  ({engine_s / n * 1e3:.3f} ms/event)")
        for label, seconds in loops.items():
            print(f"{label:<29}{n / seconds:8,.0f} events/s  ({seconds / n * 1e3:.3f} ms/event)")
        for label, seconds in loops.items():
            ratio = engine_s / seconds
            judged = "every write" not in label  # the loop writes the case and its audit row only
            verdict = f"target ≤ {target:.1f}×: {'PASS' if ratio <= target else 'FAIL'}" if judged else "(reference)"
            print(f"ratio, {label[len(raw) + 2 :]:<22}{ratio:8.2f}×  {verdict}")
        for label, seconds in stopwatch.seconds.items():
            print(
                f"  {label:<20} {seconds / engine_s:8.1%} of engine time"
                f" ({seconds:.2f} s in {stopwatch.calls[label]:,} calls)"
            )

        moved = assessed_count(fixture.ctx)
        start = time.perf_counter()
        result = chain.verify(fixture.ctx)
        verify_s = time.perf_counter() - start
        fixture.ctx.db.dispose()
        if result.ok:
            verdict = f"ok, {result.events:,} events in {result.schools} school(s)"
        else:
            verdict = f"BROKEN: {result.problem}"
        print(f"cases now assessed     {moved:8,}")
        print(f"audit chain            {verdict} (verified in {verify_s:.1f} s)")
    print(f"total                  {time.perf_counter() - began:8.1f} s")
    return 0 if result.ok and moved == n else 1


if __name__ == "__main__":
    sys.exit(main())
