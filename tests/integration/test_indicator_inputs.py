"""What the indicators are fed (issue 21): closure reasons, family situations, the survey, enrolment and aid columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from casework.domain.roster import RosterRejected
from casework.errors import InvalidInput, TransitionRefused
from casework.persistence.tables import Aid, AuditEvent, CaseEvent, Enrolment, Survey, SurveyChild, SurveyClass
from casework.services import cases, children, indicators, roster
from tests.helpers import World, unscoped


def _codes(world: World) -> dict[int, str | None]:
    with unscoped(world.ctx.db) as session:
        return dict(
            session.execute(select(CaseEvent.case_id, CaseEvent.reason_code).where(CaseEvent.event == "close")).all()
        )


def test_a_close_is_counted_under_its_reason(world: World) -> None:
    returned, moved, other, graduated = (world.case() for _ in range(4))
    cases.advance(world.ctx, world.counsellor, returned, "close", "父母返乡")
    cases.advance(world.ctx, world.counsellor, moved, "close", closure="转学")  # the code's label is the reason
    cases.advance(world.ctx, world.counsellor, other, "close", "家庭搬到外省")
    cases.advance(world.ctx, world.counsellor, graduated, "close", "六年级毕业", closure="graduated")
    assert _codes(world) == {returned: "parents_returned", moved: "transferred", other: "other", graduated: "graduated"}
    history = cases.history(world.ctx, world.leader, moved)
    assert history[-1].reason == "转学"
    report = indicators.compute(world.ctx, world.leader, month="2026-09")
    assert report.closures == {"graduated": 1, "other": 1, "parents_returned": 1, "transferred": 1}
    assert indicators.compute(world.ctx, world.leader, month="2026-10").closures == {}


def test_a_close_without_a_reason_for_another_cause_is_refused(world: World) -> None:
    case_id = world.case()
    with pytest.raises(TransitionRefused) as refused:  # another reason needs its words, as any close does
        cases.advance(world.ctx, world.counsellor, case_id, "close", closure="other")
    assert [v.code for v in refused.value.verdicts] == ["reason_required"]
    with pytest.raises(InvalidInput, match="--closure"):
        cases.advance(world.ctx, world.counsellor, case_id, "assess", closure="转学")
    with pytest.raises(InvalidInput, match="--closure"):
        cases.advance(world.ctx, world.counsellor, case_id, "close", "x", closure="搬家")
    assert cases.show(world.ctx, world.leader, case_id).state == "identified"


def test_children_by_family_situation(world: World) -> None:
    for situation in ("both_away", "both_away", "one_away", "隔代监护"):
        world.child(family_situation=situation)
    children.add(world.ctx, world.leader, {"name": "无情况"}, world.class_ref)
    report = indicators.compute(world.ctx, world.leader, month="2026-09")
    assert report.family_situations == {"both_away": 2, "grandparent_care": 1, "one_away": 1, "unknown": 1}
    assert report.survey is None


SURVEY = (
    "学生姓名,学籍号,年级,班级,是否留守儿童,留守类型,监护人姓名,与儿童关系,监护人电话\n"
    "王小明,S1,4,1班,是,父母均外出,王大山,祖父,13812345678\n"
    "李想,S2,4,1班,是,,,,\n"
    "张一,S3,4,2班,否,,,,不是电话\n"
    "赵二,,4,2班,否,,,,\n"
    "陈三,S5,4,1班,否,,,,\n"
)


def test_the_survey_gives_the_file_rate_its_denominator(world: World, tmp_path: Path) -> None:
    on_file = world.child(student_no="S1")  # complete, and identified again by the survey
    back_home = world.child(student_no="S5")  # on file, but the survey no longer flags them
    path = tmp_path / "摸底.csv"
    path.write_text(SURVEY, encoding="utf-8")
    report = roster.import_survey(world.ctx, world.leader, str(path))
    survey = report.survey
    assert survey is not None and (survey.pupils, survey.identified) == (5, 2)
    assert survey.not_flagged_on_file == [back_home] and report.created == 1 and report.classes_created == ["4/2班"]
    with unscoped(world.ctx.db) as session:
        (row,) = session.scalars(select(Survey)).all()
        assert (row.school_year, row.pupils, row.identified) == (2026, 5, 2)
        linked = set(session.scalars(select(SurveyChild.child_id)))
        per_class = {c.pupils: c.identified for c in session.scalars(select(SurveyClass))}
        action = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(2)).all()
    assert on_file in linked and back_home not in linked and len(linked) == 2
    assert per_class == {3: 2, 2: 0}  # 4/1班: three pupils, two identified; 4/2班: two pupils
    assert "survey.recorded" in action
    # the new child's file lacks the guardian: 1 complete file of 2 identified, not of 3 children on file
    report = indicators.compute(world.ctx, world.leader, month="2026-09")
    (school,) = [r for r in report.rows if r.indicator == "file_rate" and r.scope == "school"]
    assert (school.numerator, school.denominator) == (1, 2)
    assert report.survey is not None and report.survey.identified == 2


def test_a_survey_needs_its_flag_and_a_register_may_not_carry_one(world: World, tmp_path: Path) -> None:
    path = tmp_path / "摸底.csv"
    path.write_text("学生姓名,学籍号,是否留守儿童\n王小明,S1,\n李想,S2,也许\n", encoding="utf-8")
    with pytest.raises(RosterRejected) as rejected:
        roster.import_survey(world.ctx, world.leader, str(path))
    assert [p.row for p in rejected.value.problems] == [2, 3]
    with pytest.raises(InvalidInput, match="import survey"):
        roster.import_children(world.ctx, world.leader, str(path))
    path.write_text("学生姓名,学籍号\n王小明,S1\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="是否留守儿童"):
        roster.import_survey(world.ctx, world.leader, str(path))
    with unscoped(world.ctx.db) as session:
        assert session.scalars(select(Survey)).all() == []


def test_enrolment_and_aid_columns_feed_the_indicators(world: World, tmp_path: Path) -> None:
    consented = world.child(student_no="S1")
    world.child(student_no="S2", consent=False)
    path = tmp_path / "花名册.csv"
    path.write_text(
        "学生姓名,学籍号,在读状态,物质帮助,受助日期\n王小明,S1,在读,衣物：冬季棉衣一件,2026-09-01\n王小明,S2,辍学,,\n",
        encoding="utf-8",
    )
    report = roster.import_children(world.ctx, world.leader, str(path), term=(2026, 1))
    assert (report.enrolments, report.aids) == (2, 1)
    with unscoped(world.ctx.db) as session:
        statuses = dict(session.execute(select(Enrolment.child_id, Enrolment.status)).all())
        (aid,) = session.scalars(select(Aid)).all()
    assert statuses[consented] == "enrolled" and sorted(statuses.values()) == ["dropped_out", "enrolled"]
    assert (aid.child_id, aid.kind, aid.description) == (consented, "clothing", "衣物：冬季棉衣一件")
    again = roster.import_children(world.ctx, world.leader, str(path), term=(2026, 1))
    with unscoped(world.ctx.db) as session:
        assert len(session.scalars(select(Enrolment)).all()) == 2  # the term's status replaced, not added
    assert again.enrolments == 2
    rows = {
        r.indicator: r for r in indicators.compute(world.ctx, world.leader, month="2026-09").rows if r.scope == "school"
    }
    assert (rows["enrolment_rate"].numerator, rows["aid_rate"].numerator) == (1, 1)


def test_aid_for_a_child_without_consent_imports_nothing(world: World, tmp_path: Path) -> None:
    world.child(student_no="S2", consent=False)
    path = tmp_path / "花名册.csv"
    path.write_text("学生姓名,学籍号,在读状态,物质帮助\n王小明,S2,在读,助学金\n", encoding="utf-8")
    with pytest.raises(RosterRejected) as rejected:
        roster.import_children(world.ctx, world.leader, str(path), term=(2026, 1))
    (problem,) = rejected.value.problems
    assert problem.column == "物质帮助" and problem.value == "助学金"
    with unscoped(world.ctx.db) as session:
        assert session.scalars(select(Enrolment)).all() == [] and session.scalars(select(Aid)).all() == []
