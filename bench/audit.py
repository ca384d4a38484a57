"""Measure the auditor's verification and export over a million audit events, against bare SHA-256 chaining.

Builds a SQLite database of N audit events in a child process (through casework.audit.chain,
written with executemany), then, in this process, times ``trail.verify`` and the JSON-lines
export, reports events/s and this process's peak memory, and in the same run the rate of bare
SHA-256 chaining over the same canonical bytes: the limit no verifier can beat.

    .venv/bin/python bench/audit.py [--events 1000000] [--dir DIR]

Targets: verify and export at least 100,000 events/s each, peak memory under 150 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from casework import audit
from casework.persistence import migrate
from casework.persistence.db import Database
from casework.services import Context, trail

BATCH = 50_000


def _events(n: int):  # type: ignore[no-untyped-def]
    for i in range(n):
        yield {
            "ts": f"2026-10-{1 + i % 28:02d}T08:{i % 60:02d}:00.000000Z",
            "actor_id": 1 + i % 40,
            "action": "case.moved",
            "object_type": "case",
            "object_id": 1 + i % 50_000,
            "case_id": 1 + i % 50_000,
            "from_state": "identified",
            "to_state": "assessed",
            "data": {
                "event": "assess",
                "version": 1,
                "reason_given": False,
                "rule_set": "0123456789abcdef",
                "verdicts": [
                    {
                        "rule": "core",
                        "code": "file_complete",
                        "passed": True,
                        "message": {
                            "zh_CN": "联络卡已具备建档所需全部字段",
                            "en": "the contact card has every field the file needs",
                        },
                        "facts": {"missing": []},
                    }
                ],
            },
        }


def build(path: str, n: int) -> None:
    db = Database(path)
    migrate.upgrade(db.engine)
    db.dispose()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    con.execute("INSERT INTO school (id, name, created_at) VALUES (1, '审计基准学校', '2026-09-01 00:00:00.000000')")
    batch = []
    last = (0, audit.GENESIS)
    for event in audit.chain(1, (0, audit.GENESIS), _events(n)):
        batch.append(tuple(audit.dumps(event[k]) if k == "data" else event[k] for k in (*audit.FIELDS, "hash")))
        last = (event["seq"], event["hash"])
        if len(batch) >= BATCH:
            con.executemany(f"INSERT INTO audit_event VALUES ({', '.join('?' * 13)})", batch)
            batch.clear()
    if batch:
        con.executemany(f"INSERT INTO audit_event VALUES ({', '.join('?' * 13)})", batch)
    con.execute("INSERT INTO audit_head VALUES (1, ?, ?)", last)
    con.execute("COMMIT")
    con.close()


def bare_chaining(path: str) -> tuple[float, int]:
    """SHA-256 chained over each event's canonical bytes, read the same way: the limit."""
    con = sqlite3.connect(path)
    rows = con.execute(f"SELECT {', '.join(audit.FIELDS)} FROM audit_event ORDER BY school_id, seq")
    start = time.perf_counter()
    prev, count = audit.GENESIS, 0
    for row in rows:
        prev = hashlib.sha256(audit.PREFIX + prev.encode() + str(row).encode()).hexdigest()
        count += 1
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed, count


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir")
    args = parser.parse_args(argv)
    n = args.events
    with tempfile.TemporaryDirectory(prefix="casework-bench-", dir=args.dir) as tmp:
        path = str(Path(tmp) / "audit.db")
        print(f"audit benchmark: {n:,} events in one school (SQLite)")
        start = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(target=build, args=(path, n))
        child.start()
        child.join()
        print(f"build (not timed, child process) {time.perf_counter() - start:6.1f} s")
        bare_s, counted = bare_chaining(path)
        ctx = Context(db=Database(path), clock=lambda: datetime(2026, 11, 1, tzinfo=UTC))
        start = time.perf_counter()
        result = trail.verify(ctx)
        verify_s = time.perf_counter() - start
        start = time.perf_counter()
        written = trail.export_file(ctx, "jsonl", str(Path(tmp) / "trail.jsonl"))
        export_s = time.perf_counter() - start
        ctx.db.dispose()
    assert result.ok and result.events == n == counted == written, (result, counted, written)
    bare, verify_rate, export_rate = n / bare_s, n / verify_s, n / export_s
    memory = peak_mb()
    print(f"bare SHA-256 chaining  {bare:10,.0f} events/s  (the limit)")
    print(
        f"audit verify           {verify_rate:10,.0f} events/s  ({bare / verify_rate:.2f}× the limit)  "
        f"target ≥ 100,000/s: {'PASS' if verify_rate >= 100_000 else 'FAIL'}"
    )
    print(
        f"audit export jsonl     {export_rate:10,.0f} events/s  ({bare / export_rate:.2f}× the limit)  "
        f"target ≥ 100,000/s: {'PASS' if export_rate >= 100_000 else 'FAIL'}"
    )
    print(f"peak memory            {memory:10,.0f} MB  target < 150 MB: {'PASS' if memory < 150 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
