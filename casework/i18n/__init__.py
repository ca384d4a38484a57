"""Languages: the gettext catalogues (zh_CN first, en second) and rendering of Msg values."""

from __future__ import annotations

import gettext
from collections.abc import Iterable, Mapping
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
    # Opened by path: gettext.translation() would import locale to expand the name, for nothing.
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.is_file():
        if lang == "en":
            return gettext.NullTranslations()
        raise FileNotFoundError(f"no compiled catalogue {path}")
    with path.open("rb") as fp:
        return gettext.GNUTranslations(fp)


def gettext_(text: str, lang: str = DEFAULT) -> str:
    return translations(lang).gettext(text)


def code_for(text: str, labels: Mapping[str, str], aliases: Mapping[str, str] | None = None) -> str | None:
    """The code a person means by ``text``: the code itself, its label (the msgid, in any case) or
    the label in any catalogue (制定帮扶计划 for ``plan``), or one of ``aliases``; None if none."""
    value = text.strip()
    if value in labels:
        return value
    folded = value.casefold()
    for code, msgid in labels.items():
        if folded == msgid.casefold() or any(value == gettext_(msgid, lang) for lang in LANGUAGES):
            return code
    if aliases and value in aliases:
        return aliases[value]
    return None


def separator(lang: str) -> str:
    """Between the items of a list: 、 in Chinese, a comma in English."""
    return "、" if lang == "zh_CN" else ", "


def join(items: Iterable[Any], lang: str) -> str:
    return separator(lang).join(str(_render_value(v, lang)) for v in items)


def _render_value(value: Any, lang: str) -> Any:
    if isinstance(value, Msg):
        return render(value, lang)
    if isinstance(value, list | tuple | frozenset | set):
        return join(value, lang)
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
