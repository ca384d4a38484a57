"""What every command shares: the parsed root options (State), the actor and --json options."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from casework import i18n
from casework.errors import InvalidInput
from casework.text import Msg

if TYPE_CHECKING:
    from casework.services import Context

DEFAULT_DB = "casework.db"


@dataclass
class State:
    """What the root command parsed; the service Context is built on first use."""

    db_url: str
    lang: str
    settings_path: str | None = None
    actor: str | None = None  # the root's --as (or CASEWORK_ACTOR); a command's own --as wins
    check_schema: bool = True
    # False for the commands that read no sealed value (verifying the audit chain): they run without the key.
    need_key: bool = True
    _ctx: Context | None = field(default=None, repr=False)

    def ctx(self) -> Context:
        if self._ctx is None:
            from casework.services import runtime

            self._ctx = runtime.open_context(
                self.db_url, self.lang, self.settings_path, self.check_schema, need_key=self.need_key
            )
            release_collector()
        return self._ctx

    def join(self, items: Iterable[Any]) -> str:
        """Items (texts or Msg labels) as a list in the chosen language (、 or ", ")."""
        return i18n.join(items, self.lang)

    def t(self, msg: Msg | str, **params: Any) -> str:
        if params:
            msg = Msg(msg if isinstance(msg, str) else msg.msgid, params)
        return i18n.render(msg, self.lang)


class Whole(click.ParamType[int, Any]):
    """A whole number within what the databases hold (64-bit): 99999999999999999999 is refused as bad
    input, with the parameter's name, rather than overflowing the driver."""

    name = "integer"

    def __init__(self, low: int, high: int, what: str = "integer") -> None:
        self.low, self.high, self.name = low, high, what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """A usage error (exit 2, as click's own int type gives) with the reason in the reader's language."""
        from casework.errors import InvalidInput

        if isinstance(value, int):
            return value
        try:
            return self._parse(value, param)
        except InvalidInput as exc:
            st = ctx.find_object(State) if ctx is not None else None
            self.fail(i18n.render(exc.msg, st.lang if st else i18n.DEFAULT), param, ctx)

    def _parse(self, value: Any, param: click.Parameter | None) -> int:
        from casework.domain import limits
        from casework.errors import InvalidInput

        field = _param_name(param)
        if self.name == "id":
            return limits.parse_id(value, field)
        text = str(value).strip()
        try:
            number = int(text, 10) if text.lstrip("+-").isascii() else int("x")
        except ValueError:
            raise InvalidInput("{field}: '{value}' is not a whole number", field=field, value=text[:40]) from None
        if not self.low <= number <= self.high:
            raise InvalidInput(
                "{field}: {value} is outside {low}–{high}", field=field, value=text[:40], low=self.low, high=self.high
            )
        return number


def _param_name(param: click.Parameter | None) -> str:
    if param is None:
        return "value"
    if isinstance(param, click.Option) and param.opts:
        return max(param.opts, key=len)
    return param.human_readable_name


_TOP = 2**63 - 1
ID = Whole(1, _TOP, "id")  # a case, child, meeting, document or plan item id
WHOLE = Whole(-_TOP - 1, _TOP)  # any other whole number that may reach the database


# A command is one short process that spends most of its time importing modules and declaring the
# mapped tables: objects that live as long as the process. The cyclic garbage collector would walk
# them again and again while they load (about a tenth of a read command's CPU time) and find little
# to free. casework.cli.main holds the collector while a command loads; opening the command's
# Context releases it.
_collector_held = False


def hold_collector() -> None:
    """Turn the cyclic garbage collector off until release_collector (casework.cli.main, at start)."""
    global _collector_held
    if gc.isenabled():
        gc.disable()
        _collector_held = True


def release_collector() -> None:
    """The command's modules are loaded: collect garbage as usual from here on (a long command, the
    web server, must not grow). A no-op unless held."""
    global _collector_held
    if _collector_held:
        _collector_held = False
        gc.enable()


def state() -> State:
    obj = click.get_current_context().find_object(State)
    assert obj is not None
    return obj


ACTOR_HELP = "Acting staff member (id or name), before or after the command; or CASEWORK_ACTOR. 操作人。"


def _actor(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A command's --as, else the root's (given before the command, or CASEWORK_ACTOR)."""
    st = ctx.find_object(State)
    if value is not None:
        if st is not None:
            st.actor = value
        return value
    return st.actor if st is not None else None


# One option, accepted by every command (casework.cli adds it where a command does not take it).
actor_option = click.option("--as", "actor", metavar="STAFF", callback=_actor, help=ACTOR_HELP)


def accept_actor(command: click.Command) -> None:
    """Give a command that acts as nobody in particular the --as every other command takes, so the
    option (or CASEWORK_ACTOR) is never refused as unknown."""
    if any(p.name == "actor" for p in command.params):
        return
    command.params.append(
        click.Option(["--as", "actor"], metavar="STAFF", callback=_actor, expose_value=False, help=ACTOR_HELP)
    )


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document. 输出JSON。")
school_year_option = click.option(
    "--year",
    "school_year",
    type=WHOLE,
    required=True,
    help="School year, e.g. 2026 for 2026–2027. 学年，如 2026 表示 2026—2027 学年。",
)


class Vocab(click.ParamType[str]):
    """A value of a closed vocabulary given as its code or as its label in either language
    (制定帮扶计划 or ``plan``); the command receives the code. Anything else is bad input (exit 1)
    naming the labels in the chosen language."""

    name = "vocab"

    def __init__(self, labels: str, aliases: str | None = None) -> None:
        # "module:NAME", imported when a value is converted: naming the vocabulary costs no import
        self._labels = labels
        self._aliases = aliases

    @staticmethod
    def _load(where: str) -> Mapping[str, str]:
        import importlib

        module, _, name = where.partition(":")
        found: Mapping[str, str] = getattr(importlib.import_module(module), name)
        return found

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str | None:
        return (param.name or "value").upper() if isinstance(param, click.Argument) else "VALUE"

    def labels(self) -> Mapping[str, str]:
        return self._load(self._labels)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        labels = self._load(self._labels)
        aliases = self._load(self._aliases) if self._aliases else None
        code = i18n.code_for(str(value), labels, aliases)
        if code is None:
            choices = [Msg(label) for label in labels.values()]
            if isinstance(param, click.Option):
                raise InvalidInput(
                    "{option}: '{value}' is not one of {choices}",
                    option=max(param.opts, key=len),
                    value=value,
                    choices=choices,
                )
            raise InvalidInput("'{value}' is not one of {choices}", value=value, choices=choices)
        return code
