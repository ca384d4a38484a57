"""Measure the web application under 20 concurrent staff members on a school of 10,000 cases.

Builds the review benchmark's database (bench/review.py: cases, children, duties, contacts, sealed
as the program seals them), gives a class teacher and a leader a sign-in, starts ``casework serve``
on 127.0.0.1 in its own process, and drives it with ``--users`` simulated staff (httpx, each
signed in) for ``--seconds``: the desk, a case page, the class sheet and a talk recorded through
the form, each followed by ``/ping``, a bare endpoint of the same server, whose p95 in the same
run is the limit the pages are read against.

    .venv/bin/python bench/web.py [--cases 10000] [--users 20] [--seconds 30] [--dir DIR] [--db URL]

``--db postgresql://…`` (a server): the database is built there (fresh, with COPY) and dropped after.

Floors (issue 18): desk, case page and class sheet p95 ≤ 150 ms; each record POST p95 ≤ 200 ms;
the desk's HTML under 60 KB; the stylesheet under 20 KB.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

from casework import states
from casework.domain.inputs import RecordConsent
from casework.persistence.db import Database
from casework.services import Context, accounts, consent

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import Conn, place  # noqa: E402

HERE = Path(__file__).parent
PASSWORD = "山高水长天天向上2026"
TEACHER, LEADER, ADMIN = "1", "351", "400"  # staff of the review benchmark's school (class teacher of 1/1班)
FLOORS = {"desk": 150.0, "case": 150.0, "class_sheet": 150.0, "record": 200.0}
PER_CLASS = 40  # children in care per class


def _review_module() -> object:
    spec = importlib.util.spec_from_file_location("bench_review", HERE / "review.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare(path: str, n: int) -> list[int]:
    """The database, an administrator to issue sign-ins, and the guardian's consent for the class
    teacher's open cases (a talk is a counselling record: refused without one). Returns those cases."""
    review = _review_module()
    review.build(path, n)  # type: ignore[attr-defined]
    raw = Conn(path)
    regroup(raw, PER_CLASS)
    raw.execute(
        f"INSERT INTO membership (staff_id, school_id, role, class_id, started_on) VALUES ({ADMIN}, 1, 'admin', NULL, "
        "'2026-09-01')"
    )
    # The review benchmark never asks the workflow; the pages do: its cases follow the current definition.
    raw.execute("UPDATE case_file SET definition_version = ?", (states.CURRENT.version,))
    raw.commit()
    class_id = raw.execute(f"SELECT class_id FROM membership WHERE staff_id = {TEACHER}").fetchone()[0]  # type: ignore[attr-defined]
    rows = raw.execute(
        "SELECT c.id, c.child_id FROM case_file c JOIN child h ON h.id = c.child_id "
        "WHERE h.class_id = ? AND c.state IN ('individual_plan', 'mentored', 'reviewed') ORDER BY c.id LIMIT 60",
        (class_id,),
    ).fetchall()  # type: ignore[attr-defined]
    raw.close()
    ctx = Context(db=Database(path))
    try:
        for _case_id, child_id in rows:
            consent.record(
                ctx, LEADER, RecordConsent(child_id=child_id, guardian="监护人", relation="祖母", scope="all")
            )
        for staff, login in ((TEACHER, "teacher"), (LEADER, "leader")):
            issued = accounts.issue_password(ctx, ADMIN, staff, login)
            accounts.change_password(
                ctx,
                accounts.Identity("", int(staff), "", login, frozenset(), "", "zh_CN", True),
                issued.password,
                PASSWORD,
                PASSWORD,
            )
    finally:
        ctx.db.dispose()
    return [case_id for case_id, _ in rows]


