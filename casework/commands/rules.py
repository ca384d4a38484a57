"""Commands on the rules: the modules in force, one case explained, the yearly evaluation and its table."""

from __future__ import annotations

from typing import Any

import click

from casework.commands.common import ID, State, actor_option, json_option, school_year_option, state
from casework.commands.output import echo_json, shown_value, table


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
    # The module and parameter names are casework.toml's keys: shown in English, where they are typed.
    english = st.lang == "en"
    for module in doc["modules"]:
        description = module["description"][st.lang]
        if english:
            click.echo(f"\n{module['name']} v{module['version']}: {description}")
        else:
            click.echo(f"\n{description}（{st.t('version')} {module['version']}）")
        for p in module["params"]:
            value = shown_value(st, p["value"])
            if english:
                click.echo(f"  {p['name']} = {value}  — {p['description'][st.lang]}")
            else:
                click.echo(f"  {p['description'][st.lang]}：{value}")


@rules_group.command("explain")
@click.argument("case_id", type=ID, metavar="CASE")
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
    from casework.domain.vocab import NEED_CATEGORIES, RISK_LABELS, ROLES, duty_label
    from casework.states import EVENT_LABELS, STATE_LABELS

    cats = st.join(st.t(NEED_CATEGORIES.get(c, c)) for c in doc["categories"]) or "—"
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
            [
                (
                    st.t(duty_label(d["code"])),
                    st.t(ROLES.get(d["responsible_role"], d["responsible_role"])) if d["responsible_role"] else "—",
                    d["due_on"],
                    d["overdue_days"] or "",
                )
                for d in doc["duties"]
            ],
        )
    for event, info in doc["events"].items():
        mark = "✓" if info["allowed"] else "✗"
        click.echo(f"{mark} {st.t(EVENT_LABELS.get(event, event))}")
        for v in info["blocked_by"]:
            click.echo(f"    - {v['message'][st.lang]}")


@click.command("evaluate")
@school_year_option
@click.option("--school", metavar="NAME")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "xlsx", "pdf", "html", "md", "docx"]),
    default="text",
    show_default=True,
    help="xlsx for the finance office; pdf with signature lines. xlsx供财务室使用，pdf含签字栏。",
)
@click.option(
    "--out", "path", type=click.Path(dir_okay=False), help="File for every format but text. 输出文件（文本格式以外）。"
)
@actor_option
@json_option
def evaluate_cmd(
    school_year: int, school: str | None, fmt: str, path: str | None, actor: str | None, as_json: bool
) -> None:
    """Score mentors and class teachers, and the pupils' awards. 考核及奖励。"""
    from casework.services import evaluation

    st = state()
    if fmt != "text" and not path:
        raise click.UsageError(st.t("--format {fmt} needs --out FILE", fmt=fmt))
    result = evaluation.compute(st.ctx(), actor, school_year, school)
    if as_json:
        echo_json(result)
    elif fmt == "text":
        _evaluation_text(st, result)
    if path:
        evaluation.write(st.ctx(), result, fmt, path, st.lang)
        click.echo(st.t("report written to {path}", path=path))


def _evaluation_text(st: State, result: Any) -> None:
    from casework.services.evaluation import BASELINE_LABELS, EXCLUSION_LABELS

    table(
        [st.t("child"), st.t("class"), st.t("baseline"), st.t("second-term rank"), st.t("points"), st.t("yuan")],
        [
            (
                p.child.name,
                p.class_,
                f"{st.t(BASELINE_LABELS[p.baseline])} {p.baseline_rank or ''}".strip(),
                p.rank_term2,
                p.total_points,
                p.total_yuan,
            )
            for p in result.children
        ],
        title=st.t("school year {start}–{end}", start=result.school_year, end=result.school_year + 1),
    )
    table(
        [st.t("mentor"), st.t("children scored"), st.t("yuan")],
        [(m.staff.name, m.children, m.yuan) for m in result.mentors],
        empty=st.t("mentors with children scored"),
    )
    table(
        [st.t("class teacher"), st.t("class"), st.t("children scored"), st.t("yuan")],
        [
            (c.staff.name if c.staff else st.t("no class teacher recorded"), c.class_, c.children, f"{c.yuan:.2f}")
            for c in result.class_teachers
        ],
        empty=st.t("class teachers with children scored"),
    )
    for e in result.excluded:
        click.echo(st.t("not scored: {name} ({reason})", name=e.child.name, reason=st.t(EXCLUSION_LABELS[e.reason])))


COMMANDS = [rules_group, evaluate_cmd]
