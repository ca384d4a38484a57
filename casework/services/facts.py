"""Load what rules may know (CaseFacts, AssessmentFacts) and store the duties they set, in the caller's transaction."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import states
from casework.domain.child import CHILD_FIELDS
from casework.domain.facts import AssessmentFacts, CaseFacts, PlanItemFacts, TermFacts
from casework.persistence.store import DutyRow, Store
from casework.persistence.tables import Case, Plan, Review, Screening
from casework.rules import Obligation, RuleSet, duties

# A new round of each record starts with these events: after them, older records no longer count.
ASSESSMENT_ROUND = ("reassess", "reopen")
PLAN_ROUND = ("reassess", "reopen", "revise")
FIELD_NAMES = tuple(f.name for f in CHILD_FIELDS)  # the card's fields rules may see filled
_ASSESSMENT_FIELDS = ("family_situation", "guardian_age", "guardian_health", "guardian_literate")


class CaseLike(Protocol):
    """What facts need of a case: the ORM's Case and the store's CaseRow both have it."""

    @property
    def id(self) -> int: ...
    @property
    def school_id(self) -> int: ...
    @property
    def child_id(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def opened_by(self) -> int: ...
    @property
    def counsellor_id(self) -> int | None: ...
    @property
    def state_since(self) -> datetime: ...


@dataclass(frozen=True)
class Rounds:
    assessment: int
    plan: int


def rounds(store: Store, case: CaseLike) -> Rounds:
    latest = store.round_versions(case.id, PLAN_ROUND)
    return Rounds(
        assessment=max((latest.get(e, 0) for e in ASSESSMENT_ROUND), default=0),
        plan=max((latest.get(e, 0) for e in PLAN_ROUND), default=0),
    )


def current_plan(session: Session, case: CaseLike, plan_round: int) -> Plan | None:
    return session.scalars(
        select(Plan).where(Plan.case_id == case.id, Plan.case_version >= plan_round).order_by(Plan.id.desc()).limit(1)
    ).first()


def current_review(session: Session, case: CaseLike) -> Review | None:
    """The review recorded since the case entered its current stage (only in reviewed)."""
    if case.state != states.REVIEWED:
        return None
    return session.scalars(
        select(Review)
        .where(Review.case_id == case.id, Review.case_version == case.version)
        .order_by(Review.id.desc())
        .limit(1)
    ).first()


def _term_results(store: Store, child_id: int) -> tuple[TermFacts, ...]:
    return tuple(TermFacts(y, t, total, rank, subjects) for y, t, total, rank, subjects in store.term_results(child_id))


def assessment_facts(session: Session, case: CaseLike, indicated: frozenset[str]) -> AssessmentFacts:
    store = Store.of(session)
    child = store.child_fields(case.child_id, _ASSESSMENT_FIELDS)
    screening = session.scalars(
        select(Screening.result).where(Screening.case_id == case.id).order_by(Screening.id.desc()).limit(1)
    ).first()
    literate = child["guardian_literate"]
    return AssessmentFacts(
        family_situation=child["family_situation"],
        guardian_age=child["guardian_age"],
        guardian_health=child["guardian_health"],
        guardian_literate=None if literate is None else bool(literate),
        term_results=_term_results(store, case.child_id),
        screening=dict(screening) if screening else None,
        indicated=indicated,
    )


def _last_contacts(store: Store, case: CaseLike) -> dict[str, date]:
    found: dict[str, date] = {}
    for kind, role, day in store.last_contacts(case.id, case.school_id):
        found[kind] = max(found.get(kind, day), day)
        if role is not None:
            found[f"{kind}@{role}"] = day
    return found


def load(
    store: Store,
    case: CaseLike,
    today: date,
    rule_set: RuleSet,
    reason_given: bool = False,
    actor_roles: frozenset[str] = frozenset(),
) -> CaseFacts:
    class_id, filled_fields, boarding = store.child_filled(case.child_id, FIELD_NAMES)
    has = store.records_present(case.id, case.child_id)  # the kinds of record not there are not read
    r = rounds(store, case) if "case_event" in has else Rounds(0, 0)
    assessments = store.assessment_categories(case.id, r.assessment) if "assessment" in has else []
    _, items = store.plan_items(case.id, r.plan) if "plan" in has else (None, [])
    reviewed = store.review_items(case.id, case.version) if case.state == states.REVIEWED else None
    flags = store.flags(case.id) if "flag" in has else []
    pairings = store.active_pairings(case.id, today) if "pairing" in has else []
    return CaseFacts(
        case_id=case.id,
        school_id=case.school_id,
        state=case.state,
        version=case.version,
        today=today,
        filled_fields=filled_fields,
        in_class=class_id is not None,
        boarding=boarding,
        assessments=len(assessments),
        categories=tuple(sorted({c for cats in assessments for c in cats})),
        plan_items=tuple(
            PlanItemFacts(
                id=int(item_id),
                category=category,
                has_time=start is not None and end is not None,
                has_content=bool(content),
                has_target=bool(target),
                has_responsible=responsible is not None,
                kind=kind,
                subject=subject,
            )
            for item_id, category, kind, subject, start, end, content, target, responsible in items
        ),
        active_pairings=frozenset(kind for kind, _ in pairings),
        review_recorded=reviewed is not None,
        reviewed_items=frozenset(reviewed or ()),
        reason_given=reason_given,
        opened_on=case.opened_at.date(),
        state_since=case.state_since.date(),
        actor_roles=actor_roles,
        flags={code: (ack.date() if ack else None) for code, _, ack in flags},
        flags_raised={code: raised.date() for code, raised, _ in flags},
        referrals=tuple(store.referral_agencies(case.id)) if "referral" in has else (),
        term_results=_term_results(store, case.child_id) if "term_result" in has else (),
        last_contacts=_last_contacts(store, case) if "contact" in has else {},
        extensions=store.extensions(case.id) if "extension" in has else {},
        calendar=rule_set.calendar,
    )


def moved(facts: CaseFacts, to_state: str, today: date) -> CaseFacts:
    """The same facts seen from the state the case is about to enter.

    A shallow copy with three fields set: ``dataclasses.replace`` runs ``__init__`` over all two
    dozen fields again, which cost a third of working out the new stage's duties.
    """
    seen = copy.copy(facts)
    for name, value in (("state", to_state), ("version", facts.version + 1), ("state_since", today)):
        object.__setattr__(seen, name, value)  # frozen for the rules; this copy is not yet theirs
    return seen


def plan_duties(facts: CaseFacts, rule_set: RuleSet) -> dict[str, Obligation]:
    """What the rules say the case owes in the state ``facts`` describe, by duty code.

    A rule module that raises propagates (casework.rules.engine.ModuleFailed): callers turn it
    into a refusal, so a broken module never leaves a case without its duties.
    """
    if facts.state == states.CLOSED:
        return {}
    return {d.code: d for d in duties(rule_set.modules, facts)}


def stage_due(wanted: dict[str, Obligation]) -> date | None:
    return next((d.due for code, d in wanted.items() if code.startswith("stage_deadline:")), None)


def store_duties(store: Store, case: CaseLike, wanted: dict[str, Obligation], today: date, now: datetime) -> None:
    """Make the case's duty rows exactly ``wanted``, each with a named person; "stalled" is a query on them.

    A duty whose role nobody holds on the case yet (no mentor paired, no class teacher, no leader)
    falls to the case's counsellor, marked as standing in, so that it is never nobody's.
    """
    # The counsellor in charge (``case open --counsellor``), or whoever opened a case that has none.
    counsellor = case.opened_by if case.counsellor_id is None else case.counsellor_id
    who: dict[str, int] = {"counsellor": counsellor}
    roles = {d.responsible_role for d in wanted.values()}
    if "class_teacher" in roles:
        class_id = store.child_fields(case.child_id, ())["class_id"]
        teacher = store.class_teacher(class_id, today) if class_id is not None else None
        if teacher is not None:
            who["class_teacher"] = teacher
    if "mentor" in roles:
        mentor = next((s for k, s in reversed(store.active_pairings(case.id, today)) if k == "mentor"), None)
        if mentor is not None:
            who["mentor"] = mentor
    if "leader" in roles:
        leader = store.school_leader(case.school_id, today)
        if leader is not None:
            who["leader"] = leader
    store.replace_duties(
        case.school_id,
        case.id,
        [
            DutyRow(
                code,
                d.rule,
                d.responsible_role,
                who.get(d.responsible_role, counsellor),
                d.rhythm_days,
                d.due,
                d.last_done,
                d.grace_days,
                d.overdue_on,
                d.escalates,
                d.responsible_role not in who,
            )
            for code, d in wanted.items()
        ],
        now,
    )


def refresh_children(session: Session, child_ids: Iterable[int], rule_set: RuleSet, now: datetime) -> None:
    """After a change of the card that duties follow (whether the child boards): recompute the duties of
    the children's open cases. A rule module that raises propagates (ModuleFailed), as in ``plan_duties``."""
    ids = sorted(set(child_ids))
    if not ids:
        return
    session.flush()
    store = Store.of(session)
    for case in session.scalars(select(Case).where(Case.child_id.in_(ids), Case.state != states.CLOSED)):
        refresh_duties(session, case, load(store, case, now.date(), rule_set), rule_set, now)


def refresh_duties(session: Session, case: CaseLike, facts: CaseFacts, rule_set: RuleSet, now: datetime) -> None:
    """After a record changed what the case owes: recompute and store duties and the stage deadline."""
    store = Store.of(session)
    wanted = plan_duties(facts, rule_set)
    store_duties(store, case, wanted, facts.today, now)
    store.set_stage_due(case.id, stage_due(wanted))
