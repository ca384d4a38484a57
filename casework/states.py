"""The workflow definition as data: states, events and the transition table; pure, no I/O."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transitions import Machine

from casework.text import N_, Msg

IDENTIFIED = "identified"
ASSESSED = "assessed"
INDIVIDUAL_PLAN = "individual_plan"
MENTORED = "mentored"
REVIEWED = "reviewed"
CLOSED = "closed"

STATES: tuple[str, ...] = (IDENTIFIED, ASSESSED, INDIVIDUAL_PLAN, MENTORED, REVIEWED, CLOSED)
OPEN_STATES: tuple[str, ...] = STATES[:-1]
INITIAL_STATE = IDENTIFIED

# The labels the schools use; rendered through the gettext catalogue.
STATE_LABELS: dict[str, str] = {
    IDENTIFIED: N_("identified"),
    ASSESSED: N_("assessed"),
    INDIVIDUAL_PLAN: N_("individual plan"),
    MENTORED: N_("mentored"),
    REVIEWED: N_("reviewed"),
    CLOSED: N_("closed"),
}


@dataclass(frozen=True)
class Transition:
    event: str
    sources: tuple[str, ...]
    dest: str
    reason_required: bool = False


# The table. Order matters only for display; the content hash below is order-independent.
TRANSITIONS: tuple[Transition, ...] = (
    Transition("assess", (IDENTIFIED,), ASSESSED),
    Transition("plan", (ASSESSED,), INDIVIDUAL_PLAN),
    Transition("mentor", (INDIVIDUAL_PLAN,), MENTORED),
    Transition("review", (MENTORED,), REVIEWED),
    Transition("continue", (REVIEWED,), MENTORED),
    Transition("revise", (REVIEWED,), INDIVIDUAL_PLAN),
    Transition("reassess", (REVIEWED,), ASSESSED),
    Transition("close", OPEN_STATES, CLOSED, reason_required=True),
    Transition("reopen", (CLOSED,), ASSESSED, reason_required=True),
)

EVENTS: tuple[str, ...] = tuple(t.event for t in TRANSITIONS)

EVENT_LABELS: dict[str, str] = {
    "assess": N_("assess"),
    "plan": N_("make the plan"),
    "mentor": N_("start mentoring"),
    "review": N_("hold the stage review"),
    "continue": N_("continue"),
    "revise": N_("revise"),
    "reassess": N_("reassess"),
    "close": N_("close"),
    "reopen": N_("reopen"),
}


@dataclass(frozen=True)
class Definition:
    """One version of the workflow: states, initial state and transitions."""

    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]

    def as_data(self) -> dict[str, Any]:
        return {
            "states": sorted(self.states),
            "initial": self.initial,
            "transitions": sorted(
                (
                    {
                        "event": t.event,
                        "sources": sorted(t.sources),
                        "dest": t.dest,
                        "reason_required": t.reason_required,
                    }
                    for t in self.transitions
                ),
                key=lambda d: (d["event"], d["dest"]),
            ),
        }

    @cached_property
    def version(self) -> str:
        """A content hash: two definitions with the same table share a version."""
        blob = json.dumps(self.as_data(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def transition(self, event: str) -> Transition | None:
        return next((t for t in self.transitions if t.event == event), None)

    def events_from(self, state: str) -> list[str]:
        return [t.event for t in self.transitions if state in t.sources]


CURRENT = Definition(states=STATES, initial=INITIAL_STATE, transitions=TRANSITIONS)

_KNOWN: dict[str, Definition] = {}


def register(definition: Definition) -> None:
    """Make a definition version known so that cases recorded under it can still move."""
    _KNOWN[definition.version] = definition


def definition(version: str) -> Definition:
    if version == CURRENT.version:
        return CURRENT
    try:
        return _KNOWN[version]
    except KeyError:
        raise KeyError(f"unknown workflow definition version {version}") from None


@cache
def machine(version: str) -> Machine:
    """Exactly one transitions.Machine per definition version, built on first use.

    Cases are never bound to it (no add_model): events fire on a small token that carries
    the state, which keeps memory flat however many cases exist.
    """
    from transitions import Machine  # when a case moves: the labels and the table need none of it

    d = definition(version)
    return Machine(
        model=None,
        states=list(d.states),
        transitions=[{"trigger": t.event, "source": list(t.sources), "dest": t.dest} for t in d.transitions],
        initial=d.initial,
        auto_transitions=False,
        send_event=True,
    )


class _Token:
    """What the machine moves: just a state, never an ORM row."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def fire(version: str, state: str, event: str) -> str | None:
    """Return the state ``event`` leads to from ``state``, or None when the table forbids it."""
    return _fired(version, state, event)


# The machine has no conditions or callbacks: its answer for (version, state, event) never
# changes, so it is asked once per pair and remembered (asking costs about 10 µs, 1% of a move).
@lru_cache(maxsize=1024)
def _fired(version: str, state: str, event: str) -> str | None:
    from transitions import MachineError

    m = machine(version)
    if event not in m.events:
        return None
    token = _Token(state)
    try:
        m.events[event].trigger(token)
    except MachineError:
        return None
    return token.state


def state_label(state: str) -> Msg:
    return Msg(STATE_LABELS.get(state, state))


def event_label(event: str) -> Msg:
    return Msg(EVENT_LABELS.get(event, event))
