"""The yearly evaluation (考核及奖励): who is scored against which baseline, the table by name, its XLSX and PDF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from casework import i18n
from casework.domain import access as policy
from casework.domain import evaluation as table
from casework.domain.classes import grade_in
from casework.domain.results import Named, key
from casework.errors import InvalidInput
from casework.formats.files import write_bytes
from casework.persistence.tables import Case, Child, Membership, Pairing, School, SchoolClass, Staff, TermResult
from casework.rules.evaluation import EvaluationRules
from casework.services import access
from casework.services.context import Context
from casework.services.rollover import class_moves
from casework.text import N_, Msg

BASELINE_LABELS: dict[str, str] = {
    table.BASELINE_PREVIOUS_YEAR: N_("previous year's second term"),
    table.BASELINE_TERM1: N_("first term"),
    table.BASELINE_NONE: N_("no baseline"),
}
EXCLUSION_LABELS: dict[str, str] = {
    table.BELOW_GRADE: N_("below the scheme's first grade"),
    table.AGED_OUT: N_("aged out of the scheme"),
    table.GRADE_UNKNOWN: N_("grade unknown: not in a class"),
    table.NO_SECOND_TERM: N_("no second-term result"),
}
AWARD_LABELS: dict[str, str] = {
    "first_place": N_("first place"),
    "excellence": N_("excellence award"),
    "progress": N_("progress award"),
}
FORMATS = ("xlsx", "html", "md", "docx", "pdf")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PupilLine:
    """One child scored: baseline and second-term ranks, the points the staff earn, the pupil's awards."""

    child: Named
    class_: str | None = field(metadata=key("class"))
    grade: int
    baseline: str
    baseline_rank: int | None
    rank_term2: int
    ranks_risen: int
    points: Mapping[str, int]
    total_points: int
    awards_yuan: Mapping[str, int]
    total_yuan: int
    next_baseline_rank: int
    mentors: tuple[Named, ...]


@dataclass(frozen=True)
class MentorLine:
    """A mentor's score: the sum over the children they were paired with in the year (= yuan)."""

    staff: Named
    children: int
    points: int
    yuan: int


@dataclass(frozen=True)
class ClassTeacherLine:
    """A class teacher's score: the average over the class's children in the scheme, to the fen."""

    class_id: int
    class_: str = field(metadata=key("class"))
    staff: Named | None
    children: int
    points: float
    yuan: float


@dataclass(frozen=True)
class Excluded:
    """A child with results of the year who is not scored, and why."""

    child: Named
    class_: str | None = field(metadata=key("class"))
    reason: str


@dataclass(frozen=True)
class YearEvaluation:
    """The year's table for one school, names and all: what the finance office pays from."""

    school: Named
    school_year: int
    prepared_by: Named
    rule_set: str
    from_grade: int
    before_age: int
    children: tuple[PupilLine, ...]
    mentors: tuple[MentorLine, ...]
    class_teachers: tuple[ClassTeacherLine, ...]
    excluded: tuple[Excluded, ...]
    pupils_yuan: int
    mentors_yuan: int
    class_teachers_yuan: float

    @property
    def total_yuan(self) -> float:
        return float(Decimal(self.pupils_yuan + self.mentors_yuan) + _cents(self.class_teachers_yuan))


