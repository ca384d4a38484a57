"""The indicators the leadership group reports: per school, grade and class, with numerator, denominator, target."""

from __future__ import annotations

import calendar as month_calendar
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from casework import i18n, states
from casework.domain import access as policy
from casework.domain.calendar import end_of_week
from casework.domain.child import FILE_REQUIRED
from casework.domain.contact_months import month_key
from casework.domain.vocab import CLOSURE_REASONS, FAMILY_SITUATIONS, INDICATOR_LABELS, ROLES
from casework.errors import InvalidInput, PermissionDenied
from casework.formats.files import write_bytes
from casework.formats.gcpause import without_cyclic_gc
from casework.persistence import class_months, queries
from casework.persistence.tables import School
from casework.rules.review import FIVE_ONES, INDICATORS
from casework.services import access
from casework.services.context import Context
from casework.services.review import kept_stalled, review_params, school_filter, stalled_cases
from casework.text import N_, Msg


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date

    @staticmethod
    def month(text: str) -> Period:
        m = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
        if not m or not 1 <= int(m[2]) <= 12:
            raise InvalidInput("--month: '{value}' is not a month such as 2026-11", value=text)
        year, month = int(m[1]), int(m[2])
        last = month_calendar.monthrange(year, month)[1]
        return Period(f"{year}-{month:02d}", date(year, month, 1), date(year, month, last))

    def weeks(self) -> list[tuple[date, date]]:
        """The weeks (Monday to Sunday) that end in the period: each week belongs to the month of its Sunday."""
        sunday = end_of_week(self.start)
        found = []
        while sunday <= self.end:
            found.append((sunday - timedelta(days=6), sunday))
            sunday += timedelta(days=7)
        return found


@dataclass(frozen=True)
class Row:
    scope: str  # school | grade | class
    scope_label: str
    indicator: str
    numerator: int
    denominator: int
    target: float

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def as_data(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "scope_label": self.scope_label,
            "indicator": self.indicator,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": None if self.rate is None else round(self.rate, 4),
            "target": self.target,
        }


@dataclass
class Report:
    school_id: int
    school: str
    period: Period
    rows: list[Row] = field(default_factory=list)
    funnel: dict[str, int] = field(default_factory=dict)
    stalled_by_stage: dict[str, int] = field(default_factory=dict)
    stalled_by_responsible: dict[str, int] = field(default_factory=dict)
    trends: dict[str, list[tuple[str, float | None]]] = field(default_factory=dict)
    # 建档率's denominator: the children the survey identified (SurveyBase), else the children on file.
    survey: SurveyBase | None = None
    closures: dict[str, int] = field(default_factory=dict)  # cases closed in the period, by reason code
    family_situations: dict[str, int] = field(default_factory=dict)  # children on file

    def as_data(self) -> dict[str, Any]:
        return {
            "school_id": self.school_id,
            "school": self.school,
            "period": {
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "indicators": [r.as_data() for r in self.rows],
            "funnel": self.funnel,
            "stalled_by_stage": self.stalled_by_stage,
            "stalled_by_responsible": self.stalled_by_responsible,
            "trends": {k: [[m, v] for m, v in series] for k, series in self.trends.items()},
            "survey": None if self.survey is None else self.survey.as_data(),
            "closures": self.closures,
            "family_situations": self.family_situations,
        }


@dataclass(frozen=True)
class SurveyBase:
    """The survey (摸底) the file rate is measured against: when, pupils listed, children identified."""

    id: int
    held_on: date
    pupils: int
    identified: int

    def as_data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "held_on": self.held_on.isoformat(),
            "pupils": self.pupils,
            "identified": self.identified,
        }


NOT_CODED = "not_coded"  # closed before closure reasons were kept as codes
UNKNOWN = "unknown"  # a card that does not say


def _surveyed(session: Session, school_id: int, school_year: int, end: date) -> Any:
    found = queries.latest_survey(session, school_id, school_year, end)
    if found is None:
        return None
    return SurveyBase(*found), queries.surveyed_files_per_class(session, found[0], FILE_REQUIRED)


PerClass = dict[int | None, int]


