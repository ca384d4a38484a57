"""Commands on the encryption key: create a key file, rotate the database's key."""

from __future__ import annotations

import click

from casework.commands.common import actor_option, state


@click.group("keys")
def keys_group() -> None:
    """The encryption-at-rest key. 数据加密密钥。"""


@keys_group.command("new")
@click.option("--out", "path", required=True, metavar="FILE", help="Key file to create (mode 0600). 密钥文件。")
def keys_new(path: str) -> None:
    """Create a new random key file; point CASEWORK_KEY_FILE at it. 生成新密钥文件。"""
    from casework.services import keys

    st = state()
    key_id = keys.new_key_file(path)
    click.echo(st.t("created key {key_id} in {path}", key_id=key_id, path=path))


@keys_group.command("rotate")
@click.option("--out", metavar="FILE", help="Write the new key here instead of replacing the key file. 新密钥文件。")
@click.option("--school", metavar="NAME")
@actor_option
def keys_rotate(out: str | None, school: str | None, actor: str | None) -> None:
    """Re-encrypt every sealed value under a new key. 更换密钥并重新加密。"""
    from casework.services import keys

    st = state()
    done = keys.rotate(st.ctx(), actor, out=out, school=school)
    click.echo(
        st.t(
            "resealed {count} values from key {old} to key {new}; the key is now in {path}",
            count=done.values,
            old=done.old_key,
            new=done.new_key,
            path=done.key_file,
        )
    )
    if done.retired_kept:
        click.echo(
            st.t(
                "values are still sealed under retired key(s) {keys}; they stay in the key file",
                keys=", ".join(done.retired_kept),
            )
        )


COMMANDS = [keys_group]
