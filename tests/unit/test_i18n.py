"""The catalogues: every message in the code has a zh_CN translation, and the .mo files are current."""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from casework import i18n
from casework.text import Msg

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "casework" / "i18n" / "locale"
KEYWORDS = {
    k: None
    for k in (
        "N_",
        "Msg",
        "t",
        "gettext_",
        "InvalidInput",
        "NotFound",
        "Conflict",
        "PermissionDenied",
        "TransitionRefused",
        "CaseworkError",
    )
}


def code_msgids() -> set[str]:
    found = extract_from_dir(str(ROOT / "casework"), method_map=[("**.py", "python")], keywords=KEYWORDS)
    return {msg if isinstance(msg, str) else msg[0] for _, _, msg, _, _ in found if msg}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_message_is_translated(lang: str) -> None:
    with open(LOCALES / lang / "LC_MESSAGES" / "casework.po", "rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(code_msgids() - translated)
    assert not missing, f"run 'make i18n' and translate in {lang}/casework.po: {missing}"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_compiled_catalogue_matches_po(lang: str) -> None:
    folder = LOCALES / lang / "LC_MESSAGES"
    with open(folder / "casework.po", "rb") as f:
        catalog = read_po(f)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    fresh = gettext.GNUTranslations(buffer)
    with open(folder / "casework.mo", "rb") as f:
        shipped = gettext.GNUTranslations(f)
    # The header ('') holds the creation time babel stamps on a catalogue without one: not a message.
    fresh_messages = {k: v for k, v in fresh._catalog.items() if k != ""}  # type: ignore[attr-defined]
    shipped_messages = {k: v for k, v in shipped._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert fresh_messages == shipped_messages, "casework.mo is stale: run 'make i18n'"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_placeholders_survive_translation(lang: str) -> None:
    with open(LOCALES / lang / "LC_MESSAGES" / "casework.po", "rb") as f:
        catalog = read_po(f)
    for m in catalog:
        if m.id and m.string:
            assert set(re.findall(r"{\w+}", m.id)) == set(re.findall(r"{\w+}", m.string)), m.id


def test_render_in_both_languages_with_nested_messages() -> None:
    msg = Msg(
        "the contact card is missing fields needed for the file: {fields}",
        {"fields": [Msg("home address"), Msg("guardian phone")]},
    )
    assert i18n.render(msg, "zh_CN") == "联络卡缺少建档所需字段：家庭住址、监护人电话"
    assert (
        i18n.render(msg, "en") == "the contact card is missing fields needed for the file: home address, guardian phone"
    )
    assert i18n.both(Msg("closed")) == {"zh_CN": "已结案", "en": "closed"}


def test_a_third_party_message_brings_its_own_translation() -> None:
    msg = Msg("needs a referral", translations={"zh_CN": "须先转介"})
    assert i18n.render(msg, "zh_CN") == "须先转介"
    assert i18n.render(msg, "en") == "needs a referral"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("zh", "zh_CN"), ("zh-CN", "zh_CN"), ("en_US.UTF-8", "en"), (None, "zh_CN")],
)
def test_language_names(given: str | None, expected: str) -> None:
    assert i18n.normalise(given) == expected
