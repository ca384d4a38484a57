"""The Babel extractor for Python sources: the marked messages, and the English part of every help text."""

from __future__ import annotations

import ast
import io
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from casework.text import help_parts


def extract(
    fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str], options: Any
) -> Iterator[tuple[Any, ...]]:
    """What ``pybabel extract`` takes from a module (babel.cfg maps casework's sources here): the
    messages Babel's Python extractor finds, then the English part of each click help text, since
    help is written "English. 中文。" and the catalogue translates the English: the ``help=`` of
    options and commands, the docstrings of commands and groups, and the values of the tables
    named in the option ``help_tables`` (casework.cli's SUMMARIES)."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
    tables = set(str(options.get("help_tables", "")).split())
    for line, text in help_texts(source.decode(str(options.get("encoding", "utf-8"))), tables):
        english, _tag = help_parts(text)
        if english:
            yield line, None, english, []


def help_texts(source: str, tables: Collection[str] = ()) -> list[tuple[int, str]]:
    """Each help text written in ``source``, with its line: a ``help=`` given as a string or as the
    name of a module-level string, a command's or group's docstring, and each value of ``tables``."""
    tree = ast.parse(source)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not _vocabulary(node):
            for keyword in node.keywords:
                if keyword.arg == "help":
                    text = _string(keyword.value, constants)
                    if text is not None:
                        found.append((keyword.value.lineno, text))
        elif isinstance(node, ast.FunctionDef) and any(_is_command(d) for d in node.decorator_list):
            docstring = ast.get_docstring(node, clean=False)
            if docstring is not None:
                found.append((node.body[0].lineno, docstring))
        elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in tables for t in targets):
                for value in node.value.values:
                    text = _string(value, constants)
                    if text is not None:
                        found.append((value.lineno, text))
    return sorted(found)


def _string(node: ast.expr, constants: Mapping[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _vocabulary(call: ast.Call) -> bool:
    """An option of a vocabulary (``type=Vocab(...)``): its help is the list of labels, made when shown."""
    return any(
        k.arg == "type" and isinstance(k.value, ast.Call) and getattr(k.value.func, "id", None) == "Vocab"
        for k in call.keywords
    )


def _is_command(decorator: ast.expr) -> bool:
    """``@click.command(...)``, ``@click.group``, ``@case.command("show")`` and the like."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else ""
    return name in ("command", "group")
