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


# Control characters (C0, DEL, C1) and the bidirectional formatting ones: what would rewrite a
# terminal (ANSI escapes, a title set by OSC) or reorder what it shows, if printed raw.
_UNPRINTABLE = {
    **{c: None for c in range(0x20) if c not in (0x0A,)},
    **{c: None for c in range(0x7F, 0xA0)},
    **{c: None for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}
_ESCAPES = {c: f"\\u{c:04x}" if c > 0xFF else f"\\x{c:02x}" for c in _UNPRINTABLE}


def printable(text: str) -> str:
    """``text`` with control and text-direction characters written as escapes (``\\x1b``, ``\\u202e``):
    a value stored before such characters were refused is shown, never obeyed by the terminal.
    Lone surrogates are escaped too (they cannot be printed)."""
    if text.isprintable():
        return text
    out = text.translate(_ESCAPES)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in out):
        out = "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in out)
    return out


def help_parts(text: str) -> tuple[str, str]:
    """A help text as written, "Show a case. 查看个案。", as ("Show a case.", "查看个案。"): the English
    part is the catalogue's msgid (the extractor takes it with this same function), the Chinese
    tag what follows the last sentence when it holds Chinese (the fallback if untranslated)."""
    import inspect

    stripped = inspect.cleandoc(text).strip()
    end = max(stripped.rfind(". "), stripped.rfind(".\n"))
    head, tail = (stripped[: end + 1], stripped[end + 1 :].strip()) if end != -1 else ("", stripped)
    if not _chinese(tail):
        return stripped, ""
    if head and not _chinese(head[:1]):
        return head.strip(), tail
    return "", tail


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