def _rows(
    indicator: str, num: PerClass, den: PerClass, target: float, classes: dict[int, tuple[int, str]], school: str
) -> list[Row]:
    """Class rows, grade rows summed from them, and the school row: numerators and denominators add up."""
    out: list[Row] = []
    grades: Counter[int] = Counter()
    grade_den: Counter[int] = Counter()
    for cid, (grade, name) in sorted(classes.items(), key=lambda kv: (kv[1][0], kv[1][1])):
        n, d = num.get(cid, 0), den.get(cid, 0)
        grades[grade] += n
        grade_den[grade] += d
        out.append(Row("class", f"{grade}/{name}", indicator, n, d, target))
    for grade in sorted(grade_den):
        out.append(Row("grade", str(grade), indicator, grades[grade], grade_den[grade], target))
    out.append(Row("school", school, indicator, sum(num.values()), sum(den.values()), target))
    return out


def _term(ctx: Context, day: date) -> tuple[int, int]:
    cal = ctx.rule_set.calendar
    term = cal.term_of(day) or cal.next_term(day)
    school_year = cal.school_year(term.start)
    return school_year, 1 if term.start.month >= 8 else 2


def compute(
    ctx: Context, actor: str | None, school: str | None = None, month: str | None = None, trends: bool = False
) -> Report:
    """The school's indicators for a month: counts only, for roles holding REPORT_INDICATORS.

    Every count runs in one read transaction, one after another: one snapshot (REPEATABLE READ on
    PostgreSQL), so that numerators and denominators are of the same moment, and one worker.
    """
    today = ctx.now().date()
    period = Period.month(month) if month else Period.month(f"{today.year}-{today.month}")
    with ctx.db.snapshot() as session:
        who = access.enter(session, actor, today)
        school_id = school_filter(session, school) or _own_school(who)
        access.require(who, school_id, policy.REPORT_INDICATORS)
        # The capability is checked; every count filters on its school explicitly.
        access.system(session)
        # a province's school: hundreds of thousands of rows counted, a kept list of tens of
        # thousands of cases in memory, which every collection of the cyclic collector would rescan
        with without_cyclic_gc():
            report = school_report(session, ctx, school_id, period)
            if trends:
                report.trends = _trends(session, school_id, period, ctx)
    return report


def school_report(session: Session, ctx: Context, school_id: int, period: Period, kept: bool = True) -> Report:
    """One school's counts for the period in the caller's transaction (its snapshot; the caller
    checked who may see them). ``kept``: take the stalled list the stalled page keeps (and keep
    it); a county's report over hundreds of schools computes each instead, rather than push the
    schools' own pages' lists out of the few kept."""
    today = ctx.now().date()
    targets = review_params(ctx)["targets"]
    school_row = session.get(School, school_id)
    name = school_row.name if school_row else str(school_id)
    classes = queries.classes(session, school_id)
    year, term = _term(ctx, period.end)
    start, end = period.start, period.end
    year_start = date(ctx.rule_set.calendar.school_year(end), 9, 1)
    # The children are counted in one pass, every count of them at once.
    tasks: dict[str, Callable[[Session], Any]] = {
        # per class: the open cases, and of them those with talks, parent feedback, letters, weekly
        # calls home, the teachers' talks and a mentor: kept as they are written (counted here
        # only for the classes changed since, or never kept)
        "kept": lambda s: class_months.read(s, school_id, month_key(start)),
        "states": lambda s: queries.cases_per_state(s, school_id),
        # per class and family situation: the children on file and those with a complete file (kept)
        "children": lambda s: class_months.read_children(s, school_id),
        # the list the stalled page keeps, while nothing in the school has changed (same snapshot)
        "stalled": lambda s: (
            kept_stalled(s, ctx, today, school_id)
            if kept
            else stalled_cases(s, today, school_id, None, None, int(review_params(ctx)["escalate_after_days"]))
        ),
        "enrolled": lambda s: queries.enrolled_per_class(s, school_id, year, term),
        # in the first term the year's base is the term's enrolment, counted just above
        "retained": lambda s: queries.retained_per_class(
            s, school_id, year, term, got["enrolled"] if term == 1 else None
        ),
        "survey": lambda s: _surveyed(s, school_id, year, end),
        "closures": lambda s: queries.closures_by_reason(s, school_id, start, end),
        # the child's five ones: 每年至少回家一次: counted over the school year so far (from 1 September)
        "five_visit_home": lambda s: queries.contacted_per_class(s, school_id, "family_visit", year_start, end),
    }
    got: dict[str, Any] = {}
    for key, task in tasks.items():  # in order: a later count may take up an earlier one
        got[key] = task(session)
    per_class = class_months.columns(got.pop("kept")[0])
    got["open"], got["mentored"] = per_class["open"], per_class["mentored"]
    got["talk"], got["feedback"] = per_class["talk"], per_class["parent_feedback"]
    got["five_letter"], got["five_call_home"] = per_class["letter"], per_class["call_home_weekly"]
    got["five_class_teacher"] = per_class["talk_class_teacher"]
    got["five_subject_teacher"] = per_class["talk_subject_teacher"]
    got["aided"] = per_class["aided"]
    got["children"], got["complete"], got["families"] = _children(got.pop("children")[0])
    start_base, still = got["retained"]
    surveyed = got["survey"]
    measures: dict[str, tuple[PerClass, PerClass]] = {
        "file_rate": surveyed[1] if surveyed else (got["complete"], got["children"]),
        "enrolment_rate": (got["enrolled"], got["children"]),
        "retention_rate": (still, start_base),
        "aid_rate": (got["aided"], got["children"]),
        "talk_coverage": (got["talk"], got["open"]),
        "mentor_coverage": (got["mentored"], got["open"]),
        "feedback_coverage": (got["feedback"], got["open"]),
        **{name: (got[name], got["open"]) for name in FIVE_ONES},
    }
    report = Report(school_id, name, period)
    report.survey = surveyed[0] if surveyed else None
    report.closures = {code or NOT_CODED: n for code, n in sorted(got["closures"].items(), key=lambda kv: kv[0] or "")}
    report.family_situations = {k or UNKNOWN: n for k, n in sorted(got["families"].items(), key=lambda kv: kv[0] or "")}
    for indicator in INDICATORS:
        num, den = measures[indicator]
        report.rows += _rows(indicator, num, den, float(targets.get(indicator, 1.0)), classes, name)
    report.funnel = {s: got["states"].get(s, 0) for s in states.STATES}
    stalled = got["stalled"]
    report.stalled_by_stage = dict(Counter(c.state for c in stalled))
    # cases, not reasons: a person with three overdue duties on one case counts that case once
    report.stalled_by_responsible = dict(
        Counter(who for c in stalled for who in {r.responsible_name or r.role or "—" for r in c.reasons})
    )
    return report


