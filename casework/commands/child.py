"""Commands on children and their contact cards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from casework.commands.common import ID, actor_option, json_option, state
from casework.commands.output import echo_json, pairs, shown_value, table

if TYPE_CHECKING:
    from casework.services.consent import ConsentStatus


@click.group("child")
def child_group() -> None:
    """Children, their file and contact card. 儿童档案与联络卡。"""


set_option = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A contact-card field; see `casework child fields`. 联络卡字段。",
)


def card_pairs(sets: tuple[str, ...]) -> dict[str, str]:
    """--set FIELD=VALUE, the field named by its code or its label (性别=男, sex=male), and a value
    of a closed vocabulary by its code or label in either language (家庭情况=隔代监护)."""
    from casework import i18n
    from casework.domain.child import FIELDS_BY_NAME
    from casework.domain.vocab import FAMILY_SITUATIONS, SEXES

    labels = {name: spec.label for name, spec in FIELDS_BY_NAME.items()}
    vocabularies = {"sex": SEXES, "family_situation": FAMILY_SITUATIONS}
    card: dict[str, str] = {}
    for key, value in pairs(sets, "--set").items():
        name = i18n.code_for(key, labels) or key  # an unknown name is refused by the service, listing the fields
        vocabulary = vocabularies.get(name)
        card[name] = (i18n.code_for(value, vocabulary) or value) if vocabulary and value.strip() else value
    return card


@child_group.command("add")
@click.argument("name")
@click.option("--class", "class_ref", metavar="CLASS", help="Class id or GRADE/NAME, e.g. 3/1班. 班级。")
@click.option("--school", metavar="NAME")
@set_option
@actor_option
def child_add(name: str, class_ref: str | None, school: str | None, sets: tuple[str, ...], actor: str | None) -> None:
    """Add a child and open their file. 新建儿童档案。"""
    from casework.services import children

    st = state()
    raw = {"name": name, **card_pairs(sets)}
    child_id = children.add(st.ctx(), actor, raw, class_ref, school)
    click.echo(st.t("child {name} added (id {id})", name=name, id=child_id))


@child_group.command("edit")
@click.argument("child_id", type=ID, metavar="CHILD")
@click.option("--class", "class_ref", metavar="CLASS")
@set_option
@actor_option
def child_edit(child_id: int, class_ref: str | None, sets: tuple[str, ...], actor: str | None) -> None:
    """Change the card; old values stay in history. 变更联络卡（保留历史）。"""
    from casework.domain.child import field_label
    from casework.services import children

    st = state()
    changed = children.edit(st.ctx(), actor, child_id, card_pairs(sets), class_ref)
    if changed:
        labels = st.join(st.t(field_label(f)) for f in changed)
        click.echo(st.t("child {id}: changed {fields}", id=child_id, fields=labels))
    else:
        click.echo(st.t("child {id}: nothing changed", id=child_id))


@child_group.command("show")
@click.argument("child_id", type=ID, metavar="CHILD")
@actor_option
@json_option
def child_show(child_id: int, actor: str | None, as_json: bool) -> None:
    """Show a child's file, cases and card history. 查看档案。"""
    from casework.domain.child import field_label
    from casework.services import children

    st = state()
    doc = children.show(st.ctx(), actor, child_id)
    if as_json:
        echo_json(doc)
        return
    cls = doc.class_
    rows = [(st.t("class"), f"{cls.grade}/{cls.name}" if cls else None)]
    hidden = st.t("(not for your role)")
    rows += [(st.t(field_label(k)), hidden if k in doc.hidden else _value(k, v)) for k, v in doc.fields.items()]
    table([st.t("field"), st.t("value")], rows, title=st.t("child {id}", id=doc.id))
    if doc.cases:
        click.echo(st.t("cases") + ": " + ", ".join(f"{c.id} ({st.t(_state(c.state))})" for c in doc.cases))
    if doc.consent is not None:
        _consent(doc.consent)
    if doc.history:
        table(
            [st.t("when"), st.t("field"), st.t("old"), st.t("new"), st.t("by")],
            [
                (
                    h.changed_at[:19].replace("T", " "),
                    st.t(field_label(h.field)),
                    _value(h.field, h.old),
                    _value(h.field, h.new),
                    h.changed_by.name,
                )
                for h in doc.history
            ],
            title=st.t("history"),
        )


