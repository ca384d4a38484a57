"""Find rule modules through the ``casework.rules`` entry-point group, built-ins included, and build a rule set."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from casework.domain.calendar import SchoolCalendar
from casework.errors import InvalidInput
from casework.rules.base import RuleModule
from casework.rules.engine import RuleSet

GROUP = "casework.rules"


def available() -> dict[str, type[RuleModule]]:
    """Every installed rule module class by name. Loading happens here, never at import."""
    found: dict[str, type[RuleModule]] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, RuleModule)):
            raise InvalidInput("entry point {name} in {group} is not a RuleModule", name=ep.name, group=GROUP)
        found[cls.name] = cls
    return found


def load_rules(
    enabled: list[str] | None = None, params: Mapping[str, Mapping[str, Any]] | None = None
) -> list[RuleModule]:
    """Instantiate the modules in force, in a stable order.

    ``enabled`` names the modules (None: every installed module); ``params`` gives each its
    parameters. A name that is not installed stops start-up with one clear message.
    """
    classes = available()
    names = sorted(classes) if enabled is None else list(enabled)
    for name in [*names, *(params or {})]:
        if name not in classes:
            raise InvalidInput(
                "rules: unknown module '{name}'; installed: {known}",
                name=name,
                known=", ".join(sorted(classes)),
            )
    return [classes[name]((params or {}).get(name)) for name in names]


def rule_set(
    enabled: list[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    calendar: SchoolCalendar | None = None,
) -> RuleSet:
    return RuleSet(tuple(load_rules(enabled, params)), calendar or SchoolCalendar())
