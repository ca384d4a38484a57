"""The card and the rules (issue 21): literacy, boarding and the duties, the staff phone, the feedback text."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from casework.domain.inputs import RecordAssessment, SetStaffPhone
from casework.errors import InvalidInput, PermissionDenied
from casework.persistence.tables import AuditEvent, Duty, Staff
from casework.services import assessments, cases, children, documents, setup
from tests.helpers import World, unscoped


def _duties(world: World, case_id: int) -> set[str]:
    with unscoped(world.ctx.db) as session:
        return set(session.scalars(select(Duty.code).where(Duty.case_id == case_id)))


def test_a_guardian_who_cannot_read_raises_the_risk(world: World) -> None:
    case_id = world.case()
    child = cases.show(world.ctx, world.leader, case_id).child.id
    assert children.edit(world.ctx, world.leader, child, {"guardian_literate": "不识字"}) == ["guardian_literate"]
    assert children.show(world.ctx, world.leader, child).fields["guardian_literate"] == "0"
    world.fire(case_id, "assess")
    assessments.assessment(
        world.ctx, world.counsellor, RecordAssessment(case_id=case_id, categories=["learning"], summary="需要辅导")
    )
    # both parents away is medium; a guardian who cannot read raises it one level
    with unscoped(world.ctx.db) as session:
        from casework.persistence.tables import Assessment, Case

        assert session.get(Case, case_id).risk_level == "high"  # type: ignore[union-attr]
        (facts,) = session.scalars(select(Assessment.facts).where(Assessment.case_id == case_id))
    (life,) = [e for e in facts["evidence"] if e["category"] == "life" and e["rule"] == "family_situation"]
    assert life["evidence"]["guardian_factors"] == ["guardian_cannot_read"]


def test_a_literacy_the_card_cannot_read_is_refused(world: World) -> None:
    child = world.child()
    with pytest.raises(InvalidInput, match="guardian_literate|监护人是否识字|guardian can read"):
        children.edit(world.ctx, world.leader, child, {"guardian_literate": "有时"})


def test_the_duties_follow_whether_the_child_boards(world: World) -> None:
    case_id = world.case()
    child = cases.show(world.ctx, world.leader, case_id).child.id
    children.edit(world.ctx, world.leader, child, {"boarding": "是"})
    world.drive(case_id, "mentored")
    assert {"boarder_talk", "home_visit"} <= _duties(world, case_id)
    assert "monthly_talk" not in _duties(world, case_id)
    # the card changes: the duties of the open case follow at once
    children.edit(world.ctx, world.leader, child, {"boarding": "走读"})
    assert {"monthly_talk", "guardian_visit"} <= _duties(world, case_id)
    assert not {"boarder_talk", "home_visit"} & _duties(world, case_id)


def test_the_staff_phone_is_sealed_and_on_the_contact_card(world: World) -> None:
    case_id = world.case()
    setup.set_staff_phone(world.ctx, world.admin, SetStaffPhone(staff=world.teacher, phone="136 9876 5432"))
    with world.ctx.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT phone FROM staff WHERE id = :id"), {"id": int(world.teacher)}).scalar()
    assert isinstance(stored, bytes | memoryview) and b"13698765432" not in bytes(stored)
    with unscoped(world.ctx.db) as session:
        assert session.get(Staff, int(world.teacher)).phone == "13698765432"  # type: ignore[union-attr]
        actions = session.scalars(select(AuditEvent.data).where(AuditEvent.action == "staff.changed")).all()
    assert actions == ['{"fields":["phone"]}']  # the number itself never goes into the chain
    (card,) = documents.render_case(world.ctx, world.leader, case_id, template="child_card", fmt="md", lang="zh_CN")
    page = card.data.decode()
    assert "| 班主任 | 陈老师 | 13698765432 |" in page
    (masked,) = documents.render_case(
        world.ctx, world.leader, case_id, template="child_card", fmt="md", lang="zh_CN", redact=True
    )
    assert "136****5432" in masked.data.decode()


def test_a_teacher_sets_their_own_phone_and_no_one_elses(world: World) -> None:
    setup.set_staff_phone(world.ctx, world.mentor, SetStaffPhone(staff=world.mentor, phone="13512345678"))
    with pytest.raises(PermissionDenied):
        setup.set_staff_phone(world.ctx, world.mentor, SetStaffPhone(staff=world.teacher, phone="13512345678"))
    with pytest.raises(InvalidInput, match="phone"):
        SetStaffPhone(staff=world.mentor, phone="12345")
    setup.set_staff_phone(world.ctx, world.mentor, SetStaffPhone(staff=world.mentor, phone=""))
    with unscoped(world.ctx.db) as session:
        assert session.get(Staff, int(world.mentor)).phone is None  # type: ignore[union-attr]
    staff = setup.add_staff(world.ctx, world.admin, "钱老师", ["mentor"], phone="0851-12345678")
    with unscoped(world.ctx.db) as session:
        assert session.get(Staff, staff).phone == "0851-12345678"  # type: ignore[union-attr]


def test_the_feedback_text_says_what_the_month_holds(world: World) -> None:
    from casework.domain.inputs import RecordContact
    from casework.services import mentoring

    case_id = world.case()
    world.drive(case_id, "mentored")
    (empty,) = documents.render_case(
        world.ctx, world.leader, case_id, template="parent_feedback", fmt="md", lang="zh_CN", month="2026-09"
    )
    page = empty.data.decode()
    assert "还没有与孩子谈心或家访的记录" in page and "情况良好" not in page.split("短信版")[1]
    mentoring.contact(
        world.ctx,
        world.mentor,
        RecordContact(case_id=case_id, kind="parent_feedback", summary="数学作业按时完成了。"),
    )
    (told,) = documents.render_case(
        world.ctx, world.leader, case_id, template="parent_feedback", fmt="md", lang="zh_CN", month="2026-09"
    )
    sms = told.data.decode().split("短信版")[1]
    assert "近况：数学作业按时完成了。详情请联系李帮扶" in sms and "谈心0次" in sms


def test_a_register_that_changes_boarding_moves_the_duties(world: World, tmp_path) -> None:
    from casework.services import roster

    case_id = world.case()
    child = cases.show(world.ctx, world.leader, case_id).child.id
    children.edit(world.ctx, world.leader, child, {"student_no": "S1", "boarding": "否"})
    world.drive(case_id, "mentored")
    assert "guardian_visit" in _duties(world, case_id)
    path = tmp_path / "花名册.csv"
    path.write_text("学生姓名,学籍号,是否寄宿\n王小明,S1,是\n", encoding="utf-8")
    report = roster.import_children(world.ctx, world.leader, str(path))
    assert [u.fields for u in report.updated] == [["boarding"]]
    assert "boarder_talk" in _duties(world, case_id) and "guardian_visit" not in _duties(world, case_id)
