"""The education bureau's view (教育局): every school's indicators, stalled and open cases and awards side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import i18n
from casework.domain import access as policy
from casework.domain.inputs import field
from casework.errors import InvalidInput
from casework.formats.files import write_bytes
from casework.persistence.tables import School
from casework.rules.review import INDICATORS
from casework.services import access, evaluation, indicators, trail
from casework.services.context import Context
from casework.text import N_

FORMATS = ("html", "xlsx", "pdf", "md")


@dataclass(frozen=True)
class Measure:
    numerator: int
    denominator: int
    rank: int | None  # 1 is the highest rate among the schools with a denominator

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class SchoolLine:
    """One school's counts: never a child's name or id."""

    school_id: int
    school: str
    measures: dict[str, Measure]  # by indicator code
    open_cases: int
    stalled: int  # stalled cases (each once, whatever its reasons)
    evaluation_yuan: float | None  # the year's awards; None when the evaluation module is not in force


@dataclass(frozen=True)
class CountyReport:
    period: indicators.Period
    school_year: int
    schools: tuple[SchoolLine, ...]
    rankings: dict[str, tuple[int, ...]]  # indicator -> school ids, highest rate first

    def as_data(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "school_year": self.school_year,
            "schools": [
                {
                    "school_id": s.school_id,
                    "school": s.school,
                    "open_cases": s.open_cases,
                    "stalled": s.stalled,
                    "evaluation_yuan": s.evaluation_yuan,
                    "indicators": {
                        code: {
                            "numerator": m.numerator,
                            "denominator": m.denominator,
                            "rate": None if m.rate is None else round(m.rate, 4),
                            "rank": m.rank,
                        }
                        for code, m in s.measures.items()
                    },
                }
                for s in self.schools
            ],
            "rankings": {code: list(ids) for code, ids in self.rankings.items()},
        }


def _schools_overseen(session: Session, who: access.Principal) -> list[tuple[int, str]]:
    held = {sid for sid, roles in who.roles.items() if policy.may(roles, policy.COUNTY_REPORT)}
    if not held:
        raise who.denied(
            None,
            policy.COUNTY_REPORT,
            N_("{name} (staff {id}) does not hold the county report at any school"),
            name=who.name,
            id=who.staff_id,
        )
    rows = session.execute(select(School.id, School.name).where(School.id.in_(held)).order_by(School.name))
    return [(int(i), str(n)) for i, n in rows]


def overview(ctx: Context, actor: str | None, month: str | None = None) -> CountyReport:
    """Every school where the actor holds ``county.report``: its school-level indicators, open and
    stalled cases (one snapshot for all), and the school year's awards; schools ranked by each
    indicator. The read is logged in each school's chain (``access.read``, tier T0)."""
    today = ctx.now().date()
    period = indicators.Period.month(month) if month else indicators.Period.month(f"{today.year}-{today.month}")
    school_year = ctx.rule_set.calendar.school_year(period.end)
    with ctx.db.snapshot() as session:
        who = access.enter(session, actor, today)
        schools = _schools_overseen(session, who)
        access.system(session)  # the capability is checked per school; every count names its school
        reports = [
            (sid, name, indicators.school_report(session, ctx, sid, period, kept=False)) for sid, name in schools
        ]
    awards = {sid: _awards(ctx, actor, sid, school_year) for sid, _ in schools}
    lines = []
    for sid, name, report in reports:
        school_rows = {r.indicator: r for r in report.rows if r.scope == "school"}
        lines.append(
            SchoolLine(
                school_id=sid,
                school=name,
                measures={
                    code: Measure(school_rows[code].numerator, school_rows[code].denominator, None)
                    for code in INDICATORS
                },
                open_cases=sum(n for state, n in report.funnel.items() if state != "closed"),
                stalled=sum(report.stalled_by_stage.values()),
                evaluation_yuan=awards[sid],
            )
        )
    rankings = {code: _ranked(lines, code) for code in INDICATORS}
    ranked_lines = tuple(
        SchoolLine(
            line.school_id,
            line.school,
            {
                code: Measure(m.numerator, m.denominator, _rank_of(rankings[code], line.school_id, m))
                for code, m in line.measures.items()
            },
            line.open_cases,
            line.stalled,
            line.evaluation_yuan,
        )
        for line in lines
    )
    _log_read(ctx, who, [sid for sid, _ in schools], now_what="county.report")
    return CountyReport(period, school_year, ranked_lines, rankings)


def _awards(ctx: Context, actor: str | None, school_id: int, school_year: int) -> float | None:
    try:
        return evaluation.compute(ctx, actor, school_year, str(school_id), capability=policy.COUNTY_REPORT).total_yuan
    except InvalidInput:
        return None  # the evaluation module is not in force


