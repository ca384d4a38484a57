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


def table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None, empty: str | None = None
) -> None:
    """Rows under their headers; no rows is said in words (未找到: what was looked for), never an
    empty frame. ``empty`` says what was searched (default: the title)."""
    if not rows:
        from casework.commands.common import state

        st = state()
        what = empty or title
        click.echo(st.t("nothing found: {what}", what=what) if what else st.t("nothing found"))
        return
    # Control and text-direction characters of a stored value are shown as escapes, not obeyed.
    lines = _box([printable(h) for h in headers], [["" if v is None else _cell(v) for v in row] for row in rows])
    if title:
        title = printable(title)
        width = _width(lines[0])
        click.echo(" " * max(0, (width - _width(title)) // 2) + title)
    click.echo("\n".join(lines))


def _cell(value: Any) -> str:
    """A cell's text, its line breaks kept (a long reason wraps), any other control character escaped."""
    return "\n".join(printable(line) for line in str(value).split("\n"))


def _width(text: str) -> int:
    """Columns a text takes in a terminal: CJK and fullwidth characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _box(headers: list[str], rows: list[list[str]]) -> list[str]:
    """The table drawn as rich draws one (heavy head, light body), without importing rich: a quick
    command spends more on rich's import and layout than on its query. Cells keep their line breaks
    and are never cut: a long text makes its column wide, not shortened with "…"."""
    cells = [[cell.split("\n") for cell in row] for row in rows]
    widths = [_width(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], *(_width(line) for line in cell))

    def rule(left: str, fill: str, middle: str, right: str) -> str:
        return left + middle.join(fill * (w + 2) for w in widths) + right

    out = [
        rule("┏", "━", "┳", "┓"),
        "┃" + "┃".join(f" {_pad(h, w)} " for h, w in zip(headers, widths, strict=True)) + "┃",
    ]
    out.append(rule("┡", "━", "╇", "┩"))
    for row in cells:
        for n in range(max(len(cell) for cell in row)):
            parts = (cell[n] if n < len(cell) else "" for cell in row)
            out.append("│" + "│".join(f" {_pad(part, w)} " for part, w in zip(parts, widths, strict=True)) + "│")
    out.append(rule("└", "─", "┴", "┘"))
    return out


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


def shown_value(st: Any, value: Any) -> str:
    """A setting or field value as a person reads it: yes/no, codes of a vocabulary as their
    labels, lists with the language's separator, mappings as "key: value"."""
    if isinstance(value, bool):
        return str(st.t("yes") if value else st.t("no"))
    if isinstance(value, str):
        label = _vocabulary_labels().get(value)
        return str(st.t(label)) if label else value
    if isinstance(value, list | tuple | set | frozenset):
        return str(st.join(shown_value(st, v) for v in value)) or "—"
    if isinstance(value, dict):
        return str(st.join(f"{shown_value(st, k)}: {shown_value(st, v)}" for k, v in value.items())) or "—"
    return str(value)


def _vocabulary_labels() -> dict[str, str]:
    """Every code of the closed vocabularies with its label (a code means one thing wherever it is)."""
    from casework import states
    from casework.domain import sdq, vocab
    from casework.domain.child import FIELDS_BY_NAME

    merged: dict[str, str] = {name: spec.label for name, spec in FIELDS_BY_NAME.items()}
    for labels in (
        vocab.ROLES,
        vocab.NEED_CATEGORIES,
        vocab.CONTACT_KINDS,
        vocab.PLAN_ITEM_KINDS,
        vocab.REFERRAL_AGENCIES,
        vocab.RISK_LABELS,
        vocab.PAIRING_KINDS,
        vocab.FAMILY_SITUATIONS,
        vocab.SEXES,
        vocab.INDICATOR_LABELS,
        vocab.AID_KINDS,
        vocab.ENROLMENT_STATUSES,
        vocab.DUTY_LABELS,
        vocab.STALL_REASONS,
        sdq.LABELS,
        states.STATE_LABELS,
    ):
        for code, label in labels.items():
            merged.setdefault(code, label)
    return merged