def regroup(raw: Conn, per_class: int) -> None:
    """Classes of ``per_class`` children, as a rural school has them (the review benchmark puts every
    child in one of 30 classes: 333 in care per class teacher, which no class sheet would hold)."""
    (children,) = raw.execute("SELECT count(*) FROM child").fetchone()  # type: ignore[attr-defined]
    count = max(30, -(-children // per_class))
    first = raw.execute("SELECT coalesce(max(id), 0) + 1 FROM school_class").fetchone()[0]  # type: ignore[attr-defined]
    extra = [(first + k, 1, 1 + k % 6, f"{100 + k}班") for k in range(count - 30)]
    raw.executemany("INSERT INTO school_class (id, school_id, grade, name) VALUES (?, ?, ?, ?)", extra)
    ids = [row[0] for row in raw.execute("SELECT id FROM school_class ORDER BY id")]  # type: ignore[attr-defined]
    raw.executemany(
        "UPDATE child SET class_id = ? WHERE id = ?", [(ids[i % len(ids)], i) for i in range(1, children + 1)]
    )
    raw.execute("UPDATE case_file SET class_id = (SELECT class_id FROM child WHERE child.id = case_file.child_id)")
    raw.commit()


def signed_in(base: str, login: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/sign-in")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text[:300]
    answer = client.post("/sign-in", data={"login": login, "password": PASSWORD, "csrf": token[1], "next": "/desk"})
    assert answer.status_code == 303, answer.text[:300]
    return client


def user(
    base: str, login: str, cases: list[int], until: float, seed: int, times: dict[str, list[float]], think: float
) -> None:
    """One member of staff: a page, then ``think`` seconds on average reading it (0.5–1.5 times), again."""
    rng = random.Random(seed)
    client = signed_in(base, login)
    mine: dict[str, list[float]] = defaultdict(list)
    csrf = ""
    try:
        while time.monotonic() < until:
            for page in ("desk", "case", "class_sheet", "record"):
                case_id = rng.choice(cases)
                start = time.perf_counter()
                if page == "desk":
                    answer = client.get("/desk")
                elif page == "case":
                    answer = client.get(f"/cases/{case_id}")
                elif page == "class_sheet":
                    answer = client.get("/class-sheet") if login == "teacher" else client.get("/desk")
                else:
                    answer = client.post(
                        f"/cases/{case_id}/record/talk", data={"summary": "每月谈心：一切安好", "csrf": csrf}
                    )
                took = (time.perf_counter() - start) * 1000
                if page == "record" and answer.status_code != 303:
                    raise RuntimeError(f"record: {answer.status_code} {answer.text[:300]}")
                if page != "record" and answer.status_code != 200:
                    raise RuntimeError(f"{page}: {answer.status_code} {answer.text.split('<main')[-1][:400]}")
                found = re.search(r'name="csrf" value="([^"]+)"', answer.text)
                csrf = found[1] if found else csrf
                if not (page == "class_sheet" and login != "teacher"):
                    mine[page].append(took)
                start = time.perf_counter()
                client.get("/ping")
                mine["ping"].append((time.perf_counter() - start) * 1000)
                if think:
                    time.sleep(think * rng.uniform(0.5, 1.5))
    finally:
        client.close()
        for key, values in mine.items():
            times[key].extend(values)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else (values[0] if values else 0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=1.0, help="seconds a person reads a page, on average")
    parser.add_argument("--dir")
    parser.add_argument("--db", help="a PostgreSQL server URL: a fresh database there (COPY), dropped after")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="casework-bench-", dir=args.dir) as tmp, place(args.db, tmp) as spot:
        path = spot.new("web") if spot.pg else str(Path(tmp) / "web.db")
        print(
            f"web benchmark: {args.cases:,} cases ({spot.kind}, {PER_CLASS} a class), {args.users} concurrent users "
            f"reading each page {args.think:.1f} s on average, {args.seconds:.0f} s"
        )
        start = time.perf_counter()
        cases = prepare(path, args.cases)
        print(f"build (not timed)        {time.perf_counter() - start:8.1f} s")
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASEWORK_")}
        if spot.pg:  # the build handed the key to this process's environment
            env["CASEWORK_KEY"] = os.environ["CASEWORK_KEY"]
        else:
            env["CASEWORK_KEY_FILE"] = f"{path}.key"
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("casework")), "--db", str(path), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tmp) / "server.log", "w"),  # noqa: SIM115 - closed with the folder
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + "/ping", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.2)
            probe = signed_in(base, "teacher")
            desk_kb = len(probe.get("/desk").content) / 1024
            css_kb = len(probe.get("/static/casework.css").content) / 1024
            probe.close()
            times: dict[str, list[float]] = defaultdict(list)
            until = time.monotonic() + args.seconds
            logins = ["teacher" if i % 2 == 0 else "leader" for i in range(args.users)]
            threads = [
                threading.Thread(target=user, args=(base, login, cases, until, i, times, args.think))
                for i, login in enumerate(logins)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(args.seconds + 120)
        finally:
            server.terminate()
            server.wait(10)
            errors = [line for line in (Path(tmp) / "server.log").read_text().splitlines() if "Error" in line]
            for line in errors[-5:]:
                print("server:", line)
    limit = pct(times["ping"], 95)
    print(f"{'page':<14}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'floor':>8}  ")
    ok = True
    for page in ("desk", "case", "class_sheet", "record"):
        values = times[page]
        p95 = pct(values, 95)
        good = p95 <= FLOORS[page]
        ok = ok and good
        verdict = "ok" if good else "OVER"
        print(f"{page:<14}{len(values):>9}{pct(values, 50):>9.1f}{p95:>9.1f}{FLOORS[page]:>8.0f}  {verdict}")
    print(f"{'/ping (bare)':<14}{len(times['ping']):>9}{pct(times['ping'], 50):>9.1f}{limit:>9.1f}")
    print(f"desk HTML {desk_kb:.1f} KB (under 60), stylesheet {css_kb:.1f} KB (under 20)")
    ok = ok and desk_kb < 60 and css_kb < 20
    print("all floors met" if ok else "some floor not met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
