"""Commands of the auditor: verify the hash chain, export it."""

from __future__ import annotations

import click

from casework.commands.common import actor_option, json_option, state
from casework.commands.output import echo_json


@click.group("audit")
def audit_group() -> None:
    """The audit trail. 审计记录。"""


@audit_group.command("verify")
@click.option("--checkpoint", metavar="FILE", help="Also check against a signed checkpoint. 对照签名检查点。")
@click.option(
    "--public-key", metavar="FILE", help="The checkpoint must be signed with this key. 检查点须由此密钥签名。"
)
@actor_option
@json_option
def audit_verify(checkpoint: str | None, public_key: str | None, actor: str | None, as_json: bool) -> None:
    """Recompute the hash chain; exit 1 naming the first bad event. 校验审计链。"""
    from casework.audit import PROBLEM_KINDS
    from casework.services.audit import chain
    from casework.services.audit import checkpoint as checkpoints

    st = state()
    st.need_key = False  # the chain holds no sealed value: an auditor needs no key to the children's records
    checked = checkpoints.check(st.ctx(), actor, checkpoint, public_key) if checkpoint else None
    result = checked.result if checked else chain.verify_as(st.ctx(), actor)
    problem = result.problem
    if as_json:
        echo_json(
            {
                "ok": result.ok,
                "events": result.events,
                "schools": result.schools,
                "problem": None if problem is None else problem.__dict__,
                "checkpoint": None
                if checked is None
                else {
                    "path": checkpoint,
                    "created": checked.created,
                    "key_id": checked.key_id,
                    "pinned": checked.pinned,
                },
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
        if checked is not None:
            key = (
                st.t("the key in {path}, key id {key}", path=public_key, key=checked.key_id)
                if checked.pinned
                else st.t(
                    "the key embedded in the checkpoint, key id {key} (pin it with --public-key)", key=checked.key_id
                )
            )
            click.echo(
                st.t(
                    "checkpoint {path} of {created} checked: every event it saw is unchanged; signed with {key}",
                    path=checkpoint,
                    created=checked.created[:19].replace("T", " "),
                    key=key,
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
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "xlsx"]), default="jsonl", show_default=True)
@click.option("--out", "path", required=True, type=click.Path(dir_okay=False, writable=True))
@actor_option
def audit_export(fmt: str, path: str, actor: str | None) -> None:
    """Stream the audit events of your schools to a file; phone and ID numbers masked unless your
    role reads contact data. 导出审计记录（无权查看联系信息的角色看到的电话、身份证号已遮蔽）。"""
    from casework.services.audit import chain

    st = state()
    exported = chain.export_file(st.ctx(), actor, fmt, path)
    click.echo(st.t("{count} events written to {path}", count=exported.events, path=path))
    if exported.masked:
        click.echo(st.t("phone and ID numbers in the events are masked"))


@audit_group.command("keygen")
@click.option(
    "--out",
    "path",
    required=True,
    metavar="FILE",
    help="Private key file; the public key goes to FILE.pub. 私钥文件；公钥写入 文件.pub。",
)
def audit_keygen(path: str) -> None:
    """Make an Ed25519 key pair for signing checkpoints. 生成签名密钥。"""
    from casework.services.audit import checkpoint

    st = state()
    public = checkpoint.keygen(path)
    click.echo(st.t("signing key written to {path}, public key to {public}", path=path, public=public))


@audit_group.command("checkpoint")
@click.option(
    "--out",
    "path",
    required=True,
    metavar="FILE",
    help="Where to write it: keep it outside the database. 写入位置：请与数据库分开保管。",
)
@click.option(
    "--key",
    "key",
    required=True,
    metavar="FILE",
    envvar="CASEWORK_AUDIT_KEY",
    help="Ed25519 private key. Ed25519 私钥。",
)
@actor_option
def audit_checkpoint(path: str, key: str, actor: str | None) -> None:
    """Write a signed digest of your schools' chains. 写入签名检查点。"""
    from casework.services.audit import checkpoint

    st = state()
    st.need_key = False
    written = checkpoint.write(st.ctx(), actor, path, key)
    click.echo(
        st.t(
            "checkpoint of {events} events in {schools} school(s) written to {path}",
            events=written.events,
            schools=written.schools,
            path=path,
        )
    )


COMMANDS = [audit_group]
