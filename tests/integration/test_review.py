"""The leadership review on SQLite and PostgreSQL, with a clock the tests move: stalled, sweep, meetings."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from casework.domain.inputs import PairPartner, RecordAssessment, RecordContact
from casework.errors import PermissionDenied, TransitionRefused
from casework.persistence.tables import AuditEvent, Duty, Stall
from casework.services import assessments, cases, meetings, mentoring, review, setup
from tests.helpers import unscoped


def reasons(world, case_id: int) -> dict[str, int]:
    found = {c.case_id: c for c in review.stalled(world.ctx, world.leader)}
    if case_id not in found:
        return {}
    return {r.reason: r.days_overdue for r in found[case_id].reasons}


def mentored(world) -> int:
    case_id = world.case()
    world.drive(case_id, "mentored")
    return case_id


def test_a_passed_stage_deadline_stalls_the_case(world) -> None:
    case_id = world.case()  # opened 1 September: 14 days in identified
    assert reasons(world, case_id) == {}
    world.clock.advance(14)  # 15 September: due today, not yet late
    assert reasons(world, case_id) == {}
    world.clock.advance(1)
    assert reasons(world, case_id) == {"stage_deadline:identified": 1}
    world.fire(case_id, "assess")
    assert reasons(world, case_id) == {}


def test_an_overdue_duty_stalls_the_case(world) -> None:
    case_id = mentored(world)
    world.clock.advance(31)  # the monthly talk and parent feedback were due 30 days after opening
    found = reasons(world, case_id)
    assert found["monthly_talk"] == 1 and found["parent_feedback"] == 1
    mentoring.contact(
        world.ctx,
        world.teacher,
        RecordContact(case_id=case_id, kind="talk", occurred_on=None, by=None, summary="谈心", follow_up=None),
    )
    assert "monthly_talk" not in reasons(world, case_id)


def test_a_critical_flag_not_acknowledged_stalls_at_once(world) -> None:
    case_id = world.case()
    world.fire(case_id, "assess")
    assessments.assessment(
        world.ctx,
        world.counsellor,
        RecordAssessment(case_id=case_id, categories=["suspected_illegal"], summary="疑似违法"),
    )
    assert reasons(world, case_id) == {"flag:critical": 0}
    world.clock.advance(3)
    assert reasons(world, case_id) == {"flag:critical": 3, "critical_acknowledgement": 1}
    assessments.acknowledge(world.ctx, world.leader, case_id)
    assert reasons(world, case_id) == {}


def test_the_same_move_refused_again_with_nothing_changed(world) -> None:
    case_id = world.case()
    world.fire(case_id, "assess")
    with pytest.raises(TransitionRefused):
        world.fire(case_id, "plan")
    assert reasons(world, case_id) == {}
    world.clock.advance(1)
    with pytest.raises(TransitionRefused):
        world.fire(case_id, "plan")
    assert reasons(world, case_id) == {"repeated_refusal:plan": 0}
    world.clock.advance(2)
    assert reasons(world, case_id) == {"repeated_refusal:plan": 2}
    assessments.assessment(
        world.ctx, world.counsellor, RecordAssessment(case_id=case_id, categories=["learning"], summary="评估")
    )
    world.fire(case_id, "plan")
    assert reasons(world, case_id) == {}


def test_a_different_refusal_is_not_a_repeat(world) -> None:
    case_id = world.case(complete=False)
    with pytest.raises(TransitionRefused):
        world.fire(case_id, "assess")
    child_id = cases.show(world.ctx, world.leader, case_id).child.id
    from casework.services import children

    children.edit(world.ctx, world.teacher, child_id, {"guardian_phone": "", "home_address": ""})
    with pytest.raises(TransitionRefused):
        world.fire(case_id, "assess")
    assert reasons(world, case_id) == {}


def test_most_urgent_first_and_filters(world) -> None:
    old = world.case()
    world.clock.advance(10)
    newer = world.case()
    world.clock.advance(20)
    found = review.stalled(world.ctx, world.leader)
    assert [c.case_id for c in found] == [old, newer]
    assert found[0].days_overdue == 16 and found[1].days_overdue == 6
    assert [c.case_id for c in review.stalled(world.ctx, world.leader, class_ref="4/1班")] == [old, newer]
    assert [c.case_id for c in review.stalled(world.ctx, world.leader, responsible=world.counsellor)] == [old, newer]
    assert review.stalled(world.ctx, world.leader, responsible=world.mentor) == []


def test_sweep_records_reminds_escalates_resolves_and_is_idempotent(world) -> None:
    case_id = world.case()
    world.clock.advance(16)
    first = review.sweep(world.ctx)
    assert (first.new, first.reminded, first.escalated) == (1, 1, 0)
    with unscoped(world.ctx.db) as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    again = review.sweep(world.ctx)
    assert not again.changed
    with unscoped(world.ctx.db) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
        assert session.scalar(select(func.count()).select_from(Stall)) == 1
    world.clock.advance(3)  # escalate_after_days
    assert review.sweep(world.ctx).escalated == 1
    assert not review.sweep(world.ctx).changed
    world.fire(case_id, "assess")
    assert review.sweep(world.ctx).resolved == 1
    with unscoped(world.ctx.db) as session:
        (stall,) = session.scalars(select(Stall)).all()
    assert (stall.reminded_on, stall.escalated_on, stall.resolved_on) == (
        date(2026, 9, 17),
        date(2026, 9, 20),
        date(2026, 9, 20),
    )


def test_meeting_agenda_and_every_decision(world) -> None:
    keep, revise, extend, close, reassign = (mentored(world) for _ in range(5))
    world.clock.advance(31)
    with pytest.raises(PermissionDenied):
        meetings.new_meeting(world.ctx, world.counsellor, [])
    meeting = meetings.new_meeting(world.ctx, world.leader, [world.counsellor])
    agenda = meetings.show_meeting(world.ctx, world.leader, meeting)
    assert {i["case_id"] for i in agenda["items"]} == {keep, revise, extend, close, reassign}
    assert {m["name"] for m in agenda["members"]} == {"周建国", "郑心怡"}

    # an event decision goes through the engine: the review must be recorded first
    for case_id in (keep, revise, close):
        world.fire(case_id, "review")
    with pytest.raises(TransitionRefused):
        meetings.decide(world.ctx, world.leader, meeting, keep, "continue")
    for case_id in (keep, revise, close):
        world.review_all(case_id)
    meetings.decide(world.ctx, world.leader, meeting, keep, "continue", "继续帮扶")
    meetings.decide(world.ctx, world.leader, meeting, revise, "revise", "调整计划")
    meetings.decide(world.ctx, world.leader, meeting, close, "close", "父母返乡")
    assert [cases.show(world.ctx, world.leader, c).state for c in (keep, revise, close)] == [
        "mentored",
        "individual_plan",
        "closed",
    ]

    other = setup.add_staff(world.ctx, world.admin, "王帮扶", ["mentor"])
    meetings.decide(world.ctx, world.leader, meeting, reassign, "reassign", mentor=str(other))
    load = review.mentor_load(world.ctx, world.leader)
    assert load["overloaded_mentors"] == []

    meetings.decide(
        world.ctx, world.leader, meeting, extend, "extend", "家访后再定", until=date(2026, 12, 20), duty="monthly_talk"
    )
    with unscoped(world.ctx.db) as session:
        due = session.scalars(select(Duty.due_on).where(Duty.case_id == extend, Duty.code == "monthly_talk")).one()
    assert due == date(2026, 12, 20)
    assert "monthly_talk" not in reasons(world, extend)
    shown = meetings.show_meeting(world.ctx, world.leader, meeting)
    assert {i["case_id"]: i["decision"] for i in shown["items"]} == {
        keep: "continue",
        revise: "revise",
        extend: "extend",
        close: "close",
        reassign: "reassign",
    }


def test_mentor_load_and_key_children(world) -> None:
    from casework.services import Context
    from casework.services.settings import Settings

    strict = Context(
        db=world.ctx.db, clock=world.clock, settings=Settings(params={"review": {"mentor_max_children": 1}})
    )
    first, second = mentored(world), mentored(world)
    load = review.mentor_load(strict, world.leader)
    assert load["overloaded_mentors"] == [{"id": int(world.mentor), "name": "李帮扶", "children": 2}]
    assert review.mentor_load(world.ctx, world.leader)["overloaded_mentors"] == []
    key = world.case()
    world.fire(key, "assess")
    assessments.assessment(
        world.ctx, world.counsellor, RecordAssessment(case_id=key, categories=["suspected_illegal"], summary="疑似违法")
    )
    keys = review.mentor_load(world.ctx, world.leader)["key_children_without_caring_parent"]
    assert [k["case_id"] for k in keys] == [key]
    parent = setup.add_staff(world.ctx, world.admin, "爱心家长", ["caring_parent"])
    mentoring.pairing(
        world.ctx,
        world.counsellor,
        PairPartner(case_id=key, kind="caring_parent", staff=str(parent), partner_name=None, from_on=None, to_on=None),
    )
    assert review.mentor_load(world.ctx, world.leader)["key_children_without_caring_parent"] == []
    assert first != second


def test_the_counsellor_in_charge_answers_for_a_case_someone_else_opened(world) -> None:
    case_id = cases.open_case(world.ctx, world.leader, world.child(), counsellor=world.counsellor)
    world.fire(case_id, "assess")
    for _ in range(2):  # the same refusal twice: a repeated refusal, the counsellor's to resolve
        with pytest.raises(TransitionRefused):
            world.fire(case_id, "plan")
        world.clock.advance(1)
    world.clock.advance(20)
    (found,) = [c for c in review.stalled(world.ctx, world.leader) if c.case_id == case_id]
    theirs = [r for r in found.reasons if r.role == "counsellor"]
    assert {r.reason.split(":")[0] for r in theirs} >= {"stage_deadline", "repeated_refusal"}
    assert {r.responsible_id for r in theirs} == {int(world.counsellor)}
    assert case_id in [c.case_id for c in review.stalled(world.ctx, world.leader, responsible=world.counsellor)]
    assert case_id not in [c.case_id for c in review.stalled(world.ctx, world.leader, responsible=world.leader)]
