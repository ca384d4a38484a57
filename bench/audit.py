"""Measure the auditor's verification and export over a million audit events, against bare SHA-256 chaining.

Builds a SQLite database of N audit events in a child process (a school and its auditor through
the services, then the events through casework.audit.chain, written with executemany), then, in
fresh processes, times ``chain.verify_as`` and the JSON-lines, CSV and XLSX exports as the auditor
(phone and ID numbers masked; exports of this size run in two processes), and
reports events/s and the peak memory of that process and its export workers together, and in the same
run the rate of bare SHA-256 over the same canonical bytes: the limit no verifier can beat.

    .venv/bin/python bench/audit.py [--events 1000000] [--dir DIR] [--db FILE]

With --db the database is built there and kept, or timed as it is if the file exists (build once,
time many).

Targets: verify and each export at least 100,000 events/s each, peak memory under 150 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from casework import audit
from casework.persistence import audit_rows, crypto
from casework.persistence.db import Database
from casework.services import Context, setup
from casework.services.audit import chain

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import Loader, Place, is_pg, place  # noqa: E402

BATCH = 50_000
SAMPLE_EVERY = 0.02  # seconds
AUDITOR = "审计员"


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
                # One event in a thousand carries a phone number, which the auditor's export masks.
                **({"note": "家长电话13812345678"} if i % 1000 == 0 else {}),
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
    """The school, its administrator and auditor through the services, then N events appended raw."""
    ctx = Context(db=Database(path), clock=lambda: datetime(2026, 9, 1, tzinfo=UTC))
    admin = str(setup.init(ctx, admin="管理员", school="审计基准学校").admin_id)
    setup.add_staff(ctx, admin, AUDITOR, ["auditor"])
    ctx.db.dispose()
    con = Loader(path)  # SQLite: executemany, synchronous=OFF; PostgreSQL: COPY
    con.begin()
    head = con.one("SELECT seq, hash FROM audit_head WHERE school_id = 1")
    columns = (*audit.FIELDS, "hash")
    insert = f"INSERT INTO audit_event ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    batch = []
    last = head
    for event in audit.chain(1, head, _events(n)):
        batch.append(tuple(audit.dumps(event[k]) if k == "data" else event[k] for k in columns))
        last = (event["seq"], event["hash"])
        if len(batch) >= BATCH:
            con.put(insert, batch)
            batch.clear()
    if batch:
        con.put(insert, batch)
    con.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE school_id = 1", last)
    con.commit()
    con.finish(())


def bare_chaining(path: str) -> tuple[float, int]:
    """SHA-256 over each event's canonical bytes, checked against its stored hash: the limit.

    The bytes are made batch by batch outside the timed loop, so the figure is the hashing
    alone: what no verifier that reads, decodes and re-encodes the rows can beat.
    """
    query = f"SELECT {', '.join(audit_rows.COLUMNS)} FROM audit_event ORDER BY school_id, seq"
    if is_pg(path):
        import psycopg

        con: Any = psycopg.connect(Place(path, Path(".")).driver_dsn(path))
        cursor = con.cursor(name="bare")  # on the server, read in batches
        cursor.execute(query)
    else:
        con = sqlite3.connect(path)
        cursor = con.execute(query)
    elapsed, count = 0.0, 0
    while rows := cursor.fetchmany(audit_rows.BATCH):
        batch = [(audit.canonical_row(row), row[12]) for row in rows]
        start = time.perf_counter()
        for body, stored in batch:
            if hashlib.sha256(audit.PREFIX + body).hexdigest() != stored:
                raise SystemExit(f"event {count + 1} does not match its hash")
            count += 1
        elapsed += time.perf_counter() - start
    con.close()
    return elapsed, count


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _program(pid: int) -> tuple[int, bytes]:
    """Where a process's heap begins (/proc/PID/stat, field 47) and its command line: a process
    that has started a program of its own differs from its parent in one or the other."""
    with open(f"/proc/{pid}/stat") as stat:
        brk = int(stat.read().rpartition(")")[2].split()[44])
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return brk, cmdline.read()


def _rss_kb(pid: int, parent: tuple[int, bytes] | None = None) -> tuple[int, list[int], tuple[int, bytes] | None]:
    """A process's proportional set size, its children's ids and its ``_program``, from /proc (0
    and none once it has gone).

    PSS counts a page shared by n processes as 1/n in each: the export's worker maps the same
    libraries as its parent (libpython, OpenSSL, SQLite), and summing resident sizes would count
    them twice (about 20 MB more for two processes). Its resident size where PSS is unknown. A
    child whose heap starts where its parent's does, on the same command line, has not yet started
    its program: between vfork and exec it shares its parent's memory whole, and counting it would
    count the parent twice (the peaks of 130 MB seen before 2026-12-02, evening, were that).
    """
    try:
        program = _program(pid)
        children: list[int] = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                children += [int(c) for c in listed.read().split()]
        if program == parent:
            return 0, children, program
        try:
            with open(f"/proc/{pid}/smaps_rollup") as status:
                rss = next((int(line.split()[1]) for line in status if line.startswith("Pss:")), 0)
        except FileNotFoundError:  # Linux before 4.14
            with open(f"/proc/{pid}/status") as status:
                rss = next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
        return rss, children, program
    except (OSError, ValueError, IndexError):
        return 0, [], None


class AllProcesses(threading.Thread):
    """The peak of the memory of a process and all its descendants together (PSS), every ``SAMPLE_EVERY`` s.

    It runs in this (the benchmark's) process and watches the timed one. Sampling is not free:
    from a thread inside the timed process every 10 ms it cost the export a tenth of its rate
    (the GIL taken 100 times a second; XLSX 182,834 against 201,647 events/s without it, on
    2026-12-02), and from here every 10 ms still 5–8% (reading smaps_rollup walks the page tables
    of processes that are using both cores). Every 20 ms costs 2–3% and sees the same peak: an
    export's memory is flat once its first batches are read. Linux only.
    """

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_EVERY):
            total = 0
            todo: list[tuple[int, tuple[int, bytes] | None]] = [(self.root, None)]
            while todo:
                pid, parent = todo.pop()
                rss, children, program = _rss_kb(pid, parent)
                total += rss
                todo += [(child, program) for child in children]
            self.peak_kb = max(self.peak_kb, total)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return self.peak_kb / 1024


def timed(path: str, op: str, out: str) -> tuple[int, float, float]:
    """Verify or export as the auditor, in this (fresh) process: events, seconds, this process's peak MB."""
    ctx = Context(db=Database(path), clock=lambda: datetime(2026, 11, 1, tzinfo=UTC))
    start = time.perf_counter()
    if op == "verify":
        result = chain.verify_as(ctx, AUDITOR)
        assert result.ok, result
        events = result.events
    else:
        exported = chain.export_file(ctx, AUDITOR, op, out)
        assert exported.masked, exported
        events = exported.events
    seconds = time.perf_counter() - start
    ctx.db.dispose()
    return events, seconds, peak_mb()


def _timed_child(path: str, op: str, out: str, results: Any) -> None:
    results.put(timed(path, op, out))


def timed_apart(path: str, op: str, out: str) -> tuple[int, float, float]:
    """``timed`` in a fresh process, as the CLI would run it, its memory and its workers' sampled from here.

    Its peak is its own, not what an earlier call left behind.
    """
    spawn = multiprocessing.get_context("spawn")
    results = spawn.SimpleQueue()
    child = spawn.Process(target=_timed_child, args=(path, op, out, results))
    child.start()
    sampler = AllProcesses(child.pid or 0)
    sampler.start()
    try:
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"{op} failed (exit status {child.exitcode})")
        events, seconds, own_mb = results.get()
    finally:
        sampled_mb = sampler.stop()
    return events, seconds, max(sampled_mb, own_mb)


