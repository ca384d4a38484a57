"""Find rule modules through the ``casework.rules`` entry-point group, built-ins included."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from casework.errors import InvalidInput
from casework.rules.base import RuleModule

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


def load_rules(settings: Mapping[str, Mapping[str, Any]] | None = None) -> list[RuleModule]:
    """Instantiate the modules in force.

    ``settings`` maps module name to its parameters; ``None`` means every installed module
    with its defaults. A name that is not installed stops start-up with one clear message.
    """
    classes = available()
    if settings is None:
        return [cls() for _, cls in sorted(classes.items())]
    modules = []
    for name, params in settings.items():
        if name not in classes:
            raise InvalidInput(
                "rules: unknown module '{name}'; installed: {known}",
                name=name,
                known=", ".join(sorted(classes)),
            )
        modules.append(classes[name](params))
    return modules
