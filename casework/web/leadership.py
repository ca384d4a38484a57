"""The leadership group's pages: stalled cases, meetings, indicators, the yearly evaluation, mentor load."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup, escape
from starlette.responses import Response

from casework import i18n, states
from casework.domain.validation import parse_date
from casework.errors import CaseworkError, InvalidInput, NotFound, PermissionDenied, TransitionRefused
from casework.formats.gcpause import without_cyclic_gc
from casework.text import N_, Msg
from casework.web.core import Req

PAGE_ROWS = 50  # rows of the stalled list on one page: what a leader reads, most urgent first
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": XLSX,
}
DECISIONS_SHOWN = ("continue", "extend", "reassign", "reassess", "revise", "close")


def _number(text: str | None, low: int, high: int) -> int | None:
    if text and text.isdigit() and len(text) < 10 and low <= int(text) <= high:
        return int(text)
    return None


# -- stalled cases ------------------------------------------------------------------------------------


# The class filter's options by the classes themselves: a county-sized school has thousands of
# classes, and writing them out costs more than the rest of the page; they change once a year.
_CLASS_OPTIONS: OrderedDict[tuple[tuple[int, str], ...], str] = OrderedDict()
_CLASS_OPTIONS_LOCK = threading.Lock()


def class_options(classes: tuple[tuple[int, str], ...], picked: int | None) -> Markup:
    """The ``<option>`` elements of ``classes`` (id, name), ``picked`` selected."""
    with _CLASS_OPTIONS_LOCK:
        html = _CLASS_OPTIONS.get(classes)
    if html is None:
        html = "".join(f'<option value="{i}">{escape(ref)}</option>' for i, ref in classes)
        with _CLASS_OPTIONS_LOCK:
            _CLASS_OPTIONS[classes] = html
            while len(_CLASS_OPTIONS) > 8:
                _CLASS_OPTIONS.popitem(last=False)
    if picked is not None:
        html = html.replace(f'<option value="{picked}">', f'<option value="{picked}" selected>', 1)
    return Markup(html)


def stalled(req: Req) -> Response:
    from casework.services import leadership

    found = leadership.stalled_page(
        req.ctx,
        req.actor,
        class_id=_number(req.query.get("class"), 1, 10**9),
        responsible_id=_number(req.query.get("responsible"), 1, 10**9),
        reason=req.query.get("reason", ""),
        stage=req.query.get("stage", ""),
        page=_number(req.query.get("page"), 1, 10**6) or 1,
        per_page=PAGE_ROWS,
    )
    query = {
        k: v
        for k, v in {
            "reason": found.reason,
            "stage": found.stage,
            "responsible": str(found.responsible_id or ""),
            "class": str(found.class_id or ""),
        }.items()
        if v
    }
    return req.page("stalled.html", found=found, query=query, classes=class_options(found.classes, found.class_id))


# -- mentor load ----------------------------------------------------------------------------------------


def mentor_load(req: Req) -> Response:
    from casework.services import review

    return req.page("mentor_load.html", load=review.mentor_load(req.ctx, req.actor))


# -- meetings ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    case_id: int
    reasons: tuple[str, ...]
    picked: bool


def _meeting_form(req: Req, status: int = 200, error: str | None = None, typed: Any = None) -> Response:
    from casework.services import leadership

    school = leadership.choices(req.ctx, req.actor)
    proposed = leadership.proposed(req.ctx, req.actor)
    picked_ids = set(typed.get("case", [])) if typed is not None else {str(c) for c in proposed}
    summaries = _case_names(req, list(proposed))
    return req.page(
        "meetings.html",
        status=status,
        meetings=leadership.meetings(req.ctx, req.actor),
        school=school,
        proposed=[Proposal(c, tuple(r), str(c) in picked_ids) for c, r in proposed.items()],
        names=summaries,
        typed=typed or {},
        today=req.ctx.now().date().isoformat(),
        error=error,
    )


def _case_names(req: Req, case_ids: list[int]) -> dict[int, str]:
    """The children's names of cases, as the actor may read them (a case not in reach shows its number)."""
    from casework.services import cases

    found: dict[int, str] = {}
    for case_id in case_ids[:200]:
        try:
            summary = cases.show(req.ctx, req.actor, case_id)
        except (NotFound, PermissionDenied):
            continue
        if summary.child.name:
            found[case_id] = summary.child.name
    return found


