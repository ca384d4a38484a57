"""Every indicator against a hand-counted numerator and denominator, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from casework.domain.inputs import RecordAid, RecordContact, RecordEnrolment
from casework.services import cases, indicators, mentoring, pupil_records, review, setup


def rows(report, indicator: str) -> dict[str, tuple[int, int]]:
    return {r.scope_label: (r.numerator, r.denominator) for r in report.rows if r.indicator == indicator}


def test_indicators_hand_counted(world, tmp_path) -> None:
    setup.add_class(world.ctx, world.admin, 5, "1班")
    a = world.child(name="甲")
    b = world.child(complete=False, name="乙")
    c = world.child(name="丙")
    from casework.services import children

    children.edit(world.ctx, world.admin, c, {}, class_ref="5/1班")
    d = world.child(name="丁")
    case = {k: cases.open_case(world.ctx, world.counsellor, v) for k, v in {"a": a, "b": b, "c": c, "d": d}.items()}
    world.fire(case["d"], "close", "转学")  # closed in September: not open at the end of October

    for child, status in ((a, "enrolled"), (b, "辍学"), (c, "在读"), (d, "enrolled")):
        pupil_records.enrolment(
            world.ctx,
            world.admin,
            RecordEnrolment(child_id=child, school_year=2026, term=1, status=status),
        )
    world.clock.advance(20)  # 21 September
    mentoring.contact(
        world.ctx,
        world.counsellor,
        RecordContact(
            case_id=case["c"],
            kind="talk",
            occurred_on=date(2026, 9, 20),
            by=None,
            summary="九月谈心",
            follow_up=None,
        ),
    )
    world.drive(case["a"], "mentored")  # a mentor paired from 21 September
    world.clock.advance(20)  # 11 October
    mentoring.contact(
        world.ctx,
        world.teacher,
        RecordContact(
            case_id=case["a"],
            kind="talk",
            occurred_on=date(2026, 10, 8),
            by=None,
            summary="十月谈心",
            follow_up=None,
        ),
    )
    mentoring.contact(
        world.ctx,
        world.counsellor,
        RecordContact(
            case_id=case["c"],
            kind="parent_feedback",
            occurred_on=date(2026, 10, 9),
            by=None,
            summary="反馈",
            follow_up=None,
        ),
    )
    pupil_records.aid(
        world.ctx,
        world.leader,
        RecordAid(child_id=a, kind="衣物", description="冬衣一套", given_on=date(2026, 10, 10)),
    )
    pupil_records.aid(
        world.ctx,
        world.leader,
        RecordAid(child_id=a, kind="文具", description="文具", given_on=date(2026, 10, 10)),
    )

    report = indicators.compute(world.ctx, world.leader, month="2026-10")
    school = "测试小学"
    # file rate: 甲 丁 complete in 4/1班, 乙 incomplete; 丙 complete in 5/1班
    assert rows(report, "file_rate") == {"4/1班": (2, 3), "5/1班": (1, 1), "4": (2, 3), "5": (1, 1), school: (3, 4)}
    # enrolment: 甲 丁 丙 enrolled, 乙 dropped out
    assert rows(report, "enrolment_rate")[school] == (3, 4)
    assert rows(report, "retention_rate")[school] == (3, 3)
    # aid: 甲 twice counts once
    assert rows(report, "aid_rate")[school] == (1, 4)
    # open at the end of October: 甲 乙 丙 (丁 closed); talk in October: 甲 (丙's was in September)
    assert rows(report, "talk_coverage") == {"4/1班": (1, 2), "5/1班": (0, 1), "4": (1, 2), "5": (0, 1), school: (1, 3)}
    assert rows(report, "mentor_coverage")[school] == (1, 3)
    assert rows(report, "feedback_coverage")[school] == (1, 3)
    assert all(r.target == 1.0 for r in report.rows)
    assert report.funnel["closed"] == 1 and report.funnel["mentored"] == 1 and report.funnel["identified"] == 2
    # stalled on 11 October: 乙 and 丙 past identified's 14 days, 甲's monthly duties
    assert report.stalled_by_stage == {"identified": 2, "mentored": 1}

    # spring: 丙 transferred
    world.clock.advance(150)
    pupil_records.enrolment(
        world.ctx,
        world.admin,
        RecordEnrolment(child_id=a, school_year=2026, term=2, status="enrolled"),
    )
    pupil_records.enrolment(
        world.ctx,
        world.admin,
        RecordEnrolment(child_id=c, school_year=2026, term=2, status="transferred"),
    )
    pupil_records.enrolment(
        world.ctx,
        world.admin,
        RecordEnrolment(child_id=d, school_year=2026, term=2, status="enrolled"),
    )
    spring = indicators.compute(world.ctx, world.leader, month="2027-03")
    assert rows(spring, "retention_rate")[school] == (2, 3)
    assert rows(spring, "enrolment_rate")[school] == (2, 4)

    out = tmp_path / "report.xlsx"
    indicators.write(world.ctx, report, "xlsx", str(out), "zh_CN")
    from openpyxl import load_workbook

    book = load_workbook(out)
    sheet = book.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    book.close()
    assert values[0][:4] == ("范围", "指标", "分子", "分母") and len(values) == 1 + len(report.rows)


def test_a_case_follows_its_child_to_another_class(world) -> None:
    from casework.services import children

    setup.add_class(world.ctx, world.admin, 5, "1班")
    child = world.child()
    case_id = cases.open_case(world.ctx, world.counsellor, child)
    assert rows(indicators.compute(world.ctx, world.leader, month="2026-09"), "mentor_coverage")["4/1班"] == (0, 1)
    children.edit(world.ctx, world.admin, child, {}, class_ref="5/1班")
    moved = rows(indicators.compute(world.ctx, world.leader, month="2026-09"), "mentor_coverage")
    assert moved["4/1班"] == (0, 0) and moved["5/1班"] == (0, 1)
    assert case_id


def test_the_five_ones_per_child_and_class_on_calendar_periods(world) -> None:
    """October 2026's weeks are those ending on its Sundays: 28 Sep–4 Oct, 5–11, 12–18, 19–25 October."""
    subject = setup.add_staff(world.ctx, world.admin, "科任老师", ["subject_teacher"], "4/1班")
    a, b = world.case(), world.case()
    world.clock.advance(55)  # 26 October

    def record(case_id: int, kind: str, day: date, by: str | None = None) -> None:
        mentoring.contact(
            world.ctx,
            world.leader,
            RecordContact(case_id=case_id, kind=kind, occurred_on=day, by=by, summary="记录", follow_up=None),
        )

    for day in (date(2026, 9, 29), date(2026, 10, 6), date(2026, 10, 13), date(2026, 10, 20)):
        record(a, "call_home", day)  # every week of October
    for day in (date(2026, 10, 6), date(2026, 10, 13), date(2026, 10, 26)):
        record(b, "call_home", day)  # not in the first week; the 26th's week ends in November
    record(a, "letter", date(2026, 10, 15))
    record(b, "letter", date(2026, 9, 30))  # September's letter
    record(a, "talk", date(2026, 10, 2), by=world.teacher)
    record(b, "talk", date(2026, 10, 2), by=str(subject))
    record(b, "family_visit", date(2026, 9, 10))  # this school year
    # (a visit home last summer cannot be recorded on these cases: a record is never older than its case)

    report = indicators.compute(world.ctx, world.leader, month="2026-10")
    school = "测试小学"
    assert rows(report, "five_call_home")[school] == (1, 2)
    assert rows(report, "five_letter")[school] == (1, 2)
    assert rows(report, "five_class_teacher")[school] == (1, 2)
    assert rows(report, "five_subject_teacher")[school] == (1, 2)
    assert rows(report, "five_visit_home") == {"4/1班": (1, 2), "4": (1, 2), school: (1, 2)}
    assert indicators.Period.month("2026-10").weeks()[0] == (date(2026, 9, 28), date(2026, 10, 4))
    per_child = {c.case_id: c for c in indicators.five_ones(world.ctx, world.leader, month="2026-10").children}
    assert (per_child[a].call_weeks, per_child[a].weeks, per_child[b].call_weeks) == (4, 4, 2)
    assert (per_child[a].letter, per_child[a].class_teacher, per_child[a].subject_teacher) == (True, True, False)
    assert (per_child[b].letter, per_child[b].subject_teacher, per_child[b].visit_home) == (False, True, True)
    assert per_child[a].child == "王小明" and not per_child[a].visit_home
    # none of them is a reason to stall a case or a duty of the class teacher's
    stalled = {r.reason for c in report_stalled(world) for r in c.reasons}
    assert not stalled & {"call_home", "letter_home", "visit_home", "subject_teacher_contact"}


