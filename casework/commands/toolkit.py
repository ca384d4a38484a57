"""click's own words (usage errors, help headings) through the catalogues, in the chosen language."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence

import click

from casework import i18n
from casework.commands.common import Vocab, Whole
from casework.text import N_, Msg, help_parts

# The messages of click a person meets, as click writes them (its msgids), for the extractor.
MESSAGES = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Positional arguments"),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("No such option {name!r}."),
    N_("No such command {name!r}."),
    N_("Did you mean {possibility}?"),
    N_("(Did you mean one of: {possibilities}?)"),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Missing command."),
    N_("Missing {param_type}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"),
    N_("Got unexpected extra argument ({args})"),
    N_("Got unexpected extra arguments ({args})"),
    N_("Option {name!r} requires an argument."),
    N_("Option {name!r} requires {nargs} arguments."),
    N_("Option {name!r} does not take a value."),
    N_("{value!r} is not {choice}."),
    N_("{value!r} is not one of {choices}."),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("{value!r} is not a valid boolean. Recognized values: {states}"),
    N_("{name} {filename!r} does not exist."),
    N_("{name} {filename!r} is a directory."),
    N_("{name} {filename!r} is not readable."),
    N_("{name} {filename!r} is not writable."),
    N_("Could not open file {filename!r}: {message}"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("default: {default}"),
    N_("required"),
    N_("env var: {var}"),
    N_("Aborted!"),
    N_("file"),
    N_("directory"),
    N_("path"),
    N_("integer"),
    N_("text"),
)

_MODULES = ("core", "exceptions", "parser", "types", "formatting", "decorators", "termui")


def install(lang: str) -> None:
    """Make click speak ``lang``: its modules look their words up through these catalogues."""
    import importlib

    def gettext(message: str) -> str:
        return i18n.gettext_(message, lang)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return i18n.gettext_(singular if n == 1 else plural, lang)

    _measure_columns()
    # The names of click's value types show in usage lines (INTEGER) and errors ("not a valid integer").
    for kind, msgid in ((click.types.IntParamType, "integer"), (click.types.StringParamType, "text")):
        kind.name = i18n.gettext_(msgid, lang)
    for name in _MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


# Where a line of Chinese may break: around each character, its closing punctuation kept with it
# and its opening punctuation with what follows (no line starts with "，" or ends with "（"), and
# what is written against it without a space (数学=58) and click's [默认：text] kept whole.
_HAN = "\u3400-\u9fff\uf900-\ufaff"
_BREAKS = re.compile(rf"(\s+|\[[^\s\]]*\]|[（“‘《「『]*[{_HAN}][，。、；：！？）”’》」』]*[^\s{_HAN}（“‘《「『]*)")


def _columns(x: str) -> int:
    """How many terminal columns ``x`` takes: a Chinese character (or full-width sign) takes two."""
    from click._compat import strip_ansi

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in strip_ansi(x))


def _measure_columns() -> None:
    """Help laid out in terminal columns, not characters: click counts 用法 as two columns wide, not
    four, and wraps Chinese only at spaces, so its tables overran 80 columns and lost their alignment."""
    import click._textwrap
    import click.formatting

    click.formatting.term_len = _columns  # type: ignore[attr-defined]
    click._textwrap.term_len = _columns  # type: ignore[attr-defined]
    click._textwrap.TextWrapper.wordsep_re = _BREAKS


def language(args: Sequence[str]) -> str:
    """The language a command line asks for before it is parsed: --lang, else CASEWORK_LANG, else
    English when the locale (LC_ALL, LC_MESSAGES, LANG) is English, else Chinese."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return _normalised(args[i + 1])
        if arg.startswith("--lang="):
            return _normalised(arg.split("=", 1)[1])
    return default_language()


def default_language() -> str:
    """CASEWORK_LANG, else the locale's language when it is English (LANG=en_US.UTF-8), else zh_CN."""
    chosen = os.environ.get("CASEWORK_LANG")
    if chosen:
        return _normalised(chosen)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "en" if value.lower().startswith("en") else i18n.DEFAULT
    return i18n.DEFAULT


def _normalised(value: str) -> str:
    try:
        return i18n.normalise(value)
    except ValueError:
        return i18n.DEFAULT


# The placeholders usage lines and errors name, in Chinese (an option's own name stays as typed).
METAVARS = {
    "CASE": N_("CASE"),
    "CHILD": N_("CHILD"),
    "STAFF": N_("STAFF"),
    "DATE": N_("DATE"),
    "NAME": N_("NAME"),
    "FILE": N_("FILE"),
    "CLASS": N_("CLASS"),
    "NUMBER": N_("NUMBER"),
    "TEXT": N_("TEXT"),
    "CATEGORY": N_("CATEGORY"),
    "ROLE": N_("ROLE"),
    "CODE": N_("CODE"),
    "STATE": N_("STATE"),
    "VALUE": N_("VALUE"),
    "EVENT": N_("EVENT"),
    "MEETING": N_("MEETING"),
    "FIELD=VALUE": N_("FIELD=VALUE"),
    "GRADE": N_("GRADE"),
    "TEMPLATE": N_("TEMPLATE"),
    "DOCUMENT": N_("DOCUMENT"),
    "PATH": N_("PATH"),
    "DIRECTORY": N_("DIRECTORY"),
    "YYYY-MM": N_("YYYY-MM"),
    "YEAR-TERM": N_("YEAR-TERM"),
    "RELATION": N_("RELATION"),
    "SCORE": N_("SCORE"),
    "SUBJECT=SCORE": N_("SUBJECT=SCORE"),
    "LOGIN": N_("LOGIN"),
    "SCHOOL": N_("SCHOOL"),
    "PACKAGE": N_("PACKAGE"),
    "N": N_("N"),
    "[OPTIONS]": N_("[OPTIONS]"),
    "COMMAND [ARGS]...": N_("COMMAND [ARGS]..."),
}
_ORIGINAL = "casework_original"


