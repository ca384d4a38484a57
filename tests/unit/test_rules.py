"""Core guards and the rule engine on pure facts: verdicts with reasons, all failures, fail closed."""

from __future__ import annotations

from datetime import date

import pytest

from casework import states
from casework.domain.child import FILE_REQUIRED
from casework.domain.facts import CaseFacts, PlanItemFacts
from casework.errors import InvalidInput
from casework.rules import RuleModule, evaluate, load_rules, refusals
from casework.rules.core import CoreGuards
from casework.text import Msg

FULL_CARD = frozenset(FILE_REQUIRED) | {"father_name", "father_phone"}
ITEM = PlanItemFacts(7, "learning", True, True, True, True)


def facts(state: str, **kw: object) -> CaseFacts:
    base: dict[str, object] = {
        "case_id": 1,
        "school_id": 1,
        "state": state,
        "version": 3,
        "today": date(2026, 10, 1),
        "filled_fields": FULL_CARD,
        "in_class": True,
    }
    base.update(kw)
    return CaseFacts(**base)  # type: ignore[arg-type]


def codes(verdicts) -> list[str]:
    return [v.code for v in refusals(verdicts)]


CASES = [
    ("assess", facts("identified"), []),
    (
        "assess",
        facts("identified", filled_fields=FULL_CARD - {"guardian_phone"}),
        ["file_incomplete"],
    ),
    ("assess", facts("identified", in_class=False), ["file_incomplete"]),
    (
        "assess",
        facts("identified", filled_fields=frozenset(FILE_REQUIRED)),
        ["parent_contact_missing"],
    ),
    ("plan", facts("assessed"), ["assessment_missing"]),
    ("plan", facts("assessed", assessments=1), []),
    ("mentor", facts("individual_plan"), ["plan_incomplete", "mentor_missing"]),
    (
        "mentor",
        facts(
            "individual_plan",
            plan_items=(PlanItemFacts(1, "life", True, False, True, True),),
            active_pairings=frozenset({"mentor"}),
        ),
        ["plan_incomplete"],
    ),
    (
        "mentor",
        facts("individual_plan", plan_items=(ITEM,), active_pairings=frozenset({"mentor"})),
        [],
    ),
    ("review", facts("mentored"), []),
    ("continue", facts("reviewed", plan_items=(ITEM,)), ["review_incomplete"]),
    (
        "continue",
        facts("reviewed", plan_items=(ITEM,), review_recorded=True),
        ["review_incomplete"],
    ),
    (
        "revise",
        facts("reviewed", plan_items=(ITEM,), review_recorded=True, reviewed_items=frozenset({7})),
        [],
    ),
    ("close", facts("reviewed", plan_items=(ITEM,), reason_given=True), ["review_incomplete"]),
    ("close", facts("mentored", reason_given=True), []),
    ("close", facts("mentored"), ["reason_required"]),
    ("reopen", facts("closed"), ["reason_required"]),
    ("reassess", facts("reviewed"), []),
    ("assess", facts("mentored"), ["not_allowed_from_state"]),
]


@pytest.mark.parametrize(("event", "case_facts", "expected"), CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_core_guards(event: str, case_facts: CaseFacts, expected: list[str]) -> None:
    verdicts = evaluate([CoreGuards()], event, case_facts)
    assert codes(verdicts) == expected
    for v in verdicts:
        assert v.rule and v.version and v.code and isinstance(v.message, Msg)


def test_every_failing_rule_is_reported_with_facts() -> None:
    verdicts = evaluate(
        [CoreGuards()],
        "assess",
        facts("identified", filled_fields=frozenset({"name"}), in_class=False),
    )
    failing = refusals(verdicts)
    assert [v.code for v in failing] == ["file_incomplete", "parent_contact_missing"]
    assert "class" in failing[0].facts["missing"] and "guardian_phone" in failing[0].facts["missing"]


class Broken(RuleModule):
    name = "broken"
    version = "0.1"
    description = Msg("always raises")

    def check(self, event, facts):
        raise ZeroDivisionError


def test_a_module_that_raises_refuses_and_names_itself() -> None:
    verdicts = evaluate([CoreGuards(), Broken()], "review", facts("mentored"))
    (failing,) = refusals(verdicts)
    assert (failing.rule, failing.code, failing.facts["error"]) == (
        "broken",
        "module_failed",
        "ZeroDivisionError",
    )


def test_parameters_change_what_is_required() -> None:
    lenient = CoreGuards({"file_required": ["name"], "parent_contact_required": False})
    verdicts = evaluate([lenient], "assess", facts("identified", filled_fields=frozenset({"name"})))
    assert codes(verdicts) == []


def test_unknown_parameter_and_unknown_module_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown parameter 'colour'"):
        CoreGuards({"colour": "red"})
    with pytest.raises(InvalidInput, match="unknown module 'nope'"):
        load_rules({"nope": {}})


def test_built_in_rules_come_through_the_entry_point() -> None:
    names = [m.name for m in load_rules()]
    assert names == sorted(names) and {"core", "obligations", "deadlines", "evaluation"} <= set(names)
    assert [m.name for m in load_rules(["core"], {"core": {}})] == ["core"]


def test_verdicts_of_a_forbidden_move_do_not_consult_modules() -> None:
    verdicts = evaluate([Broken()], "mentor", facts(states.IDENTIFIED))
    assert codes(verdicts) == ["not_allowed_from_state"]


def test_facts_seen_from_the_next_state_differ_only_in_state_version_and_since() -> None:
    from dataclasses import replace

    from casework.services.facts import moved

    before = facts(states.IDENTIFIED, plan_items=(ITEM,), version=3)
    after = moved(before, states.ASSESSED, date(2026, 9, 2))
    assert after == replace(before, state=states.ASSESSED, version=4, state_since=date(2026, 9, 2))
    assert (before.state, before.version) == (states.IDENTIFIED, 3)  # the facts moved from are untouched
