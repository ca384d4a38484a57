"""Commands of the review: due, overdue and stalled lists, the sweep, mentor load, meetings, indicators."""

from __future__ import annotations

from typing import Any

import click

from casework.commands.common import ID, State, Vocab, actor_option, json_option, state
from casework.commands.output import date_or_none, echo_json, table


@click.group("review")
def review_group() -> None:
    """The leadership group's review of stalled cases. 领导小组评估。"""


def _reasons(st: State, reasons: Any, todo: bool = False) -> str:
    from casework.domain.vocab import duty_label, stall_reason_label

    label = duty_label if todo else stall_reason_label
    lines = []
    for r in reasons:
        when = st.t("due {day}", day=r.since.isoformat()) if todo else st.t("{days} days", days=r.days_overdue)
        lines.append(f"{st.t(label(r.reason))} ({when})")
    return "\n".join(lines)


def _responsible(st: State, reasons: Any) -> tuple[str, str]:
    """The people responsible, each once (one standing in for a role nobody holds says so), and
    apart from them the roles responsible where nobody holds the role."""
    people, roles = set(), set()
    for r in reasons:
        if r.responsible_name:
            name = r.responsible_name
            if r.stand_in:
                name = st.t("{name} (standing in for the {role})", name=name, role=st.t(_role(r.role)))
            people.add(name)
        elif r.role:
            roles.add(st.t(_role(r.role)))
    return st.join(sorted(people)) or "—", st.join(sorted(roles))


def _list_command(level: str, help: str) -> click.Command:
    @review_group.command(level, help=help)
    @click.option("--school", metavar="NAME")
    @click.option("--class", "class_ref", metavar="CLASS")
    @click.option("--responsible", metavar="STAFF")
    @actor_option
    @json_option
    def command(
        school: str | None, class_ref: str | None, responsible: str | None, actor: str | None, as_json: bool
    ) -> None:
        from casework.services import review

        st = state()
        found = getattr(review, level)(st.ctx(), actor, school, class_ref, responsible)
        if as_json:
            echo_json([c.as_data() for c in found])
            return
        titles = {
            "due": st.t("{n} case(s) with duties due", n=len(found)),
            "overdue": st.t("{n} case(s) with overdue duties", n=len(found)),
            "stalled": st.t("{n} stalled case(s)", n=len(found)),
        }
        # One block per case: the reasons and the people wrap at any width (80 columns included).
        click.echo(titles[level] if found else st.t("nothing found: {what}", what=titles[level]))
        for c in found:
            head = [st.t("case {id}", id=c.case_id), c.child_name or "", c.class_name or "", st.t(_state(c.state))]
            if c.risk_level:
                head.append(st.t("risk: {level}", level=st.t(_risk(c.risk_level))))
            click.echo("\n" + " · ".join(h for h in head if h))
            for line in _reasons(st, c.reasons, todo=level == "due").splitlines():
                click.echo(f"  - {line}")
            people, roles = _responsible(st, c.reasons)
            click.echo("  " + st.t("responsible") + ": " + people)
            if roles:
                click.echo("  " + st.t("responsible role (nobody holds it)") + ": " + roles)

    return command


_list_command("due", help="Your to-do: duties due soon, not yet overdue. 待办。")
_list_command("overdue", help="Duties past their grace, not yet with the leadership group. 逾期。")
_list_command(
    "stalled",
    help="For the leadership group, most urgent first: deadlines passed, duties escalated, critical flags, "
    "repeated refusals. 停滞个案。",
)


@review_group.command("sweep")
@json_option
def review_sweep(as_json: bool) -> None:
    """Daily: remind on the due day, again once overdue, escalate; write the digests. 每日巡查。"""
    from casework.services import ladder

    st = state()
    result = ladder.sweep(st.ctx())
    if as_json:
        echo_json(result.as_data())
        return
    click.echo(
        st.t(
            "sweep: {reminded} reminded, {overdue} overdue, {escalated} escalated to the leadership group, "
            "{resolved} resolved; {digests} digest(s) in the outbox",
            reminded=result.reminded,
            overdue=result.overdue,
            escalated=result.escalated,
            resolved=result.resolved,
            digests=result.digests,
        )
    )
    if result.unreachable:
        click.echo(
            st.t(
                "{n} person(s) have no channel that reaches them (see [notify] and 'notify address')",
                n=result.unreachable,
            )
        )


