"""Use cases on SQLite and PostgreSQL: opening, recording, moving, refusing, history, conflicts."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from casework.domain.inputs import RecordAssessment, RecordContact, ReviewPlanItem
from casework.errors import Conflict, InvalidInput, NotFound, PermissionDenied, TransitionRefused
from casework.persistence.tables import AuditEvent, Case, ChildChange
from casework.services import assessments, cases, children, mentoring, plans, setup
from casework.services.audit import chain
from tests.helpers import unscoped


def test_a_case_goes_through_every_stage_and_back(world) -> None:
    case_id = world.case()
    world.drive(case_id, "reviewed")
    world.review_all(case_id)
    world.fire(case_id, "revise")
    assert cases.show(world.ctx, world.leader, case_id).state == "individual_plan"
    # a revised plan starts afresh: the old items no longer satisfy the mentor guard
    with pytest.raises(TransitionRefused) as refused:
        world.fire(case_id, "mentor")
    assert [v.code for v in refused.value.verdicts] == ["plan_incomplete"]
    world.plan_item(case_id, category="psychological")
    world.fire(case_id, "mentor")
    world.fire(case_id, "review")
    world.review_all(case_id)
    world.fire(case_id, "close", "阶段目标达成")
    world.fire(case_id, "reopen", "再次出现心理问题")
    shown = cases.show(world.ctx, world.leader, case_id)
    assert (shown.state, shown.version) == ("assessed", 9)
    # reopened: a fresh assessment is needed before plan
    with pytest.raises(TransitionRefused):
        world.fire(case_id, "plan")
    assert chain.verify(world.ctx).ok


def test_a_refusal_reports_every_reason_and_changes_nothing_but_the_trail(world) -> None:
    case_id = world.case()
    world.drive(case_id, "individual_plan")
    before = cases.show(world.ctx, world.leader, case_id)
    with pytest.raises(TransitionRefused) as refused:
        world.fire(case_id, "mentor")
    assert sorted(v.code for v in refused.value.verdicts) == ["mentor_missing", "plan_incomplete"]
    assert cases.show(world.ctx, world.leader, case_id) == before
    with unscoped(world.ctx.db) as session:
        last = session.scalars(
            select(AuditEvent).where(AuditEvent.action != "access.read").order_by(AuditEvent.seq.desc())
        ).first()
    data = json.loads(last.data)
    assert last.action == "case.refused"
    assert {v["code"] for v in data["verdicts"] if not v["passed"]} == {
        "mentor_missing",
        "plan_incomplete",
    }
    assert all(set(v["message"]) == {"zh_CN", "en"} for v in data["verdicts"])


def test_incomplete_card_refuses_assess_until_edited(world) -> None:
    case_id = world.case(complete=False)
    with pytest.raises(TransitionRefused) as refused:
        world.fire(case_id, "assess")
    assert refused.value.verdicts[0].facts["missing"] == ["guardian_phone"]
    child_id = cases.show(world.ctx, world.leader, case_id).child.id
    world.clock.advance(1)
    assert children.edit(world.ctx, world.teacher, child_id, {"guardian_phone": "0851-8765432"}) == ["guardian_phone"]
    world.fire(case_id, "assess")


def test_card_edit_keeps_history_and_audit_holds_no_values(world) -> None:
    child_id = world.child()
    children.edit(world.ctx, world.teacher, child_id, {"guardian_phone": "13900001111", "health": "哮喘"})
    children.edit(world.ctx, world.admin, child_id, {"guardian_phone": "13900002222"})
    assert children.edit(world.ctx, world.admin, child_id, {"guardian_phone": "13900002222"}) == []
    shown = children.show(world.ctx, world.leader, child_id)
    phone_history = [(h.old, h.new, h.changed_by.name) for h in shown.history if h.field == "guardian_phone"]
    assert phone_history == [
        ("13812345678", "13900001111", "陈老师"),
        ("13900001111", "13900002222", "管理员"),
    ]
    with unscoped(world.ctx.db) as session:
        assert session.scalar(select(func.count()).select_from(ChildChange)) == 3
        blobs = [e.data for e in session.scalars(select(AuditEvent))]
    for value in ("13900001111", "13900002222", "哮喘", "王小明", "王大山"):
        assert not any(value in blob for blob in blobs)


def test_one_open_case_per_child(world) -> None:
    case_id = world.case()
    child_id = cases.show(world.ctx, world.leader, case_id).child.id
    with pytest.raises(Conflict):
        cases.open_case(world.ctx, world.counsellor, child_id)
    world.fire(case_id, "close", "转学")
    assert cases.open_case(world.ctx, world.counsellor, child_id) != case_id


def test_expected_version_conflict_changes_nothing(world) -> None:
    case_id = world.case()
    with pytest.raises(Conflict, match="changed meanwhile"):
        cases.advance(world.ctx, world.counsellor, case_id, "assess", expected_version=5)
    assert cases.show(world.ctx, world.leader, case_id).version == 0
    cases.advance(world.ctx, world.counsellor, case_id, "assess", expected_version=0)


def test_why_explains_without_writing(world) -> None:
    case_id = world.case()
    with unscoped(world.ctx.db) as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    why = cases.why(world.ctx, case_id, "assess", world.counsellor)
    assert why.allowed and why.to_state == "assessed"
    why = cases.why(world.ctx, case_id, "review", world.counsellor)
    assert not why.allowed and why.verdicts[0].code == "not_allowed_from_state"
    with unscoped(world.ctx.db) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_history_lists_moves_refusals_and_records(world) -> None:
    case_id = world.case()
    with pytest.raises(TransitionRefused):
        world.fire(case_id, "plan")
    world.drive(case_id, "mentored")
    mentoring.contact(
        world.ctx,
        world.teacher,
        RecordContact(
            case_id=case_id, kind="talk", occurred_on=date(2026, 9, 1), by=None, summary="谈心", follow_up=None
        ),
    )
    world.fire(case_id, "close", "父母返乡")
    actions = [h.action for h in cases.history(world.ctx, world.leader, case_id)]
    assert actions[0] == "case.opened" and "case.refused" in actions and actions[-1] == "case.moved"
    assert "contact.recorded" in actions and "pairing.recorded" in actions
    assert cases.history(world.ctx, world.leader, case_id)[-1].reason == "父母返乡"


def test_records_are_kept_to_their_stage(world) -> None:
    case_id = world.case()
    with pytest.raises(InvalidInput, match="recorded when the case is"):
        plans.review(world.ctx, world.counsellor, ReviewPlanItem(case_id=case_id, item_id=1, result="met", effect="x"))
    with pytest.raises(InvalidInput):
        world.plan_item(case_id)
    with pytest.raises(InvalidInput, match="future"):
        mentoring.contact(
            world.ctx,
            world.teacher,
            RecordContact(
                case_id=case_id, kind="talk", occurred_on=date(2030, 1, 1), by=None, summary="x", follow_up=None
            ),
        )
    with pytest.raises(InvalidInput, match="category"):
        assessments.assessment(
            world.ctx, world.counsellor, RecordAssessment(case_id=case_id, categories=["astrology"], summary="x")
        )


def test_unknown_ids_and_missing_actor(world) -> None:
    with pytest.raises(NotFound):
        cases.show(world.ctx, world.leader, 999)
    with pytest.raises(NotFound):
        cases.advance(world.ctx, world.counsellor, 999, "assess")
    with pytest.raises(InvalidInput, match="--as"):
        cases.open_case(world.ctx, None, world.child())
    with pytest.raises(NotFound):
        cases.open_case(world.ctx, "nobody", world.child())
    with pytest.raises(InvalidInput, match="not an event"):
        cases.advance(world.ctx, world.counsellor, world.case(), "fly")


def test_staff_of_another_school_may_not_write(world) -> None:
    other = setup.init(world.ctx, admin="外校管理员", school="另一所小学")
    case_id = world.case()
    with pytest.raises(PermissionDenied):
        cases.advance(world.ctx, str(other.admin_id), case_id, "assess")
    assert chain.verify(world.ctx).schools == 2


def test_each_school_has_its_own_chain(world) -> None:
    setup.init(world.ctx, admin="外校管理员", school="另一所小学")
    with unscoped(world.ctx.db) as session:
        rows = session.execute(
            select(AuditEvent.school_id, func.min(AuditEvent.seq)).group_by(AuditEvent.school_id)
        ).all()
    assert sorted(seq for _, seq in rows) == [1, 1]


def test_duplicate_student_number_is_refused(world) -> None:
    world.child(student_no="G2016001")
    with pytest.raises(Conflict):
        world.child(student_no="G2016001")


def test_case_list_filters_by_state(world) -> None:
    first, second = world.case(), world.case()
    world.fire(second, "assess")
    assert [c.id for c in cases.list_cases(world.ctx, world.leader, "assessed")] == [second]
    assert {c.id for c in cases.list_cases(world.ctx, world.leader)} == {first, second}
    with pytest.raises(InvalidInput):
        cases.list_cases(world.ctx, world.leader, "flying")
    with unscoped(world.ctx.db) as session:
        assert session.get(Case, first).state == "identified"
