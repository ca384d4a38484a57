"""The term summary for the leadership group (学期工作总结): all care counted, the indicators, cases by stage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from casework import i18n, states
from casework.domain import access as policy
from casework.domain.results import Named
from casework.domain.vocab import CARE_EVENT_KINDS, CONTACT_KINDS
from casework.errors import InvalidInput
from casework.formats.files import write_bytes
from casework.persistence import queries
from casework.persistence.tables import School
from casework.services import access, indicators, school_care
from casework.services.actors import home_school
from casework.services.context import Context
from casework.services.review import stalled_cases
from casework.text import Msg

FORMATS = ("html", "md", "docx", "pdf")
# The records a summary counts, in the order it lists them.
SUMMARY_CONTACTS = ("talk", "home_visit", "parent_feedback", "counselling", "growth_diary")


@dataclass(frozen=True)
class IndicatorLine:
    indicator: str
    numerator: int
    denominator: int
    rate: float | None
    target: float


@dataclass(frozen=True)
class TermSummary:
    """What the school did for its left-behind children in one term, counted, against what the plans ask."""

    school: Named
    school_year: int
    term: int
    start: date
    end: date
    children_on_file: int
    family_situations: Mapping[str, int]
    survey: Mapping[str, Any] | None  # the survey 建档率 counts against: held_on, pupils, identified
    cases_by_stage: Mapping[str, int]
    cases_opened: int
    closures: Mapping[str, int]
    contacts: Mapping[str, int]  # entries dated in the term, by kind
    seminars: int
    seminars_required: int
    activities: Mapping[str, int]  # by kind, seminars apart
    attendances: int  # children in care at seminars and activities, counted at each
    children_reached: int  # distinct children in care who came to any
    star_rounds: int
    star_rounds_required: int
    stars: int
    groups: int
    children_in_groups: int
    open_cases: int
    with_study_helper: int
    stalled_by_stage: Mapping[str, int]
    indicators: tuple[IndicatorLine, ...]


def compute(
    ctx: Context, actor: str | None, term: tuple[int, int] | None = None, school: str | None = None
) -> TermSummary:
    """The summary of ``term`` (school year, 1 or 2; default: the current one) for the actor's school,
    for roles holding REPORT_INDICATORS. The indicators are those of the month the term ends in."""
    today = ctx.now().date()
    calendar = ctx.rule_set.calendar
    year, number = term or calendar.term_number(today)
    span = calendar.term(year, number)
    start, end = span.start, span.end
    required = school_care.params(ctx)
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        staff = access.staff_of(session, who)
        school_id = home_school(session, staff, today, school)
        access.require(who, school_id, policy.REPORT_INDICATORS)
        name = session.get(School, school_id)
        school_name = name.name if name else str(school_id)
        access.system(session)  # counts only; the capability is checked
        care = school_care.collect(session, school_id, start, end, (year, number), False, False)
        opened = queries.cases_opened(session, school_id, start, end)
        contacts = queries.contacts_by_kind(session, school_id, start, end)
        states_now = queries.cases_per_state(session, school_id)
        open_at_end = sum(queries.open_cases_per_class(session, school_id, end).values())
        helped = sum(queries.paired_per_class(session, school_id, end, "study_helper").values())
        stalled = Counter(c.state for c in stalled_cases(session, today, school_id, None, None))
        closed = queries.closures_by_reason(session, school_id, start, end)
    report = indicators.compute(ctx, actor, str(school_id), f"{end.year}-{end.month}")
    kinds = Counter(e.kind for e in care.events)
    reached = {c.id for e in care.events for c in e.children}
    return TermSummary(
        school=Named(school_id, school_name),
        school_year=year,
        term=number,
        start=start,
        end=end,
        children_on_file=sum(report.family_situations.values()),
        family_situations=report.family_situations,
        survey=None if report.survey is None else report.survey.as_data(),
        cases_by_stage={s: states_now.get(s, 0) for s in states.STATES},
        cases_opened=opened,
        closures={code or indicators.NOT_CODED: n for code, n in sorted(closed.items(), key=lambda kv: kv[0] or "")},
        contacts={k: contacts.get(k, 0) for k in SUMMARY_CONTACTS},
        seminars=kinds.get("seminar", 0),
        seminars_required=required["seminars_per_term"],
        activities={k: n for k, n in sorted(kinds.items()) if k != "seminar"},
        attendances=sum(len(e.children) for e in care.events),
        children_reached=len(reached),
        star_rounds=len({s.round for s in care.stars}),
        star_rounds_required=required["star_rounds_per_term"],
        stars=len(care.stars),
        groups=len(care.groups),
        children_in_groups=sum(len(g.children) for g in care.groups),
        open_cases=open_at_end,
        with_study_helper=helped,
        stalled_by_stage=dict(sorted(stalled.items())),
        indicators=tuple(
            IndicatorLine(r.indicator, r.numerator, r.denominator, r.rate, r.target)
            for r in report.rows
            if r.scope == "school"
        ),
    )


# ---------------------------------------------------------------------------- the document


def term_label(summary: TermSummary, lang: str) -> str:
    return i18n.render(
        Msg(
            "school year {start}–{end}, term {term}",
            {"start": summary.school_year, "end": summary.school_year + 1, "term": summary.term},
        ),
        lang,
    )


def _of(done: int, required: int, lang: str) -> str:
    return i18n.render(Msg("{done} (the plans ask {required})", {"done": done, "required": required}), lang)


def report_context(summary: TermSummary, lang: str, today: date) -> Any:
    from casework.documents import contexts as c

    def t(msgid: str) -> str:
        return i18n.render(msgid, lang)

    files = [(indicators.family_label(code, lang), str(n)) for code, n in summary.family_situations.items()]
    files.insert(0, (t("children on file"), str(summary.children_on_file)))
    if summary.survey is not None:
        files.append((t("identified by the survey"), f"{summary.survey['identified']} / {summary.survey['pupils']}"))
    cases = [(t(states.STATE_LABELS[s]), str(n)) for s, n in summary.cases_by_stage.items()]
    cases.insert(0, (t("cases opened this term"), str(summary.cases_opened)))
    cases += [
        (i18n.render(Msg("closed: {reason}", {"reason": indicators.closure_label(code, lang)}), lang), str(n))
        for code, n in summary.closures.items()
    ]
    cases += [
        (i18n.render(Msg("stalled now: {stage}", {"stage": states.state_label(s)}), lang), str(n))
        for s, n in summary.stalled_by_stage.items()
    ]
    care = [
        (t("seminars of mentors, children and guardians"), _of(summary.seminars, summary.seminars_required, lang)),
        *((t(CARE_EVENT_KINDS[k]), str(n)) for k, n in summary.activities.items()),
        (t("children in care who came (attendances)"), str(summary.attendances)),
        (t("children in care reached"), str(summary.children_reached)),
        (t("selections of stars"), _of(summary.star_rounds, summary.star_rounds_required, lang)),
        (t("stars of left-behind children"), str(summary.stars)),
        (t("3+2+1+1 groups"), str(summary.groups)),
        (t("left-behind children in groups"), str(summary.children_in_groups)),
        (t("open cases with a study helper"), f"{summary.with_study_helper} / {summary.open_cases}"),
    ]
    records = [(t(CONTACT_KINDS[k]), str(n)) for k, n in summary.contacts.items()]
    return c.TermSummaryContext(
        school_name=summary.school.name or "",
        term=term_label(summary, lang),
        start=summary.start,
        end=summary.end,
        generated_on=today,
        sections=[
            c.SummarySection(t("files"), files),
            c.SummarySection(t("cases"), cases),
            c.SummarySection(t("school-wide care"), care),
            c.SummarySection(t("records of the term"), records),
        ],
        indicators=[
            c.IndicatorRow(
                t("whole school"),
                indicators.indicator_label(i.indicator, lang),
                i.numerator,
                i.denominator,
                i.rate,
                i.target,
            )
            for i in summary.indicators
        ],
        signatures=[c.Signatory(t("leader of the leadership group"), None), c.Signatory(t("prepared by"), None)],
    )


def write(ctx: Context, summary: TermSummary, fmt: str, path: str, lang: str) -> None:
    """The summary as a document (template ``term_summary``), for the leadership group's file."""
    if fmt not in FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of {known}", fmt=fmt, known=", ".join(FORMATS))
    from casework.documents.render import render

    write_bytes(path, render("term_summary", report_context(summary, lang, ctx.now().date()), fmt, lang))
