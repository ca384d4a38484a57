"""What every command shares: the parsed root options (State), the actor and --json options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from casework import i18n
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
        return self._ctx

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


def state() -> State:
    obj = click.get_current_context().find_object(State)
    assert obj is not None
    return obj


actor_option = click.option(
    "--as",
    "actor",
    envvar="CASEWORK_ACTOR",
    metavar="STAFF",
    help="Acting staff member (id or name); or CASEWORK_ACTOR. 操作人。",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document. 输出JSON。")
