"""The leadership review on SQLite and PostgreSQL, with a clock the tests move: stalled, sweep, meetings."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from casework.domain.inputs import PairPartner, RecordAssessment, RecordContact
from casework.errors import Conflict, PermissionDenied, TransitionRefused
from casework.persistence.tables import AuditEvent, Duty, Stall
from casework.services import assessments, cases, ladder, meetings, mentoring, review, setup
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


def listed(world, level: str, case_id: int, actor: str | None = None) -> dict[str, int]:
    """The reasons (and days past due) a case has on one of the three lists."""
    found = {c.case_id: c for c in getattr(review, level)(world.ctx, actor or world.leader)}
    return {r.reason: r.days_overdue for r in found[case_id].reasons} if case_id in found else {}


def talk(world, case_id: int) -> None:
    mentoring.contact(
        world.ctx,
        world.teacher,
        RecordContact(case_id=case_id, kind="talk", occurred_on=None, by=None, summary="谈心", follow_up=None),
    )


def test_a_monthly_duty_climbs_the_three_levels(world) -> None:
    case_id = mentored(world)  # Tuesday 1 September: a talk is due by the end of September
    world.clock.advance(26)  # 27 September: within the week the to-do list looks ahead
    assert "monthly_talk" in listed(world, "due", case_id, world.teacher)
    assert "monthly_talk" not in listed(world, "due", case_id, world.mentor)  # the class teacher's, not theirs
    world.clock.advance(6)  # 3 October: past due, within its five days' grace: still a to-do
    assert listed(world, "due", case_id, world.teacher)["monthly_talk"] == 3
    assert "monthly_talk" not in listed(world, "overdue", case_id)
    world.clock.advance(3)  # 6 October: past the grace
    assert listed(world, "overdue", case_id)["monthly_talk"] == 6
    assert "monthly_talk" not in listed(world, "due", case_id, world.teacher)
    assert "monthly_talk" not in listed(world, "stalled", case_id)
    world.clock.advance(3)  # 9 October: escalate_after_days past the grace: for the leadership group
    assert listed(world, "stalled", case_id)["monthly_talk"] == 9
    assert "monthly_talk" not in listed(world, "overdue", case_id)
    talk(world, case_id)
    assert all("monthly_talk" not in listed(world, level, case_id, world.teacher) for level in review.LEVELS)


def test_the_childs_five_ones_are_no_staff_duty(world) -> None:
    case_id = mentored(world)
    world.clock.advance(200)
    every = {r for level in review.LEVELS for r in listed(world, level, case_id)}
    assert not every & {"call_home", "letter_home", "subject_teacher_contact", "visit_home"}
    assert "family_phone" in every  # the school's part: arranging the weekly call


def test_a_critical_flag_is_the_leaders_at_once_and_stalled_when_late(world) -> None:
    case_id = world.case()
    world.fire(case_id, "assess")
    assessments.assessment(
        world.ctx,
        world.counsellor,
        RecordAssessment(case_id=case_id, categories=["suspected_illegal"], summary="疑似违法"),
    )
    assert listed(world, "due", case_id) == {"critical_acknowledgement": 0}  # the leader's to-do, today
    assert listed(world, "stalled", case_id) == {}
    world.clock.advance(3)  # ack_days (2) passed
    assert listed(world, "stalled", case_id) == {"critical_acknowledgement": 3}
    (found,) = [c for c in review.stalled(world.ctx, world.leader) if c.case_id == case_id]
    assert found.risk_level == "critical" and found.reasons[0].responsible_id == int(world.leader)
    assessments.acknowledge(world.ctx, world.leader, case_id)
    assert listed(world, "stalled", case_id) == {}


def test_a_duty_whose_role_nobody_holds_falls_to_the_counsellor_and_says_so(world) -> None:
    case_id = world.case()
    world.drive(case_id, "individual_plan")  # no mentor paired yet: who gives the parents feedback?
    world.clock.advance(31)
    (found,) = [c for c in review.due(world.ctx, world.counsellor) if c.case_id == case_id]
    (feedback,) = [r for r in found.reasons if r.reason == "parent_feedback"]
    assert (feedback.role, feedback.responsible_id, feedback.stand_in) == ("mentor", int(world.counsellor), True)
    with unscoped(world.ctx.db) as session:
        assert session.scalar(select(func.count()).select_from(Duty).where(Duty.responsible_id.is_(None))) == 0


def test_the_reviewed_stage_deadline_names_the_leader(world) -> None:
    case_id = mentored(world)
    world.fire(case_id, "review")
    with unscoped(world.ctx.db) as session:
        who = session.scalars(
            select(Duty.responsible_id).where(Duty.case_id == case_id, Duty.code == "stage_deadline:reviewed")
        ).one()
    assert who == int(world.leader)


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
        world.ctx,
        world.counsellor,
        RecordAssessment(case_id=case_id, categories=["learning"], summary="评估"),
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


def test_a_kept_list_is_computed_again_once_forgotten(world) -> None:
    world.case()
    world.clock.advance(30)
    first = review.stalled(world.ctx, world.leader)
    again = review.stalled(world.ctx, world.leader)
    assert again == first and again[0] is first[0]  # nothing changed: the kept list
    review.forget_lists()
    computed = review.stalled(world.ctx, world.leader)
    assert computed == first and computed[0] is not first[0]  # what a benchmark of the computation times


def test_sweep_reminds_on_the_due_day_escalates_a_passed_deadline_resolves_and_is_idempotent(world) -> None:
    case_id = world.case()  # identified on 1 September: due to move on by 15 September
    world.clock.advance(14)
    first = ladder.sweep(world.ctx)
    assert (first.reminded, first.overdue, first.escalated) == (1, 0, 0)
    assert first.unreachable == 1 and first.digests == 0  # no channel set: the counsellor cannot be told
    with unscoped(world.ctx.db) as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    assert not ladder.sweep(world.ctx).changed
    with unscoped(world.ctx.db) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
        assert session.scalar(select(func.count()).select_from(Stall)) == 1
    world.clock.advance(1)  # a stage deadline passed goes to the leadership group at once
    assert ladder.sweep(world.ctx).escalated == 1
    assert not ladder.sweep(world.ctx).changed
    world.fire(case_id, "assess")
    assert ladder.sweep(world.ctx).resolved == 1
    with unscoped(world.ctx.db) as session:
        (stall,) = session.scalars(select(Stall).where(Stall.reason == "stage_deadline:identified")).all()
    assert (stall.reminded_on, stall.overdue_reminded_on, stall.escalated_on, stall.resolved_on) == (
        date(2026, 9, 15),
        None,
        date(2026, 9, 16),
        date(2026, 9, 16),
    )


def test_meeting_agenda_holds_escalated_and_critical_cases_only(world) -> None:
    stalled_case = world.case()
    world.clock.advance(16)  # its stage deadline passed: stalled
    on_track = world.case()
    critical = world.case()
    world.fire(critical, "assess")
    assessments.assessment(
        world.ctx,
        world.counsellor,
        RecordAssessment(case_id=critical, categories=["suspected_illegal"], summary="疑似违法"),
    )
    meeting = meetings.new_meeting(world.ctx, world.leader, [])
    agenda = meetings.show_meeting(world.ctx, world.leader, meeting)
    assert [i.case_id for i in agenda.items] == [critical, stalled_case]  # riskiest first
    assert agenda.items[0].reasons == ("flag:critical",)
    with pytest.raises(Conflict) as same_day:
        meetings.new_meeting(world.ctx, world.leader, [])
    assert same_day.value.msg.params["id"] == meeting  # the existing meeting, named
    meetings.add_item(world.ctx, world.leader, meeting, on_track)
    with pytest.raises(Conflict):
        meetings.add_item(world.ctx, world.leader, meeting, on_track)
    assert [i.reasons for i in meetings.show_meeting(world.ctx, world.leader, meeting).items][-1] == ("added_by_hand",)
    second = meetings.new_meeting(world.ctx, world.leader, [], another=True, cases_by_hand=[on_track])
    assert second != meeting
    assert on_track in {i.case_id for i in meetings.show_meeting(world.ctx, world.leader, second).items}


def test_meeting_decisions(world) -> None:
    keep, revise, extend, close, reassign = (mentored(world) for _ in range(5))
    world.clock.advance(40)  # the monthly duties escalated
    with pytest.raises(PermissionDenied):
        meetings.new_meeting(world.ctx, world.counsellor, [])
    meeting = meetings.new_meeting(world.ctx, world.leader, [world.counsellor])
    agenda = meetings.show_meeting(world.ctx, world.leader, meeting)
    assert {i.case_id for i in agenda.items} == {keep, revise, extend, close, reassign}
    assert {m.name for m in agenda.members} == {"周建国", "郑心怡"}

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
    assert {i.case_id: i.decision for i in shown.items} == {
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
        world.ctx,
        world.counsellor,
        RecordAssessment(case_id=key, categories=["suspected_illegal"], summary="疑似违法"),
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


def test_a_duty_left_with_someone_of_no_school_still_names_them(world) -> None:
    """The list reads the school's staff at once; anyone else responsible is looked up when met."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from casework.persistence import scope
    from casework.persistence.tables import Staff

    case_id = world.case()
    world.clock.advance(15)  # the stage deadline passed: stalled, on the counsellor
    with world.ctx.db.write() as session:
        scope.bind(session, scope.Scope.system())
        gone = Staff(name="调走的老师", created_at=datetime(2026, 9, 1, tzinfo=UTC))
        session.add(gone)
        session.flush()
        session.execute(update(Duty).where(Duty.case_id == case_id).values(responsible_id=gone.id))
        gone_id = gone.id
    review.forget_lists()
    (found,) = [c for c in review.stalled(world.ctx, world.leader) if c.case_id == case_id]
    assert {(r.responsible_id, r.responsible_name) for r in found.reasons} == {(gone_id, "调走的老师")}
