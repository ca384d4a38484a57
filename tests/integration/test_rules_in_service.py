"""Rule modules at work through the services, on SQLite and PostgreSQL, with a clock the tests move."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from casework.domain.inputs import (
    PairPartner,
    RecordAssessment,
    RecordContact,
    RecordReferral,
    RecordScreening,
    RecordTermResult,
)
from casework.errors import PermissionDenied, TransitionRefused
from casework.persistence.tables import Assessment, AuditEvent, Case, CaseEvent, Duty, RuleSet
from casework.services import Context, assessments, cases, mentoring, pupil_records, rules_info, settings
from casework.services.settings import Settings
from tests.helpers import unscoped


def mentored_case(world, categories=("learning",)) -> int:
    case_id = world.case()
    world.fire(case_id, "assess")
    assessments.assessment(
        world.ctx,
        world.counsellor,
        RecordAssessment(case_id=case_id, categories=list(categories), summary="评估"),
    )
    world.fire(case_id, "plan")
    world.plan_item(case_id)
    mentoring.pairing(
        world.ctx,
        world.counsellor,
        PairPartner(case_id=case_id, kind="mentor", staff=world.mentor, partner_name=None, from_on=None, to_on=None),
    )
    world.fire(case_id, "mentor")
    return case_id


def duties_of(world, case_id: int) -> dict[str, date]:
    with unscoped(world.ctx.db) as session:
        return {d.code: d.due_on for d in session.scalars(select(Duty).where(Duty.case_id == case_id))}


def test_exam_results_and_screening_classify_at_assessment(world) -> None:
    case_id = world.case()
    child_id = cases.show(world.ctx, world.leader, case_id).child.id
    pupil_records.term_result(
        world.ctx,
        world.teacher,
        RecordTermResult(child_id=child_id, school_year=2025, term=1, total=480, rank=4, subjects={"数学": 90}),
    )
    pupil_records.term_result(
        world.ctx,
        world.teacher,
        RecordTermResult(
            child_id=child_id, school_year=2025, term=2, total=430, rank=16, subjects={"数学": 55, "语文": 80}
        ),
    )
    world.fire(case_id, "assess")
    assessments.screening(
        world.ctx,
        world.counsellor,
        RecordScreening(case_id=case_id, scores=",".join(["2"] * 25), informant="teacher"),
    )
    assessments.assessment(
        world.ctx,
        world.counsellor,
        RecordAssessment(case_id=case_id, categories=[], summary="名次下滑，情绪低落"),
    )
    explained = rules_info.explain(world.ctx, world.leader, case_id)
    assert explained["categories"] == ["academic_slide", "life", "psychological"]
    assert explained["risk_level"] == "high"
    rules = {e["category"]: e["rule"] for e in explained["evidence"]}
    assert rules == {"academic_slide": "academic_slide", "life": "family_situation", "psychological": "psychological"}
    with unscoped(world.ctx.db) as session:
        assessment = session.scalars(select(Assessment).where(Assessment.case_id == case_id)).one()
        assert assessment.rule_set == world.ctx.rule_set.version
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "assessment.recorded")).all()
    # evidence (ranks, bands) stays with the assessment, never in the audit trail
    assert all("ranks" not in a.data and "16" not in json.loads(a.data).get("categories", []) for a in audit)
    # the plan must contain what the categories require before mentor
    world.fire(case_id, "plan")
    world.plan_item(case_id)
    mentoring.pairing(
        world.ctx,
        world.counsellor,
        PairPartner(case_id=case_id, kind="mentor", staff=world.mentor, partner_name=None, from_on=None, to_on=None),
    )
    with pytest.raises(TransitionRefused) as refused:
        world.fire(case_id, "mentor")
    missing = {v.rule: v.facts["missing"] for v in refused.value.verdicts}
    assert missing == {
        "academic_slide": ["tutoring:数学", "study_helper", "progress_record"],
        "psychological": ["psych_help_plan"],
    }


def test_suspected_illegal_is_critical_acknowledged_referred_and_closed_by_a_leader(world) -> None:
    case_id = world.case()
    world.fire(case_id, "assess")
    assessments.assessment(
        world.ctx,
        world.counsellor,
        RecordAssessment(case_id=case_id, categories=["涉嫌违法"], summary="疑似参与盗窃"),
    )
    assert "critical_acknowledgement" in duties_of(world, case_id)
    with pytest.raises(PermissionDenied):
        assessments.acknowledge(world.ctx, world.counsellor, case_id)
    assessments.acknowledge(world.ctx, world.leader, case_id)
    assert "critical_acknowledgement" not in duties_of(world, case_id)
    with pytest.raises(TransitionRefused) as refused:
        world.fire(case_id, "plan")
    assert [v.code for v in refused.value.verdicts] == ["referral_missing"]
    assessments.referral(
        world.ctx,
        world.counsellor,
        RecordReferral(case_id=case_id, agency="派出所", summary="与派出所共同帮教"),
    )
    world.fire(case_id, "plan")
    with pytest.raises(TransitionRefused) as refused:
        cases.advance(world.ctx, world.counsellor, case_id, "close", "转学")
    assert [v.code for v in refused.value.verdicts] == ["leader_decision_missing"]
    cases.advance(world.ctx, world.leader, case_id, "close", "转学")


def test_duties_and_deadlines_are_stored_and_follow_records(world) -> None:
    case_id = mentored_case(world)
    due = duties_of(world, case_id)
    assert due["stage_deadline:mentored"] == date(2026, 12, 30)  # 120 days from 1 September
    assert due["monthly_talk"] == date(2026, 9, 30)  # by the end of the calendar month the stage began in
    with unscoped(world.ctx.db) as session:
        assert session.get(Case, case_id).stage_due_on == date(2026, 12, 30)
    world.clock.advance(20)
    mentoring.contact(
        world.ctx,
        world.teacher,
        RecordContact(case_id=case_id, kind="talk", occurred_on=None, by=None, summary="谈心", follow_up=None),
    )
    assert duties_of(world, case_id)["monthly_talk"] == date(2026, 10, 31)  # talked in September: by October's end
    world.fire(case_id, "close", "父母返乡")
    assert duties_of(world, case_id) == {}


def test_each_decision_keeps_its_rule_set_and_new_parameters_do_not_rewrite_it(world) -> None:
    case_id = world.case()
    world.fire(case_id, "assess")
    first = world.ctx.rule_set.version
    lenient = Context(db=world.ctx.db, clock=world.clock, settings=Settings(params={"deadlines": {"assessed": 30}}))
    assessments.assessment(
        lenient,
        world.counsellor,
        RecordAssessment(case_id=case_id, categories=["learning"], summary="评估"),
    )
    cases.advance(lenient, world.counsellor, case_id, "plan")
    with unscoped(world.ctx.db) as session:
        used = [
            e.rule_set
            for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.version))
        ]
        stored = {r.version: r.content for r in session.scalars(select(RuleSet))}
    assert used == [first, lenient.rule_set.version] and first != used[1]
    assert {m["name"]: m["params"] for m in stored[used[1]]["modules"]}["deadlines"]["assessed"] == 30
    assert {m["name"]: m["params"] for m in stored[first]["modules"]}["deadlines"]["assessed"] == 14


def test_a_module_switched_off_no_longer_guards(world) -> None:
    case_id = world.case(complete=False)
    loose = Context(db=world.ctx.db, clock=world.clock, settings=settings.Settings(enabled=["deadlines"]))
    cases.advance(loose, world.counsellor, case_id, "assess")


def test_facts_skip_only_the_kinds_of_record_a_case_has_none_of(world, monkeypatch) -> None:
    from casework.persistence.store import RECORD_KINDS, Store
    from casework.services import facts as case_facts

    fresh, driven = world.case(), world.case()
    world.drive(driven, "reviewed")

    def load(case_id: int) -> tuple[frozenset[str], object]:
        with world.ctx.db.raw_write() as store:
            case = store.case_row(case_id)
            present = store.records_present(case.id, case.child_id)
            return present, case_facts.load(store, case, date(2026, 9, 1), world.ctx.rule_set)

    (none, fresh_facts), (some, driven_facts) = load(fresh), load(driven)
    assert none == frozenset()
    assert {"case_event", "assessment", "plan", "pairing"} <= some
    monkeypatch.setattr(Store, "records_present", lambda self, case_id, child_id: frozenset(RECORD_KINDS))
    assert (load(fresh)[1], load(driven)[1]) == (fresh_facts, driven_facts)