def _ranked(lines: list[SchoolLine], code: str) -> tuple[int, ...]:
    """Schools with a rate, highest first (ties by name); schools without a denominator are not ranked."""
    rated = [(rate, line.school, line.school_id) for line in lines if (rate := line.measures[code].rate) is not None]
    return tuple(sid for _, _, sid in sorted(rated, key=lambda r: (-r[0], r[1])))


def _rank_of(order: tuple[int, ...], school_id: int, measure: Measure) -> int | None:
    return order.index(school_id) + 1 if measure.rate is not None else None


def _log_read(ctx: Context, who: access.Principal, school_ids: list[int], now_what: str) -> None:
    """The bureau's reads go to the access log like any other: one event per school, tier T0, no child."""
    now = ctx.now()
    with ctx.db.write() as session:
        access.system(session)
        for school_id in school_ids:
            trail.Scribe(session, school_id, now, who.staff_id).write(
                "access.read",
                data={"tier": policy.T0, "roles": sorted(who.roles_at(school_id)), "what": now_what, "child_ids": []},
            )


def oversee(ctx: Context, actor: str | None, staff: str, school: str | None = None) -> int:
    """Give a staff member of the education bureau (already on the books, e.g. added at another
    school) the ``bureau`` role at the actor's school, where the actor manages staff: the school
    then appears in their county report. Returns the staff id."""
    from casework.persistence.tables import Membership
    from casework.services.actors import home_school

    now = ctx.now()
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        school_id = home_school(session, access.staff_of(session, who), now.date(), school)
        access.require(who, school_id, policy.STAFF_MANAGE)
        with field("staff"):
            person = access.resolve_staff(session, staff)
        held = session.scalar(
            select(Membership.id).where(
                Membership.staff_id == person.id,
                Membership.school_id == school_id,
                Membership.role == "bureau",
                Membership.ended_on.is_(None),
            )
        )
        if held is None:
            session.add(Membership(staff_id=person.id, school_id=school_id, role="bureau", started_on=now.date()))
            trail.Scribe(session, school_id, now, who.staff_id).write(
                "staff.role_added", "staff", person.id, data={"role": "bureau"}
            )
        return person.id


# -- the county report through the documents machinery -------------------------------------------


def _cell(m: Measure) -> str:
    if m.rate is None:
        return f"{m.numerator}/{m.denominator} —"
    return f"{m.numerator}/{m.denominator} {m.rate:.1%}" + (f" ({m.rank})" if m.rank is not None else "")


def report_context(report: CountyReport, lang: str, today: date) -> Any:
    from casework.documents import contexts as c

    names = {s.school_id: s.school for s in report.schools}
    return c.CountyReportContext(
        period=report.period.label,
        generated_on=today,
        indicators=[indicators.indicator_label(code, lang) for code in INDICATORS],
        schools=[
            c.CountySchoolRow(
                school=s.school,
                cells=[_cell(s.measures[code]) for code in INDICATORS],
                open_cases=s.open_cases,
                stalled=s.stalled,
                evaluation="—" if s.evaluation_yuan is None else f"{s.evaluation_yuan:.2f}",
            )
            for s in report.schools
        ],
        rankings=[
            (indicators.indicator_label(code, lang), [names[sid] for sid in report.rankings[code]])
            for code in INDICATORS
        ],
    )


def workbook(report: CountyReport, lang: str) -> bytes:
    """One row per school: each indicator's numerator, denominator, rate and rank; cases and awards."""
    from casework.formats.spreadsheets import Sheet, workbook_bytes

    def t(msgid: str) -> str:
        return i18n.render(msgid, lang)

    headers = [t("school")]
    for code in INDICATORS:
        label = indicators.indicator_label(code, lang)
        headers += [f"{label} {t('numerator')}", f"{label} {t('denominator')}", f"{label} {t('rate')}", t("rank")]
    headers += [t("open cases"), t("stalled cases"), t("yearly awards (yuan)")]
    rows = []
    for s in report.schools:
        row: list[object] = [s.school]
        for code in INDICATORS:
            m = s.measures[code]
            row += [m.numerator, m.denominator, None if m.rate is None else round(m.rate, 4), m.rank]
        row += [s.open_cases, s.stalled, s.evaluation_yuan]
        rows.append(row)
    return workbook_bytes([Sheet(t("county report"), headers, rows)])


def render_bytes(ctx: Context, report: CountyReport, fmt: str, lang: str) -> bytes:
    """The county report as a file of ``fmt`` (html, xlsx, pdf, md): for the CLI and the web alike."""
    if fmt not in FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of {known}", fmt=fmt, known=", ".join(FORMATS))
    if fmt == "xlsx":
        return workbook(report, lang)
    from casework.documents.render import render

    return render("county_report", report_context(report, lang, ctx.now().date()), fmt, lang)


def write(ctx: Context, report: CountyReport, fmt: str, path: str, lang: str) -> None:
    write_bytes(path, render_bytes(ctx, report, fmt, lang))