def line(label: str, rate: float, bare: float) -> str:
    verdict = "PASS" if rate >= 100_000 else "FAIL"
    return f"{label:<29} {rate:10,.0f} events/s  ({bare / rate:5.2f}× the limit)  target ≥ 100,000/s: {verdict}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir")
    parser.add_argument(
        "--db",
        help="a SQLite file: build the database there and keep it, or time it if it exists; "
        "a PostgreSQL server URL: a fresh database there (COPY), dropped after",
    )
    args = parser.parse_args(argv)
    n = args.events
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="casework-bench-", dir=args.dir) as tmp, place(args.db, tmp) as spot:
        if spot.pg:  # the processes below find a PostgreSQL database's key in their environment
            os.environ.setdefault(crypto.ENV_KEY, crypto.Key.generate().encoded())
            path = spot.new("audit")
        else:
            path = args.db or str(Path(tmp) / "audit.db")
        if not spot.pg and args.db and Path(path).exists():
            print(f"audit benchmark: the events of {path}, read and exported as the auditor")
        else:
            print(f"audit benchmark: {n:,} events in one school ({spot.kind}), read and exported as the auditor")
            start = time.perf_counter()
            child = multiprocessing.get_context("spawn").Process(target=build, args=(path, n))
            child.start()
            child.join()
            if child.exitcode != 0:
                raise SystemExit(f"building the database failed (exit status {child.exitcode})")
            print(f"build (not timed, child process) {time.perf_counter() - start:6.1f} s")
        bare_s, counted = bare_chaining(path)
        rates["bare"] = counted / bare_s
        memory: dict[str, float] = {}
        for op in ("verify", "jsonl", "csv", "xlsx"):
            out = Path(tmp) / f"trail.{op}"
            events, seconds, memory[op] = timed_apart(path, op, str(out))
            assert events >= counted, (op, events, counted)
            rates[op] = events / seconds
            if op != "verify":
                print(f"export {op:<5} (not timed) {out.stat().st_size / 2**20:8,.0f} MB on disk")
                # Each export timed as the only one the machine holds: the files of the exports
                # before, kept in the page cache, made the next ones 10-20% slower on this machine.
                out.unlink()
    bare = rates["bare"]
    print(f"{'bare SHA-256 chaining':<29} {bare:10,.0f} events/s  (the limit)")
    print(line("audit verify", rates["verify"], bare))
    for fmt in ("jsonl", "csv", "xlsx"):
        print(line(f"audit export {fmt} (masked)", rates[fmt], bare))
    peak = max(memory.values())
    print(
        f"{'peak memory, all processes':<29} {peak:10,.0f} MB  target < 150 MB: {'PASS' if peak < 150 else 'FAIL'}"
        f"  ({', '.join(f'{op} {mb:,.0f}' for op, mb in memory.items())})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