@review_group.command("load")
@click.option("--school", metavar="NAME")
@actor_option
@json_option
def review_load(school: str | None, actor: str | None, as_json: bool) -> None:
    """Mentors over their limit; key children without a caring parent. 帮扶负担。"""
    from casework.services import review

    st = state()
    doc = review.mentor_load(st.ctx(), actor, school)
    if as_json:
        echo_json(doc)
        return
    table(
        [st.t("mentor"), st.t("children")],
        [(m["name"], m["children"]) for m in doc["overloaded_mentors"]],
        title=st.t("mentors with more than {n} children", n=doc["limit"]),
    )
    table(
        [st.t("case"), st.t("child"), st.t("risk")],
        [(k["case_id"], k["child"], st.t(_risk(k["risk_level"]))) for k in doc["key_children_without_caring_parent"]],
        title=st.t("key children without a caring parent"),
    )


@review_group.group("meeting")
def meeting_group() -> None:
    """Review meetings and their decisions. 领导小组会议。"""


@meeting_group.command("new")
@click.option(
    "--member", "members", multiple=True, metavar="STAFF", help="Members present besides you. 除您之外的与会成员。"
)
@click.option("--date", "day", metavar="DATE")
@click.option("--title")
@click.option("--school", metavar="NAME")
@click.option(
    "--case", "cases_by_hand", multiple=True, type=ID, metavar="CASE", help="Add a case by hand. 手动加入个案。"
)
@click.option("--another", is_flag=True, help="Open a second meeting on a date that has one. 同日再开一次。")
@actor_option
def meeting_new(
    members: tuple[str, ...],
    day: str | None,
    title: str | None,
    school: str | None,
    cases_by_hand: tuple[int, ...],
    another: bool,
    actor: str | None,
) -> None:
    """Open a meeting; its agenda holds the escalated and critical cases. 新建会议。"""
    from casework.services import meetings

    st = state()
    meeting_id = meetings.new_meeting(
        st.ctx(), actor, list(members), date_or_none(day, "--date"), title, school, list(cases_by_hand), another
    )
    items = len(meetings.show_meeting(st.ctx(), actor, meeting_id).items)
    click.echo(st.t("meeting {id} opened with {n} case(s) on the agenda", id=meeting_id, n=items))


@meeting_group.command("add")
@click.argument("meeting_id", type=ID, metavar="MEETING")
@click.argument("case_id", type=ID, metavar="CASE")
@actor_option
def meeting_add(meeting_id: int, case_id: int, actor: str | None) -> None:
    """Put a case on a meeting's agenda by hand. 添加议题。"""
    from casework.services import meetings

    st = state()
    meetings.add_item(st.ctx(), actor, meeting_id, case_id)
    click.echo(st.t("case {case} added to meeting {meeting}", case=case_id, meeting=meeting_id))


@meeting_group.command("show")
@click.argument("meeting_id", type=ID, metavar="MEETING")
@actor_option
@json_option
def meeting_show(meeting_id: int, actor: str | None, as_json: bool) -> None:
    """The agenda and the decisions taken. 会议议程与决定。"""
    from casework.domain.vocab import DECISION_LABELS, stall_reason_label
    from casework.services import meetings

    st = state()
    doc = meetings.show_meeting(st.ctx(), actor, meeting_id)
    if as_json:
        echo_json(doc.as_data())
        return
    table(
        [st.t("case"), st.t("child"), st.t("stage"), st.t("risk"), st.t("reasons"), st.t("decision")],
        [
            (
                i.case_id,
                i.child,
                st.t(_state(i.state)),
                st.t(_risk(i.risk_level)),
                "\n".join(st.t(stall_reason_label(r)) for r in i.reasons),
                st.t(DECISION_LABELS[i.decision]) if i.decision else "",
            )
            for i in doc.items
        ],
        title=f"{doc.title} {doc.held_on.isoformat()}",
    )


@meeting_group.command("decide")
@click.argument("meeting_id", type=ID, metavar="MEETING")
@click.argument("case_id", type=ID, metavar="CASE")
@click.option(
    "--decision",
    required=True,
    type=Vocab("casework.domain.vocab:DECISION_LABELS"),
    help="continue, revise, reassess, close, reassign, extend",
)
@click.option("--reason")
@click.option("--mentor", metavar="STAFF", help="The new mentor (reassign). 新的帮扶教师（更换时）。")
@click.option("--until", metavar="DATE", help="The new due date (extend). 新的期限（延期时）。")
@click.option(
    "--duty",
    metavar="CODE",
    help="Which duty to extend (default: the stage deadline). 要延期的职责（默认：阶段期限）。",
)
@actor_option
def meeting_decide(
    meeting_id: int,
    case_id: int,
    decision: str,
    reason: str | None,
    mentor: str | None,
    until: str | None,
    duty: str | None,
    actor: str | None,
) -> None:
    """Decide on one case of the agenda. 对个案作出决定。"""
    from casework.domain.vocab import DECISION_LABELS
    from casework.services import meetings

    st = state()
    meetings.decide(
        st.ctx(), actor, meeting_id, case_id, decision, reason, mentor, date_or_none(until, "--until"), duty
    )
    click.echo(
        st.t(
            "meeting {meeting}, case {case}: {decision}",
            meeting=meeting_id,
            case=case_id,
            decision=st.t(DECISION_LABELS[decision]),
        )
    )


