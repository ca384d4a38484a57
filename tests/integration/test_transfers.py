"""A child who moves school (issue 21): within the database, and to a school elsewhere by a signed package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from casework.domain.inputs import RecordContact, RecordTermResult
from casework.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casework.persistence.tables import AuditEvent, Case, CaseEvent, Child, Document, Duty, Enrolment, Transfer
from casework.services import cases, children, documents, mentoring, pupil_records, setup, transfer_packages, transfers
from casework.services.audit import chain, checkpoint
from tests.helpers import World, unscoped


def _other_school(world: World) -> str:
    """白岩中学 with its own leader 吴校长; returns the leader's id."""
    result = setup.init(world.ctx, admin="中学管理员", school="白岩中学")
    assert result.admin_id is not None
    return str(setup.add_staff(world.ctx, str(result.admin_id), "吴校长", ["leader"], school="白岩中学"))


def _mentored(world: World) -> tuple[int, int]:
    case_id = world.case()
    world.drive(case_id, "mentored")
    mentoring.contact(world.ctx, world.mentor, RecordContact(case_id=case_id, kind="talk", summary="谈心：想念妈妈"))
    return case_id, cases.show(world.ctx, world.leader, case_id).child.id


def _actions(world: World, school_id: int) -> list[str]:
    with unscoped(world.ctx.db) as session:
        return list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.school_id == school_id).order_by(AuditEvent.seq))
        )


def test_the_file_and_the_case_follow_the_child(world: World) -> None:
    leader_b = _other_school(world)
    case_id, child_id = _mentored(world)
    moved = transfers.move(world.ctx, world.leader, child_id, "白岩中学")
    assert (moved.closed_case_id, moved.state) == (case_id, "mentored") and moved.new_case_id is not None
    with unscoped(world.ctx.db) as session:
        old = session.get(Child, child_id)
        new = session.get(Child, moved.new_child_id)
        assert old is not None and new is not None and old.transferred_out_on is not None
        assert (new.name, new.guardian_phone, new.class_id) == ("王小明", "13812345678", None)
        new_case = session.get(Case, moved.new_case_id)
        assert new_case is not None and (new_case.state, new_case.school_id) == ("mentored", new.school_id)
        assert session.scalars(select(Duty.code).where(Duty.case_id == new_case.id)).all()
        code = session.scalars(
            select(CaseEvent.reason_code).where(CaseEvent.case_id == case_id, CaseEvent.event == "close")
        ).one()
        assert code == "transferred"
        assert session.scalars(select(Enrolment.status).where(Enrolment.child_id == child_id)).all() == ["transferred"]
        sides = {t.direction: t for t in session.scalars(select(Transfer))}
    assert (sides["out"].other_child_id, sides["in"].other_case_id) == (new.id, case_id)
    assert "child.transferred_out" in _actions(world, old.school_id)
    assert _actions(world, new.school_id)[-2:] == ["child.transferred_in", "case.opened"]
    assert chain.verify(world.ctx).ok
    # the new school sees the child from the move on, not the history the old school wrote
    assert cases.show(world.ctx, leader_b, new_case.id).state == "mentored"
    assert [h.action for h in cases.history(world.ctx, leader_b, new_case.id)] == ["case.opened"]
    with pytest.raises((PermissionDenied, NotFound)):
        cases.history(world.ctx, leader_b, case_id)
    with pytest.raises((PermissionDenied, NotFound)):
        children.show(world.ctx, world.leader, new.id)
    # the old school keeps its history, read-only
    assert cases.show(world.ctx, world.leader, case_id).state == "closed"
    assert any(h.action == "contact.recorded" for h in cases.history(world.ctx, world.leader, case_id))


def test_the_old_school_may_no_longer_change_the_file(world: World) -> None:
    _other_school(world)
    case_id, child_id = _mentored(world)
    transfers.move(world.ctx, world.leader, child_id, "白岩中学")
    with pytest.raises(InvalidInput, match="read-only"):
        children.edit(world.ctx, world.leader, child_id, {"health": "良好"})
    with pytest.raises(InvalidInput, match="read-only"):
        pupil_records.term_result(
            world.ctx, world.leader, RecordTermResult(child_id=child_id, school_year=2025, term=2, total=1, rank=1)
        )
    with pytest.raises(InvalidInput, match="read-only"):
        cases.open_case(world.ctx, world.counsellor, child_id)
    with pytest.raises(InvalidInput, match="read-only"):
        cases.advance(world.ctx, world.leader, case_id, "reopen", "想重开")
    with pytest.raises(InvalidInput, match="read-only"):
        transfers.move(world.ctx, world.leader, child_id, "白岩中学")