def _children(kept: class_months.Children) -> tuple[PerClass, PerClass, dict[str | None, int]]:
    """Children on file and complete files per class, and the children per family situation."""
    on_file: Counter[int | None] = Counter()
    complete: Counter[int | None] = Counter()
    situations: Counter[str | None] = Counter()
    for (key, situation), (n, done) in kept.items():
        if n:
            on_file[class_months.class_of(key)] += n
            situations[situation or None] += n
        if done:
            complete[class_months.class_of(key)] += done
    return dict(on_file), dict(complete), dict(situations)


def _own_school(who: access.Principal) -> int:
    """The school whose indicators the actor reads when they name none: the one where they hold
    REPORT_INDICATORS (else their only school, where ``require`` refuses them). Other schools in
    the database are none of their business, not even how many there are."""
    reporting = sorted(s for s, roles in who.roles.items() if policy.may(roles, policy.REPORT_INDICATORS))
    if len(reporting) == 1:
        return reporting[0]
    if not reporting and len(who.roles) == 1:
        return next(iter(who.roles))
    if not who.roles:
        raise PermissionDenied("{name} (staff {id}) has no role at any school", name=who.name, id=who.staff_id)
    raise InvalidInput("{name} works at several schools; name one with --school", name=who.name)


def _trends(
    session: Session, school_id: int, period: Period, ctx: Context
) -> dict[str, list[tuple[str, float | None]]]:
    """Monthly coverage from the start of the school year to the period: per month, the classes'
    kept counts (counted where not kept)."""
    year = ctx.rule_set.calendar.school_year(period.end)
    months = []
    y, m = year, 9
    while (y, m) <= (period.end.year, period.end.month):
        months.append(Period.month(f"{y}-{m}"))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    series: dict[str, list[tuple[str, float | None]]] = {"talk_coverage": [], "feedback_coverage": []}
    for month in months:
        kept = class_months.columns(class_months.read(session, school_id, month_key(month.start))[0])
        den = sum(kept["open"].values())
        for key, kind in (("talk_coverage", "talk"), ("feedback_coverage", "parent_feedback")):
            num = sum(kept[kind].values())
            series[key].append((month.label, num / den if den else None))
    return series


def scope_text(row: Row, lang: str) -> str:
    """How a row's scope reads: the school's name, "4年级", or the class "4/1班"."""
    if row.scope == "grade":
        return i18n.render(Msg("grade {n}", {"n": row.scope_label}), lang)
    return row.scope_label


