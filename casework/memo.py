"""Keeping what is made of equal values: ``frozen`` keys for JSON-like values and messages, ``Kept`` caches."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from casework.text import Msg

T = TypeVar("T")


def frozen(value: Any) -> Hashable | None:
    """A hashable value equal for equal messages (or JSON-like values) and only for them; None when
    ``value`` holds something else, which callers then treat as unlike everything.

    Scalars other than text are tagged with their type: 1, 1.0 and True are equal in Python but
    render and serialise differently (floats are kept as their repr, for the same reason).
    Mappings keep their order (an order differing only makes a different key).
    """
    kind = type(value)
    if kind is str:
        return str(value)
    if kind is int or kind is bool or value is None:
        return (kind, value)  # never None itself: None means "cannot say"
    if kind is float:
        return (kind, repr(value))  # 0.0 and -0.0 are equal; nan is not even equal to itself
    if kind is Msg:
        params = frozen(value.params if type(value.params) is dict else dict(value.params)) if value.params else ()
        translations = frozen(dict(value.translations)) if value.translations else ()
        return None if params is None or translations is None else (Msg, value.msgid, params, translations)
    if kind is dict:
        items = []
        for k, v in value.items():
            part = v if type(v) is str else frozen(v)
            if type(k) is not str or part is None:
                return None
            items.append((k, part))
        return (dict, tuple(items))
    if kind is list or kind is tuple:
        parts = []
        for v in value:
            part = v if type(v) is str else frozen(v)  # text, the common case, is its own key
            if part is None:
                return None
            parts.append(part)
        return (kind, tuple(parts))
    return None


class Kept(Generic[T]):
    """What was made of each distinct value (``frozen``), made once and kept, up to ``limit`` of them.

    Rules say the same few things over and over (the card is complete, the move is possible from
    this stage): rendering and encoding each once saves every move from doing it again.
    """

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._kept: dict[Hashable, T] = {}

    def get(self, like: Any, make: Callable[[], T]) -> T:
        """``make()``, or what it made before for a value equal to ``like``."""
        key = frozen(like)
        if key is None:
            return make()
        found = self._kept.get(key)
        if found is None:
            if len(self._kept) >= self._limit:
                self._kept.clear()
            found = self._kept[key] = make()
        return found
