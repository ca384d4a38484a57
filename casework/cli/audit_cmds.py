"""Commands of the auditor: verify the hash chain, export it."""

from __future__ import annotations

import click

from casework.cli.app import json_option, state
from casework.cli.output import echo_json


@click.group("audit")
def audit_group() -> None:
    """The audit trail. 审计记录。"""


@audit_group.command("verify")
@json_option
def audit_verify(as_json: bool) -> None:
    """Recompute the hash chain; exit 1 naming the first bad event. 校验审计链。"""
    from casework.audit import PROBLEM_KINDS
    from casework.services import trail

    st = state()
    result = trail.verify(st.ctx())
    problem = result.problem
    if as_json:
        echo_json(
            {
                "ok": result.ok,
                "events": result.events,
                "schools": result.schools,
                "problem": None if problem is None else problem.__dict__,
            }
        )
    elif problem is None:
        click.echo(
            st.t(
                "audit chain intact: {events} events in {schools} school(s)",
                events=result.events,
                schools=result.schools,
            )
        )
    else:
        click.echo(
            st.t(
                "audit chain broken at school {school}, sequence {seq}: {kind} ({detail})",
                school=problem.school_id,
                seq=problem.seq,
                kind=st.t(PROBLEM_KINDS[problem.kind]),
                detail=problem.detail,
            ),
            err=True,
        )
    if problem is not None:
        raise SystemExit(1)


@audit_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--out", "path", required=True, type=click.Path(dir_okay=False, writable=True))
def audit_export(fmt: str, path: str) -> None:
    """Stream every audit event to a file. 导出审计记录。"""
    from casework.services import trail

    st = state()
    count = trail.export_file(st.ctx(), fmt, path)
    click.echo(st.t("{count} events written to {path}", count=count, path=path))


COMMANDS = [audit_group]
