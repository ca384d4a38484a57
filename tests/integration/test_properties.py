"""Properties over random sequences of events and records: no move past a failing guard, refusals change nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from casework import states
from casework.domain.inputs import PairPartner, RecordAssessment, RecordContact
from casework.errors import CaseworkError, TransitionRefused
from casework.persistence.tables import AuditEvent
from casework.services import assessments, cases, mentoring
from casework.services.audit import chain
from tests.helpers import copy_world, unscoped

ACTIONS = [f"fire:{e}" for e in states.EVENTS] + ["assessment", "plan_item", "mentor", "review_all", "talk"]


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory):
    world = copy_world("sqlite", tmp_path_factory)
    yield world
    world.ctx.db.dispose()


def _audit_count(world) -> int:
    with unscoped(world.ctx.db) as session:
        # the access log records the reads of cases.show; count the other events
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "access.read"))


def _apply(world, case_id: int, action: str) -> None:
    if action == "assessment":
        assessments.assessment(
            world.ctx, world.counsellor, RecordAssessment(case_id=case_id, categories=["learning"], summary="评估")
        )
    elif action == "plan_item":
        world.plan_item(case_id)
    elif action == "mentor":
        mentoring.pairing(
            world.ctx,
            world.counsellor,
            PairPartner(
                case_id=case_id, kind="mentor", staff=world.mentor, partner_name=None, from_on=None, to_on=None
            ),
        )
    elif action == "review_all":
        world.review_all(case_id)
    elif action == "talk":
        mentoring.contact(
            world.ctx,
            world.teacher,
            RecordContact(case_id=case_id, kind="talk", occurred_on=None, by=None, summary="谈心", follow_up=None),
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=14), complete=st.booleans())
def test_no_sequence_passes_a_failing_guard(sqlite_world, steps: list[str], complete: bool) -> None:
    world = sqlite_world
    case_id = world.case(complete=complete)
    for action in steps:
        if not action.startswith("fire:"):
            try:
                _apply(world, case_id, action)
            except CaseworkError:
                pass  # a record refused in this stage changes nothing worth checking here
            continue
        event = action.split(":", 1)[1]
        before = cases.show(world.ctx, world.leader, case_id)
        predicted = cases.why(world.ctx, case_id, event, world.leader)
        audit_before = _audit_count(world)
        try:
            cases.advance(world.ctx, world.leader, case_id, event, "原因")
        except TransitionRefused:
            after = cases.show(world.ctx, world.leader, case_id)
            assert not predicted.allowed
            assert (after.state, after.version) == (before.state, before.version)
            assert _audit_count(world) == audit_before + 1
        else:
            after = cases.show(world.ctx, world.leader, case_id)
            assert predicted.allowed, [v.code for v in predicted.verdicts if not v.passed]
            assert (after.state, after.version) == (predicted.to_state, before.version + 1)
    assert chain.verify(world.ctx).ok
