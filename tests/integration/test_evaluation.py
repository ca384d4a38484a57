"""The yearly evaluation from recorded results (篇5): baselines, scope, class averages, names, XLSX and PDF."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from casework.domain import evaluation as table
from casework.domain.inputs import PairPartner, RecordConsent, RecordTermResult
from casework.errors import InvalidInput
from casework.persistence.tables import TermResult
from casework.services import cases, children, consent, evaluation, mentoring, pupil_records, rollover, setup
from tests.helpers import World, unscoped


def _middle_school(world: World) -> str:
    """Class 7/1班 with its class teacher 吴老师; returns the teacher's id."""
    setup.add_class(world.ctx, world.admin, 7, "1班")
    return str(setup.add_staff(world.ctx, world.admin, "吴老师", ["class_teacher"], "7/1班"))


def _pupil(world: World, name: str, born: str = "2013-05-01", class_ref: str = "7/1班") -> int:
    return children.add(world.ctx, world.leader, {"name": name, "birth_date": born}, class_ref)


SPRING = date(2027, 2, 16)  # the 2026 school year's second term has begun


def _spring(world: World) -> None:
    """Move the clock into the second term of the school year 2026 (the world starts on 2026-09-01)."""
    world.clock.advance((SPRING - world.clock.now.date()).days)


def _result(world: World, child: int, year: int, term: int, rank: int, **more: object) -> None:
    pupil_records.term_result(
        world.ctx,
        world.leader,
        RecordTermResult(child_id=child, school_year=year, term=term, total=400, rank=rank, **more),  # type: ignore[arg-type]
    )


def _mentor(world: World, child: int) -> None:
    consent.record(world.ctx, world.leader, RecordConsent(child_id=child, guardian="王大山", relation="祖父"))
    case_id = cases.open_case(world.ctx, world.counsellor, child)
    mentoring.pairing(
        world.ctx,
        world.counsellor,
        PairPartner(case_id=case_id, kind="mentor", staff=world.mentor, from_on=date(2025, 9, 1)),
    )


def _line(result: evaluation.YearEvaluation, child: int) -> evaluation.PupilLine:
    return next(p for p in result.children if p.child.id == child)


def test_the_second_year_is_scored_from_the_first_years_second_term(world: World) -> None:
    _middle_school(world)
    child = _pupil(world, "王小红")
    _result(world, child, 2024, 1, 12)
    _result(world, child, 2024, 2, 8)
    rollover.rollover(world.ctx, world.admin, top_grade=9, year=2025)  # 7/1班 becomes 8/1班
    _result(world, child, 2025, 1, 9)
    _result(world, child, 2025, 2, 3)
    first = _line(evaluation.compute(world.ctx, world.leader, 2024), child)
    assert (first.baseline, first.baseline_rank, first.grade, first.next_baseline_rank) == ("term1", 12, 7, 8)
    second = _line(evaluation.compute(world.ctx, world.leader, 2025), child)
    # 8 -> 3 is 5 ranks (not 9 -> 3): 50 + 20; excellence 30 + progress 15
    assert (second.baseline, second.baseline_rank, second.grade) == ("previous_year_term2", 8, 8)
    assert (second.ranks_risen, second.total_points, second.total_yuan) == (5, 70, 45)
    assert second.class_ == "8/1班"


def test_a_child_with_only_the_second_terms_result_is_scored(world: World) -> None:
    _middle_school(world)
    newcomer = _pupil(world, "李想")
    _result(world, newcomer, 2025, 2, 1, three_good=True)
    second_year = _pupil(world, "张恒")
    _result(world, second_year, 2024, 2, 10)
    _result(world, second_year, 2025, 2, 4)
    result = evaluation.compute(world.ctx, world.leader, 2025)
    line = _line(result, newcomer)
    assert (line.baseline, line.baseline_rank, line.total_points, line.total_yuan) == ("none", None, 30, 100)
    other = _line(result, second_year)
    assert (other.baseline_rank, other.ranks_risen, other.total_yuan) == (10, 6, 45)
    assert not result.excluded


def test_the_scope_is_from_grade_seven_until_eighteen(world: World) -> None:
    _middle_school(world)
    inside = _pupil(world, "王小红")
    aged_out = _pupil(world, "赵大", born="2007-08-31")  # 18 on the year's first day
    primary = children.add(world.ctx, world.leader, {"name": "刘小"}, world.class_ref)  # grade 4
    halfway = _pupil(world, "陈半")
    for child in (inside, aged_out, primary):
        _result(world, child, 2025, 1, 5)
        _result(world, child, 2025, 2, 5)
    _result(world, halfway, 2025, 1, 5)
    result = evaluation.compute(world.ctx, world.leader, 2025)
    assert [p.child.id for p in result.children] == [inside]
    reasons = {e.child.id: e.reason for e in result.excluded}
    assert reasons == {aged_out: table.AGED_OUT, primary: table.BELOW_GRADE, halfway: table.NO_SECOND_TERM}
    assert (result.from_grade, result.before_age) == (7, 18)


def test_a_school_sets_its_own_scope(world: World) -> None:
    from casework.services import Context
    from casework.services.settings import Settings

    primary = children.add(world.ctx, world.leader, {"name": "刘小"}, world.class_ref)
    _result(world, primary, 2025, 2, 2)
    own = Context(db=world.ctx.db, clock=world.clock, settings=Settings(params={"evaluation": {"from_grade": 3}}))
    result = evaluation.compute(own, world.leader, 2025)
    assert [p.child.id for p in result.children] == [primary] and result.from_grade == 3