def report_stalled(world):
    from casework.services import review

    return review.stalled(world.ctx, world.leader)


def test_a_report_counts_from_one_snapshot(world) -> None:
    """A report's counts run one after another in one transaction: a write committed between two
    of them is seen by neither (REPEATABLE READ on PostgreSQL, a read transaction on SQLite)."""
    from sqlalchemy import func, select

    from casework.persistence.tables import School
    from casework.services import access

    with world.ctx.db.snapshot() as session:
        access.system(session)
        before = session.scalar(select(func.count()).select_from(School))
        with world.ctx.db.write() as other:
            access.system(other)
            other.add(School(name="快照之后的学校", created_at=world.ctx.now()))
        assert session.scalar(select(func.count()).select_from(School)) == before
    with world.ctx.db.read() as session:
        access.system(session)
        assert session.scalar(select(func.count()).select_from(School)) == before + 1


def test_the_report_counts_the_kept_stalled_list_until_the_school_changes(world) -> None:
    first, second = world.case(), world.case()
    world.clock.advance(20)  # both past identified's 14 days
    assert len(review.stalled(world.ctx, world.leader)) == 2  # the stalled page's list, kept
    month = f"{world.clock.now.year}-{world.clock.now.month}"
    assert indicators.compute(world.ctx, world.leader, month=month).stalled_by_stage == {"identified": 2}
    world.fire(first, "close", "父母返乡")  # a change in the school: the list is counted anew
    assert indicators.compute(world.ctx, world.leader, month=month).stalled_by_stage == {"identified": 1}
    assert [c.case_id for c in review.stalled(world.ctx, world.leader)] == [second]
