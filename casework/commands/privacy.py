"""Commands of retention and compliance: purge data past retention, the yearly privacy report."""

from __future__ import annotations

from typing import Any

import click

from casework.commands.common import WHOLE, actor_option, json_option, state
from casework.commands.output import echo_json, table
from casework.text import N_


@click.group("privacy")
def privacy_group() -> None:
    """Retention purge and the yearly compliance report. 数据保留与合规。"""


school_option = click.option(
    "--school", metavar="NAME", help="Needed if you work at more than one school. 在多所学校任职时须指定。"
)


@privacy_group.command("purge")
@click.option(
    "--retention-days",
    type=WHOLE,
    metavar="N",
    help="Keep data this many days after a child's last case closed (default: settings, 1095). "
    "儿童最后一个个案结案后保留数据的天数（默认见配置，1095）。",
)
@click.option("--dry-run", is_flag=True, help="Report what would be erased; change nothing. 仅预览。")
@school_option
@actor_option
@json_option
def privacy_purge(
    retention_days: int | None, dry_run: bool, school: str | None, actor: str | None, as_json: bool
) -> None:
    """Erase contact data and counselling content of long-closed cases. 清除超过保留期的个人信息。"""
    from casework.services import privacy

    st = state()
    result = privacy.purge(st.ctx(), actor, retention_days=retention_days, dry_run=dry_run, school=school)
    if as_json:
        echo_json(result.as_data())
        return
    counts = {"children": len(result.children), "cases": result.cases, "records": result.records}
    if dry_run:
        line = st.t(
            "dry run: {children} children, {cases} cases, {records} records, {fields} fields would be erased",
            fields=result.fields,
            **counts,
        )
    else:
        line = st.t(
            "purged {children} children, {cases} cases, {records} records, {fields} fields",
            fields=result.fields,
            **counts,
        )
    click.echo(line)
    click.echo(
        st.t("retention {days} days: cases closed before {day}", days=result.retention_days, day=result.closed_before)
    )
    if result.children:
        table(
            [st.t("child"), st.t("cases"), st.t("closed on"), st.t("records"), st.t("fields")],
            [(c.child_id, ", ".join(map(str, c.case_ids)), c.closed_on, c.records, c.fields) for c in result.children],
        )
    if result.old_copies == "wal":
        click.echo(st.t(_WAL_KEPT))
    elif result.old_copies == "vacuum":
        click.echo(st.t(_VACUUM_NEEDED))


_WAL_KEPT = N_(
    "note: the database was in use, so its file keeps older encrypted copies of the erased values"
    " until its write-ahead log is next checkpointed"
)
_VACUUM_NEEDED = N_("note: PostgreSQL keeps older encrypted copies of the erased values until VACUUM FULL runs on them")


@privacy_group.command("report")
@click.option(
    "--year", type=WHOLE, help="Calendar year, e.g. 2026 (default: the current school year). 年度（默认本学年）。"
)
@school_option
@actor_option
@json_option
def privacy_report(year: int | None, school: str | None, actor: str | None, as_json: bool) -> None:
    """The yearly compliance summary from the audit chain. 年度个人信息保护合规报告。"""
    from casework.services import privacy

    st = state()
    doc = privacy.report(st.ctx(), actor, year, school)
    if as_json:
        echo_json(doc)
        return
    _print_report(doc)


def _print_report(doc: dict[str, Any]) -> None:
    from casework.domain.access import TIER_LABELS
    from casework.domain.vocab import ROLES

    st = state()

    def roles(text: str) -> str:
        return st.join(st.t(ROLES.get(r, r)) for r in text.split("+"))

    if doc["year"] is None:
        period = st.t("school year {start}–{end}", start=doc["school_year"], end=doc["school_year"] + 1)
    else:
        period = str(doc["year"])
    click.echo(st.t("privacy report {year}, school {school}", year=period, school=doc["school_id"]))
    table(
        [st.t("roles"), st.t("tier"), st.t("reads"), st.t("children")],
        [
            (roles(a["roles"]), st.t(TIER_LABELS.get(a["tier"], a["tier"])), a["reads"], a["children"])
            for a in doc["access"]
        ],
        title=st.t("access to personal data"),
    )
    table(
        [st.t("roles"), st.t("attempted"), st.t("attempts")],
        [(roles(d["roles"]), _attempt(st, d["what"]), d["attempts"]) for d in doc["denied"]],
        title=st.t("out-of-scope attempts"),
    )
    exports = ", ".join(f"{k}: {v}" for k, v in doc["exports"].items()) or "0"
    click.echo(st.t("exports") + ": " + exports)
    click.echo(
        st.t(
            "purges: {runs} runs, {children} children",
            runs=doc["purges"]["runs"],
            children=doc["purges"]["children"],
        )
    )
    click.echo(
        st.t(
            "consents: {recorded} recorded, {withdrawn} withdrawn",
            recorded=doc["consents"]["recorded"],
            withdrawn=doc["consents"]["withdrawn"],
        )
    )


COMMANDS = [privacy_group]


_ATTEMPTS = {
    "consent": N_("a counselling record without the guardian's consent"),
    "case": N_("a case outside the record scope"),
    "child": N_("a child outside the record scope"),
    "document": N_("a document outside the record scope"),
    "school": N_("a school where they hold no role"),
}


def _attempt(st: Any, what: str) -> str:
    """What a refused attempt tried, as the access log records it ("write:T2", "event:close",
    "audit.read"), in words."""
    from casework.domain.access import ACTION_LABELS, CAPABILITY_LABELS, TIER_LABELS
    from casework.states import EVENT_LABELS

    head, _, rest = what.partition(":")
    if what in CAPABILITY_LABELS:
        return str(st.t(CAPABILITY_LABELS[what]))
    if what in _ATTEMPTS:
        return str(st.t(_ATTEMPTS[what]))
    if head in ACTION_LABELS and rest:
        tier = rest.rpartition(":")[2]
        return f"{st.t(ACTION_LABELS[head])}{'' if st.lang == 'zh_CN' else ' '}{st.t(TIER_LABELS.get(tier, tier))}"
    if head == "event":
        return str(st.t(EVENT_LABELS.get(rest, rest)))
    if head == "page":
        return str(st.t("the page {page}", page=rest))
    return what
