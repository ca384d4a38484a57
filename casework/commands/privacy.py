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


school_option = click.option("--school", metavar="NAME", help="Needed if you work at more than one school.")


@privacy_group.command("purge")
@click.option(
    "--retention-days",
    type=WHOLE,
    metavar="N",
    help="Keep data this many days after a child's last case closed (default: settings, 1095).",
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
@click.option("--year", type=WHOLE, required=True, help="Calendar year, e.g. 2026. 年度。")
@school_option
@actor_option
@json_option
def privacy_report(year: int, school: str | None, actor: str | None, as_json: bool) -> None:
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
        return "、".join(st.t(ROLES.get(r, r)) for r in text.split("+"))

    click.echo(st.t("privacy report {year}, school {school}", year=doc["year"], school=doc["school_id"]))
    table(
        [st.t("roles"), st.t("tier"), st.t("reads"), st.t("children")],
        [
            (roles(a["roles"]), f"{a['tier']} {st.t(TIER_LABELS.get(a['tier'], ''))}", a["reads"], a["children"])
            for a in doc["access"]
        ],
        title=st.t("access to personal data"),
    )
    table(
        [st.t("roles"), st.t("attempted"), st.t("attempts")],
        [(roles(d["roles"]), d["what"], d["attempts"]) for d in doc["denied"]],
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