@meeting_group.command("minutes")
@click.argument("meeting_id", type=ID, metavar="MEETING")
@click.option("--agenda", is_flag=True, help="The agenda instead of the minutes. 会议议程。")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "docx", "pdf"]), default="html", show_default=True)
@click.option("--out", "path", type=click.Path(dir_okay=False), required=True)
@actor_option
def meeting_minutes(meeting_id: int, agenda: bool, fmt: str, path: str, actor: str | None) -> None:
    """Render the meeting's minutes (or agenda) as a document. 会议纪要。"""
    from casework.formats.files import write_bytes
    from casework.services import meetings

    st = state()
    write_bytes(path, meetings.minutes(st.ctx(), actor, meeting_id, fmt, st.lang, agenda))
    click.echo(st.t("report written to {path}", path=path))


@click.group("report")
def report_group() -> None:
    """Reports for the leadership group. 报表。"""


@report_group.command("indicators")
@click.option("--school", metavar="NAME")
@click.option("--month", metavar="YYYY-MM", help="Defaults to the current month. 默认本月。")
@click.option("--format", "fmt", type=click.Choice(["text", "html", "xlsx"]), default="text", show_default=True)
@click.option("--out", "path", type=click.Path(dir_okay=False), help="File for html or xlsx. html 或 xlsx 的输出文件。")
@actor_option
@json_option
def report_indicators(
    school: str | None, month: str | None, fmt: str, path: str | None, actor: str | None, as_json: bool
) -> None:
    """File, enrolment, retention, aid, talk, mentor and feedback rates. 工作指标。"""
    from casework.services import indicators

    st = state()
    if fmt != "text" and not path:
        raise click.UsageError(st.t("--format {fmt} needs --out FILE", fmt=fmt))
    report = indicators.compute(st.ctx(), actor, school, month, trends=fmt == "html")
    if as_json:
        echo_json(report.as_data())
    elif fmt == "text":
        table(
            [st.t("scope"), st.t("indicator"), st.t("numerator"), st.t("denominator"), st.t("rate"), st.t("target")],
            [
                (
                    indicators.scope_text(r, st.lang),
                    indicators.indicator_label(r.indicator, st.lang),
                    r.numerator,
                    r.denominator,
                    "—" if r.rate is None else f"{r.rate:.1%}",
                    f"{r.target:.0%}",
                )
                for r in report.rows  # the school, each grade and each class, as the HTML shows them
            ],
            title=f"{report.school} {report.period.label}",
        )
        _breakdowns(st, report)
    if path:
        indicators.write(st.ctx(), report, fmt, path, st.lang)
        click.echo(st.t("report written to {path}", path=path))


@report_group.command("county")
@click.option("--month", metavar="YYYY-MM", help="Defaults to the current month.")
@click.option("--format", "fmt", type=click.Choice(["text", "html", "xlsx", "pdf"]), default="text", show_default=True)
@click.option("--out", "path", type=click.Path(dir_okay=False), help="File for html, xlsx or pdf.")
@actor_option
@json_option
def report_county(month: str | None, fmt: str, path: str | None, actor: str | None, as_json: bool) -> None:
    """Every school's indicators side by side, ranked; no child in it. 全县各校对照（教育局）。"""
    from casework.services import county, indicators

    st = state()
    if fmt != "text" and not path:
        raise click.UsageError(st.t("--format {fmt} needs --out FILE", fmt=fmt))
    report = county.overview(st.ctx(), actor, month)
    if as_json:
        echo_json(report.as_data())
    elif fmt == "text":
        table(
            [st.t("school"), st.t("open"), st.t("stalled")],
            [(s.school, s.open_cases, s.stalled) for s in report.schools],
            title=report.period.label,
        )
        table(
            [st.t("indicator"), st.t("school"), st.t("numerator"), st.t("denominator"), st.t("rate"), st.t("rank")],
            [
                (
                    indicators.indicator_label(code, st.lang),
                    s.school,
                    s.measures[code].numerator,
                    s.measures[code].denominator,
                    _ranked_rate(s.measures[code]),
                    s.measures[code].rank or "—",
                )
                for code in report.rankings
                for s in sorted(report.schools, key=lambda s: (s.measures[code].rank or 10**6, s.school))
            ],
        )
    else:
        assert path is not None
        county.write(st.ctx(), report, fmt, path, st.lang)
        click.echo(st.t("report written to {path}", path=path))


