"""Several processes fire events on the same cases: exactly one wins each move, nothing lost or doubled."""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter

import pytest
from sqlalchemy import func, select

from casework.persistence.tables import AuditEvent, Case, CaseEvent
from casework.services.audit import chain
from tests.helpers import unscoped

WORKERS = 4
CASES = 6
SCRIPT = ["assess", "close", "reopen", "close"]


def worker(url: str, actor: str, case_ids: list[int], seed: int) -> Counter:
    from casework.errors import Conflict, TransitionRefused
    from casework.persistence.db import Database
    from casework.services import Context, cases

    ctx = Context(db=Database(url))
    rng = random.Random(seed)
    outcome: Counter = Counter()
    try:
        for _ in range(len(SCRIPT)):
            order = case_ids[:]
            rng.shuffle(order)
            for case_id in order:
                seen = cases.show(ctx, actor, case_id)
                event = next((e for e in SCRIPT if e in seen.events), None)
                if event is None:
                    continue
                try:
                    cases.advance(ctx, actor, case_id, event, "并发测试", expected_version=seen.version)
                    outcome["moved"] += 1
                except Conflict:
                    outcome["conflict"] += 1
                except TransitionRefused:
                    outcome["refused"] += 1
    finally:
        ctx.db.dispose()
    return outcome


@pytest.mark.slow
def test_processes_racing_on_the_same_cases(world) -> None:
    case_ids = [world.case() for _ in range(CASES)]
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(WORKERS) as pool:
        results = pool.starmap(worker, [(world.url, world.leader, case_ids, seed) for seed in range(WORKERS)])
    total = sum(results, Counter())
    assert total["moved"] > 0 and total["moved"] + total["conflict"] + total["refused"] > total["moved"]

    with unscoped(world.ctx.db) as session:
        versions = dict(session.execute(select(Case.id, Case.version).where(Case.id.in_(case_ids))).all())
        moved = dict(
            session.execute(
                select(AuditEvent.case_id, func.count())
                .where(AuditEvent.action == "case.moved", AuditEvent.case_id.in_(case_ids))
                .group_by(AuditEvent.case_id)
            ).all()
        )
        event_versions = session.execute(
            select(CaseEvent.case_id, CaseEvent.version).where(CaseEvent.case_id.in_(case_ids))
        ).all()
    # every successful move is one version step, one case event and one audit event; none doubled
    assert sum(versions.values()) == total["moved"]
    assert all(moved.get(c, 0) == v for c, v in versions.items())
    for case_id, version in versions.items():
        assert sorted(v for c, v in event_versions if c == case_id) == list(range(1, version + 1))
    assert chain.verify(world.ctx).ok
