"""Commands on cases: open, show, list, advance, why, history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from casework.commands.common import ID, State, Vocab, Whole, actor_option, json_option, state
from casework.commands.output import echo_json, shown_value, table

if TYPE_CHECKING:
    from casework.services.cases import CaseSummary, HistoryEntry


@click.group("case")
def case_group() -> None:
    """Cases and their moves through the stages. 个案。"""


def _label(st: State, code: str | None) -> str:
    from casework.states import STATE_LABELS

    return st.t(STATE_LABELS.get(code, code)) if code else ""


def _event(code: str) -> str:
    from casework.states import EVENT_LABELS

    return EVENT_LABELS.get(code, code)


def _child(case: CaseSummary) -> str:
    """The child's name where the role may read it, else only the id."""
    child = case.child
    return f"{child.name} ({child.id})" if child.name is not None else f"#{child.id}"


def _verdicts(verdicts: list[Any]) -> list[dict[str, Any]]:
    from casework.services.cases import verdict_data

    return [verdict_data(v) for v in verdicts]


@case_group.command("open")
@click.argument("child_id", type=ID, metavar="CHILD")
@click.option(
    "--counsellor", metavar="STAFF", help="The counsellor in charge (default: you, if a counsellor). 负责心理老师。"
)
@actor_option
def case_open(child_id: int, counsellor: str | None, actor: str | None) -> None:
    """Open a case for a child. 为儿童建立个案。"""
    from casework.services import cases

    st = state()
    case_id = cases.open_case(st.ctx(), actor, child_id, counsellor)
    click.echo(st.t("case {case} opened for child {child}", case=case_id, child=child_id))


@case_group.command("show")
@click.argument("case_id", type=ID, metavar="CASE")
@actor_option
@json_option
def case_show(case_id: int, actor: str | None, as_json: bool) -> None:
    """Show a case. 查看个案。"""
    from casework.services import cases

    st = state()
    doc = cases.show(st.ctx(), actor, case_id)
    if as_json:
        echo_json(doc)
        return
    table(
        [st.t("field"), st.t("value")],
        [
            (st.t("case"), doc.id),
            (st.t("child"), _child(doc)),
            (st.t("stage"), _label(st, doc.state)),
            (st.t("version"), doc.version),
            (st.t("in stage since"), doc.state_since[:19].replace("T", " ")),
            (st.t("possible events"), st.join(st.t(_event(e)) for e in doc.events) or "—"),
            (st.t("workflow version"), doc.definition_version),
        ],
    )


@case_group.command("list")
@click.option(
    "--state",
    "state_filter",
    metavar="STATE",
    type=Vocab("casework.states:STATE_LABELS"),
    help="identified, assessed, individual_plan, mentored, reviewed, closed",
)
@actor_option
@json_option
def case_list(state_filter: str | None, actor: str | None, as_json: bool) -> None:
    """List the cases in your record scope. 个案列表。"""
    from casework.services import cases

    st = state()
    rows = cases.list_cases(st.ctx(), actor, state_filter)
    if as_json:
        echo_json(rows)
        return
    table(
        [st.t("case"), st.t("child"), st.t("stage"), st.t("version"), st.t("in stage since")],
        [
            (
                r.id,
                _child(r),
                _label(st, r.state),
                r.version,
                r.state_since[:10],
            )
            for r in rows
        ],
        empty=st.t("cases in your record scope")
        if state_filter is None
        else st.t("cases at the stage {stage} in your record scope", stage=_label(st, state_filter)),
    )


