"""Printing: stable JSON documents and tables that line up Chinese text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from casework.domain.results import as_data
from casework.domain.validation import parse_date
from casework.errors import InvalidInput
from casework.text import printable


def echo_json(document: Any) -> None:
    """One JSON document: a result value through its one JSON form (casework.domain.results.as_data)."""
    click.echo(json.dumps(as_data(document), ensure_ascii=False, indent=2, sort_keys=True, default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=None if title is None else escape(printable(title)), show_lines=False, header_style="bold")
    for header in headers:
        t.add_column(escape(header))
    for row in rows:
        # Escaped twice: control characters as \x1b (see printable), and "[" so that a name such as
        # "[bold]" is text, not rich's markup.
        t.add_row(*("" if v is None else escape(printable(str(v))) for v in row))
    Console(soft_wrap=True).print(t)


def date_or_none(text: str | None, field: str) -> Any:
    return parse_date(text, field) if text else None


def pairs(values: Sequence[str], option: str) -> dict[str, str]:
    """FIELD=VALUE options into a dict; a malformed one is bad input, not a usage error."""
    result: dict[str, str] = {}
    for item in values:
        if "=" not in item:
            raise InvalidInput("{option}: '{item}' is not FIELD=VALUE", option=option, item=item)
        key, value = item.split("=", 1)
        result[key.strip()] = value
    return result