def _value(field: str, value: Any) -> str | None:
    """A card value as a person reads it: a vocabulary's label, yes or no for a flag (是否寄宿)."""
    if value is None or value == "":
        return None
    if field in {"boarding", "guardian_literate"}:
        return shown_value(state(), bool(int(value)) if isinstance(value, str) and value.isdigit() else bool(value))
    return shown_value(state(), value) if field in {"sex", "family_situation"} else str(value)


@child_group.command("list")
@actor_option
@json_option
def child_list(actor: str | None, as_json: bool) -> None:
    """List the children in your record scope. 儿童列表。"""
    from casework.services import children

    st = state()
    rows = children.list_children(st.ctx(), actor)
    if as_json:
        echo_json(rows)
        return
    table(
        [st.t("id"), st.t("name"), st.t("class")],
        [(r.id, r.name, r.class_) for r in rows],
        empty=st.t("children in your record scope"),
    )


@child_group.command("find")
@click.option("--phone", metavar="NUMBER", help="A parent's or guardian's phone number, exactly. 电话号码。")
@click.option("--id-number", metavar="NUMBER", help="The child's ID number, exactly. 身份证号。")
@click.option("--name", metavar="TEXT", help="Part of the child's name. 姓名（部分）。")
@actor_option
@json_option
def child_find(phone: str | None, id_number: str | None, name: str | None, actor: str | None, as_json: bool) -> None:
    """Find children in your record scope by phone, ID number or name. 查找儿童。"""
    from casework.services import keys

    st = state()
    rows = keys.find_children(st.ctx(), actor, phone=phone, id_number=id_number, name=name)
    if as_json:
        echo_json(rows)
        return
    if name is not None:
        searched = st.t("children whose name contains '{text}'", text=name)
    elif phone is not None:
        searched = st.t("children with the phone number {number}", number=phone)
    else:
        searched = st.t("children with the ID number {number}", number=id_number)
    table([st.t("id"), st.t("name"), st.t("class")], [(r.id, r.name, r.class_) for r in rows], empty=searched)


@child_group.command("fields")
def child_fields() -> None:
    """List the fields of the contact card. 联络卡字段列表。"""
    from casework.domain.child import CHILD_FIELDS

    st = state()
    if st.lang == "en":
        table([st.t("field"), st.t("label")], [(f.name, st.t(f.label)) for f in CHILD_FIELDS])
    else:  # --set takes the label (性别=男) as well as the code
        table([st.t("field")], [(st.t(f.label),) for f in CHILD_FIELDS])


def _consent(status: ConsentStatus) -> None:
    from casework.domain.consent import CONSENT_SCOPES

    st = state()
    if status.purged_at:
        click.echo(st.t("data purged on {day}", day=status.purged_at[:10]))
    allowed = st.t("yes") if status.records_allowed else st.t("no: no consent in force")
    click.echo(st.t("counselling records allowed") + ": " + allowed)
    rows = status.consents
    if rows:
        table(
            [st.t("guardian"), st.t("relation"), st.t("scope"), st.t("given on"), st.t("withdrawn on")],
            [(c.guardian, c.relation, st.t(CONSENT_SCOPES[c.scope]), c.given_on, c.withdrawn_on) for c in rows],
            title=st.t("consent"),
        )


def _state(code: str) -> str:
    from casework.states import STATE_LABELS

    return STATE_LABELS.get(code, code)


COMMANDS = [child_group]