def responsible_label(who: str, lang: str) -> str:
    """A person's name, or the label of a role when the duty names no one (任课教师, 组长…)."""
    return i18n.render(ROLES[who], lang) if who in ROLES else who


def indicator_label(code: str, lang: str) -> str:
    return i18n.render(INDICATOR_LABELS.get(code, code), lang)


def _report_context(report: Report, lang: str, today: date) -> Any:
    from casework.documents.contexts import Chart, IndicatorReportContext, IndicatorRow
    from casework.formats import charts

    def t(msgid: str) -> str:
        return i18n.render(msgid, lang)

    trend_series = {indicator_label(k, lang): v for k, v in report.trends.items()}
    drawn = [
        Chart(
            t("stage funnel"),
            charts.funnel_chart(t("stage funnel"), [(t(states.STATE_LABELS[s]), n) for s, n in report.funnel.items()]),
        ),
    ]
    if trend_series:
        drawn.insert(0, Chart(t("monthly coverage"), charts.trend_chart(t("monthly coverage"), trend_series)))
    return IndicatorReportContext(
        school_name=report.school,
        period=report.period.label,
        generated_on=today,
        rows=[
            IndicatorRow(
                t("whole school") if r.scope == "school" else scope_text(r, lang),
                indicator_label(r.indicator, lang),
                r.numerator,
                r.denominator,
                r.rate,
                r.target,
            )
            for r in report.rows
        ],
        charts=drawn,
        stalled_by_stage=[
            (t(states.STATE_LABELS[s]), report.stalled_by_stage[s])
            for s in states.STATES
            if s in report.stalled_by_stage
        ],
        stalled_by_responsible=[
            (responsible_label(who, lang), n)
            for who, n in sorted(report.stalled_by_responsible.items(), key=lambda kv: -kv[1])
        ],
        survey=survey_text(report, lang),
        closures=[(closure_label(code, lang), n) for code, n in report.closures.items()],
        family_situations=[(family_label(code, lang), n) for code, n in report.family_situations.items()],
    )


def survey_text(report: Report, lang: str) -> str:
    """What the file rate is measured against, in words."""
    if report.survey is None:
        return i18n.render(Msg("no survey recorded this school year: the file rate counts the children on file"), lang)
    return i18n.render(
        Msg(
            "file rate against the survey of {day}: {identified} left-behind children among {pupils} pupils",
            {
                "day": report.survey.held_on.isoformat(),
                "identified": report.survey.identified,
                "pupils": report.survey.pupils,
            },
        ),
        lang,
    )


def closure_label(code: str, lang: str) -> str:
    if code == NOT_CODED:
        return i18n.render(N_("reason not coded"), lang)
    return i18n.render(CLOSURE_REASONS.get(code, code), lang)


def family_label(code: str, lang: str) -> str:
    if code == UNKNOWN:
        return i18n.render(N_("not on the card"), lang)
    return i18n.render(FAMILY_SITUATIONS.get(code, code), lang)


def write(ctx: Context, report: Report, fmt: str, path: str, lang: str) -> None:
    """The report as an HTML page with charts (through the documents machinery) or an XLSX workbook."""
    write_bytes(path, render_bytes(ctx, report, fmt, lang))


def render_bytes(ctx: Context, report: Report, fmt: str, lang: str) -> bytes:
    """``write``'s content, for a download."""
    if fmt == "html":
        from casework.documents.render import render

        return render("indicator_report", _report_context(report, lang, ctx.now().date()), "html", lang)
    if fmt == "xlsx":
        return _xlsx(report, lang)
    raise InvalidInput("--format: '{fmt}' is not one of html, xlsx", fmt=fmt)


