"""Commands on a child's move to another school: in this database, or to a school elsewhere by a signed package."""

from __future__ import annotations

from typing import Any

import click

from casework.commands.common import ID, State, actor_option, json_option, state
from casework.commands.output import echo_json


@click.group("transfer")
def transfer_group() -> None:
    """A child moves to another school: the file and the case follow. 转学。"""


def _print(st: State, moved: Any, as_json: bool) -> None:
    if as_json:
        echo_json(moved)
        return
    click.echo(
        st.t(
            "child {child} moved from {source} to {target}",
            child=moved.child.name or moved.child.id,
            source=moved.from_school.name,
            target=moved.to_school.name,
        )
    )
    if moved.closed_case_id is not None:
        click.echo(st.t("case {case} closed here (reason 转学); the file is kept read-only", case=moved.closed_case_id))
    if moved.new_case_id is not None:
        click.echo(st.t("the receiving school's case {case} continues the stage", case=moved.new_case_id))
    if moved.package:
        click.echo(st.t("signed package written to {path} (sha256 {sha})", path=moved.package, sha=moved.sha256[:12]))


@transfer_group.command("move")
@click.argument("child_id", type=ID, metavar="CHILD")
@click.option("--to", "to_school", required=True, metavar="SCHOOL", help="A school of this database. 转入学校。")
@actor_option
@json_option
def transfer_move(child_id: int, to_school: str, actor: str | None, as_json: bool) -> None:
    """Move a child to another school of this database; both schools' chains record it. 校内数据库转学。"""
    from casework.services import transfers

    st = state()
    _print(st, transfers.move(st.ctx(), actor, child_id, to_school), as_json)


@transfer_group.command("export")
@click.argument("child_id", type=ID, metavar="CHILD")
@click.option(
    "--to",
    "to_school",
    required=True,
    metavar="SCHOOL",
    help="The receiving school, as it is named there. 接收学校（按对方的校名）。",
)
@click.option(
    "--key",
    "key_path",
    required=True,
    metavar="FILE",
    help="This school's Ed25519 key (audit keygen). 本校的 Ed25519 密钥（audit keygen 生成）。",
)
@click.option(
    "--out", "path", required=True, type=click.Path(dir_okay=False), help="The package to write. 要写入的转学数据包。"
)
@actor_option
@json_option
def transfer_export(child_id: int, to_school: str, key_path: str, path: str, actor: str | None, as_json: bool) -> None:
    """Move a child to a school elsewhere: one signed package of the file and case history. 导出转学包。"""
    from casework.services import transfer_packages

    st = state()
    _print(st, transfer_packages.export_package(st.ctx(), actor, child_id, to_school, key_path, path), as_json)


@transfer_group.command("import")
@click.argument("path", metavar="PACKAGE")
@click.option(
    "--public-key", "public_key", required=True, metavar="FILE", help="The sending school's public key. 转出学校公钥。"
)
@click.option(
    "--school", metavar="NAME", help="School, when the actor works at several. 操作人在多所学校任职时指定学校。"
)
@actor_option
@json_option
def transfer_import(path: str, public_key: str, school: str | None, actor: str | None, as_json: bool) -> None:
    """Receive a child from a school elsewhere; a package that fails verification is refused whole. 导入转学包。"""
    from casework.services import transfer_packages

    st = state()
    _print(st, transfer_packages.import_package(st.ctx(), actor, path, public_key, school), as_json)


COMMANDS = [transfer_group]
