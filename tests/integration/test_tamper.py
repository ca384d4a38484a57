"""Tampering with the audit table by raw SQL is found, and named by its sequence number."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from casework.services.audit import chain
from tests.helpers import unscoped


def _events(world, n_cases: int = 3) -> int:
    for _ in range(n_cases):
        case_id = world.case()
        world.fire(case_id, "assess")
    with unscoped(world.ctx.db) as session:
        return session.execute(text("SELECT max(seq) FROM audit_event WHERE school_id = 1")).scalar_one()


def _problem(world):
    result = chain.verify(world.ctx)
    assert not result.ok
    return result.problem.seq, result.problem.kind


def _raw(world, *statements: str) -> None:
    with world.ctx.db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def test_untouched_chain_verifies(world) -> None:
    _events(world)
    assert chain.verify(world.ctx).ok


@pytest.mark.parametrize(
    "column,value",
    [
        ("action", "'case.refused'"),
        ("to_state", "'closed'"),
        ("data", "'{}'"),
        ("actor_id", "99"),
        ("ts", "'2020-01-01T00:00:00.000000Z'"),
    ],
)
def test_edited_row(world, column: str, value: str) -> None:
    last = _events(world)
    target = last - 3
    _raw(world, f"UPDATE audit_event SET {column} = {value} WHERE school_id = 1 AND seq = {target}")
    assert _problem(world) == (target, "altered")


def test_deleted_row(world) -> None:
    last = _events(world)
    target = last - 4
    _raw(world, f"DELETE FROM audit_event WHERE school_id = 1 AND seq = {target}")
    assert _problem(world) == (target, "gap")


def test_swapped_rows(world) -> None:
    last = _events(world)
    a, b = last - 5, last - 2
    _raw(
        world,
        f"UPDATE audit_event SET seq = -1 WHERE school_id = 1 AND seq = {a}",
        f"UPDATE audit_event SET seq = {a} WHERE school_id = 1 AND seq = {b}",
        f"UPDATE audit_event SET seq = {b} WHERE school_id = 1 AND seq = -1",
    )
    assert _problem(world)[0] == a


def test_deleted_tail_is_truncation(world) -> None:
    last = _events(world)
    _raw(world, f"DELETE FROM audit_event WHERE school_id = 1 AND seq >= {last - 1}")
    assert _problem(world) == (last - 1, "truncated")