@case_group.command("advance")
@click.argument("case_id", type=ID, metavar="CASE")
@click.argument("event", type=Vocab("casework.states:EVENT_LABELS"))
@click.option("--reason", help="Required for close and reopen. 结案、重开须填写原因。")
@click.option(
    "--expect-version",
    type=Whole(0, 2**63 - 1),
    help="Refuse with a conflict unless the case is at this version. 个案不是此版本时按冲突拒绝。",
)
@click.option(
    "--closure",
    metavar="CODE",
    type=Vocab("casework.domain.vocab:CLOSURE_REASONS", "casework.domain.vocab:CLOSURE_ALIASES"),
    help="Why a case closes: transferred 转学, parents_returned 父母返乡, graduated 毕业, turned_18 年满18岁, "
    "other 其他 (with --reason). 结案原因。",
)
@actor_option
@json_option
def case_advance(
    case_id: int,
    event: str,
    reason: str | None,
    expect_version: int | None,
    closure: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Fire an event: assess, plan, mentor, review, continue, revise, reassess, close, reopen. 推进个案。"""
    from casework.services import cases

    st = state()
    moved = cases.advance(st.ctx(), actor, case_id, event, reason, expect_version, closure)
    if as_json:
        echo_json(
            {
                "id": moved.case_id,
                "event": moved.event,
                "from_state": moved.from_state,
                "state": moved.to_state,
                "version": moved.version,
                "verdicts": _verdicts(moved.verdicts),
            }
        )
        return
    click.echo(
        st.t(
            "case {case}: {from_} → {to} (version {version})",
            case=case_id,
            from_=_label(st, moved.from_state),
            to=_label(st, moved.to_state),
            version=moved.version,
        )
    )


@case_group.command("why")
@click.argument("case_id", type=ID, metavar="CASE")
@click.argument("event", type=Vocab("casework.states:EVENT_LABELS"))
@actor_option
@json_option
def case_why(case_id: int, event: str, actor: str | None, as_json: bool) -> None:
    """Explain whether an event may fire now, rule by rule. 解释能否推进。"""
    from casework.i18n import render
    from casework.services import cases
    from casework.states import EVENT_LABELS

    st = state()
    why = cases.why(st.ctx(), case_id, event, actor)
    if as_json:
        echo_json(
            {
                "id": why.case_id,
                "event": why.event,
                "state": why.state,
                "version": why.version,
                "allowed": why.allowed,
                "to_state": why.to_state,
                "verdicts": _verdicts(why.verdicts),
            }
        )
        return
    label = st.t(EVENT_LABELS.get(event, event))
    if why.allowed:
        click.echo(st.t("case {case}: {event} is allowed", case=case_id, event=label))
    else:
        click.echo(st.t("case {case}: {event} would be refused", case=case_id, event=label))
    for v in why.verdicts:
        mark = "✓" if v.passed else "✗"
        click.echo(f"  {mark} {render(v.message, st.lang)}")


@case_group.command("history")
@click.argument("case_id", type=ID, metavar="CASE")
@actor_option
@json_option
def case_history(case_id: int, actor: str | None, as_json: bool) -> None:
    """Everything that happened to a case. 个案历史。"""
    from casework.services import cases

    st = state()
    rows = cases.history(st.ctx(), actor, case_id)
    if as_json:
        echo_json(rows)
        return
    table(
        ["#", st.t("when"), st.t("who"), st.t("what"), st.t("stage")],
        [
            (
                r.seq,
                r.at[:19].replace("T", " "),
                r.actor.name,
                _describe(st, r),
                _label(st, r.to_state or r.from_state),
            )
            for r in rows
        ],
        empty=st.t("history of case {case}", case=case_id),
    )


def _describe(st: State, row: HistoryEntry) -> str:
    from casework.domain.vocab import AUDIT_ACTIONS
    from casework.i18n import render
    from casework.text import Msg

    action = st.t(AUDIT_ACTIONS.get(row.action, row.action))
    if row.event:
        action += f" {st.t(_event(row.event))}"
    if row.reason:
        action += f" — {row.reason}"
    for refusal in row.refusals or ():
        action += "\n  ✗ " + refusal["message"].get(st.lang, render(Msg(refusal["code"]), st.lang))
    return action


@case_group.command("ack")
@click.argument("case_id", type=ID, metavar="CASE")
@click.option("--flag", default="critical", show_default=True, type=Vocab("casework.domain.vocab:RISK_LABELS"))
@actor_option
def case_ack(case_id: int, flag: str, actor: str | None) -> None:
    """The leadership group acknowledges a critical flag. 领导小组确认紧急标记。"""
    from casework.services import assessments

    st = state()
    assessments.acknowledge(st.ctx(), actor, case_id, flag)
    click.echo(st.t("case {case}: {flag} flag acknowledged", case=case_id, flag=shown_value(st, flag)))


COMMANDS = [case_group]