def _xlsx(report: Report, lang: str) -> bytes:
    import io

    from openpyxl import Workbook

    def t(msgid: str) -> str:
        return i18n.render(msgid, lang)

    book = Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet(t("indicators")[:31])
    sheet.append([t("scope"), t("indicator"), t("numerator"), t("denominator"), t("rate"), t("target")])
    for r in report.rows:
        sheet.append(
            [
                r.scope_label,
                indicator_label(r.indicator, lang),
                r.numerator,
                r.denominator,
                None if r.rate is None else round(r.rate, 4),
                r.target,
            ]
        )
    stalled = book.create_sheet(t("stalled cases")[:31])
    stalled.append([t("stage"), t("cases")])
    for state, n in sorted(report.stalled_by_stage.items()):
        stalled.append([t(states.STATE_LABELS[state]), n])
    stalled.append([])
    stalled.append([t("responsible"), t("cases")])
    for who, n in sorted(report.stalled_by_responsible.items(), key=lambda kv: -kv[1]):
        stalled.append([responsible_label(who, lang), n])
    closed = book.create_sheet(t("closures")[:31])
    closed.append([t("reason"), t("cases")])
    for code, n in report.closures.items():
        closed.append([closure_label(code, lang), n])
    families = book.create_sheet(t("family situations")[:31])
    families.append([t("family situation"), t("children")])
    for code, n in report.family_situations.items():
        families.append([family_label(code, lang), n])
    families.append([])
    families.append([survey_text(report, lang)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- the five ones per child ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChildFiveOnes:
    """One child's five ones in a month: the weeks with a call home, and each of the other four."""

    case_id: int
    child_id: int
    child: str | None  # only for roles that read contact data
    class_name: str | None
    call_weeks: int
    weeks: int
    letter: bool
    class_teacher: bool
    subject_teacher: bool
    visit_home: bool  # in the school year so far

    def as_data(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "child": {"id": self.child_id, "name": self.child},
            "class": self.class_name,
            "call_home_weeks": [self.call_weeks, self.weeks],
            "letter": self.letter,
            "class_teacher": self.class_teacher,
            "subject_teacher": self.subject_teacher,
            "visit_home": self.visit_home,
        }


@dataclass(frozen=True)
class FiveOnesReport:
    school: str
    period: Period
    children: tuple[ChildFiveOnes, ...]

    def as_data(self) -> dict[str, Any]:
        return {
            "school": self.school,
            "period": self.period.label,
            "children": [c.as_data() for c in self.children],
        }


def five_ones(
    ctx: Context, actor: str | None, school: str | None = None, month: str | None = None, class_ref: str | None = None
) -> FiveOnesReport:
    """Each child's five ones (五个一) in a month, for the open cases at its end; the same periods as the
    indicators: every Monday-to-Sunday week ending in the month, the month, the school year so far."""
    from sqlalchemy import select as _select

    from casework.persistence.tables import Child
    from casework.services.setup import resolve_class

    today = ctx.now().date()
    period = Period.month(month) if month else Period.month(f"{today.year}-{today.month}")
    weeks = period.weeks()
    year_start = date(ctx.rule_set.calendar.school_year(period.end), 9, 1)
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        school_id = school_filter(session, school) or _own_school(who)
        access.require(who, school_id, policy.REPORT_INDICATORS)
        school_row = session.get(School, school_id)
        class_id = resolve_class(session, school_id, class_ref).id if class_ref else None
        labels = {cid: f"{grade}/{name}" for cid, (grade, name) in queries.classes(session, school_id).items()}
        open_now = queries.open_cases(session, school_id, period.end, class_id)
        calls = queries.contact_days(
            session, school_id, "call_home", weeks[0][0] if weeks else period.start, period.end
        )
        letters = queries.contact_days(session, school_id, "letter", period.start, period.end)
        visits = queries.contact_days(session, school_id, "family_visit", year_start, period.end)
        by_teacher = queries.talked_by_role(session, school_id, period.start, "class_teacher")
        by_subject = queries.talked_by_role(session, school_id, period.start, "subject_teacher")
        names: dict[int, str] = {}
        reads = access.Reads(who)
        if who.may_read(school_id, policy.T1):
            child_ids = [child for _, child, _ in open_now]
            names = dict(session.execute(_select(Child.id, Child.name).where(Child.id.in_(child_ids))).all())
            reads.add(school_id, list(names), policy.T1)
        rows = tuple(
            ChildFiveOnes(
                case_id=case_id,
                child_id=child,
                child=names.get(child),
                class_name=labels.get(cls) if cls is not None else None,
                call_weeks=sum(1 for mon, sun in weeks if any(mon <= d <= sun for d in calls.get(case_id, ()))),
                weeks=len(weeks),
                letter=case_id in letters,
                class_teacher=case_id in by_teacher,
                subject_teacher=case_id in by_subject,
                visit_home=case_id in visits,
            )
            for case_id, child, cls in open_now
        )
        report = FiveOnesReport(school_row.name if school_row else str(school_id), period, rows)
    access.log_reads(ctx, reads, "report.five_ones")
    return report