def test_the_class_teacher_averages_over_the_class_children_in_the_scheme(world: World) -> None:
    teacher = _middle_school(world)
    _spring(world)
    a, b, old = _pupil(world, "王小红"), _pupil(world, "李想"), _pupil(world, "赵大", born="2006-01-01")
    for child, (r1, r2) in ((a, (12, 7)), (b, (3, 3)), (old, (20, 1))):
        _result(world, child, 2026, 1, r1)
        _result(world, child, 2026, 2, r2)
    _mentor(world, a)
    _mentor(world, b)
    result = evaluation.compute(world.ctx, world.leader, 2026)
    (line,) = result.class_teachers
    # (70 + 30) / 2, not with the aged-out child's 10 ranks risen
    assert (line.staff and line.staff.id, line.staff and line.staff.name) == (int(teacher), "吴老师")
    assert (line.class_, line.children, line.points, line.yuan) == ("7/1班", 2, 50.0, 50.0)
    (mentor,) = result.mentors
    assert (mentor.staff.name, mentor.children, mentor.points, mentor.yuan) == ("李帮扶", 2, 100, 100)
    assert result.pupils_yuan == 15 + 30 + 0 and result.total_yuan == 45 + 100 + 50
    assert _line(result, a).mentors[0].name == "李帮扶"


def test_an_average_is_paid_to_the_fen(world: World) -> None:
    _middle_school(world)
    for name, (r1, r2) in (("甲", (12, 7)), ("乙", (3, 3)), ("丙", (4, 4))):
        child = _pupil(world, name)
        _result(world, child, 2025, 1, r1)
        _result(world, child, 2025, 2, r2)
    (line,) = evaluation.compute(world.ctx, world.leader, 2025).class_teachers
    assert line.yuan == 43.33  # (70 + 30 + 30) / 3


def test_a_result_of_a_term_not_yet_begun_is_refused(world: World) -> None:
    child = world.child()
    with pytest.raises(InvalidInput, match="has not begun") as refused:
        _result(world, child, 2026, 2, 3)
    assert refused.value.field == "term"
    with unscoped(world.ctx.db) as session:
        assert session.scalars(select(TermResult)).all() == []
    _result(world, child, 2026, 1, 3)  # the autumn term began today


def test_the_workbook_names_every_payee(world: World) -> None:
    from openpyxl import load_workbook

    _middle_school(world)
    _spring(world)
    child = _pupil(world, "王小红")
    _result(world, child, 2026, 1, 12)
    _result(world, child, 2026, 2, 4)
    _mentor(world, child)
    _result(world, _pupil(world, "赵大", born="2006-01-01"), 2026, 2, 1)
    result = evaluation.compute(world.ctx, world.leader, 2026)
    book = load_workbook(io.BytesIO(evaluation.workbook(result, "zh_CN")))
    assert book.sheetnames == ["学生奖励", "帮扶教师", "班主任", "未计入考核"]
    pupils = [list(r) for r in book["学生奖励"].iter_rows(values_only=True)]
    assert pupils[1] == ["王小红", "7/1班", "第一学期期末", 12, 4, 8, 100, "优秀奖、进步奖", 45]
    assert pupils[-1][0] == "合计" and pupils[-1][-1] == 45
    assert [list(r) for r in book["帮扶教师"].iter_rows(values_only=True)][1] == ["李帮扶", 1, 100, 100]
    assert [list(r) for r in book["班主任"].iter_rows(values_only=True)][1] == ["吴老师", "7/1班", 1, 100, 100]
    assert [list(r) for r in book["未计入考核"].iter_rows(values_only=True)][1] == ["赵大", "7/1班", "已满考核年龄"]


def test_the_document_has_names_totals_and_signature_lines(world: World) -> None:
    from casework.documents.render import render

    _middle_school(world)
    _spring(world)
    child = _pupil(world, "王小红")
    _result(world, child, 2026, 1, 12)
    _result(world, child, 2026, 2, 4)
    result = evaluation.compute(world.ctx, world.leader, 2026)
    text = render("evaluation_report", evaluation.report_context(result, "zh_CN", date(2027, 7, 10)), "md", "zh_CN")
    page = text.decode()
    assert "| 1 | 王小红 | 7/1班 | 第一学期期末 第12名 | 第4名 | 8 | 100 | 优秀奖、进步奖 | 45 |" in page
    assert "| 1 | 吴老师 | 班主任 | 7/1班 | 1 | 100.00 | 100.00 |" in page
    assert "- 总计: 145.00" in page and "- 制表人: 周建国" in page and "财务室" in page


@pytest.mark.slow
def test_the_pdf_for_the_finance_office(world: World, tmp_path) -> None:
    from pypdf import PdfReader

    _middle_school(world)
    _spring(world)
    child = _pupil(world, "王小红")
    _result(world, child, 2026, 1, 12)
    _result(world, child, 2026, 2, 4)
    result = evaluation.compute(world.ctx, world.leader, 2026)
    path = tmp_path / "考核.pdf"
    evaluation.write(world.ctx, result, "pdf", str(path), "zh_CN")
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "王小红" in text and "吴老师" in text and "财务室" in text and "签名" in text