def meetings(req: Req) -> Response:
    return _meeting_form(req)


def _case_numbers(text: str) -> list[int]:
    found = []
    for part in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(","):
        if not part.strip():
            continue
        if not part.strip().isdigit() or len(part.strip()) > 12:
            raise InvalidInput("'{value}' is not a case number", value=part.strip(), field="by_hand")
        found.append(int(part.strip()))
    return found


def meeting_new(req: Req) -> Response:
    from casework.services import meetings as service

    try:
        day = parse_date(req.field("date"), Msg(N_("date"))) if req.field("date").strip() else None
        picked = [int(c) for c in req.form.get("case", []) if c.isdigit() and len(c) < 13]
        by_hand = _case_numbers(req.field("by_hand"))
        members = [m for m in req.form.get("member", []) if m.isdigit() and len(m) < 13]
        title = req.field("title").strip() or None
        meeting_id = service.new_meeting(
            req.ctx,
            req.actor,
            members,
            day,
            title,
            None,
            by_hand,
            another=req.field("another") == "1",
            picked=picked,
        )
    except (InvalidInput, NotFound) as exc:
        return _meeting_form(req, 400, req.t(exc.msg), req.form)
    except CaseworkError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        return _meeting_form(req, 409, req.t(exc.msg), req.form)
    return req.redirect(f"/meetings/{meeting_id}", done="opened")


def _meeting_page(req: Req, meeting_id: int, status: int = 200, **state: Any) -> Response:
    from casework.services import leadership
    from casework.services import meetings as service

    view = service.show_meeting(req.ctx, req.actor, meeting_id)
    context: dict[str, Any] = {"refused": {}, "typed": {}, "done": None}
    context.update(state)
    if context["done"] is None and req.query.get("done") in DONE:
        context["done"] = req.t(DONE[req.query["done"]])
    school = leadership.choices(req.ctx, req.actor)
    mentors = [s for s in school.staff if "mentor" in s.roles or "caring_parent" in s.roles] or list(school.staff)
    return req.page(
        "meeting.html",
        status=status,
        meeting=view,
        decisions=DECISIONS_SHOWN,
        mentors=mentors,
        **context,
    )


DONE = {"opened": N_("the meeting was opened"), "decided": N_("the decision was recorded")}


def _own_meeting(req: Req) -> int:
    """The meeting of the path, if it is of a school where the person sits in the leadership group; another
    school's meeting is the same 404 as no meeting."""
    from casework.services import meetings as service

    meeting_id = req.id_param("meeting_id")
    try:
        service.show_meeting(req.ctx, req.actor, meeting_id)
    except PermissionDenied:
        raise NotFound("no such page") from None
    return meeting_id


def meeting(req: Req) -> Response:
    return _meeting_page(req, _own_meeting(req))


def meeting_decide(req: Req) -> Response:
    from casework.services import meetings as service

    meeting_id = _own_meeting(req)
    case_text = req.field("case")
    if not case_text.isdigit() or len(case_text) > 12:
        raise NotFound("no such page")
    case_id = int(case_text)
    decision, reason = req.field("decision"), req.field("reason").strip()
    typed = {case_id: {k: req.field(k) for k in ("decision", "reason", "mentor", "until")}}
    try:
        until = parse_date(req.field("until"), Msg(N_("new due date"))) if req.field("until").strip() else None
        if decision not in DECISIONS_SHOWN:
            raise InvalidInput("choose a decision")
        service.decide(
            req.ctx,
            req.actor,
            meeting_id,
            case_id,
            decision,
            reason or None,
            req.field("mentor") or None,
            until,
        )
    except TransitionRefused as exc:
        lines = [req.t(exc.msg), *(i18n.render(v.message, req.lang) for v in exc.verdicts if not v.passed)]
        return _meeting_page(req, meeting_id, 422, refused={case_id: lines}, typed=typed)
    except (InvalidInput, NotFound) as exc:
        if isinstance(exc, NotFound) and ("meeting" in exc.msg.msgid or "agenda" in exc.msg.msgid):
            raise  # not on this meeting's agenda: the same 404 as no such page
        return _meeting_page(req, meeting_id, 400, refused={case_id: [_plain(req, exc)]}, typed=typed)
    return req.redirect(f"/meetings/{meeting_id}", done="decided")


