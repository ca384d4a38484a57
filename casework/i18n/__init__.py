"""Languages: the gettext catalogues (zh_CN first, en second) and rendering of Msg values."""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from casework.memo import Kept
from casework.text import Msg, printable

DOMAIN = "casework"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("zh_CN", "en")
DEFAULT = "zh_CN"

_ALIASES = {
    "zh": "zh_CN",
    "zh-cn": "zh_CN",
    "zh_cn": "zh_CN",
    "zh-hans": "zh_CN",
    "en": "en",
    "en-us": "en",
    "en_us": "en",
    "en-gb": "en",
}


def normalise(lang: str | None) -> str:
    """Map what a user types (zh, zh-CN, en_US.UTF-8, …) to a catalogue name."""
    if not lang:
        return DEFAULT
    key = lang.split(".")[0].strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(f"unknown language '{lang}'; use zh_CN or en")


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang``; English falls back to the msgids themselves."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=lang == "en")


def gettext_(text: str, lang: str = DEFAULT) -> str:
    return translations(lang).gettext(text)


def _render_value(value: Any, lang: str) -> Any:
    if isinstance(value, Msg):
        return render(value, lang)
    if isinstance(value, list | tuple):
        sep = "、" if lang == "zh_CN" else ", "
        return sep.join(str(_render_value(v, lang)) for v in value)
    if isinstance(value, str):
        return printable(value)  # a name stored with an escape sequence is shown, not obeyed
    return value


def render(msg: Msg | str, lang: str = DEFAULT) -> str:
    """Translate a Msg's template, then fill its parameters (rendered in the same language)."""
    if isinstance(msg, str):
        return gettext_(msg, lang)
    template = msg.translations.get(lang) or gettext_(msg.msgid, lang)
    params: Mapping[str, Any] = {k: _render_value(v, lang) for k, v in msg.params.items()}
    return template.format(**params)


def both(msg: Msg) -> dict[str, str]:
    """The message in every language, as audit events and verdict records keep it."""
    return dict(_rendered.get(msg, lambda: {lang: render(msg, lang) for lang in LANGUAGES}))


_rendered: Kept[dict[str, str]] = Kept()
