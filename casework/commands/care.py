"""Commands on school-wide care: seminars, activities, stars of left-behind children, 3+2+1+1 groups."""

from __future__ import annotations

from typing import Any

import click

from casework.commands.common import ID, WHOLE, State, Vocab, actor_option, json_option, state
from casework.commands.output import echo_json, table
from casework.text import N_

school_option = click.option(
    "--school", metavar="NAME", help="School, when the actor works at several. 操作人在多所学校任职时指定学校。"
)
staff_option = click.option(
    "--staff", "staff", multiple=True, metavar="STAFF", help="Who led or came (repeat). 参加的教师。"
)
child_option = click.option(
    "--child",
    "children",
    multiple=True,
    type=WHOLE,
    metavar="CHILD",
    help="A child in care who came (repeat). 参加的儿童。",
)


@click.group("care")
def care_group() -> None:
    """School-wide care: seminars, activities, stars, groups. 学校关爱活动。"""


def _recorded(st: State, what: str, row: int) -> None:
    click.echo(st.t("{what} recorded (id {id})", what=st.t(what), id=row))


@care_group.command("seminar")
@click.option("--title", required=True, help="Topic. 主题。")
@click.option("--date", "day", metavar="DATE", help="Defaults to today. 默认今天。")
@staff_option
@child_option
@click.option("--guardians", help="The guardians who came, e.g. 王大山（祖父）、李芳. 参加的监护人。")
@click.option("--minutes", help="What was said and decided (required). 会议记录（必填）。")
@school_option
@actor_option
def care_seminar(
    title: str,
    day: str | None,
    staff: tuple[str, ...],
    children: tuple[int, ...],
    guardians: str | None,
    minutes: str | None,
    school: str | None,
    actor: str | None,
) -> None:
    """A seminar of mentors, children and guardians (each term). 帮扶教师、留守儿童、监护人座谈会。"""
    from casework.domain.inputs import RecordCareEvent
    from casework.services import school_care

    st = state()
    given = RecordCareEvent.parse(
        kind="seminar", title=title, held_on=day, staff=staff, children=children, guardians=guardians, minutes=minutes
    )
    _recorded(st, N_("seminar"), school_care.record_event(st.ctx(), actor, given, school))


@care_group.command("activity")
@click.option(
    "--kind",
    required=True,
    type=Vocab("casework.domain.vocab:CARE_EVENT_KINDS", "casework.domain.vocab:CARE_EVENT_ALIASES"),
    help="class_meeting 主题班会, interest_group 兴趣小组, birthday_party 生日聚会, family_phone 亲情电话, "
    "cultural 书画展/演讲比赛/文艺演出, other 其他",
)
@click.option("--title", required=True, help="What it was. 活动名称。")
@click.option("--date", "day", metavar="DATE", help="Defaults to today. 默认今天。")
@click.option("--class", "class_ref", metavar="CLASS", help="The class, for a class activity. 班级。")
@staff_option
@child_option
@click.option("--minutes", help="A note of what happened. 活动记录。")
@school_option
@actor_option
def care_activity(
    kind: str,
    title: str,
    day: str | None,
    class_ref: str | None,
    staff: tuple[str, ...],
    children: tuple[int, ...],
    minutes: str | None,
    school: str | None,
    actor: str | None,
) -> None:
    """A class or group activity, with the children in care who came. 班级、小组活动。"""
    from casework.domain.inputs import RecordCareEvent
    from casework.services import school_care

    st = state()
    given = RecordCareEvent.parse(
        kind=kind, title=title, held_on=day, class_ref=class_ref, staff=staff, children=children, minutes=minutes
    )
    _recorded(st, N_("activity"), school_care.record_event(st.ctx(), actor, given, school))


@care_group.command("star")
@click.argument("child_id", type=ID, metavar="CHILD")
@click.option("--round", "selection", type=WHOLE, required=True, help="The term's selection: 1 or 2. 第几次评选。")
@click.option("--reason", required=True, help="Why: what the child did. 评选理由。")
@click.option("--date", "day", metavar="DATE", help="Defaults to today. 默认今天。")
@actor_option
def care_star(child_id: int, selection: int, reason: str, day: str | None, actor: str | None) -> None:
    """Choose a star of left-behind children (twice a term). 评选留守少儿之星。"""
    from casework.domain.inputs import ChooseStar
    from casework.services import school_care

    st = state()
    given = ChooseStar.parse(child_id=child_id, round=selection, reason=reason, chosen_on=day)
    _recorded(st, N_("star of left-behind children"), school_care.choose_star(st.ctx(), actor, given))


@care_group.command("group")
@click.argument("name")
@click.option("--teacher", required=True, metavar="STAFF", help="The teacher. 教师。")
@click.option("--parent", required=True, metavar="STAFF", help="The caring parent. 爱心家长。")
@child_option
@click.option("--pupil", "pupils", multiple=True, metavar="NAME", help="An ordinary pupil (repeat). 普通学生。")
@click.option("--date", "day", metavar="DATE", help="Defaults to today. 默认今天。")
@actor_option
def care_form_group(
    name: str,
    teacher: str,
    parent: str,
    children: tuple[int, ...],
    pupils: tuple[str, ...],
    day: str | None,
    actor: str | None,
) -> None:
    """Form a 3+2+1+1 group: 3 pupils, 2 left-behind children, a caring parent, a teacher. 3+2+1+1帮扶小组。"""
    from casework.domain.inputs import FormGroup
    from casework.services import school_care

    st = state()
    given = FormGroup.parse(name=name, teacher=teacher, parent=parent, children=children, pupils=pupils, formed_on=day)
    _recorded(st, N_("3+2+1+1 group"), school_care.form_group(st.ctx(), actor, given))


@care_group.command("list")
@click.option("--term", metavar="YEAR-TERM", help="e.g. 2026-1 (default: this term). 学期。")
@school_option
@actor_option
@json_option
def care_list(term: str | None, school: str | None, actor: str | None, as_json: bool) -> None:
    """The term's seminars, activities and stars, and the groups. 本学期关爱活动。"""
    from casework.domain.inputs import parse_term
    from casework.services import school_care

    st = state()
    found = school_care.term_care(st.ctx(), actor, parse_term(term) if term else None, school)
    if as_json:
        echo_json(found)
        return
    _print_care(st, found)


def _names(people: Any) -> str:
    return state().join(p.name or f"#{p.id}" for p in people) or "—"


def _print_care(st: State, found: Any) -> None:
    from casework.domain.vocab import CARE_EVENT_KINDS

    table(
        [st.t("date"), st.t("activity"), st.t("title"), st.t("staff"), st.t("children in care who came")],
        [
            (e.held_on.isoformat(), st.t(CARE_EVENT_KINDS[e.kind]), e.title, _names(e.staff), _names(e.children))
            for e in found.events
        ],
        title=st.t("school year {start}–{end}", start=found.school_year, end=found.school_year + 1) + f" {found.term}",
    )
    table(
        [st.t("selection"), st.t("child"), st.t("reason")],
        [(s.round, s.child.name or f"#{s.child.id}", s.reason or "—") for s in found.stars],
        title=st.t("stars of left-behind children"),
    )
    table(
        [st.t("group"), st.t("teacher"), st.t("caring parent"), st.t("left-behind children"), st.t("pupils")],
        [(g.name, g.teacher.name, g.parent.name, _names(g.children), st.join(g.pupils)) for g in found.groups],
        title=st.t("3+2+1+1 groups"),
    )


COMMANDS = [care_group]
