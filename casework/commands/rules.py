"""Commands on the rules: the modules in force, one case explained, the yearly evaluation."""

from __future__ import annotations

from typing import Any

import click

from casework.commands.common import State, actor_option, json_option, state
from casework.commands.output import echo_json, table


@click.group("rules")
def rules_group() -> None:
    """Rule modules in force. 规则模块。"""


@rules_group.command("list")
@json_option
def rules_list(as_json: bool) -> None:
    """Modules in force, their versions and parameters. 当前规则。"""
    from casework.services import rules_info

    st = state()
    doc = rules_info.list_rules(st.ctx())
    if as_json:
        echo_json(doc)
        return
    click.echo(st.t("rule set {version}", version=doc["rule_set"]))
    for module in doc["modules"]:
        click.echo(f"\n{module['name']} v{module['version']}: {module['description'][st.lang]}")
        for p in module["params"]:
            click.echo(f"  {p['name']} = {p['value']!r}  — {p['description'][st.lang]}")


@rules_group.command("explain")
@click.argument("case_id", type=int, metavar="CASE")
@actor_option
@json_option
def rules_explain(case_id: int, actor: str | None, as_json: bool) -> None:
    """Categories, duties with due dates, and what blocks each event. 解释个案规则。"""
    from casework.services import rules_info

    st = state()
    doc = rules_info.explain(st.ctx(), actor, case_id)
    if as_json:
        echo_json(doc)
        return
    _explain_text(st, doc)


def _explain_text(st: State, doc: dict[str, Any]) -> None:
    from casework.domain.vocab import NEED_CATEGORIES, RISK_LABELS
    from casework.states import EVENT_LABELS, STATE_LABELS

    cats = "、".join(st.t(NEED_CATEGORIES.get(c, c)) for c in doc["categories"]) or "—"
    risk = st.t(RISK_LABELS[doc["risk_level"]]) if doc["risk_level"] else "—"
    click.echo(
        st.t(
            "case {case} ({state}): categories {categories}; risk {risk}",
            case=doc["id"],
            state=st.t(STATE_LABELS[doc["state"]]),
            categories=cats,
            risk=risk,
        )
    )
    for req in doc["plan_requirements"]:
        click.echo(f"  {'✓' if req['satisfied'] else '✗'} {req['description'][st.lang]}")
    if doc["duties"]:
        table(
            [st.t("duty"), st.t("responsible"), st.t("due"), st.t("overdue days")],
            [(d["code"], d["responsible_role"], d["due_on"], d["overdue_days"] or "") for d in doc["duties"]],
        )
    for event, info in doc["events"].items():
        mark = "✓" if info["allowed"] else "✗"
        click.echo(f"{mark} {st.t(EVENT_LABELS.get(event, event))}")
        for v in info["blocked_by"]:
            click.echo(f"    - [{v['rule']}.{v['code']}] {v['message'][st.lang]}")


@click.command("evaluate")
@click.option("--year", "school_year", type=int, required=True, help="School year, e.g. 2026 for 2026–2027.")
@actor_option
@json_option
def evaluate_cmd(school_year: int, actor: str | None, as_json: bool) -> None:
    """Score mentors and class teachers, and the pupils' awards. 考核及奖励。"""
    from casework.services import rules_info

    st = state()
    doc = rules_info.evaluation(st.ctx(), actor, school_year)
    if as_json:
        echo_json(doc)
        return
    table(
        [st.t("child"), st.t("ranks risen"), st.t("points"), st.t("award (yuan)"), st.t("next baseline")],
        [
            (c["name"], c["ranks_risen"], c["total_points"], c["total_yuan"], c["next_baseline_rank"])
            for c in doc["children"]
        ],
        title=st.t("school year {year}", year=school_year),
    )
    table(["id", st.t("points (yuan)")], [(m["staff_id"], m["points"]) for m in doc["mentors"]], title=st.t("mentors"))
    table(
        [st.t("class"), st.t("points (yuan)")],
        [(c["class_id"], c["points"]) for c in doc["class_teachers"]],
        title=st.t("class teachers"),
    )


COMMANDS = [rules_group, evaluate_cmd]