def test_a_move_needs_the_register_capability_and_another_school(world: World) -> None:
    _other_school(world)
    _, child_id = _mentored(world)
    with pytest.raises(PermissionDenied):
        transfers.move(world.ctx, world.teacher, child_id, "白岩中学")
    with pytest.raises(InvalidInput, match="already"):
        transfers.move(world.ctx, world.leader, child_id, "测试小学")
    with pytest.raises(NotFound):
        transfers.move(world.ctx, world.leader, child_id, "没有这所学校")
    with unscoped(world.ctx.db) as session:
        assert session.scalars(select(Transfer)).all() == []


@pytest.fixture
def keys(tmp_path: Path) -> tuple[str, str]:
    private = str(tmp_path / "school.key")
    return private, checkpoint.keygen(private)


def test_a_signed_package_to_a_school_elsewhere(world: World, tmp_path: Path, keys: tuple[str, str]) -> None:
    leader_b = _other_school(world)  # stands for the school elsewhere: nothing links the two but the package
    case_id, child_id = _mentored(world)
    package = tmp_path / "转学.json"
    sent = transfer_packages.export_package(world.ctx, world.leader, child_id, "白岩中学", keys[0], str(package))
    assert sent.closed_case_id == case_id and sent.sha256 is not None
    history = json.loads(package.read_text(encoding="utf-8"))["payload"]["history"]
    assert history["cases"][0]["contacts"][-1]["summary"] == "谈心：想念妈妈"
    assert cases.show(world.ctx, world.leader, case_id).state == "closed"
    received = transfer_packages.import_package(world.ctx, leader_b, str(package), keys[1])
    assert (received.state, received.sha256) == ("mentored", sent.sha256)
    assert received.new_case_id is not None
    (kept,) = documents.list_documents(world.ctx, leader_b, received.new_case_id)
    assert (kept.template, kept.format) == ("transfer_package", "json")
    name, data = documents.document_bytes(world.ctx, leader_b, kept.id)
    assert data == package.read_bytes() and name.endswith(".json")
    with pytest.raises(Conflict):
        transfer_packages.import_package(world.ctx, leader_b, str(package), keys[1])
    assert chain.verify(world.ctx).ok


def test_a_package_that_fails_verification_is_refused_whole(
    world: World, tmp_path: Path, keys: tuple[str, str]
) -> None:
    leader_b = _other_school(world)
    _, child_id = _mentored(world)
    package = tmp_path / "转学.json"
    transfer_packages.export_package(world.ctx, world.leader, child_id, "白岩中学", keys[0], str(package))
    original = package.read_text(encoding="utf-8")
    altered = tmp_path / "改过.json"
    altered.write_text(original.replace("13812345678", "13812345679"), encoding="utf-8")
    with pytest.raises(InvalidInput, match="altered"):
        transfer_packages.import_package(world.ctx, leader_b, str(altered), keys[1])
    other = str(tmp_path / "other.key")
    with pytest.raises(InvalidInput, match="not signed with the key"):
        transfer_packages.import_package(world.ctx, leader_b, str(package), checkpoint.keygen(other))
    broken = tmp_path / "坏.json"
    broken.write_text(original[:100], encoding="utf-8")
    with pytest.raises(InvalidInput, match="not a casework transfer package"):
        transfer_packages.import_package(world.ctx, leader_b, str(broken), keys[1])
    with pytest.raises(InvalidInput, match="is for 白岩中学"):
        transfer_packages.import_package(world.ctx, world.leader, str(package), keys[1])
    with unscoped(world.ctx.db) as session:
        assert session.scalars(select(Transfer.direction)).all() == ["out"]
        assert session.scalars(select(Document)).all() == []
        assert len(session.scalars(select(Child)).all()) == 1


def test_a_child_who_moved_leaves_the_old_schools_counts(world: World) -> None:
    from casework.services import indicators

    _other_school(world)
    world.child(student_no="S2")  # stays
    _, child_id = _mentored(world)
    before = indicators.compute(world.ctx, world.leader, "测试小学", month="2026-09")
    transfers.move(world.ctx, world.leader, child_id, "白岩中学")
    after = indicators.compute(world.ctx, world.leader, "测试小学", month="2026-09")

    def files(report: indicators.Report) -> tuple[int, int]:
        (row,) = [r for r in report.rows if r.indicator == "file_rate" and r.scope == "school"]
        return row.numerator, row.denominator

    assert files(before) == (2, 2) and files(after) == (1, 1)
    assert sum(after.family_situations.values()) == 1