def _ranked_rate(m: Any) -> str:
    return "—" if m.rate is None else f"{m.rate:.1%}"


@report_group.command("five-ones")
@click.option("--school", metavar="NAME")
@click.option("--month", metavar="YYYY-MM", help="Defaults to the current month. 默认本月。")
@click.option("--class", "class_ref", metavar="CLASS")
@actor_option
@json_option
def report_five_ones(
    school: str | None, month: str | None, class_ref: str | None, actor: str | None, as_json: bool
) -> None:
    """Each child's five ones in a month: calls, letter, teachers, visit home. 五个一。"""
    from casework.services import indicators

    st = state()
    report = indicators.five_ones(st.ctx(), actor, school, month, class_ref)
    if as_json:
        echo_json(report.as_data())
        return

    def mark(done: bool) -> str:
        return "✓" if done else "✗"

    table(
        [
            st.t("case"),
            st.t("child"),
            st.t("class"),
            st.t("weekly call home"),
            st.t("letter home"),
            st.t("class teacher"),
            st.t("subject teacher"),
            st.t("visit home"),
        ],
        [
            (
                c.case_id,
                c.child,
                c.class_name,
                f"{c.call_weeks}/{c.weeks}",
                mark(c.letter),
                mark(c.class_teacher),
                mark(c.subject_teacher),
                mark(c.visit_home),
            )
            for c in report.children
        ],
        title=st.t("the five ones, {school} {month}", school=report.school, month=report.period.label),
    )


@report_group.command("term")
@click.option("--term", metavar="YEAR-TERM", help="e.g. 2026-1 (default: this term). 学期。")
@click.option("--school", metavar="NAME")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "html", "md", "docx", "pdf"]), default="text", show_default=True
)
@click.option(
    "--out", "path", type=click.Path(dir_okay=False), help="File for every format but text. 输出文件（文本格式以外）。"
)
@actor_option
@json_option
def report_term(
    term: str | None, school: str | None, fmt: str, path: str | None, actor: str | None, as_json: bool
) -> None:
    """The term summary: all care counted, the indicators, cases by stage. 学期工作总结。"""
    from casework.domain.inputs import parse_term
    from casework.services import term_summary

    st = state()
    if fmt != "text" and not path:
        raise click.UsageError(st.t("--format {fmt} needs --out FILE", fmt=fmt))
    summary = term_summary.compute(st.ctx(), actor, parse_term(term) if term else None, school)
    if as_json:
        echo_json(summary)
    elif fmt == "text":
        context = term_summary.report_context(summary, st.lang, st.ctx().now().date())
        for section in context.sections:
            table([st.t("item"), st.t("count")], section.rows, title=section.title)
        table(
            [st.t("indicator"), st.t("numerator"), st.t("denominator"), st.t("rate")],
            [
                (r.indicator, r.numerator, r.denominator, "—" if r.rate is None else f"{r.rate:.1%}")
                for r in context.indicators
            ],
            title=f"{summary.school.name} {context.term}",
        )
    if path:
        term_summary.write(st.ctx(), summary, fmt, path, st.lang)
        click.echo(st.t("report written to {path}", path=path))


def _breakdowns(st: State, report: Any) -> None:
    """What the file rate counts against, closures by reason and children by family situation."""
    from casework.services import indicators

    click.echo(indicators.survey_text(report, st.lang))
    table(
        [st.t("closure reason"), st.t("cases")],
        [(indicators.closure_label(code, st.lang), n) for code, n in report.closures.items()],
        title=st.t("cases closed in the period"),
    )
    table(
        [st.t("family situation"), st.t("children")],
        [(indicators.family_label(code, st.lang), n) for code, n in report.family_situations.items()],
        empty=st.t("children by family situation"),
    )


def _state(code: str) -> str:
    from casework.states import STATE_LABELS

    return STATE_LABELS.get(code, code)


def _risk(code: str | None) -> str:
    from casework.domain.vocab import RISK_LABELS

    return RISK_LABELS.get(code or "", "—")


def _role(code: str | None) -> str:
    from casework.domain.vocab import ROLES

    return ROLES.get(code or "", code or "—")


COMMANDS = [review_group, report_group]
