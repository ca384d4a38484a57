"""Judge a move (the table, then every rule module), classify, and list duties; a module that raises refuses."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, TypeVar

from casework import states
from casework.domain.calendar import SchoolCalendar
from casework.domain.facts import AssessmentFacts, CaseFacts
from casework.rules.base import RISK_LEVELS, Category, Obligation, PlanRequirement, RuleModule, Verdict
from casework.text import Msg

WORKFLOW_RULE = "workflow"
T = TypeVar("T")


@dataclass(frozen=True)
class RuleSet:
    """The modules in force with their parameters and the school calendar, versioned by content."""

    modules: tuple[RuleModule, ...]
    calendar: SchoolCalendar = field(default_factory=SchoolCalendar)

    def as_data(self) -> dict[str, Any]:
        return {
            "modules": [m.describe() for m in self.modules],
            "calendar": [
                {"name": t.name, "start": t.start.isoformat(), "end": t.end.isoformat()} for t in self.calendar.terms
            ],
        }

    @cached_property
    def version(self) -> str:
        blob = json.dumps(self.as_data(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def module(self, name: str) -> RuleModule | None:
        return next((m for m in self.modules if m.name == name), None)


class ModuleFailed(Exception):
    """A rule module raised; carries the verdict that refuses in its name."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.code)
        self.verdict = verdict


def _failure(module: RuleModule, exc: BaseException) -> Verdict:
    return Verdict(
        module.name,
        module.version,
        "module_failed",
        False,
        Msg(
            "rule module {module} failed ({error}); the move is refused",
            {"module": module.name, "error": type(exc).__name__},
        ),
        {"error": type(exc).__name__},
    )


def _guarded(module: RuleModule, call: Callable[..., T], *args: Any) -> T:
    try:
        return call(*args)
    except Exception as exc:  # noqa: BLE001 - fail closed: a broken module refuses, never crashes
        raise ModuleFailed(_failure(module, exc)) from exc


def _workflow(event: str, facts: CaseFacts, definition: states.Definition) -> list[Verdict]:
    version = definition.version
    transition = definition.transition(event)
    if transition is None:
        return [
            Verdict(
                WORKFLOW_RULE,
                version,
                "unknown_event",
                False,
                Msg(
                    "'{event}' is not an event; events: {events}",
                    {"event": event, "events": ", ".join(t.event for t in definition.transitions)},
                ),
                {"event": event},
            )
        ]
    if facts.state not in transition.sources:
        allowed = definition.events_from(facts.state)
        return [
            Verdict(
                WORKFLOW_RULE,
                version,
                "not_allowed_from_state",
                False,
                Msg(
                    "{event} is not possible from {state}; possible: {allowed}",
                    {
                        "event": states.event_label(event),
                        "state": states.state_label(facts.state),
                        "allowed": [states.event_label(e) for e in allowed] or "—",
                    },
                ),
                {"state": facts.state, "event": event, "allowed": allowed},
            )
        ]
    verdicts = [
        Verdict(
            WORKFLOW_RULE,
            version,
            "allowed_from_state",
            True,
            Msg(
                "{event} is possible from {state}",
                {"event": states.event_label(event), "state": states.state_label(facts.state)},
            ),
            {"state": facts.state, "event": event},
        )
    ]
    if transition.reason_required:
        verdicts.append(
            Verdict(
                WORKFLOW_RULE,
                version,
                "reason_required",
                facts.reason_given,
                Msg("a reason is required for {event}", {"event": states.event_label(event)}),
                {"reason_given": facts.reason_given},
            )
        )
    return verdicts


def satisfied(requirement: PlanRequirement, facts: CaseFacts) -> bool:
    if requirement.pairing is not None:
        return requirement.pairing in facts.active_pairings
    return any(
        item.complete
        and item.kind == requirement.item_kind
        and (requirement.subject is None or item.subject == requirement.subject)
        for item in facts.plan_items
    )


def requirements(module: RuleModule, facts: CaseFacts) -> list[PlanRequirement]:
    return [r for category in facts.categories for r in module.plan_requirements(category, facts)]


def _plan_verdict(module: RuleModule, facts: CaseFacts) -> Verdict | None:
    needed = requirements(module, facts)
    if not needed:
        return None
    missing = [r for r in needed if not satisfied(r, facts)]
    if not missing:
        return module.verdict(
            "plan_requirements_met",
            True,
            Msg("the plan contains what {module} requires", {"module": module.name}),
            {"required": [r.code for r in needed]},
        )
    return module.verdict(
        "plan_requirements_missing",
        False,
        Msg("the plan lacks: {items}", {"items": [r.description for r in missing]}),
        {"required": [r.code for r in needed], "missing": [r.code for r in missing]},
    )


def evaluate(
    modules: Iterable[RuleModule],
    event: str,
    facts: CaseFacts,
    definition: states.Definition = states.CURRENT,
) -> list[Verdict]:
    """Every verdict on ``event`` for the case in ``facts``: passes and failures alike.

    When the table forbids the move, rule modules are not asked: their guards describe moves
    that exist. Before ``mentor`` each module's plan requirements for the case's categories are
    checked too.
    """
    verdicts = _workflow(event, facts, definition)
    if not all(v.passed for v in verdicts if v.code != "reason_required"):
        return verdicts
    for module in modules:
        # Guarded as _guarded does, one try a module rather than a call a guard: this runs on every move.
        try:
            verdicts.extend(module.check(event, facts))
            if event == "mentor":
                plan = _plan_verdict(module, facts)
                if plan is not None:
                    verdicts.append(plan)
        except Exception as exc:  # noqa: BLE001 - fail closed: a broken module refuses, never crashes
            verdicts.append(_failure(module, exc))
    return verdicts


def refusals(verdicts: Sequence[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if not v.passed]


def classify(modules: Iterable[RuleModule], facts: AssessmentFacts) -> list[Category]:
    """Every category every module finds; a module that raises stops the assessment in its name."""
    found: list[Category] = []
    for module in modules:
        for category in _guarded(module, module.classify, facts):
            found.append(replace(category, rule=module.name))
    return found


def risk_level(categories: Sequence[Category]) -> str | None:
    levels = [c.risk for c in categories if c.risk in RISK_LEVELS]
    return max(levels, key=RISK_LEVELS.index) if levels else None


def duties(modules: Iterable[RuleModule], facts: CaseFacts) -> list[Obligation]:
    """The case's recurring duties and its stage deadline, each naming the rule that set it.

    A deadline the leadership group extended (``facts.extensions``) wins when it is later.
    """
    found: list[Obligation] = []
    for module in modules:
        try:  # as _guarded, once a module (see evaluate)
            for duty in module.obligations(facts):
                found.append(replace(duty, rule=module.name))
            deadline = module.deadline(facts)
        except Exception as exc:  # noqa: BLE001 - fail closed: a broken module refuses, never crashes
            raise ModuleFailed(_failure(module, exc)) from exc
        if deadline is not None:
            found.append(replace(deadline, rule=module.name))
    if facts.extensions:
        found = [
            replace(d, due=facts.extensions[d.code])
            if d.code in facts.extensions and facts.extensions[d.code] > d.due
            else d
            for d in found
        ]
    return found