def localise(group: click.Group, lang: str) -> None:
    """Help and usage of every command in ``lang``: a help text is written "English. 中文。"; English
    shows the English part, Chinese its translation in the catalogue, else the Chinese tag."""
    install(lang)
    _localise(group, lang)


def localise_command(command: click.Command, lang: str) -> None:
    """One command (and its subcommands) in ``lang``: for a command loaded after ``localise``."""
    _localise(command, lang)


def _localise(command: click.Command, lang: str) -> None:
    # click makes the --help option once per command, in the language of the first run: anew
    command._help_option = None
    if command.help is not None:
        command.help = _text(_keep(command, "help"), lang)
    short_help = _keep(command, "short_help")
    if short_help is not None:
        command.short_help = _text(short_help, lang)
    elif command.help is not None:  # click cuts its summary at the first ".", which Chinese has not
        command.short_help = None if lang == "en" else _first_sentence(command.help)
    command.options_metavar = _metavar(_keep(command, "options_metavar") or "", lang)
    if isinstance(command, click.Group):
        command.subcommand_metavar = _metavar(_keep(command, "subcommand_metavar") or "", lang)
        for sub in command.commands.values():
            _localise(sub, lang)
    for param in command.params:
        if isinstance(param, click.Option) and isinstance(param.type, Vocab):
            for attribute in ("help", "metavar", "show_default"):
                _keep(param, attribute)
            param.help = _choices(param.type, lang)
            param.metavar = _metavar("VALUE", lang)
            default = _keep(param, "default")
            if isinstance(default, str) and default in param.type.labels():
                # shown as its label, [默认：紧急]; the type takes the label back to the code
                param.default = i18n.gettext_(param.type.labels()[default], lang)
            continue
        elif isinstance(param, click.Option) and param.help is not None:
            param.help = _text(_keep(param, "help"), lang)
        original = _keep(param, "metavar")
        if original is not None:
            param.metavar = _metavar(original, lang)
        elif isinstance(param, click.Argument) and param.name:
            param.metavar = _metavar(param.name.upper(), lang)
        elif isinstance(param.type, Whole):  # click would show the type's name, INTEGER
            param.metavar = None if lang == "en" else i18n.gettext_("integer", lang)
        elif isinstance(param.type, click.Path):  # click would show FILE, DIRECTORY or PATH
            param.metavar = _metavar(_path_placeholder(param.type), lang)


def _path_placeholder(kind: click.Path) -> str:
    return "DIRECTORY" if not kind.file_okay else "FILE" if not kind.dir_okay else "PATH"


def _first_sentence(text: str) -> str:
    """The first sentence of a Chinese help text, for the list of a group's commands."""
    first = text.strip().split("\n", 1)[0]
    end = first.find("。")
    return first[: end + 1] if end != -1 else first


def _choices(vocabulary: Vocab, lang: str) -> str:
    """What a vocabulary option takes, as its labels in ``lang`` (each label or code is accepted)."""
    labels = [Msg(label) for label in vocabulary.labels().values()]
    return i18n.render(Msg(N_("One of: {choices}."), {"choices": labels}), lang)


def help_text(text: str, lang: str) -> str:
    """A help text written "English. 中文。", in ``lang``."""
    return _text(text, lang)


def word(msgid: str, lang: str) -> str:
    """One of click's words (MESSAGES) in ``lang``."""
    return i18n.gettext_(msgid, lang)


def _keep(owner: object, attribute: str) -> str:
    """The text as the code wrote it (kept on first use: a test process switches languages)."""
    kept: dict[str, str] = owner.__dict__.setdefault(_ORIGINAL, {})
    if attribute not in kept:
        kept[attribute] = getattr(owner, attribute)
    return kept[attribute]


def _metavar(text: str, lang: str) -> str:
    if not text or lang == "en":
        return text
    msgid = METAVARS.get(text)
    return i18n.gettext_(msgid, lang) if msgid else text


def _text(text: str, lang: str) -> str:
    english, chinese = help_parts(text)
    if lang == "en":
        return english or text
    translated = i18n.gettext_(english, lang) if english else ""
    if translated and translated != english:
        return translated
    return chinese or text


def restore(command: click.Command) -> None:
    """Put back the texts as the code wrote them (the CLI reference is generated from those)."""
    install("en")
    command._help_option = None
    for owner in (command, *command.params):
        for attribute, text in owner.__dict__.get(_ORIGINAL, {}).items():
            setattr(owner, attribute, text)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            restore(sub)
