"""The command-line entry point: the root group, its global options, the one place errors become exit codes, main()."""

from __future__ import annotations

import sys
from typing import Any

import click

from casework import errors, i18n
from casework.commands.common import DEFAULT_DB, State
from casework.text import Msg

# One exit code per error class, here and nowhere else.
EXIT_CODES: dict[type[errors.CaseworkError], int] = {
    errors.TransitionRefused: 3,
    errors.Conflict: 4,
    errors.PermissionDenied: 5,
    errors.InvalidInput: 1,
    errors.NotFound: 1,
    errors.CaseworkError: 1,
}


def exit_code(exc: errors.CaseworkError) -> int:
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


def _database_problem(exc: Exception, st: State | None) -> str:
    text = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
    lowered = text.lower()
    url = st.db_url if st else DEFAULT_DB
    lang = st.lang if st else i18n.DEFAULT
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return i18n.render(Msg("the database {db} is not initialised: run 'casework init'", {"db": url}), lang)
    return i18n.render(Msg("database error ({db}): {error}", {"db": url, "error": text}), lang)


class App(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._invoke(ctx)
        finally:
            st = ctx.find_object(State)
            if st is not None and st._ctx is not None:
                st._ctx.db.dispose()  # close the pool's connections: one command, one use

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except errors.CaseworkError as exc:
            st = ctx.find_object(State)
            lang = st.lang if st else i18n.DEFAULT
            click.echo(i18n.render(exc.msg, lang), err=True)
            if isinstance(exc, errors.TransitionRefused):
                for verdict in exc.verdicts:
                    click.echo(
                        f"  - [{verdict.rule}.{verdict.code}] {i18n.render(verdict.message, lang)}",
                        err=True,
                    )
            ctx.exit(exit_code(exc))
        except Exception as exc:
            if type(exc).__module__.startswith("sqlalchemy"):
                click.echo(_database_problem(exc, ctx.find_object(State)), err=True)
                ctx.exit(1)
            raise


def _lang_callback(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    try:
        return i18n.normalise(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group(cls=App, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="CASEWORK_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite file or database URL (postgresql+psycopg://…). 数据库。",
)
@click.option(
    "--lang",
    envvar="CASEWORK_LANG",
    default="zh_CN",
    show_default=True,
    callback=_lang_callback,
    help="zh_CN or en. 语言。",
)
@click.option(
    "--settings",
    "settings_path",
    envvar="CASEWORK_SETTINGS",
    metavar="FILE",
    help="Settings file (default ./casework.toml if present). 配置文件。",
)
@click.version_option(package_name="casework")
@click.pass_context
def cli(ctx: click.Context, db_url: str, lang: str, settings_path: str | None) -> None:
    """casework: case management for left-behind and at-risk children.

    留守儿童关爱个案管理：摸底建档 → 评估分类 → 个别帮扶计划 → 结对帮扶 → 阶段性评估。
    """
    ctx.obj = State(db_url=db_url, lang=lang, settings_path=settings_path)


def _register() -> None:
    from casework.commands import (
        audit,
        backup,
        care,
        case,
        child,
        doc,
        keys,
        notify,
        privacy,
        record,
        review,
        roster,
        rules,
        serve,
        setup,
        transfer,
    )

    for module in (
        setup,
        child,
        case,
        record,
        care,
        rules,
        review,
        notify,
        audit,
        roster,
        transfer,
        keys,
        backup,
        privacy,
        doc,
        serve,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)


def main() -> None:
    _register()
    cli.main(
        prog_name="casework",
        args=sys.argv[1:],
        windows_expand_args=False,
        auto_envvar_prefix=None,
        standalone_mode=True,
    )


def app() -> click.Group:
    """The fully assembled command group (tests and the docs generator use this)."""
    if not cli.commands:
        _register()
    return cli