# The CLI's option names a decision's refusal may carry, and the form's words for them.
_OPTION_WORDS = {
    "--mentor STAFF": N_("a new mentor"),
    "--until DATE": N_("a new due date"),
    "--reason TEXT": N_("a reason"),
    "--until": N_("new due date"),
    "--reason": N_("reason"),
    "--mentor": N_("new mentor"),
    "--decision": N_("decision"),
}


def _plain(req: Req, exc: CaseworkError) -> str:
    """A refusal's text with the command line's option names replaced by the form's words."""
    text = req.t(exc.msg)
    for option, words in _OPTION_WORDS.items():
        text = text.replace(option, req.t(words))
    return text


def minutes(req: Req) -> Response:
    from casework.services import meetings as service

    meeting_id = _own_meeting(req)
    fmt = req.query.get("format", "docx")
    if fmt not in ("docx", "pdf"):
        raise NotFound("no such page")
    agenda = req.query.get("agenda") == "1"
    content = service.minutes(req.ctx, req.actor, meeting_id, fmt, req.lang, agenda)
    name = req.t(N_("meeting agenda") if agenda else N_("meeting minutes"))
    return req.file(f"{name}-{meeting_id}.{fmt}", content, DOWNLOADS[fmt])


# -- indicators ---------------------------------------------------------------------------------------------


def _month(req: Req) -> str:
    text = req.query.get("month", "").strip()
    today = req.ctx.now().date()
    if not text:
        return f"{today.year}-{today.month:02d}"
    return text[:10]


@dataclass(frozen=True)
class Bar:
    label: str
    rate: float | None
    target: float
    numerator: int
    denominator: int


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _school(req: Req) -> str:
    from casework.domain import access as policy
    from casework.services import leadership

    return str(leadership.home(req.ctx, req.actor, policy.REPORT_INDICATORS))


def indicators(req: Req) -> Response:
    from casework.services import indicators as service

    month = _month(req)
    school = _school(req)
    try:
        report = service.compute(req.ctx, req.actor, school, month)
    except InvalidInput as exc:
        today = req.ctx.now().date()
        report = service.compute(req.ctx, req.actor, school, f"{today.year}-{today.month:02d}")
        return _indicator_page(req, report, 400, req.t(exc.msg).replace("--month", req.t(N_("month"))), month)
    return _indicator_page(req, report, 200, None, month)


def _indicator_page(req: Req, report: Any, status: int, error: str | None, typed: str) -> Response:
    # Tens of thousands of lines built and printed: the cyclic collector, run every few hundred
    # allocations, would rescan them all each time (a third of the page's time at 2,500 classes).
    with without_cyclic_gc():
        return _indicator_lines(req, report, status, error, typed)


def _indicator_lines(req: Req, report: Any, status: int, error: str | None, typed: str) -> Response:
    from casework.services import indicators as service

    school_rows = [r for r in report.rows if r.scope == "school"]
    bars = [
        Bar(service.indicator_label(r.indicator, req.lang), r.rate, r.target, r.numerator, r.denominator)
        for r in school_rows
    ]
    # Grade and class rows by scope and label, in one pass, each line's text made here: a school of
    # a hundred thousand children in care has thousands of classes (a pass over every row for each
    # label cost 1.9 s at 2,500; a template macro and two filters per line, a third of a second at 500).
    # Each line is printed here, its label escaped once per indicator and its figures our own
    # numbers: the template's escaping of five values a line was most of the page's own time.
    labels: dict[str, str] = {}
    by_scope: dict[str, dict[str, list[str]]] = {}
    for r in report.rows:
        if r.scope != "school":
            label = labels.get(r.indicator)
            if label is None:
                label = labels[r.indicator] = str(escape(service.indicator_label(r.indicator, req.lang)))
            # a grade's heading in words ("4年级"), a class's as it is ("4/1班")
            heading = service.scope_text(r, req.lang) if r.scope == "grade" else r.scope_label
            by_scope.setdefault(r.scope, {}).setdefault(heading, []).append(
                f'<tr><td>{label}</td><td class="num">{int(r.numerator)}</td><td class="num">'
                f'{int(r.denominator)}</td>\n    <td class="num">{_percent(r.rate)}</td><td class="num">'
                f"{r.target * 100:.0f}%</td></tr>"
            )
    funnel = [(states.STATE_LABELS[s], n) for s, n in report.funnel.items()]
    return req.page(
        "indicators.html",
        status=status,
        report=report,
        bars=bars,
        by_scope={
            scope: {label: Markup("".join(lines)) for label, lines in groups.items()}
            for scope, groups in by_scope.items()
        },
        funnel=[(req.t(label), n) for label, n in funnel],
        funnel_max=max([n for _, n in funnel] or [0]) or 1,
        responsible_label=lambda who: service.responsible_label(who, req.lang),
        survey=service.survey_text(report, req.lang),
        error=error,
        typed=typed,
    )


