"""The rule-module protocol and the verdict every rule returns instead of a bare bool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from casework.domain.facts import CaseFacts
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
    """A need category a module found, with the evidence (fact names and values) behind it."""

    code: str
    evidence: Mapping[str, Any]


@dataclass(frozen=True)
class PlanRequirement:
    category: str
    item: str
    description: Msg


@dataclass(frozen=True)
class Obligation:
    code: str
    description: Msg
    responsible_role: str
    rhythm_days: int
    due: date


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
        known = {p.name for p in self.parameters}
        unknown = sorted(set(given) - known)
        if unknown:
            raise InvalidInput(
                "rule module {module}: unknown parameter '{key}'", module=self.name, key=unknown[0]
            )
        self.params: dict[str, Any] = {p.name: given.get(p.name, p.default) for p in self.parameters}

    def check(self, event: str, facts: CaseFacts) -> Sequence[Verdict]:
        return ()

    def classify(self, facts: Mapping[str, Any]) -> Sequence[Category]:
        return ()

    def plan_requirements(self, category: str) -> Sequence[PlanRequirement]:
        return ()

    def obligations(self, facts: CaseFacts) -> Sequence[Obligation]:
        return ()

    def deadline_days(self, state: str) -> int | None:
        return None

    def verdict(
        self, code: str, passed: bool, message: Msg, facts: Mapping[str, Any] | None = None
    ) -> Verdict:
        return Verdict(self.name, self.version, code, passed, message, dict(facts or {}))
