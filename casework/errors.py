"""The error hierarchy; each class maps to exactly one CLI exit code (casework.cli)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from casework.text import Msg


class CaseworkError(Exception):
    """Base of every error the program reports to its user as one clear line."""

    def __init__(self, msg: Msg | str, **params: Any) -> None:
        self.msg = msg if isinstance(msg, Msg) else Msg(msg, params)
        super().__init__(self.msg.msgid.format(**_plain(self.msg.params)))


def _plain(params: Any) -> dict[str, Any]:
    return {k: _plain_value(v) for k, v in dict(params).items()}


def _plain_value(value: Any) -> Any:
    if isinstance(value, Msg):
        return value.msgid
    if isinstance(value, list | tuple):
        return ", ".join(str(_plain_value(v)) for v in value)
    return value


class InvalidInput(CaseworkError):
    """Bad input: a malformed date or phone number, a missing field, a wrong choice.

    ``field`` names the input field it is about, where one is (a form shows the message beside it).
    """

    field: str | None = None


class NotFound(CaseworkError):
    """An id or name that names nothing."""


class Conflict(CaseworkError):
    """The record changed meanwhile, or a uniqueness rule would be broken."""


class PermissionDenied(CaseworkError):
    """The acting staff member may not do this.

    ``denial`` (casework.services.access.Denial) says what was attempted, for the access log.
    """

    denial: Any = None
    reported = False  # set once the service layer has logged the denial


class ConsentMissing(PermissionDenied):
    """A counselling record refused because no guardian's consent in force covers it.

    Not a matter of the person's role (anyone would be refused): the CLI reports it as a refusal
    (exit 3, as a refused move), while the attempt is still logged as a denial in the access log.
    """


class TransitionRefused(CaseworkError):
    """A move refused by the workflow table or by rules; carries every failing verdict.

    The verdicts are ``casework.rules.Verdict`` values, typed loosely here because the
    error layer sits below the rules layer.
    """

    def __init__(self, msg: Msg | str, verdicts: Sequence[Any] = (), **params: Any) -> None:
        super().__init__(msg, **params)
        self.verdicts = list(verdicts)
