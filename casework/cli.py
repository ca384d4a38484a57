"""The command-line entry point: the root group, its global options, the one place errors become exit codes, main()."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Mapping, Sequence
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
    text = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
    lowered = text.lower()
    url = st.db_url if st else DEFAULT_DB
    lang = st.lang if st else i18n.DEFAULT
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return i18n.render(Msg("the database {db} is not initialised: run 'casework init'", {"db": url}), lang)
    if _disk_full(exc, lowered) or ("disk i/o error" in lowered and _no_space_beside(url)):
        return i18n.render(
            Msg(
                "the disk holding {db} is full: nothing was written; free some space and run the command again",
                {"db": url},
            ),
            lang,
        )
    return i18n.render(Msg("database error ({db}): {error}", {"db": url, "error": text}), lang)


def _disk_full(exc: Exception, lowered: str) -> bool:
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, OSError) and orig.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if getattr(orig, "sqlite_errorcode", None) == 13:  # SQLITE_FULL
        return True
    return "disk is full" in lowered or "no space left" in lowered or getattr(orig, "sqlstate", None) == "53100"


def _no_space_beside(url: str) -> bool:
    """Whether the folder of a SQLite file has no space left: SQLite often says only "disk I/O
    error" when the WAL's shared memory cannot grow on a full disk."""
    from casework.persistence.db import sqlite_path

    path = sqlite_path(url)
    if path is None:
        return False
    try:
        free = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return False
    return free.f_bavail == 0


# The drivers' own errors, raised by the hot path's raw connection and by Alembic without
# SQLAlchemy's wrapping: each becomes one line and exit 1, as SQLAlchemy's do.
_DRIVER_MODULES = ("sqlalchemy", "sqlite3", "psycopg", "alembic")


def _is_driver_error(exc: Exception) -> bool:
    return any(type(exc).__module__.split(".")[0] == name for name in _DRIVER_MODULES)


def _os_problem(exc: OSError, st: State | None) -> str:
    lang = st.lang if st else i18n.DEFAULT
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _database_problem(exc, st)
    where = exc.filename if exc.filename is not None else (st.db_url if st else DEFAULT_DB)
    return i18n.render(
        Msg("cannot read or write {path}: {error}", {"path": str(where), "error": exc.strerror or str(exc)}), lang
    )


def _not_text(args: Sequence[str], environ: Mapping[str, str]) -> Msg | None:
    """What is wrong with the first argument or CASEWORK_* variable that is not valid UTF-8 (Python
    hands such bytes on as lone surrogates, which no database or terminal takes), else None."""
    for position, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape" if _escapable(arg) else "backslashreplace")
            value = shown.decode("ascii", "backslashreplace")
            return Msg("argument {n} ({value}) is not valid UTF-8 text", {"n": position, "value": value})
    for name, value in environ.items():
        if name.startswith("CASEWORK_"):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return Msg("{name} is not valid UTF-8 text", {"name": name})
    return None


def _escapable(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
        return True
    except UnicodeEncodeError:
        return False


def _early_lang(args: Sequence[str]) -> str:
    """The language asked for, read before click parses anything (the arguments may not parse)."""
    wanted = os.environ.get("CASEWORK_LANG") or i18n.DEFAULT
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            wanted = args[i + 1]
        elif arg.startswith("--lang="):
            wanted = arg.split("=", 1)[1]
    try:
        return i18n.normalise(wanted)
    except (ValueError, UnicodeError):
        return i18n.DEFAULT


class App(click.Group):
    def main(self, args: Sequence[str] | None = None, *pos: Any, **kwargs: Any) -> Any:
        given = list(sys.argv[1:] if args is None else args)
        problem = _not_text(given, os.environ)
        if problem is not None:  # refused before parsing: click would fail on it somewhere inside
            click.echo(i18n.render(problem, _early_lang(given)), err=True)
            sys.exit(1)
        return super().main(given, *pos, **kwargs)

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
        except OSError as exc:  # a full disk, a file gone from under us: the driver's or ours
            if exc.errno == errno.EPIPE:
                raise  # the reader went away: click's main handles that quietly
            click.echo(_os_problem(exc, ctx.find_object(State)), err=True)
            ctx.exit(1)
        except Exception as exc:
            if _is_driver_error(exc):
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
