"""SIGKILL during writes, on SQLite and PostgreSQL: nothing reported committed is lost or doubled, the chain holds."""

from __future__ import annotations

import pytest

from tests.reliability.harness import FIGURES, check_database, kill_at_random, logged, scaled, start_writers

WRITERS = 3  # processes writing at once, each killed at its own random moment


@pytest.mark.slow
def test_writers_killed_at_random_points_lose_and_double_nothing(keyed_world, tmp_path) -> None:
    w = keyed_world
    cases = [w.case() for _ in range(4)]
    log = tmp_path / "committed.jsonl"
    rounds = -(-scaled(51) // WRITERS)  # 51 kills a backend: at least 100 in CI
    kills = 0
    for batch in range(rounds):
        procs = start_writers(WRITERS, w.url, w.extra["key_file"], str(log), cases, w.leader, w.counsellor)
        kills += kill_at_random(procs, log)
        if batch % 5 == 4 or batch == rounds - 1:
            check_database(w.ctx, logged(log))
    entries = logged(log)
    errors = [e["error"] for e in entries if e["kind"] == "error"]
    FIGURES.add(f"kills ({w.ctx.db.engine.dialect.name})", kills)
    FIGURES.add("writes reported committed", len(entries) - len(errors))
    FIGURES.add("writer driver errors (one line each on the command line)", len(errors))
    for text in set(errors):
        FIGURES.add(f"writer driver error: {text}", errors.count(text))
    assert kills >= scaled(51) and len(entries) > len(errors), errors[:5]