def _cents(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class _Child:
    """What the year's results and the file say of one child."""

    id: int
    name: str
    birth_date: date | None
    class_id: int | None
    results: dict[tuple[int, int], TermResult] = field(default_factory=dict)


def compute(
    ctx: Context,
    actor: str | None,
    school_year: int,
    school: str | None = None,
    capability: str = policy.REPORT_INDICATORS,
) -> YearEvaluation:
    """The table of ``school_year`` (2026: autumn 2026 to summer 2027) for the actor's school, where they
    must hold ``capability`` (REPORT_INDICATORS; the county's totals ask COUNTY_REPORT and keep no name).

    In scope (the module's ``from_grade`` and ``before_age``, judged on the year's first day) and with a
    second-term result, a child is scored against the previous year's second-term rank when the
    previous year was in the scheme too, else against this year's first-term rank, else without a
    baseline (the second-term awards and the conduct and title points still count).
    """
    module = ctx.rule_set.module("evaluation")
    if not isinstance(module, EvaluationRules):
        raise InvalidInput("the evaluation module is not in force (rules.enabled in the settings)")
    if not 2000 <= school_year <= 2100:
        raise InvalidInput("--year: {year} is not a school year such as 2026", year=school_year)
    calendar = ctx.rule_set.calendar
    first_day = calendar.term(school_year, 1).start
    previous_first_day = calendar.term(school_year - 1, 1).start
    year_start, year_end = date(school_year, 9, 1), date(school_year + 1, 8, 31)
    scope = module.scope
    with ctx.db.read() as session:
        who, _, school_id = access.at_school(session, actor, ctx.now().date(), school, capability)
        school_name = session.scalar(select(School.name).where(School.id == school_id)) or str(school_id)
        children = _children(session, school_id, school_year)
        classes = {c.id: c for c in session.scalars(select(SchoolClass).where(SchoolClass.school_id == school_id))}
        moves = class_moves(session, school_id)

        def grade_of(row: TermResult | None, child: _Child, year: int) -> int | None:
            if row is not None and row.grade is not None:
                return row.grade
            class_id = row.class_id if row is not None and row.class_id is not None else child.class_id
            cls = classes.get(class_id) if class_id is not None else None
            return grade_in(cls.grade, moves.get(cls.id, []), year) if cls is not None else None

        def label(class_id: int | None, grade: int | None) -> str | None:
            cls = classes.get(class_id) if class_id is not None else None
            return f"{grade if grade is not None else cls.grade}/{cls.name}" if cls is not None else None

        years: list[table.ChildYear] = []
        lines: dict[int, tuple[str | None, int]] = {}  # child -> class label, grade of the year
        excluded: list[Excluded] = []
        for child in children:
            first, second = child.results.get((school_year, 1)), child.results.get((school_year, 2))
            current = second or first
            grade = grade_of(current, child, school_year)
            class_id = current.class_id if current is not None and current.class_id is not None else child.class_id
            named = Named(child.id, child.name)
            reason = scope.excludes(grade, child.birth_date, first_day)
            if reason is None and second is None:
                reason = table.NO_SECOND_TERM
            if reason is not None:
                excluded.append(Excluded(named, label(class_id, grade), reason))
                continue
            assert second is not None and grade is not None
            before = child.results.get((school_year - 1, 2))
            before_grade = grade_of(before, child, school_year - 1) if before is not None else None
            in_scheme = (
                before is not None and scope.excludes(before_grade, child.birth_date, previous_first_day) is None
            )
            rank, source = table.choose_baseline(
                before.class_rank if before is not None else None, in_scheme, first.class_rank if first else None
            )
            this_year = [r for r in (first, second) if r is not None]
            years.append(
                table.ChildYear(
                    child_id=child.id,
                    class_id=class_id,
                    rank_term2=second.class_rank,
                    baseline_rank=rank,
                    baseline=source,
                    three_good=any(r.three_good for r in this_year),
                    serious_violation=any(r.serious_violation for r in this_year),
                )
            )
            lines[child.id] = (label(class_id, grade), grade)
        mentors = _mentors(session, [y.child_id for y in years], year_start, year_end)
        years = [replace(y, mentor_ids=tuple(sorted(mentors.get(y.child_id, ())))) for y in years]
        teachers = _class_teachers(session, {y.class_id for y in years if y.class_id is not None}, year_start, year_end)
        staff_names = dict(
            session.execute(
                select(Staff.id, Staff.name).where(
                    Staff.id.in_({m for y in years for m in y.mentor_ids} | set(teachers.values()))
                )
            ).all()
        )
        reads = access.Reads(who)
        reads.add(school_id, [c.id for c in children], policy.T1)
    access.log_reads(ctx, reads, "evaluation")
    scored = module.evaluate(years)
    names = {c.id: c.name for c in children}
    by_id = {y.child_id: y for y in years}
    pupils = tuple(
        sorted(
            (
                PupilLine(
                    child=Named(s.child_id, names[s.child_id]),
                    class_=lines[s.child_id][0],
                    grade=lines[s.child_id][1],
                    baseline=s.baseline,
                    baseline_rank=s.baseline_rank,
                    rank_term2=s.rank_term2,
                    ranks_risen=s.ranks_risen,
                    points=s.points,
                    total_points=s.total_points,
                    awards_yuan=s.awards,
                    total_yuan=s.total_yuan,
                    next_baseline_rank=s.next_baseline_rank,
                    mentors=tuple(Named(m, staff_names.get(m)) for m in by_id[s.child_id].mentor_ids),
                )
                for s in scored.children
            ),
            key=lambda p: (p.grade, p.class_ or "", p.rank_term2, p.child.id),
        )
    )
    mentor_lines = tuple(
        sorted(
            (
                MentorLine(Named(m, staff_names.get(m)), scored.mentor_children[m], points, points)
                for m, points in scored.mentors.items()
            ),
            key=lambda m: (m.staff.name or "", m.staff.id),
        )
    )
    grades = {y.class_id: lines[y.child_id][1] for y in years}
    teacher_lines = tuple(
        ClassTeacherLine(
            class_id=cid,
            class_=label(cid, grades.get(cid)) or str(cid),
            staff=Named(teachers[cid], staff_names.get(teachers[cid])) if cid in teachers else None,
            children=scored.class_children[cid],
            points=float(_cents(average)),
            yuan=float(_cents(average)),
        )
        for cid, average in sorted(scored.class_teachers.items(), key=lambda kv: label(kv[0], grades.get(kv[0])) or "")
    )
    return YearEvaluation(
        school=Named(school_id, school_name),
        school_year=school_year,
        prepared_by=Named(who.staff_id, who.name),
        rule_set=ctx.rule_set.version,
        from_grade=scope.from_grade,
        before_age=scope.before_age,
        children=pupils,
        mentors=mentor_lines,
        class_teachers=teacher_lines,
        excluded=tuple(sorted(excluded, key=lambda e: (e.class_ or "", e.child.id))),
        pupils_yuan=sum(p.total_yuan for p in pupils),
        mentors_yuan=sum(m.yuan for m in mentor_lines),
        class_teachers_yuan=float(sum((_cents(t.yuan) for t in teacher_lines), Decimal(0))),
    )


def _children(session: Session, school_id: int, school_year: int) -> list[_Child]:
    """Every child of the school with a result in ``school_year``, with their results of it and the year before."""
    found: dict[int, _Child] = {}
    ids = select(TermResult.child_id).where(TermResult.school_id == school_id, TermResult.school_year == school_year)
    for child_id, name, born, class_id in session.execute(
        select(Child.id, Child.name, Child.birth_date, Child.class_id).where(Child.id.in_(ids)).order_by(Child.id)
    ):
        found[child_id] = _Child(child_id, name, born, class_id)
    for row in session.scalars(
        select(TermResult).where(
            TermResult.child_id.in_(list(found)), TermResult.school_year.in_((school_year - 1, school_year))
        )
    ):
        found[row.child_id].results[(row.school_year, row.term)] = row
    return list(found.values())


def _mentors(session: Session, child_ids: Sequence[int], start: date, end: date) -> dict[int, set[int]]:
    """The mentors paired with each child at some time in the year."""
    mentors: dict[int, set[int]] = {}
    for child_id, staff_id in session.execute(
        select(Case.child_id, Pairing.staff_id)
        .join(Case, Case.id == Pairing.case_id)
        .where(
            Pairing.kind == "mentor",
            Case.child_id.in_(list(child_ids)),
            Pairing.from_on <= end,
            or_(Pairing.to_on.is_(None), Pairing.to_on >= start),
        )
    ):
        if staff_id is not None:
            mentors.setdefault(child_id, set()).add(staff_id)
    return mentors


def _class_teachers(session: Session, class_ids: set[int], start: date, end: date) -> dict[int, int]:
    """The class teacher of each class in the year: the one who took the class last (in office at its end)."""
    found: dict[int, int] = {}
    for class_id, staff_id in session.execute(
        select(Membership.class_id, Membership.staff_id)
        .where(
            Membership.role == "class_teacher",
            Membership.class_id.in_(class_ids),
            Membership.started_on <= end,
            or_(Membership.ended_on.is_(None), Membership.ended_on >= start),
        )
        .order_by(Membership.started_on, Membership.id)
    ):
        assert class_id is not None
        found[class_id] = staff_id
    return found


# ---------------------------------------------------------------------------- out


def write(ctx: Context, result: YearEvaluation, fmt: str, path: str, lang: str) -> None:
    """The table as a workbook (one sheet per kind of payee) or a document with signature lines."""
    write_bytes(path, render_bytes(ctx, result, fmt, lang))


def render_bytes(ctx: Context, result: YearEvaluation, fmt: str, lang: str) -> bytes:
    """``write``'s content, for a download."""
    if fmt not in FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of {known}", fmt=fmt, known=", ".join(FORMATS))
    if fmt == "xlsx":
        return workbook(result, lang)
    from casework.documents.render import render

    return render("evaluation_report", report_context(result, lang, ctx.now().date()), fmt, lang)


def _t(msg: str | Msg, lang: str) -> str:
    return i18n.render(msg, lang)


def _class_text(label: str | None, lang: str) -> str:
    return label or _t(N_("not in a class"), lang)


def _awards(line: PupilLine, lang: str) -> str:
    return i18n.join((_t(AWARD_LABELS[k], lang) for k, v in line.awards_yuan.items() if v), lang) or "—"


def _amount(value: float) -> str:
    return f"{_cents(value):.2f}"


def scope_text(result: YearEvaluation, lang: str) -> str:
    return _t(
        Msg(
            "children from grade {grade} until they turn {age}",
            {"grade": result.from_grade, "age": result.before_age},
        ),
        lang,
    )


def workbook(result: YearEvaluation, lang: str) -> bytes:
    """Pupils, mentors, class teachers and the children not scored, each on its own sheet, names first."""
    from casework.formats.spreadsheets import Sheet, workbook_bytes

    def t(msg: str) -> str:
        return _t(msg, lang)

    pupils = Sheet(
        t("pupils' awards"),
        [
            t("name"),
            t("class"),
            t("baseline"),
            t("baseline rank"),
            t("second-term rank"),
            t("ranks risen"),
            t("points"),
            t("awards"),
            t("yuan"),
        ],
        [
            [
                p.child.name,
                _class_text(p.class_, lang),
                t(BASELINE_LABELS[p.baseline]),
                p.baseline_rank,
                p.rank_term2,
                p.ranks_risen,
                p.total_points,
                _awards(p, lang),
                p.total_yuan,
            ]
            for p in result.children
        ]
        + [[t("total"), None, None, None, None, None, None, None, result.pupils_yuan]],
        widths=[14, 12, 18, 10, 10, 10, 10, 24, 10],
    )
    mentors = Sheet(
        t("mentors"),
        [t("name"), t("children scored"), t("points"), t("yuan")],
        [[m.staff.name, m.children, m.points, m.yuan] for m in result.mentors]
        + [[t("total"), None, None, result.mentors_yuan]],
        widths=[14, 12, 10, 10],
    )
    teachers = Sheet(
        t("class teachers"),
        [t("name"), t("class"), t("children scored"), t("points"), t("yuan")],
        [
            [c.staff.name if c.staff else t("no class teacher recorded"), c.class_, c.children, c.points, c.yuan]
            for c in result.class_teachers
        ]
        + [[t("total"), None, None, None, result.class_teachers_yuan]],
        widths=[14, 12, 12, 10, 10],
    )
    excluded = Sheet(
        t("not scored"),
        [t("name"), t("class"), t("reason")],
        [[e.child.name, _class_text(e.class_, lang), t(EXCLUSION_LABELS[e.reason])] for e in result.excluded],
        widths=[14, 12, 30],
    )
    return workbook_bytes([pupils, mentors, teachers, excluded])


def report_context(result: YearEvaluation, lang: str, today: date) -> Any:
    from casework.documents import contexts as c

    def t(msg: str) -> str:
        return _t(msg, lang)

    staff = [
        c.EvaluationStaffRow(m.staff.name or str(m.staff.id), t("mentor"), None, m.children, str(m.points), str(m.yuan))
        for m in result.mentors
    ] + [
        c.EvaluationStaffRow(
            (ct.staff.name or str(ct.staff.id)) if ct.staff else t("no class teacher recorded"),
            t("class teacher"),
            ct.class_,
            ct.children,
            _amount(ct.points),
            _amount(ct.yuan),
        )
        for ct in result.class_teachers
    ]
    staff_yuan = Decimal(result.mentors_yuan) + _cents(result.class_teachers_yuan)
    return c.EvaluationReportContext(
        school_name=result.school.name or "",
        school_year=_t(
            Msg("school year {start}–{end}", {"start": result.school_year, "end": result.school_year + 1}), lang
        ),
        scope=scope_text(result, lang),
        generated_on=today,
        pupils=[
            c.EvaluationPupilRow(
                name=p.child.name or "",
                class_name=_class_text(p.class_, lang),
                baseline=t(BASELINE_LABELS[p.baseline]),
                baseline_rank=p.baseline_rank,
                rank_term2=p.rank_term2,
                ranks_risen=p.ranks_risen,
                points=p.total_points,
                awards=_awards(p, lang),
                yuan=p.total_yuan,
            )
            for p in result.children
        ],
        staff=staff,
        excluded=[
            (e.child.name or "", _class_text(e.class_, lang), t(EXCLUSION_LABELS[e.reason])) for e in result.excluded
        ],
        pupils_yuan=result.pupils_yuan,
        staff_yuan=f"{staff_yuan:.2f}",
        total_yuan=_amount(result.total_yuan),
        signatures=[
            c.Signatory(t("prepared by"), result.prepared_by.name),
            c.Signatory(t("leader of the leadership group"), None),
            c.Signatory(t("finance office"), None),
        ],
    )
