"""The whole transition table, on SQLite and PostgreSQL: every allowed move, every other pair refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from casework import states
from casework.domain.inputs import PairPartner, RecordAssessment
from casework.errors import TransitionRefused
from casework.persistence.tables import AuditEvent, Case
from casework.services import cases
from tests.helpers import unscoped

ALLOWED = {(s, t.event): t.dest for t in states.TRANSITIONS for s in t.sources}
PAIRS = [(s, e) for s in states.STATES for e in states.EVENTS]


def _audit_count(world, case_id: int) -> int:
    with unscoped(world.ctx.db) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id))


def _prepare_guards(world, case_id: int, state: str, event: str) -> None:
    """Record what the guards of ``event`` need, so only the table decides."""
    from casework.services import assessments, mentoring

    if state == "assessed" and event == "plan":
        assessments.assessment(
            world.ctx, world.counsellor, RecordAssessment(case_id=case_id, categories=["life"], summary="生活需要照顾")
        )
    elif state == "individual_plan" and event == "mentor":
        world.plan_item(case_id)
        mentoring.pairing(
            world.ctx,
            world.counsellor,
            PairPartner(
                case_id=case_id, kind="mentor", staff=world.mentor, partner_name=None, from_on=None, to_on=None
            ),
        )
    elif state == "reviewed" and event in {"continue", "revise", "close"}:
        world.review_all(case_id)


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=[f"{s}-{e}" for s, e in PAIRS])
def test_every_state_event_pair(shared_world, state: str, event: str) -> None:
    case_id = shared_world.case()
    shared_world.drive(case_id, state)
    _prepare_guards(shared_world, case_id, state, event)
    before = cases.show(shared_world.ctx, shared_world.leader, case_id)
    assert before.state == state
    audit_before = _audit_count(shared_world, case_id)
    reason = "家长返乡" if event in {"close", "reopen"} else None

    if (state, event) in ALLOWED:
        moved = shared_world.fire(case_id, event, reason)
        after = cases.show(shared_world.ctx, shared_world.leader, case_id)
        assert (after.state, after.version) == (
            ALLOWED[(state, event)],
            before.version + 1,
        )
        assert moved.to_state == ALLOWED[(state, event)]
        assert _audit_count(shared_world, case_id) == audit_before + 1
    else:
        with pytest.raises(TransitionRefused) as refused:
            shared_world.fire(case_id, event, reason)
        assert [v.code for v in refused.value.verdicts] == ["not_allowed_from_state"]
        after = cases.show(shared_world.ctx, shared_world.leader, case_id)
        assert (after.state, after.version) == (state, before.version)
        with unscoped(shared_world.ctx.db) as session:
            last = session.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq.desc())
            ).first()
        assert _audit_count(shared_world, case_id) == audit_before + 1
        assert last.action == "case.refused"
        assert json.loads(last.data)["event"] == event


def test_case_records_its_definition_version(shared_world) -> None:
    case_id = shared_world.case()
    with unscoped(shared_world.ctx.db) as session:
        case = session.get(Case, case_id)
        assert case.definition_version == states.CURRENT.version
