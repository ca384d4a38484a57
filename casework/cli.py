"""The command-line entry point: the root group, its global options, the one place errors become exit codes, main()."""

from __future__ import annotations

import errno
import gc
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from casework import errors, i18n
from casework.commands.common import DEFAULT_DB, State, accept_actor, hold_collector, release_collector
from casework.text import Msg

# One exit code per error class, here and nowhere else.
EXIT_CODES: dict[type[errors.CaseworkError], int] = {
    errors.TransitionRefused: 3,
    errors.ConsentMissing: 3,
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


# What `casework --help` says of each command, so that listing them imports none of their modules
# (a test keeps each equal to the first line of the command's own help).
SUMMARIES: dict[str, str] = {
    "init": "Create or upgrade the database. 初始化或升级数据库。",
    "demo": "Build a demonstration school and take cases through every stage. 演示。",
    "class": "Classes of a school. 班级。",
    "staff": "Staff members and their roles. 教职工。",
    "child": "Children, their file and contact card. 儿童档案与联络卡。",
    "case": "Cases and their moves through the stages. 个案。",
    "record": "Record what a stage needs. 记录各阶段材料。",
    "care": "School-wide care: seminars, activities, stars, groups. 学校关爱活动。",
    "rules": "Rule modules in force. 规则模块。",
    "evaluate": "Score mentors and class teachers, and the pupils' awards. 考核及奖励。",
    "review": "The leadership group's review of stalled cases. 领导小组评估。",
    "report": "Reports for the leadership group. 报表。",
    "notify": "Reminders: the daily digests the sweep writes to the outbox. 提醒通知。",
    "audit": "The audit trail. 审计记录。",
    "import": "Bring a school's registers in. 导入花名册。",
    "export": "Write children or cases to a spreadsheet. 导出。",
    "year": "The school year. 学年。",
    "transfer": "A child moves to another school: the file and the case follow. 转学。",
    "keys": "The encryption-at-rest key. 数据加密密钥。",
    "backup": "Write a consistent copy of the database; the key is not in it. 备份数据库（不含密钥）。",
    "privacy": "Retention purge and the yearly compliance report. 数据保留与合规。",
    "doc": "Stage documents: plans, record cards, reports. 个案文书。",
    "serve": "Start the web application. 启动网页服务。",
}

# Which module of casework.commands defines each top-level command: a command's module is imported
# when that command runs, so that `casework case list` imports no other group.
COMMAND_MODULES: dict[str, str] = {
    "init": "setup",
    "demo": "setup",
    "class": "setup",
    "staff": "setup",
    "child": "child",
    "case": "case",
    "record": "record",
    "care": "care",
    "rules": "rules",
    "evaluate": "rules",
    "review": "review",
    "report": "review",
    "notify": "notify",
    "audit": "audit",
    "import": "roster",
    "export": "roster",
    "year": "roster",
    "transfer": "transfer",
    "keys": "keys",
    "backup": "backup",
    "privacy": "privacy",
    "doc": "doc",
    "serve": "serve",
}


class App(click.Group):
    lang: str | None = None

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        from casework.commands import toolkit

        given = list(sys.argv[1:] if args is None else args)
        self.lang = toolkit.language(given)
        problem = _not_text(given, os.environ)
        if problem is not None:  # refused before parsing: click would fail on it somewhere inside
            click.echo(i18n.render(problem, self.lang), err=True)
            sys.exit(1)
        toolkit.localise(self, self.lang)
        return super().main(given, *rest, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from SUMMARIES, in this run's language, without importing the commands."""
        from casework.commands import toolkit

        lang = self.lang
        names = self.list_commands(ctx)
        if lang is None:  # not run through main(): the texts as written (the CLI reference)
            rows, heading = [(name, SUMMARIES[name]) for name in names], "Commands"
        else:
            rows = [(name, toolkit.help_text(SUMMARIES[name], lang)) for name in names]
            heading = toolkit.word("Commands", lang)
        with formatter.section(heading):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            self.load(COMMAND_MODULES[cmd_name])
        return self.commands.get(cmd_name)

    def load(self, module_name: str) -> None:
        """Add the commands of one module of casework.commands, each taking --as, in this run's language."""
        import importlib

        from casework.commands import toolkit

        module = importlib.import_module(f"casework.commands.{module_name}")
        for command in module.COMMANDS:
            self.add_command(command)
            _every_command(command, accept_actor)
            if self.lang is not None:
                toolkit.localise_command(command, self.lang)

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
                for verdict in exc.verdicts:  # the rule codes are in --json and the audit trail
                    click.echo(f"  - {i18n.render(verdict.message, lang)}", err=True)
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


def _default_language() -> str:
    from casework.commands.toolkit import default_language

    return default_language()


def _lang_callback(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    try:
        return i18n.normalise(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group("casework", cls=App, context_settings={"help_option_names": ["-h", "--help"]})
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
    default=_default_language,
    show_default="zh_CN",
    callback=_lang_callback,
    help="zh_CN or en (en also when LANG is en*). 语言：zh_CN 或 en（LANG 为 en* 时默认 en）。",
)
@click.option(
    "--settings",
    "settings_path",
    envvar="CASEWORK_SETTINGS",
    metavar="FILE",
    help="Settings file (default ./casework.toml if present). 配置文件。",
)
@click.option(
    "--as",
    "actor",
    envvar="CASEWORK_ACTOR",
    metavar="STAFF",
    help="Acting staff member (id or name), for every command; or CASEWORK_ACTOR. 操作人。",
)
@click.version_option(package_name="casework")
@click.pass_context
def cli(ctx: click.Context, db_url: str, lang: str, settings_path: str | None, actor: str | None) -> None:
    """casework: case management for left-behind and at-risk children.

    留守儿童关爱个案管理：摸底建档 → 评估分类 → 个别帮扶计划 → 结对帮扶 → 阶段性评估。
    """
    ctx.obj = State(db_url=db_url, lang=lang, settings_path=settings_path, actor=actor)


def _register() -> None:
    for module_name in dict.fromkeys(COMMAND_MODULES.values()):
        if not all(name in cli.commands for name, m in COMMAND_MODULES.items() if m == module_name):
            cli.load(module_name)


def _every_command(command: click.Command, give: Callable[[click.Command], None]) -> None:
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _every_command(sub, give)
    else:
        give(command)


def main() -> None:
    hold_collector()  # released when the command opens its Context (commands.common.release_collector)
    try:
        cli.main(
            prog_name="casework",
            args=sys.argv[1:],
            windows_expand_args=False,
            auto_envvar_prefix=None,
            standalone_mode=True,
        )
    finally:
        # The process ends: what is left is freed with it. Frozen, the interpreter's last collections
        # skip it (about a fifth of a read command's CPU time went to tearing down what it imported).
        # The database's connections were closed by App.invoke. The collector is on again first,
        # whatever path the command took (one that opened no context, or failed opening it).
        release_collector()
        gc.freeze()


def app() -> click.Group:
    """The fully assembled command group (tests and the docs generator use this)."""
    _register()
    return cli
