"""Judge a move: the workflow table first, then every rule module; a module that raises refuses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from casework import states
from casework.domain.facts import CaseFacts
from casework.rules.base import RuleModule, Verdict
from casework.text import Msg

WORKFLOW_RULE = "workflow"


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


def evaluate(
    modules: Iterable[RuleModule],
    event: str,
    facts: CaseFacts,
    definition: states.Definition = states.CURRENT,
) -> list[Verdict]:
    """Every verdict on ``event`` for the case in ``facts``: passes and failures alike.

    When the table forbids the move, rule modules are not asked: their guards describe
    moves that exist.
    """
    verdicts = _workflow(event, facts, definition)
    if not all(v.passed for v in verdicts if v.code != "reason_required"):
        return verdicts
    for module in modules:
        try:
            verdicts.extend(module.check(event, facts))
        except Exception as exc:  # noqa: BLE001 - fail closed: a broken module refuses
            verdicts.append(
                Verdict(
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
            )
    return verdicts


def refusals(verdicts: Sequence[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if not v.passed]