def indicators_xlsx(req: Req) -> Response:
    from casework.services import indicators as service

    report = service.compute(req.ctx, req.actor, _school(req), _month(req))
    content = service.render_bytes(req.ctx, report, "xlsx", req.lang)
    return req.file(f"{req.t(N_('indicators'))}-{report.period.label}.xlsx", content, XLSX)


# -- the yearly evaluation -------------------------------------------------------------------------------


def _school_year(req: Req) -> tuple[int, str | None]:
    """The school year asked for (2026: autumn 2026 to summer 2027); the current one by default."""
    today: date = req.ctx.now().date()
    default = req.ctx.rule_set.calendar.school_year(today)
    text = req.query.get("year", "").strip()
    if not text:
        return default, None
    year = _number(text, 2000, 2100)
    if year is None:
        return default, req.t(N_("'{value}' is not a school year such as 2026"), value=text[:20])
    return year, None


def evaluation(req: Req) -> Response:
    from casework.services import evaluation as service

    year, error = _school_year(req)
    result = service.compute(req.ctx, req.actor, year)
    table = service.report_context(result, req.lang, req.ctx.now().date())
    return req.page("evaluation.html", status=400 if error else 200, table=table, year=year, error=error)


def evaluation_download(req: Req) -> Response:
    from casework.services import evaluation as service

    year, error = _school_year(req)
    if error:
        raise InvalidInput("'{value}' is not a school year such as 2026", value=req.query.get("year", "")[:20])
    fmt = req.query.get("format", "xlsx")
    if fmt not in ("xlsx", "pdf"):
        raise NotFound("no such page")
    result = service.compute(req.ctx, req.actor, year)
    content = service.render_bytes(req.ctx, result, fmt, req.lang)
    return req.file(f"{req.t(N_('yearly evaluation'))}-{year}.{fmt}", content, DOWNLOADS[fmt])


# -- the education bureau's county overview ------------------------------------------------------------


def county(req: Req) -> Response:
    """Every school the person oversees, side by side: the month's indicators with each school's
    rank, open and stalled cases, the year's awards. Counts only: no child's name or id."""
    from casework.services import county as service

    typed = _month(req)
    try:
        report = service.overview(req.ctx, req.actor, typed)
        error = None
    except InvalidInput as exc:
        report = service.overview(req.ctx, req.actor, None)
        error = req.t(exc.msg).replace("--month", req.t(N_("month")))
    table = service.report_context(report, req.lang, req.ctx.now().date())
    return req.page("county.html", status=400 if error else 200, table=table, typed=typed, error=error)


def county_download(req: Req) -> Response:
    from casework.services import county as service

    fmt = req.query.get("format", "xlsx")
    if fmt not in ("xlsx", "pdf"):
        raise NotFound("no such page")
    try:
        report = service.overview(req.ctx, req.actor, _month(req))
    except InvalidInput:  # a month typed into the address by hand: said without the CLI's --month
        raise InvalidInput("'{value}' is not a month such as 2026-11", value=_month(req)) from None
    content = service.render_bytes(req.ctx, report, fmt, req.lang)
    return req.file(f"{req.t(N_('county report'))}-{report.period.label}.{fmt}", content, DOWNLOADS[fmt])
