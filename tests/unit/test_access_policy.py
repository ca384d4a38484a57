"""The policy table, enumerated: every role x tier x action, every role x event x state, deny by default."""

from __future__ import annotations

import pytest

from casework import states
from casework.domain import access

ROLES = [
    "leader",
    "deputy",
    "counsellor",
    "class_teacher",
    "subject_teacher",
    "mentor",
    "caring_parent",
    "auditor",
    "admin",
    "bureau",
]

# The whole matrix, written out: which tiers each role reads and writes.
READS = {
    "leader": "T0 T1 T2",
    "deputy": "T0 T1 T2",
    "counsellor": "T0 T1 T2",
    "class_teacher": "T0 T1 T2",
    "subject_teacher": "T0 T1 T2",
    "mentor": "T0 T1 T2",
    "caring_parent": "T0 T1 T2",
    "auditor": "T0",
    "admin": "T0 T1",
    "bureau": "T0",
}
WRITES = {**READS, "auditor": "", "bureau": ""}
SCOPES = {
    "leader": "school",
    "deputy": "school",
    "auditor": "school",
    "admin": "school",
    "counsellor": "assigned",
    "class_teacher": "assigned",
    "subject_teacher": "assigned",
    "mentor": "assigned",
    "caring_parent": "assigned",
    "bureau": "none",
}
MATRIX = [(r, t, a) for r in ROLES for t in access.TIERS for a in access.ACTIONS]


@pytest.mark.parametrize(("role", "tier", "action"), MATRIX, ids=[f"{r}-{t}-{a}" for r, t, a in MATRIX])
def test_role_tier_action(role: str, tier: str, action: str) -> None:
    expected = tier in (READS if action == access.READ else WRITES)[role].split()
    assert access.may_tier([role], action, tier) is expected


@pytest.mark.parametrize("role", ROLES)
def test_scope_of_each_role(role: str) -> None:
    assert access.policy(role).scope == SCOPES[role]


def test_every_role_of_the_vocabulary_has_a_policy() -> None:
    from casework.domain.vocab import ROLES as VOCAB

    assert set(VOCAB) == set(access.POLICY) == set(ROLES)


def test_an_unknown_role_may_do_nothing() -> None:
    assert access.policy("janitor") is access.NO_ACCESS
    assert not any(access.may_tier(["janitor"], a, t) for a in access.ACTIONS for t in access.TIERS)
    assert not any(access.may(["janitor"], c) for c in access.CAPABILITIES)
    assert access.widest_scope(["janitor"]) == access.NONE


EVENTS = [(r, t.event, s) for r in ROLES for t in states.TRANSITIONS for s in t.sources]


@pytest.mark.parametrize(("role", "event", "source"), EVENTS, ids=[f"{r}-{e}-{s}" for r, e, s in EVENTS])
def test_who_fires_what(role: str, event: str, source: str) -> None:
    leadership = role in {"leader", "deputy"}
    if event in {"assess", "plan", "mentor", "review"}:
        expected = leadership or role == "counsellor"
    elif event == "close":
        expected = leadership or (role == "counsellor" and source != states.REVIEWED)
    else:  # continue, revise, reassess from reviewed; reopen from closed
        expected = leadership
    assert access.may_fire([role], event, source) is expected


def test_only_the_leadership_decides_after_the_review() -> None:
    for event in ("close", "continue", "revise"):
        allowed = {r for r in ROLES if access.may_fire([r], event, states.REVIEWED)}
        assert allowed == {"leader", "deputy"}


def test_capabilities() -> None:
    holders = {c: {r for r in ROLES if access.may([r], c)} for c in access.CAPABILITIES}
    assert holders[access.AUDIT_READ] == {"auditor", "leader", "deputy", "admin"}
    assert holders[access.STAFF_MANAGE] == {"admin"}
    assert holders[access.PRIVACY_PURGE] == {"admin"}
    assert holders[access.REVIEW_MEETING] == {"leader", "deputy"}
    assert holders[access.FLAG_ACKNOWLEDGE] == {"leader", "deputy"}
    assert holders[access.CASE_OPEN] == {"leader", "deputy", "counsellor"}
    assert holders[access.COUNTY_REPORT] == {"bureau"}
    assert holders[access.BACKUP_MAKE] == {"admin"}
    assert holders[access.REPORT_INDICATORS] == {"leader", "deputy"}  # a school's own report: not the bureau


def test_the_widest_scope_wins() -> None:
    assert access.widest_scope(["mentor", "leader"]) == access.SCHOOL
    assert access.widest_scope(["mentor"]) == access.ASSIGNED


def test_sensitive_columns_exist_in_the_tables() -> None:
    from casework.persistence.tables import Base

    tables = Base.metadata.tables
    for table, columns in access.SENSITIVE_COLUMNS.items():
        for column, tier in columns.items():
            assert column in tables[table].c, f"{table}.{column}"
            assert tier in (access.T1, access.T2)
