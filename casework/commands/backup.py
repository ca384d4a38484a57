"""The backup command: a consistent copy of the database, the key kept apart."""

from __future__ import annotations

import click

from casework.commands.common import actor_option, state


@click.command("backup")
@click.option("--out", required=True, metavar="FILE", help="The backup file to write (never overwritten). 备份文件。")
@actor_option
def backup_cmd(out: str, actor: str | None) -> None:
    """Write a consistent copy of the database; the key is not in it. 备份数据库（不含密钥）。"""
    from casework.services import backup

    st = state()
    made = backup.make(st.ctx(), actor, out)
    click.echo(
        st.t(
            "backup of {schools} school(s) written to {path} ({method}, {size} bytes)",
            schools=made.schools,
            path=made.path,
            method=made.method,
            size=made.size,
        )
    )
    if made.key_id is not None:
        click.echo(
            st.t(
                "its values are sealed under key {key_id}: keep that key file, apart from the backup, "
                "or the backup cannot be read",
                key_id=made.key_id,
            )
        )


COMMANDS = [backup_cmd]
