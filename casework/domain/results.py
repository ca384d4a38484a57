"""Answers of read use cases as frozen values, and the one form they take as JSON (``as_data``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

# Field metadata: the JSON key where it differs from the field's name ("class"), and fields left
# out of the JSON when they hold None. A result may also name fields to leave out by its own
# method ``json_left_out()`` (a history entry has a reason only when it is a move).
KEY = "json_key"
OMIT_NONE = "omit_none"


def key(name: str) -> Mapping[str, Any]:
    return {KEY: name}


def omitted_when_none() -> Any:
    return dataclasses.field(default=None, metadata={OMIT_NONE: True})


@dataclasses.dataclass(frozen=True)
class Named:
    """Someone (a child, a staff member) by id, with the name where the reader may read it."""

    id: int | None
    name: str | None


def as_data(value: Any) -> Any:
    """A result, or anything it holds, as JSON-ready data: dataclasses become objects, dates ISO text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        left_out = value.json_left_out() if hasattr(value, "json_left_out") else ()
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if (item is None and f.metadata.get(OMIT_NONE)) or f.name in left_out:
                continue
            out[f.metadata.get(KEY, f.name)] = as_data(item)
        return out
    if isinstance(value, Mapping):
        return {str(k): as_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [as_data(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
