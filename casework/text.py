"""Translatable message values: what the core says, before anyone picks a language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Msg:
    """A message in the making: an English msgid with named ``{placeholders}``.

    The core builds these without knowing the reader's language; ``casework.i18n.render``
    looks the msgid up in the gettext catalogue. A third-party rule module that ships its
    own wording passes ``translations`` (language -> template) instead of touching ours.
    Parameter values may themselves be ``Msg`` (a state's label, say) and are rendered too.
    """

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    translations: Mapping[str, str] = field(default_factory=dict)


def N_(msgid: str) -> str:
    """Mark a string for extraction into the catalogue without translating it here."""
    return msgid
