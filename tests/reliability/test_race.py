"""Processes firing on one case at once, with and without --expect-version: one winner per version, no doubled event.

What the losers get is what docs/concepts.md documents for each database.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from tests.helpers import unscoped
from tests.reliability.harness import FIGURES, FORK, check_database, scaled

RACERS = 3


def _warm() -> None:
    """Import and read in the parent what every racer needs, so that forked racers start at once."""
    from casework.cli import app
    from casework.persistence import migrate
    from casework.services import cases, runtime  # noqa: F401
    from casework.services.settings import Settings

    app()
    migrate.head_revision()
    migrate.revisions()
    Settings().rule_set()


def _racer(url: str, args: list[str], gate: Any, results: Any) -> None:
    """One command line, started when the gate opens; its exit code goes to ``results``."""
    import contextlib
    import io

    from casework.cli import app

    gate.wait()
    code = 0
    with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()):
        try:
            app().main(args=["--db", url, *args], standalone_mode=True)
        except SystemExit as exc:
            code = int(exc.code or 0)
    results.put((code, err.getvalue()))


def _race(url: str, args: list[str]) -> list[tuple[int, str]]:
    gate = FORK.Barrier(RACERS)
    results = FORK.Queue()
    procs = [FORK.Process(target=_racer, args=(url, args, gate, results)) for _ in range(RACERS)]
    for p in procs:
        p.start()
    out = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join()
    return out


def _versions(world: Any, case_id: int) -> tuple[int, int, int]:
    with unscoped(world.ctx.db) as session:
        conn = session.connection()
        version = conn.execute(sa.text("SELECT version FROM case_file WHERE id = :c"), {"c": case_id}).scalar_one()
        events = conn.execute(sa.text("SELECT count(*) FROM case_event WHERE case_id = :c"), {"c": case_id}).scalar()
        moved = conn.execute(
            sa.text("SELECT count(*) FROM audit_event WHERE action = 'case.moved' AND case_id = :c"), {"c": case_id}
        ).scalar()
    return int(version), int(events), int(moved)


# What a loser gets (docs/concepts.md, "Two people at once"): the exit codes allowed per database and mode.
LOSER_CODES = {
    ("sqlite", False): {3},  # writes take turns: the loser reads the moved case, and the table refuses
    ("sqlite", True): {4},  # the loser sees another version than it expected: a conflict
    ("postgresql", False): {3, 4},  # both read at once: the compare-and-set refuses (4), or it read late (3)
    ("postgresql", True): {4},
}


@pytest.mark.slow
@pytest.mark.parametrize("expect", [False, True], ids=["plain", "expect-version"])
def test_one_winner_per_version_and_the_documented_code_for_the_losers(world, expect) -> None:
    _warm()
    case_id = world.case()
    backend = world.ctx.db.engine.dialect.name
    os.environ.pop("CASEWORK_ACTOR", None)
    codes: Counter[int] = Counter()
    for round_no in range(scaled(3)):
        version, events, moved = _versions(world, case_id)
        event, reason = ("close", "父母返乡") if round_no % 2 == 0 else ("reopen", "父母再次外出")
        args = ["case", "advance", str(case_id), event, "--reason", reason, "--as", world.leader]
        if expect:
            args += ["--expect-version", str(version)]
        results = _race(world.url, args)
        winners = [r for r in results if r[0] == 0]
        assert len(winners) == 1, results
        losers = [r for r in results if r[0] != 0]
        assert all(code in LOSER_CODES[(backend, expect)] for code, _ in losers), losers
        assert all("Traceback" not in text and len(text.strip().splitlines()) >= 1 for _, text in losers)
        codes.update(code for code, _ in results)
        assert _versions(world, case_id) == (version + 1, events + 1, moved + 1)
    check_database(world.ctx, [])
    FIGURES.add(f"races ({backend}, {'expect-version' if expect else 'plain'})", scaled(3))
    FIGURES.add("racing processes", scaled(3) * RACERS)
    for code, n in codes.items():
        FIGURES.add(f"race exit {code} ({backend}, {'expect-version' if expect else 'plain'})", n)
