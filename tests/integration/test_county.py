"""The education bureau (教育局): every school's counts side by side, ranked, and no child in any of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from casework.errors import PermissionDenied
from casework.persistence.tables import AuditEvent, Child
from casework.services import cases, county, setup
from tests.helpers import World, unscoped

CHILD = "县里甲童"


def _county(world: World) -> tuple[str, int]:
    """A second school and a bureau officer overseeing both; returns (officer, second school id)."""
    other = setup.init(world.ctx, admin="乙校管理员", school="石桥乡小学")
    assert other.admin_id is not None and other.school_id is not None
    officer = str(setup.add_staff(world.ctx, world.admin, "县教育局王科长", ["bureau"]))
    county.oversee(world.ctx, str(other.admin_id), officer, "石桥乡小学")
    return officer, other.school_id


def _child_ids(world: World) -> set[int]:
    with unscoped(world.ctx.db) as session:
        return set(session.scalars(select(Child.id)))


def test_the_bureau_sees_every_school_side_by_side_and_no_child(world: World, tmp_path: Path) -> None:
    officer, second = _county(world)
    case_id = world.case()
    world.fire(case_id, "assess")
    cases.open_case(world.ctx, world.counsellor, world.child(name=CHILD))
    report = county.overview(world.ctx, officer, "2026-09")
    assert sorted(s.school for s in report.schools) == sorted(["测试小学", "石桥乡小学"])
    first = next(s for s in report.schools if s.school == "测试小学")
    assert first.open_cases == 2 and first.measures["file_rate"].denominator == 2
    assert next(s for s in report.schools if s.school_id == second).open_cases == 0
    # ranked by each indicator: only schools with a denominator, the highest first
    assert report.rankings["file_rate"] == (first.school_id,)
    assert first.measures["file_rate"].rank == 1

    # no child's name or id in any of its outputs
    ids = {str(i) for i in _child_ids(world)}
    data = json.dumps(report.as_data(), ensure_ascii=False)
    assert CHILD not in data and "child" not in data
    for fmt in ("html", "md", "xlsx"):
        out = tmp_path / f"county.{fmt}"
        county.write(world.ctx, report, fmt, str(out), "zh_CN")
        raw = out.read_bytes()
        assert CHILD.encode() not in raw
        if fmt != "xlsx":
            text = raw.decode()
            assert "石桥乡小学" in text
            assert not any(f"child/{i}" in text or f"children/{i}" in text for i in ids)

    # its reads go to the access log, in each school's chain, tier T0, no child
    with unscoped(world.ctx.db) as session:
        logged = session.scalars(
            select(AuditEvent.data).where(AuditEvent.action == "access.read", AuditEvent.actor_id == int(officer))
        ).all()
    read = [json.loads(d) if isinstance(d, str) else d for d in logged]
    assert len(read) == 2 and all(r["tier"] == "T0" and r["child_ids"] == [] for r in read)


def test_a_school_leader_is_not_the_bureau(world: World) -> None:
    _county(world)
    with pytest.raises(PermissionDenied):
        county.overview(world.ctx, world.leader, "2026-09")


def test_the_bureau_reads_no_case_and_no_child(world: World) -> None:
    officer, _ = _county(world)
    case_id = world.case()
    child_id = cases.show(world.ctx, world.leader, case_id).child.id
    from casework.services import children

    with pytest.raises(PermissionDenied):
        cases.show(world.ctx, officer, case_id)
    with pytest.raises(PermissionDenied):
        children.show(world.ctx, officer, child_id)
    assert cases.list_cases(world.ctx, officer) == []
