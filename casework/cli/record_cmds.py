"""Commands that record what each stage needs: assessment, plan, pairing, contacts, review."""

from __future__ import annotations

import click

from casework.cli.app import actor_option, state
from casework.cli.output import date_or_none


@click.group("record")
def record_group() -> None:
    """Record what a stage needs. 记录各阶段材料。"""


case_argument = click.argument("case_id", type=int, metavar="CASE")


@record_group.command("assessment")
@case_argument
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="CATEGORY",
    help="learning, life, psychological, conduct, academic_slide, personality, moral, suspected_illegal",
)
@click.option("--summary", required=True)
@click.option("--date", "day", metavar="DATE")
@actor_option
def record_assessment(
    case_id: int, categories: tuple[str, ...], summary: str, day: str | None, actor: str | None
) -> None:
    """Record the assessment and classification. 评估分类。"""
    from casework.services import records

    st = state()
    row = records.assessment(st.ctx(), actor, case_id, list(categories), summary, date_or_none(day, "--date"))
    click.echo(st.t("case {case}: {what} recorded (id {id})", case=case_id, what=st.t("assessment"), id=row))


@record_group.command("plan")
@case_argument
@click.option("--category", required=True, metavar="CATEGORY")
@click.option("--measures", required=True)
@click.option("--responsible", metavar="STAFF", help="Defaults to the acting staff member.")
@click.option("--start", metavar="DATE")
@click.option("--end", metavar="DATE")
@click.option("--content")
@click.option("--target", help="Stage target. 阶段性目标。")
@actor_option
def record_plan(
    case_id: int,
    category: str,
    measures: str,
    responsible: str | None,
    start: str | None,
    end: str | None,
    content: str | None,
    target: str | None,
    actor: str | None,
) -> None:
    """Add an item to the individual plan. 添加个别帮扶计划条目。"""
    from casework.services import records

    st = state()
    row = records.plan_item(
        st.ctx(),
        actor,
        case_id,
        category=category,
        measures=measures,
        responsible=responsible,
        start=date_or_none(start, "--start"),
        end=date_or_none(end, "--end"),
        content=content,
        target=target,
    )
    click.echo(st.t("case {case}: {what} recorded (id {id})", case=case_id, what=st.t("plan item"), id=row))


@record_group.command("pairing")
@case_argument
@click.option("--kind", required=True, help="mentor, caring_parent or study_helper")
@click.option("--staff", metavar="STAFF", help="The mentor or caring parent.")
@click.option("--pupil", metavar="NAME", help="The study helper (a pupil).")
@click.option("--from", "from_on", metavar="DATE")
@click.option("--to", "to_on", metavar="DATE")
@actor_option
def record_pairing(
    case_id: int,
    kind: str,
    staff: str | None,
    pupil: str | None,
    from_on: str | None,
    to_on: str | None,
    actor: str | None,
) -> None:
    """Pair a mentor, caring parent or study helper. 结对。"""
    from casework.services import records

    st = state()
    row = records.pairing(
        st.ctx(),
        actor,
        case_id,
        kind=kind,
        staff=staff,
        partner_name=pupil,
        from_on=date_or_none(from_on, "--from"),
        to_on=date_or_none(to_on, "--to"),
    )
    click.echo(st.t("case {case}: {what} recorded (id {id})", case=case_id, what=st.t("pairing"), id=row))


def _contact_command(name: str, kind: str, label: str, help_text: str) -> click.Command:
    @record_group.command(name, help=help_text)
    @case_argument
    @click.option("--summary", required=True)
    @click.option("--date", "day", metavar="DATE", help="Defaults to today.")
    @click.option("--by", metavar="STAFF", help="Who did it; defaults to the acting staff member.")
    @click.option("--follow-up", help="What happens next. 后续跟进。")
    @actor_option
    def command(
        case_id: int,
        summary: str,
        day: str | None,
        by: str | None,
        follow_up: str | None,
        actor: str | None,
    ) -> None:
        from casework.services import records

        st = state()
        row = records.contact(
            st.ctx(),
            actor,
            case_id,
            kind=kind,
            occurred_on=date_or_none(day, "--date"),
            by=by,
            summary=summary,
            follow_up=follow_up,
        )
        click.echo(st.t("case {case}: {what} recorded (id {id})", case=case_id, what=st.t(label), id=row))

    return command


_contact_command("talk", "talk", "talk", "Record a talk with the child. 谈心记录。")
_contact_command("visit", "home_visit", "home visit", "Record a home visit. 家访记录。")
_contact_command(
    "feedback", "parent_feedback", "parent feedback", "Record feedback to the parents. 家长反馈。"
)
_contact_command("call", "phone_call", "phone call", "Record a phone call. 电话记录。")


@record_group.command("review")
@case_argument
@click.option("--item", "item_id", type=int, required=True, help="Plan item id.")
@click.option("--result", required=True, help="met, partly_met or not_met")
@click.option("--effect", required=True, help="Stage effect against the item's target. 阶段性效果。")
@click.option("--summary")
@click.option("--date", "day", metavar="DATE")
@actor_option
def record_review(
    case_id: int,
    item_id: int,
    result: str,
    effect: str,
    summary: str | None,
    day: str | None,
    actor: str | None,
) -> None:
    """Record the stage effect of a plan item. 阶段性评估。"""
    from casework.services import records

    st = state()
    row = records.review(
        st.ctx(),
        actor,
        case_id,
        item_id=item_id,
        result=result,
        effect=effect,
        reviewed_on=date_or_none(day, "--date"),
        summary=summary,
    )
    click.echo(st.t("case {case}: {what} recorded (id {id})", case=case_id, what=st.t("review"), id=row))


COMMANDS = [record_group]
