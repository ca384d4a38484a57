"""Measure per-school work in a county of 30 schools, then the same database grown to 300.

Builds two counties (COPY on PostgreSQL, executemany on SQLite; see databases.Loader), of S and
of 10·S schools of C children each, every child with a case, duties, contact entries, a leader and
a counsellor per school; then times, for the first school of each, ``review stalled``, case moves
(``assess`` through ``cases.advance``) and ``report indicators``, the two counties taking turns
(``--rounds``) so that the machine's drift falls on both alike; each figure is the best of its
turns. Per-school work must not grow with the county: each ratio (larger / smaller) at most 1.3.

    .venv/bin/python bench/county.py [--schools 30,300] [--children 3000] [--moves 50] [--rounds 5]
                                     [--db postgresql://postgres@127.0.0.1:5432/postgres] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from casework import states
from casework.domain.child import parse_fields
from casework.persistence import crypto, migrate
from casework.persistence.db import Database
from casework.services import Context, cases, indicators, review

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import Loader, keep_class_months, place  # noqa: E402

TODAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LIMIT = 1.3
STATES = ["identified", "assessed", "individual_plan", "mentored", "mentored", "reviewed", "closed"]
CLASSES = 6
STAFF = 2  # a leader and a counsellor per school
CONTACTS = 2
SCHOOL_1 = "县第001小学"  # the school whose work is timed


def clock() -> datetime:
    return TODAY


def _dt(day: date) -> str:
    return f"{day.isoformat()} 08:00:00.000000"


def card(i: int) -> dict[str, str]:
    """A card complete enough for the core guard on ``assess`` (as bench/advance.py fills it)."""
    return {
        "name": f"学生{i:07d}",
        "sex": "女" if i % 2 else "男",
        "birth_date": "2016-03-08",
        "student_no": f"C{i:07d}",
        "home_address": "贵州省某县白岩镇",
        "family_situation": "both_away",
        "father_name": "父亲",
        "father_phone": "13800000000",
        "guardian_name": "祖母",
        "guardian_relation": "祖母",
        "guardian_phone": "13900000000",
    }


def migrate_fresh(url: str, ring: crypto.KeyRing) -> None:
    db = Database(url, keyring=ring)
    migrate.upgrade(db.engine)
    db.dispose()


def add_schools(url: str, ring: crypto.KeyRing, first: int, last: int, per_school: int, moves: int) -> None:
    """Schools ``first``..``last`` (1-based, inclusive), their staff, classes, children and cases.

    Ids are laid out from the school number, so that a later call extends the county. The first
    ``moves`` cases of each school are freshly identified with complete cards (the moves timed).
    """
    rng = random.Random(first)
    sealed = set(crypto.sealed_columns("child"))
    con = Loader(url)
    con.begin()
    start = date(2026, 9, 1)
    con.put(
        "INSERT INTO school (id, name, created_at) VALUES (?, ?, ?)",
        [(s, f"县第{s:03d}小学", _dt(start)) for s in range(first, last + 1)],
    )
    con.put(
        "INSERT INTO school_class (id, school_id, grade, name) VALUES (?, ?, ?, ?)",
        [(s * 10 + k, s, 1 + k % 6, f"{k}班") for s in range(first, last + 1) for k in range(CLASSES)],
    )
    con.put(
        "INSERT INTO staff (id, name, created_at) VALUES (?, ?, ?)",
        [
            (s * STAFF + k, f"{('组长', '心理老师')[k]}{s:03d}", _dt(start))
            for s in range(first, last + 1)
            for k in range(2)
        ],
    )
    con.put(
        "INSERT INTO membership (staff_id, school_id, role, started_on) VALUES (?, ?, ?, '2026-09-01')",
        [(s * STAFF + k, s, ("leader", "counsellor")[k]) for s in range(first, last + 1) for k in range(2)],
    )
    con.commit()
    for s in range(first, last + 1):
        con.begin()
        base = s * per_school
        children, case_rows, duties, contacts = [], [], [], []
        for j in range(per_school):
            i = base + j
            fresh = j < moves
            class_id = s * 10 + j % CLASSES
            values: dict[str, Any] = (
                parse_fields(card(i)) if fresh else {"name": f"学生{i:07d}", "family_situation": "both_away"}
            )
            names = [
                "name",
                "sex",
                "birth_date",
                "student_no",
                "home_address",
                "family_situation",
                "father_name",
                "father_phone",
                "guardian_name",
                "guardian_relation",
                "guardian_phone",
            ]
            row = []
            for column in names:
                value = values.get(column)
                if column in sealed and value is not None:
                    value = ring.seal("child", column, i, str(value).encode())
                elif isinstance(value, date):
                    value = value.isoformat()
                row.append(value)
            children.append((i, s, class_id, *row, _dt(start), s * STAFF))
            state = "identified" if fresh else STATES[j % len(STATES)]
            since = start + timedelta(days=rng.randint(0, 70))
            case_rows.append((i, s, i, class_id, state, _dt(start), s * STAFF + 1, _dt(since)))
            if state != "closed":
                due = (
                    TODAY.date() - timedelta(days=5)
                    if j % 40 == 7
                    else TODAY.date() + timedelta(days=rng.randint(1, 60))
                )
                duties.append(
                    (
                        s,
                        i,
                        f"stage_deadline:{state}",
                        s * STAFF + 1,
                        due.isoformat(),
                        (due + timedelta(days=1)).isoformat(),
                    )
                )
            for k in range(CONTACTS):
                contacts.append(
                    (
                        i * CONTACTS + k,
                        ring.seal("contact_entry", "summary", i * CONTACTS + k, "记录".encode()),
                        s,
                        i,
                        ("talk", "parent_feedback")[k],
                        (start + timedelta(days=rng.randint(0, 80))).isoformat(),
                        s * STAFF + 1,
                        s * STAFF + 1,
                    )
                )
        con.put(
            "INSERT INTO child (id, school_id, class_id, name, sex, birth_date, student_no, home_address, "
            "family_situation, father_name, father_phone, guardian_name, guardian_relation, guardian_phone, "
            "created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            children,
        )
        con.put(
            "INSERT INTO case_file (id, school_id, child_id, class_id, state, version, definition_version, opened_at, "
            "opened_by, counsellor_id, state_since) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
            [(*c[:5], states.CURRENT.version, c[5], c[6], c[6], c[7]) for c in case_rows],
        )
        con.put(
            "INSERT INTO duty (school_id, case_id, code, rule, responsible_role, responsible_id, due_on, grace_days, "
            "overdue_on, escalates, computed_at) VALUES (?, ?, ?, 'deadlines', 'counsellor', ?, ?, 0, ?, 0, "
            "'2026-11-01 00:00:00.000000')",
            duties,
        )
        con.put(
            "INSERT INTO contact_entry (id, summary, school_id, case_id, kind, occurred_on, by_id, recorded_at, "
            "recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, '2026-11-01 00:00:00.000000', ?)",
            contacts,
        )
        con.commit()
    con.keep_contact_months()
    con.finish(("school", "school_class", "staff", "child", "case_file", "contact_entry"))
    keep_class_months(url)


def best(fn: Callable[[], Any], repeat: int = 3) -> float:
    fastest = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


LABELS = ("review stalled (one school)", "case move (assess)", "report indicators (one school)")


def measure(ctx: Context, to_move: list[int]) -> dict[str, float]:
    """The first school's per-school work once: seconds each (the move: the mean over ``to_move``)."""
    leader, counsellor = str(1 * STAFF), str(1 * STAFF + 1)
    stalled = best(lambda: review.stalled(ctx, leader, school=SCHOOL_1), repeat=1)
    review.forget_lists()  # the report counts the stalled list anew, as `report indicators` in a process of its own
    report = best(lambda: indicators.compute(ctx, leader, school=SCHOOL_1, month="2026-10"), repeat=1)
    start = time.perf_counter()
    for case_id in to_move:
        cases.advance(ctx, counsellor, case_id, "assess")
    move = (time.perf_counter() - start) / len(to_move)
    return dict(zip(LABELS, (stalled, move, report), strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", default="30,300", help="the smaller and the larger county (30,300)")
    parser.add_argument("--children", type=int, default=3000, help="children (each with a case) per school (3,000)")
    parser.add_argument("--moves", type=int, default=50, help="case moves timed in each county (50)")
    parser.add_argument("--rounds", type=int, default=5, help="turns the two counties take (5); each figure: the best")
    parser.add_argument("--db", help="a PostgreSQL server URL (fresh databases there, dropped after); else SQLite")
    parser.add_argument("--dir")
    args = parser.parse_args(argv)
    small, large = (int(x) for x in args.schools.split(","))
    per_round = args.moves // args.rounds
    if not 1 <= small < large or per_round < 1 or args.children < args.moves + 2:
        parser.error("--schools SMALL,LARGE with 1 ≤ SMALL < LARGE; --moves ≥ --rounds; --children > --moves + 1")
    ring = crypto.KeyRing(crypto.Key.generate())
    os.environ[crypto.ENV_KEY] = ring.current.encoded()
    with tempfile.TemporaryDirectory(prefix="casework-bench-", dir=args.dir) as tmp, place(args.db, tmp) as spot:
        print(f"county benchmark: {small} and {large} schools × {args.children:,} children ({spot.kind})")
        urls = {}
        for size in (small, large):
            urls[size] = spot.new(f"county{size}")
            migrate_fresh(urls[size], ring)
            start = time.perf_counter()
            add_schools(urls[size], ring, 1, size, args.children, args.moves + 1)
            took = time.perf_counter() - start
            print(f"build {size:>4} schools (not timed) {took:8.1f} s  ({spot.size(urls[size]) / 1e9:.2f} GB)")
        contexts = {size: Context(db=Database(url), clock=clock) for size, url in urls.items()}
        base = 1 * args.children
        try:
            for ctx in contexts.values():  # the first move opens the rule set and the pool
                cases.advance(ctx, str(1 * STAFF + 1), base + args.moves, "assess")
            # The two counties take turns, so that the machine's drift falls on both alike.
            seen: dict[int, dict[str, float]] = {size: dict.fromkeys(LABELS, float("inf")) for size in contexts}
            for r in range(args.rounds):
                to_move = list(range(base + r * per_round, base + (r + 1) * per_round))
                for size, ctx in contexts.items():
                    for label, seconds in measure(ctx, to_move).items():
                        seen[size][label] = min(seen[size][label], seconds)
        finally:
            for ctx in contexts.values():
                ctx.db.dispose()
    worst = 0.0
    for label in LABELS:
        first, second = seen[small][label], seen[large][label]
        ratio = second / first
        worst = max(worst, ratio)
        print(
            f"{label:<32} {small:>3} schools {first * 1e3:8.2f} ms  {large:>3} schools {second * 1e3:8.2f} ms"
            f"   ratio {ratio:5.2f}×  target ≤ {LIMIT}×: {'PASS' if ratio <= LIMIT else 'FAIL'}"
        )
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
