"""Verification in key ranges, side by side in worker processes, gives the verdict one pass gives.

Each tampering is placed where the ranges meet (the last event of a range, the first of the
next), where a split verification could miss a link, and the verdict of three ranges is
compared with that of one pass: the same sequence, kind and count.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

from casework import audit
from casework.persistence import audit_rows
from casework.services import setup
from casework.services.audit import chain
from casework.services.audit import workers as audit_workers
from tests.helpers import unscoped
from tests.integration.test_tamper import _raw

PARTS = 3


def _split(world):
    return chain.verify(world.ctx, parallel_from=0, parts=PARTS)


def _whole(world):
    return chain.verify(world.ctx, parallel_from=10**9)


def _chains(world) -> list[int]:
    """Events in two schools; the places where the three ranges begin (first seq of school 1's later ranges)."""
    setup.init(world.ctx, admin="外校管理员", school="另一所小学")
    for _ in range(6):
        world.fire(world.case(), "assess")
    with unscoped(world.ctx.db) as session:
        ranges = audit_rows.plan(session, [1, 2], PARTS, audit_workers.HEAD_START)  # as chain.verify cuts them
    cuts = [r[0].first for r in ranges[1:] if r and r[0].school_id == 1 and r[0].first > 1]
    assert cuts, ranges  # school 1 holds most events: at least one range begins inside its chain
    return cuts


def test_an_intact_chain_verifies_alike(world) -> None:
    _chains(world)
    whole, split = _whole(world), _split(world)
    assert whole.ok and split == whole
    assert split.schools == 2


TAMPERING = {
    "edit the last event of a range": lambda k: [
        f"UPDATE audit_event SET actor_id = 99 WHERE school_id = 1 AND seq = {k - 1}"
    ],
    "edit the first event of a range": lambda k: [
        f"UPDATE audit_event SET actor_id = 99 WHERE school_id = 1 AND seq = {k}"
    ],
    "delete the last event of a range": lambda k: [f"DELETE FROM audit_event WHERE school_id = 1 AND seq = {k - 1}"],
    "delete the first event of a range": lambda k: [f"DELETE FROM audit_event WHERE school_id = 1 AND seq = {k}"],
    "break the link into a range": lambda k: [
        f"UPDATE audit_event SET prev_hash = '{'0' * 64}' WHERE school_id = 1 AND seq = {k}"
    ],
    "delete the first event of the chain": lambda k: ["DELETE FROM audit_event WHERE school_id = 1 AND seq = 1"],
    "cut the chain short of its head": lambda k: [f"DELETE FROM audit_event WHERE school_id = 1 AND seq >= {k}"],
    "swap events across ranges": lambda k: [
        "UPDATE audit_event SET seq = -1 WHERE school_id = 1 AND seq = 2",
        f"UPDATE audit_event SET seq = 2 WHERE school_id = 1 AND seq = {k + 1}",
        f"UPDATE audit_event SET seq = {k + 1} WHERE school_id = 1 AND seq = -1",
    ],
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_where_ranges_meet_is_found_where_one_pass_finds_it(world, how: str) -> None:
    cut = _chains(world)[0]
    _raw(world, *TAMPERING[how](cut))
    whole = _whole(world)
    assert not whole.ok
    assert _split(world) == whole


def _one_pass(world):
    """The reference: every row in chain order through ``audit.verify_rows``, no plan, no ranges."""
    with unscoped(world.ctx.db) as session:
        heads = {
            int(s): (int(q), h) for s, q, h in session.execute(text("SELECT school_id, seq, hash FROM audit_head"))
        }
        with closing(audit_rows.stream(session)) as rows:
            return audit.verify_rows(rows, heads)


# A tampered SQLite row may hold a sequence number that is not an integer (PostgreSQL's column
# refuses one): the chain cannot be cut at it, and whatever the cut, the verdict is one pass's.
SEQ_TAMPERING = {
    "text at the end": lambda k, n: [f"UPDATE audit_event SET seq = 'x' WHERE school_id = 1 AND seq = {n}"],
    "fraction at the end": lambda k, n: [f"UPDATE audit_event SET seq = {n}.5 WHERE school_id = 1 AND seq = {n}"],
    "fraction at a cut": lambda k, n: [f"UPDATE audit_event SET seq = {k - 1}.5 WHERE school_id = 1 AND seq = {k - 1}"],
    "fraction after a cut": lambda k, n: [f"UPDATE audit_event SET seq = {k}.5 WHERE school_id = 1 AND seq = {k + 1}"],
    "an early edit and a fraction at the end": lambda k, n: [
        "UPDATE audit_event SET actor_id = 99 WHERE school_id = 1 AND seq = 2",
        f"UPDATE audit_event SET seq = {n}.5 WHERE school_id = 1 AND seq = {n}",
    ],
}


@pytest.mark.parametrize("how", list(SEQ_TAMPERING))
def test_a_sequence_number_that_is_no_integer_gets_one_pass_verdict(world, how: str) -> None:
    if not world.ctx.db.is_sqlite:
        pytest.skip("PostgreSQL's integer column cannot hold such a sequence number")
    cut = _chains(world)[0]
    with unscoped(world.ctx.db) as session:
        last = session.execute(text("SELECT max(seq) FROM audit_event WHERE school_id = 1")).scalar_one()
    _raw(world, *SEQ_TAMPERING[how](cut, last))
    reference = _one_pass(world)
    assert not reference.ok
    assert _whole(world) == reference
    assert chain.verify(world.ctx) == reference
    assert _split(world) == reference


def test_an_early_problem_is_not_hidden_by_a_later_range_failing(world, monkeypatch) -> None:
    _chains(world)
    _raw(world, "UPDATE audit_event SET actor_id = 99 WHERE school_id = 1 AND seq = 2")
    from casework.services.audit import workers as audit_workers

    def failing(worker):
        raise RuntimeError("audit worker failed: not asked for")

    monkeypatch.setattr(audit_workers, "finish", failing)  # the first range's problem ends it
    result = _split(world)
    assert (result.problem.seq, result.problem.kind) == (2, "altered")
    assert result == _one_pass(world)


def test_a_failed_worker_is_an_error_not_a_verdict(world, monkeypatch) -> None:
    import sys

    _chains(world)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the worker process exits 1 at once
    with pytest.raises(RuntimeError, match="audit worker failed"):
        _split(world)


def test_workers_open_plain_urls_without_sqlalchemy(tmp_path) -> None:
    """Only URLs they can open with the driver alone; the others go through a Database."""
    for url in (
        "sqlite:///x.db?mode=ro",
        "sqlite:///:memory:",
        ":memory:",
        "mysql://u@h/db",
        "sqlite://",
        str(tmp_path / "not-there.db"),  # never created: the Database reports what is wrong
        "postgresql+psycopg://u:pa/ss@127.0.0.1/db",  # libpq would read another host
        "postgresql+psycopg://u:100%pure@127.0.0.1/db",  # libpq refuses the % that SQLAlchemy keeps
    ):
        assert audit_rows.connect_for_reading(url) is None, url
    (tmp_path / "my db.db").touch()
    opened = audit_rows.connect_for_reading(f"sqlite:///{tmp_path}/my%20db.db")  # decoded as SQLAlchemy does
    assert opened is not None
    opened[0].close()
    assert not (tmp_path / "my%20db.db").exists()
    for name in ("a.db", "b.db", "c.db"):
        (tmp_path / name).touch()
    for url in (str(tmp_path / "a.db"), f"sqlite:///{tmp_path / 'b.db'}", f"sqlite+pysqlite:///{tmp_path / 'c.db'}"):
        opened = audit_rows.connect_for_reading(url)
        assert opened is not None and opened[1] is False, url
        opened[0].close()


def test_a_worker_imports_no_sqlalchemy() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from casework.services.audit import export, workers; "
        "print(any(m.startswith('sqlalchemy') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_first_range_takes_a_head_start_of_at_most_half_a_share(world) -> None:
    _chains(world)
    with unscoped(world.ctx.db) as session:
        whole = sum(s.count for r in audit_rows.plan(session, [1, 2], 1) for s in r)
        for lead in (0, 2, 10**6):
            ranges = audit_rows.plan(session, [1, 2], PARTS, lead)
            counts = [sum(s.count for s in r) for r in ranges]
            assert sum(counts) == whole
            taken = min(lead, whole // (2 * PARTS))
            share = -(-(whole - taken) // PARTS)
            assert counts[0] == taken + share, (lead, counts)
            assert all(share - 1 <= c <= share for c in counts[1:]), (lead, counts)
            # One after the other, the ranges read every row once, in chain order.
            rows = [row for r in ranges for batch in audit_rows.segment_batches(session, r, 7) for row in batch]
            assert [(row[0], row[1]) for row in rows] == sorted((row[0], row[1]) for row in rows)
            assert len({(row[0], row[1]) for row in rows}) == whole


def test_a_worker_finds_casework_from_the_folder_that_holds_it() -> None:
    """Found in review: after the move into services/audit the path given to workers pointed inside the package."""
    import casework
    from casework.services.audit import workers

    assert Path(workers._PACKAGE_ROOT) == Path(casework.__file__).resolve().parents[1]


def test_progress_rises_to_every_event_verified_in_this_process_and_the_workers(world, monkeypatch) -> None:
    _chains(world)
    monkeypatch.setattr(audit_workers, "BATCH", 2)  # this process's range told two events at a time
    told: list[tuple[int, int]] = []
    result = chain.verify(
        world.ctx, parallel_from=0, parts=PARTS, progress=lambda done, total: told.append((done, total))
    )
    assert result.ok
    done = [d for d, _ in told]
    assert {t for _, t in told} == {result.events}
    assert done == sorted(done) and any(0 < d < result.events for d in done)
    # the last figures count the workers' ranges too, read from the files they write as they go
    assert done[-1] == result.events
    whole: list[tuple[int, int]] = []
    assert chain.verify(world.ctx, parallel_from=10**9, progress=lambda d, t: whole.append((d, t))).ok
    assert whole[-1] == (result.events, result.events)
