"""The workflow table as data: one machine per definition version, events fired on tokens."""

from __future__ import annotations

import pytest

from casework import states

ALLOWED = {(s, t.event): t.dest for t in states.TRANSITIONS for s in t.sources}
PAIRS = [(s, e) for s in states.STATES for e in states.EVENTS]


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=[f"{s}-{e}" for s, e in PAIRS])
def test_fire_follows_the_table(state: str, event: str) -> None:
    assert states.fire(states.CURRENT.version, state, event) == ALLOWED.get((state, event))


def test_the_table_is_the_one_the_schools_use() -> None:
    assert ALLOWED == {
        ("identified", "assess"): "assessed",
        ("assessed", "plan"): "individual_plan",
        ("individual_plan", "mentor"): "mentored",
        ("mentored", "review"): "reviewed",
        ("reviewed", "continue"): "mentored",
        ("reviewed", "revise"): "individual_plan",
        ("reviewed", "reassess"): "assessed",
        **{(s, "close"): "closed" for s in states.OPEN_STATES},
        ("closed", "reopen"): "assessed",
    }
    assert {t.event for t in states.TRANSITIONS if t.reason_required} == {"close", "reopen"}


def test_one_machine_per_version_and_no_models_bound() -> None:
    version = states.CURRENT.version
    first = states.machine(version)
    for _ in range(100):
        states.fire(version, "identified", "assess")
    assert states.machine(version) is first
    assert first.models == []


def test_version_is_a_content_hash() -> None:
    same = states.Definition(
        states=tuple(reversed(states.STATES)),
        initial=states.INITIAL_STATE,
        transitions=tuple(reversed(states.TRANSITIONS)),
    )
    assert same.version == states.CURRENT.version
    changed = states.Definition(states=states.STATES, initial=states.INITIAL_STATE, transitions=states.TRANSITIONS[:-1])
    assert changed.version != states.CURRENT.version


def test_an_older_definition_stays_usable_once_registered() -> None:
    older = states.Definition(states=states.STATES, initial=states.INITIAL_STATE, transitions=states.TRANSITIONS[:-1])
    with pytest.raises(KeyError):
        states.definition(older.version)
    states.register(older)
    assert states.fire(older.version, "closed", "reopen") is None
    assert states.fire(older.version, "identified", "assess") == "assessed"


def test_unknown_event_is_not_fired() -> None:
    assert states.fire(states.CURRENT.version, "identified", "fly") is None
