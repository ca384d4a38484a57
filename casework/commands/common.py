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
    _ctx: Context | None = field(default=None, repr=False)

    def ctx(self) -> Context:
        if self._ctx is None:
            from casework.services import runtime

            self._ctx = runtime.open_context(self.db_url, self.lang, self.settings_path, self.check_schema)
        return self._ctx

    def t(self, msg: Msg | str, **params: Any) -> str:
        if params:
            msg = Msg(msg if isinstance(msg, str) else msg.msgid, params)
        return i18n.render(msg, self.lang)


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
