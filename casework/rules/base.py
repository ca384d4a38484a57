"""The rule-module protocol and the verdict every rule returns instead of a bare bool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar

from casework.domain.facts import AssessmentFacts, CaseFacts
from casework.errors import InvalidInput
from casework.text import Msg


@dataclass(frozen=True)
class Verdict:
    """One rule's judgement of one move, answerable a year later: who, why, on which facts."""

    rule: str
    version: str
    code: str
    passed: bool
    message: Msg
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Parameter:
    name: str
    default: Any
    description: Msg


@dataclass(frozen=True)
class Category:
    """A need category a module found, with the evidence behind it, a risk level and any flag."""

    code: str
    evidence: Mapping[str, Any]
    risk: str | None = None
    flag: str | None = None
    rule: str = ""


@dataclass(frozen=True)
class PlanRequirement:
    """Something an individual plan must contain for a category: an item of a kind, or a pairing."""

    category: str
    code: str
    description: Msg
    item_kind: str | None = None
    subject: str | None = None
    pairing: str | None = None


@dataclass(frozen=True)
class Obligation:
    """A recurring duty (or a stage deadline) with its rhythm, responsible role and next due date.

    ``grace_days``: how long past ``due`` the duty may run before it counts as overdue (the module
    sets it per duty). ``escalates``: True for a duty that climbs the ladder (reminder on the due
    day, overdue after the grace, to the leadership group ``escalate_after_days`` later); False for a
    deadline whose passing is itself for the leadership group (a stage deadline, a critical flag).
    """

    code: str
    description: Msg
    responsible_role: str
    due: date
    rhythm_days: int | None = None
    last_done: date | None = None
    rule: str = ""
    grace_days: int = 0
    escalates: bool = True

    @property
    def overdue_on(self) -> date:
        """The first day the duty counts as overdue: past due by more than its grace."""
        return self.due + timedelta(days=self.grace_days + 1)


RISK_LEVELS = ("low", "medium", "high", "critical")


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "text", list: "list", dict: "table"}.get(
        type(value), type(value).__name__
    )


def check_type(where: str, default: Any, value: Any) -> Any:
    """A settings value must have the type of the parameter's default (an int passes for a float)."""
    expected = type(default)
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        ok, value = True, float(value)
    if not ok:
        raise InvalidInput(
            "{key}: expected {expected}, got {actual}",
            key=where,
            expected=_type_name(default),
            actual=_type_name(value),
        )
    return value


class RuleModule:
    """Base for rule modules, built-in and third-party alike.

    A module declares ``name``, ``version``, ``description`` and ``parameters`` and overrides
    any of the hooks below; the defaults mean "no opinion". Modules are constructed with
    their parameters (defaults filled in) and must not do I/O: everything they judge arrives
    in the facts.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[Msg]
    parameters: ClassVar[Sequence[Parameter]] = ()

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        given = dict(params or {})
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise InvalidInput("rules.{module}: unknown parameter '{key}'", module=self.name, key=unknown[0])
        self.params: dict[str, Any] = {
            name: check_type(f"rules.{self.name}.{name}", p.default, given[name]) if name in given else p.default
            for name, p in known.items()
        }

    def check(self, event: str, facts: CaseFacts) -> Sequence[Verdict]:
        """Guards: verdicts on ``event`` (passes and failures); () when the module has no opinion."""
        return ()

    def classify(self, facts: AssessmentFacts) -> Sequence[Category]:
        """Need categories the facts show, each with its evidence."""
        return ()

    def plan_requirements(self, category: str, facts: CaseFacts) -> Sequence[PlanRequirement]:
        """What an individual plan must contain for ``category``."""
        return ()

    def obligations(self, facts: CaseFacts) -> Sequence[Obligation]:
        """Recurring duties of the case in its current state, with their next due dates."""
        return ()

    def deadline(self, facts: CaseFacts) -> Obligation | None:
        """How long the case may stay in its current stage, as a dated obligation."""
        return None

    def verdict(self, code: str, passed: bool, message: Msg, facts: Mapping[str, Any] | None = None) -> Verdict:
        return Verdict(self.name, self.version, code, passed, message, dict(facts or {}))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "params": dict(self.params)}
