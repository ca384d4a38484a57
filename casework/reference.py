"""Generate docs/cli.md from the click app, so the CLI reference cannot drift from the code."""

from __future__ import annotations

import inspect

import click

from casework.cli import app
from casework.commands.common import Vocab


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _walk(command.commands[name], [*path, name])
    return found


def _options(command: click.Command, ctx: click.Context) -> list[str]:
    lines = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        if isinstance(param.type, Vocab) and not getattr(param, "help", None):  # shown as its labels
            record = (record[0], f"{_codes(param.type)}  {record[1]}".strip())
        flags, text = (part.replace("|", "\\|") for part in record)
        if "--help" not in getattr(param, "opts", ()):
            lines.append(f"| `{flags}` | {text} |")
    return lines


def _codes(vocabulary: Vocab) -> str:
    """A vocabulary's codes and English labels; its Chinese labels are accepted too."""
    pairs = [code if code == label else f"{code} ({label})" for code, label in vocabulary.labels().items()]
    return f"One of: {', '.join(pairs)}; or a label in Chinese."


def render() -> str:
    from casework.cli import App
    from casework.commands.toolkit import restore

    root = app()
    restore(root)  # the texts as written, whichever language an earlier run in this process chose
    if isinstance(root, App):
        root.lang = None
    out = [
        "# CLI reference",
        "",
        "Generated from the click application by `make docs` (`python -m casework.reference`);",
        "a test fails when this file is stale. Exit codes: 0 done; 1 error (bad input, unknown id);",
        "2 usage; 3 refused (a move the rules refuse, a counselling record without the guardian's consent);",
        "4 conflict (the case changed meanwhile); 5 permission denied (role or record scope).",
        "",
    ]
    for path, command in _walk(root, ["casework"]):
        ctx = click.Context(command, info_name=" ".join(path))
        out += [f"## `{' '.join(path)}`", ""]
        out += [f"```\n{command.get_usage(ctx)}\n```", ""]
        if command.help:
            out += [inspect.cleandoc(command.help), ""]
        options = _options(command, ctx)
        if options:
            out += ["| option | meaning |", "|---|---|", *options, ""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
