"""casework: case management for left-behind and at-risk children; the version and the public API."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from casework.errors import CaseworkError, Conflict, InvalidInput, NotFound, PermissionDenied, TransitionRefused
from casework.text import N_, Msg

__version__ = "0.1.0"

# Names whose modules are heavy (the workflow machine, the rule engine, the database) are imported
# on first use, so that `import casework` and `casework --help` stay quick.
_LAZY = {
    "Context": "casework.services.context",
    "system_clock": "casework.services.context",
    "Category": "casework.rules.base",
    "Obligation": "casework.rules.base",
    "Parameter": "casework.rules.base",
    "PlanRequirement": "casework.rules.base",
    "RuleModule": "casework.rules.base",
    "Verdict": "casework.rules.base",
    "RuleSet": "casework.rules.engine",
    "Definition": "casework.states",
}

__all__ = [
    "Category",
    "CaseworkError",
    "Conflict",
    "Context",
    "Definition",
    "InvalidInput",
    "Msg",
    "NotFound",
    "N_",
    "Obligation",
    "Parameter",
    "PermissionDenied",
    "PlanRequirement",
    "RuleModule",
    "RuleSet",
    "TransitionRefused",
    "Verdict",
    "__version__",
    "system_clock",
]

if TYPE_CHECKING:
    from casework.rules.base import Category, Obligation, Parameter, PlanRequirement, RuleModule, Verdict
    from casework.rules.engine import RuleSet
    from casework.services.context import Context, system_clock
    from casework.states import Definition
else:

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'casework' has no attribute {name!r}")
        return getattr(import_module(module), name)
