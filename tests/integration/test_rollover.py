"""The school year's rollover: classes move up, the top grade graduates, its cases close, once a year."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from casework import states
from casework.errors import Conflict, PermissionDenied
from casework.persistence.tables import AuditEvent, Case, CaseEvent, Duty, SchoolClass
from casework.services import cases, rollover, setup
from casework.services.audit import chain
from tests.helpers import unscoped


def classes(world: Any) -> dict[int, str]:
    with unscoped(world.ctx.db) as session:
        return {c.id: f"{c.grade}/{c.name}" for c in session.scalars(select(SchoolClass))}


@pytest.fixture
def school(world: Any) -> dict[str, Any]:
    """4/1班 (the world's), 5/1班, 6/1班, 6/2班, with children and cases in several stages."""
    ids = {ref: setup.add_class(world.ctx, world.admin, int(ref[0]), ref[2:]) for ref in ("5/1班", "6/1班", "6/2班")}
    ids["4/1班"] = 1
    opened = world.case()  # 4/1班: stays open
    graduating = cases.open_case(world.ctx, world.counsellor, world.child(student_no="G1"))
    reviewed = cases.open_case(world.ctx, world.counsellor, world.child(student_no="G2"))
    closed = cases.open_case(world.ctx, world.counsellor, world.child(student_no="G3"))
    from casework.services import children

    for case_id, ref in ((graduating, "6/1班"), (reviewed, "6/1班"), (closed, "6/2班")):
        children.edit(world.ctx, world.admin, cases.show(world.ctx, world.leader, case_id).child.id, {}, ref)
    world.drive(reviewed, "reviewed")
    world.fire(closed, "close", "转学")
    return {"classes": ids, "open": opened, "graduating": graduating, "reviewed": reviewed, "closed": closed}


def test_classes_move_up_and_the_top_grade_graduates(world: Any, school: dict[str, Any]) -> None:
    ids = school["classes"]
    report = rollover.rollover(world.ctx, world.admin)
    assert report.school_year == 2026 and not report.dry_run
    assert classes(world) == {
        ids["4/1班"]: "5/1班",
        ids["5/1班"]: "6/1班",
        ids["6/1班"]: "6/2026届1班",
        ids["6/2班"]: "6/2026届2班",
    }
    assert report.graduated_children == 3
    assert sorted(report.closed_cases) == sorted([school["graduating"], school["reviewed"]])
    for case_id in report.closed_cases:
        assert cases.show(world.ctx, world.leader, case_id).state == states.CLOSED
    assert cases.show(world.ctx, world.leader, school["open"]).state == states.IDENTIFIED
    with unscoped(world.ctx.db) as session:
        reasons = session.scalars(
            select(CaseEvent.reason).where(CaseEvent.case_id == school["reviewed"], CaseEvent.event == "close")
        ).all()
        data = [
            json.loads(d)
            for d in session.scalars(select(AuditEvent.data).where(AuditEvent.case_id == school["reviewed"]))
        ]
        duties = session.scalars(select(Duty.code).where(Duty.case_id.in_(report.closed_cases))).all()
        deadlines = session.scalars(select(Case.stage_due_on).where(Case.id.in_(report.closed_cases))).all()
        kept = session.scalars(select(Duty.code).where(Duty.case_id == school["open"])).all()
    assert reasons == ["毕业"]  # closed from 'reviewed' without a leadership review: a system closure
    assert duties == [] and deadlines == [None, None]  # a graduate owes nothing and never stalls
    assert kept  # the case that stays open keeps its duties
    assert data[-1]["closure"] == "year_rollover" and data[-1]["event"] == "close"
    history = cases.history(world.ctx, world.leader, school["reviewed"])
    assert history[-1].to_state == states.CLOSED and history[-1].reason == "毕业"
    assert chain.verify(world.ctx).ok


def test_it_runs_once_a_school_year_and_again_the_next(world: Any, school: dict[str, Any]) -> None:
    rollover.rollover(world.ctx, world.admin)
    with pytest.raises(Conflict, match="done already"):
        rollover.rollover(world.ctx, world.admin)
    report = rollover.rollover(world.ctx, world.admin, year=2027)
    ids = school["classes"]
    assert classes(world)[ids["5/1班"]] == "6/2027届1班"
    assert classes(world)[ids["6/1班"]] == "6/2026届1班"  # graduated once, left alone since
    assert report.moved == [("5/1班", "6/1班")]
    assert chain.verify(world.ctx).ok


def test_a_dry_run_changes_nothing(world: Any, school: dict[str, Any]) -> None:
    before = classes(world)
    report = rollover.rollover(world.ctx, world.admin, dry_run=True)
    assert report.dry_run and report.closed_cases and report.moved
    assert classes(world) == before
    assert cases.show(world.ctx, world.leader, school["graduating"]).state == states.IDENTIFIED
    rollover.rollover(world.ctx, world.admin)  # the dry run did not count as this year's rollover


def test_only_the_leadership_or_an_administrator_may_roll_over(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        rollover.rollover(world.ctx, world.counsellor)
    rollover.rollover(world.ctx, world.leader, top_grade=9)


def test_the_rollover_tells_its_progress_up_to_every_row(world: Any, school: dict[str, Any]) -> None:
    told: list[tuple[int, int]] = []
    report = rollover.rollover(world.ctx, world.admin, progress=lambda done, total: told.append((done, total)))
    rows = len(report.moved) + len(report.graduated) + 2 * len(report.closed_cases)
    assert {total for _, total in told} == {rows}
    done = [d for d, _ in told]
    assert done == sorted(done) and 0 < done[0] < rows and done[-1] == rows
