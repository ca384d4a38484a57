"""School-wide care (issue 21): seminars, activities, stars, 3+2+1+1 groups, study helpers, the term summary."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text

from casework.domain.inputs import ChooseStar, FormGroup, PairPartner, RecordCareEvent, RecordContact
from casework.errors import Conflict, InvalidInput, PermissionDenied
from casework.persistence.tables import CareAttendance, CareEvent, Duty
from casework.services import cases, mentoring, school_care, setup, term_summary
from tests.helpers import World, unscoped


def _seminar(world: World, *children: int, day: date | None = None) -> int:
    return school_care.record_event(
        world.ctx,
        world.leader,
        RecordCareEvent(
            kind="座谈会",
            title="期中座谈会",
            held_on=day,
            staff=[world.mentor, world.teacher],
            children=list(children),
            guardians="王大山（祖父）",
            minutes="监护人反映孩子周末上网时间长，约定每周通话一次。",
        ),
    )


def test_a_seminar_keeps_who_came_and_its_minutes_sealed(world: World) -> None:
    a, b = world.child(), world.child(student_no="S2")
    event = _seminar(world, a, b)
    with unscoped(world.ctx.db) as session:
        row = session.get(CareEvent, event)
        assert row is not None and row.kind == "seminar" and row.staff_ids == [world.mentor, world.teacher]
        assert sorted(session.scalars(select(CareAttendance.child_id))) == [a, b]
    with world.ctx.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT minutes FROM care_event WHERE id = :id"), {"id": event}).scalar()
    assert "监护人".encode() not in bytes(stored)
    seen = school_care.term_care(world.ctx, world.leader)
    (line,) = seen.events
    assert [c.name for c in line.children] == ["王小明", "王小明"] and line.minutes and line.guardians
    assert [s.name for s in line.staff] == ["李帮扶", "陈老师"]


def test_a_seminar_without_minutes_or_in_the_future_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput, match="--minutes") as refused:
        RecordCareEvent(kind="seminar", title="座谈会", staff=[world.mentor])
    assert refused.value.field == "minutes"
    with pytest.raises(InvalidInput, match="future"):
        _seminar(world, day=date(2027, 1, 1))
    with pytest.raises(InvalidInput, match="kind"):
        RecordCareEvent(kind="篮球赛", title="x")
    outsider = setup.add_staff(world.ctx, world.admin, "钱老师", ["subject_teacher"])
    with pytest.raises(PermissionDenied):  # the child is not in their record scope
        school_care.record_event(
            world.ctx, str(outsider), RecordCareEvent(kind="兴趣小组", title="绘画", children=[world.child()])
        )
    with unscoped(world.ctx.db) as session:
        assert session.scalars(select(CareEvent)).all() == []


def test_an_activity_of_a_class(world: World) -> None:
    child = world.child()
    school_care.record_event(
        world.ctx,
        world.teacher,
        RecordCareEvent(kind="生日聚会", title="九月生日会", class_ref="4/1班", children=[child]),
    )
    (line,) = school_care.term_care(world.ctx, world.teacher).events
    assert (line.kind, line.class_, line.minutes) == ("birthday_party", "4/1班", None)


def test_stars_twice_a_term_by_the_leadership(world: World) -> None:
    child = world.child()
    school_care.choose_star(world.ctx, world.leader, ChooseStar(child_id=child, round=1, reason="自理自立，帮助同学"))
    with pytest.raises(Conflict):
        school_care.choose_star(world.ctx, world.leader, ChooseStar(child_id=child, round=1, reason="again"))
    with pytest.raises(InvalidInput, match="--round"):
        school_care.choose_star(world.ctx, world.leader, ChooseStar(child_id=child, round=3, reason="x"))
    with pytest.raises(PermissionDenied):
        school_care.choose_star(world.ctx, world.teacher, ChooseStar(child_id=child, round=2, reason="x"))
    school_care.choose_star(world.ctx, world.leader, ChooseStar(child_id=child, round=2, reason="学习进步大"))
    stars = school_care.term_care(world.ctx, world.leader).stars
    assert [(s.round, s.reason) for s in stars] == [(1, "自理自立，帮助同学"), (2, "学习进步大")]


def test_a_group_is_three_pupils_two_children_a_parent_and_a_teacher(world: World) -> None:
    parent = str(setup.add_staff(world.ctx, world.admin, "刘爱心", ["caring_parent"]))
    a, b, c = world.child(), world.child(student_no="S2"), world.child(student_no="S3")
    good = FormGroup(name="阳光小组", teacher=world.teacher, parent=parent, children=[a, b], pupils=["甲", "乙", "丙"])
    with pytest.raises(InvalidInput, match="3"):
        school_care.form_group(
            world.ctx,
            world.leader,
            FormGroup(name="小", teacher=world.teacher, parent=parent, children=[a], pupils=["甲"]),
        )
    with pytest.raises(InvalidInput, match="caring parent"):
        school_care.form_group(
            world.ctx,
            world.leader,
            FormGroup(name="x", teacher=world.teacher, parent=world.mentor, children=[a, b], pupils=["甲", "乙", "丙"]),
        )
    school_care.form_group(world.ctx, world.leader, good)
    with pytest.raises(Conflict):
        school_care.form_group(
            world.ctx,
            world.leader,
            FormGroup(
                name="星星小组", teacher=world.teacher, parent=parent, children=[b, c], pupils=["丁", "戊", "己"]
            ),
        )
    (group,) = school_care.term_care(world.ctx, world.leader).groups
    assert (group.teacher.name, group.parent.name, group.pupils) == ("陈老师", "刘爱心", ("甲", "乙", "丙"))
    assert [m.id for m in group.children] == [a, b]
    # a subject teacher reads no contact data: the pupils' names are not shown
    setup.add_staff(world.ctx, world.admin, "审计员", ["auditor"])
    (hidden,) = school_care.term_care(world.ctx, "审计员").groups
    assert hidden.pupils == ("—", "—", "—") and all(m.name is None for m in hidden.children)


def test_every_child_in_care_owes_a_study_helper(world: World) -> None:
    case_id = world.case()
    world.drive(case_id, "mentored")

    def duty() -> list[date]:
        with unscoped(world.ctx.db) as session:
            return list(
                session.scalars(select(Duty.due_on).where(Duty.case_id == case_id, Duty.code == "study_helper"))
            )

    assert duty() == [date(2026, 9, 15)]
    mentoring.pairing(
        world.ctx, world.counsellor, PairPartner(case_id=case_id, kind="study_helper", partner_name="李同学")
    )
    assert duty() == []


def test_a_growth_diary_entry(world: World) -> None:
    case_id = world.case()
    world.drive(case_id, "mentored")
    mentoring.contact(
        world.ctx, world.mentor, RecordContact(case_id=case_id, kind="growth_diary", summary="今天主动发言了")
    )
    summary = term_summary.compute(world.ctx, world.leader)
    assert summary.contacts["growth_diary"] == 1


def test_the_term_summary_counts_what_the_plans_ask(world: World) -> None:
    open_case = world.case()
    world.drive(open_case, "mentored")
    closed = world.case()
    cases.advance(world.ctx, world.counsellor, closed, "close", "父母返乡")
    child = cases.show(world.ctx, world.leader, open_case).child.id
    _seminar(world, child)
    school_care.record_event(world.ctx, world.teacher, RecordCareEvent(kind="兴趣小组", title="绘画", children=[child]))
    school_care.choose_star(world.ctx, world.leader, ChooseStar(child_id=child, round=1, reason="进步"))
    summary = term_summary.compute(world.ctx, world.leader, (2026, 1))
    assert (summary.start, summary.end) == (date(2026, 9, 1), date(2027, 1, 15))
    assert (summary.seminars, summary.seminars_required) == (1, 1)
    assert summary.activities == {"interest_group": 1}
    assert (summary.attendances, summary.children_reached) == (2, 1)
    assert (summary.star_rounds, summary.star_rounds_required, summary.stars) == (1, 2, 1)
    assert summary.cases_opened == 2 and summary.closures == {"parents_returned": 1}
    assert summary.cases_by_stage["mentored"] == 1 and summary.cases_by_stage["closed"] == 1
    assert (summary.open_cases, summary.with_study_helper) == (1, 0)
    assert {i.indicator for i in summary.indicators} >= {"file_rate", "talk_coverage"}
    from casework.documents.render import render

    page = render(
        "term_summary", term_summary.report_context(summary, "zh_CN", date(2027, 1, 16)), "md", "zh_CN"
    ).decode()
    assert "| 帮扶教师、留守儿童、监护人座谈会 | 1（计划要求1） |" in page
    assert "| 留守少儿之星评选 | 1（计划要求2） |" in page and "| 结案：父母返乡 | 1 |" in page
    with pytest.raises(PermissionDenied):
        term_summary.compute(world.ctx, world.teacher)
