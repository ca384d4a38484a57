"""What each stage records: assessment, plan items, pairings, contacts and the review."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import states
from casework.domain import access as policy
from casework.domain import sdq
from casework.domain.validation import parse_choice, parse_int, require_text
from casework.domain.vocab import (
    CONTACT_KINDS,
    NEED_CATEGORIES,
    PAIRING_KINDS,
    PLAN_ITEM_KINDS,
    REFERRAL_AGENCIES,
    REVIEW_RESULTS,
)
from casework.errors import InvalidInput, NotFound, TransitionRefused
from casework.persistence.store import Store
from casework.persistence.tables import (
    Assessment,
    Case,
    CaseFlag,
    ContactEntry,
    Pairing,
    Plan,
    PlanItem,
    Referral,
    Review,
    ReviewEffect,
    Screening,
    Staff,
    TermResult,
)
from casework.rules import classify, risk_level
from casework.rules.engine import ModuleFailed
from casework.services import access, consent, trail
from casework.services import facts as case_facts
from casework.services.actors import require_member, resolve_staff
from casework.services.cases import ensure_rule_set
from casework.services.context import Context
from casework.text import N_, Msg

PLAN_KIND_ALIASES = {
    "帮扶措施": "general",
    "学习辅导": "tutoring",
    "辅导": "tutoring",
    "成长记录": "progress_record",
    "进步记录": "progress_record",
    "心理帮扶计划": "psych_help",
    "心理辅导计划": "psych_help",
    "个别教育管理方案": "correction",
    "矫治": "correction",
}
AGENCY_ALIASES = {
    "公安": "police",
    "派出所": "police",
    "民政": "civil_affairs",
    "妇联": "womens_federation",
    "检察院未检部门": "procuratorate_minors",
    "检察院": "procuratorate_minors",
}
LEADERSHIP = frozenset({"leader", "deputy"})

CATEGORY_ALIASES = {
    "学习": "learning",
    "生活": "life",
    "心理": "psychological",
    "品德行为偏差": "conduct",
    "行为": "conduct",
    "学习严重滑坡": "academic_slide",
    "人格发展不健全": "personality",
    "道德发展失范": "moral",
    "涉嫌违法": "suspected_illegal",
}


@dataclass
class _Write:
    session: Session
    case: Case
    actor: Staff
    now: datetime
    ctx: Context
    roles: list[str]

    def audit(self, action: str, object_type: str, object_id: int, **data: Any) -> None:
        trail.append(
            self.session,
            school_id=self.case.school_id,
            at=self.now,
            actor_id=self.actor.id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            case_id=self.case.id,
            from_state=self.case.state,
            data=data,
        )

    def staff_at_school(self, ref: str) -> Staff:
        staff = resolve_staff(self.session, ref)
        require_member(self.session, staff, self.case.school_id, self.now.date())
        return staff


@contextmanager
def _writing(
    ctx: Context, actor: str | None, case_id: int, allowed: tuple[str, ...], what: str, tier: str = policy.T2
) -> Iterator[_Write]:
    """One write transaction on a case in the actor's scope, in one of the ``allowed`` stages.

    ``tier``: the highest tier of what is written (counselling content by default).
    """
    now = ctx.now()
    with ctx.db.write() as session:
        principal = access.enter(session, actor, now.date())
        case = access.case_in_scope(session, principal, case_id)
        roles = sorted(access.require_tier(principal, case.school_id, policy.WRITE, tier))
        if tier == policy.T2:
            consent.require_for_records(session, case.child_id, now.date(), principal, case.school_id)
        who = access.staff_of(session, principal)
        if case.state not in allowed:
            raise InvalidInput(
                "case {case} is {state}: {what} is recorded when the case is {allowed}",
                case=case.id,
                state=states.state_label(case.state),
                what=Msg(what),
                allowed=[states.state_label(s) for s in allowed],
            )
        w = _Write(session, case, who, now, ctx, roles)
        yield w
        # What the case owes may have changed (a talk done, a category found): recompute duties.
        session.flush()
        facts = case_facts.load(Store.of(session), case, now.date(), ctx.rule_set, actor_roles=frozenset(roles))
        try:
            case_facts.refresh_duties(session, case, facts, ctx.rule_set, now)
        except ModuleFailed as failed:
            raise TransitionRefused(
                "the rules could not be applied to case {case}; nothing was recorded", [failed.verdict], case=case.id
            ) from None


def parse_category(text: str) -> str:
    return parse_choice(text, "category", NEED_CATEGORIES, CATEGORY_ALIASES)


def assessment(
    ctx: Context,
    actor: str | None,
    case_id: int,
    categories: list[str],
    summary: str,
    assessed_on: date | None = None,
) -> int:
    """Record the counsellor's assessment; the rule modules classify too, each with its evidence.

    The counsellor's categories count as indicated; modules add what the facts show (family
    situation, exam ranks, screening). A category with a flag (suspected illegal: critical)
    raises it on the case at once.
    """
    indicated = frozenset(parse_category(c) for c in categories)
    summary = require_text(summary, "--summary", 5000)
    with _writing(ctx, actor, case_id, (states.IDENTIFIED, states.ASSESSED), N_("an assessment")) as w:
        facts = case_facts.assessment_facts(w.session, w.case, indicated)
        try:
            found = classify(ctx.rules, facts)
        except ModuleFailed as failed:
            raise TransitionRefused(
                "the rules could not classify case {case}; nothing was recorded", [failed.verdict], case=w.case.id
            ) from None
        codes = sorted(indicated | {c.code for c in found})
        if not codes:
            raise InvalidInput(
                "no need category: give --category ({known}) or record what shows one (exam results, screening)",
                known=", ".join(NEED_CATEGORIES),
            )
        evidence = [{"category": c.code, "rule": c.rule, "risk": c.risk, "evidence": dict(c.evidence)} for c in found]
        evidence += [{"category": c, "rule": "counsellor", "risk": None, "evidence": {}} for c in sorted(indicated)]
        level = risk_level(found)
        row = Assessment(
            school_id=w.case.school_id,
            case_id=w.case.id,
            case_version=w.case.version,
            categories=codes,
            facts={"evidence": evidence, "risk_level": level},
            summary=summary,
            assessed_on=assessed_on or w.now.date(),
            by_id=w.actor.id,
            recorded_at=w.now,
            rule_set=ensure_rule_set(Store.of(w.session), ctx),
        )
        w.session.add(row)
        w.session.flush()
        if level is not None:
            w.case.risk_level = level
        w.audit("assessment.recorded", "assessment", row.id, categories=codes, risk_level=level)
        for flag in sorted({c.flag for c in found if c.flag}):
            _raise_flag(w, flag, next(c.rule for c in found if c.flag == flag))
        return row.id


def _raise_flag(w: _Write, code: str, rule: str) -> None:
    exists = w.session.scalars(select(CaseFlag).where(CaseFlag.case_id == w.case.id, CaseFlag.code == code)).first()
    if exists is not None:
        return
    flag = CaseFlag(school_id=w.case.school_id, case_id=w.case.id, code=code, rule=rule, raised_at=w.now)
    w.session.add(flag)
    w.session.flush()
    w.audit("flag.raised", "case_flag", flag.id, code=code, rule=rule)


def plan_item(
    ctx: Context,
    actor: str | None,
    case_id: int,
    *,
    category: str,
    measures: str,
    responsible: str | None,
    start: date | None,
    end: date | None,
    content: str | None,
    target: str | None,
    kind: str = "general",
    subject: str | None = None,
) -> int:
    """Add one item to the case's current plan (a new plan starts after revise or reassess)."""
    code = parse_category(category)
    kind = parse_choice(kind, "--kind", PLAN_ITEM_KINDS, PLAN_KIND_ALIASES)
    subject = require_text(subject, "--subject", 30) if subject else None
    if kind == "tutoring" and subject is None:
        raise InvalidInput("a tutoring item needs --subject")
    measures = require_text(measures, "--measures", 5000)
    if start and end and end < start:
        raise InvalidInput("--end {end} is before --start {start}", end=end.isoformat(), start=start.isoformat())
    with _writing(ctx, actor, case_id, (states.ASSESSED, states.INDIVIDUAL_PLAN), N_("a plan item")) as w:
        owner = w.staff_at_school(responsible) if responsible else w.actor
        r = case_facts.rounds(Store.of(w.session), w.case)
        plan = case_facts.current_plan(w.session, w.case, r.plan)
        if plan is None:
            plan = Plan(
                school_id=w.case.school_id,
                case_id=w.case.id,
                case_version=w.case.version,
                created_at=w.now,
                by_id=w.actor.id,
            )
            w.session.add(plan)
            w.session.flush()
        item = PlanItem(
            school_id=w.case.school_id,
            plan_id=plan.id,
            category=code,
            kind=kind,
            subject=subject,
            measures=measures,
            responsible_id=owner.id,
            start_on=start,
            end_on=end,
            content=content.strip() if content and content.strip() else None,
            stage_target=target.strip() if target and target.strip() else None,
        )
        w.session.add(item)
        w.session.flush()
        w.audit(
            "plan_item.recorded",
            "plan_item",
            item.id,
            plan_id=plan.id,
            category=code,
            kind=kind,
            fields=[
                f
                for f, v in (
                    ("start", start),
                    ("end", end),
                    ("content", item.content),
                    ("stage_target", item.stage_target),
                )
                if v
            ],
        )
        return item.id


def pairing(
    ctx: Context,
    actor: str | None,
    case_id: int,
    *,
    kind: str,
    staff: str | None,
    partner_name: str | None,
    from_on: date | None,
    to_on: date | None,
) -> int:
    kind = parse_choice(
        kind,
        "--kind",
        PAIRING_KINDS,
        {"帮扶教师": "mentor", "爱心家长": "caring_parent", "学习帮手": "study_helper"},
    )
    if kind == "study_helper":
        if not partner_name:
            raise InvalidInput("a study helper is a pupil: give --pupil NAME")
        partner_name = require_text(partner_name, "--pupil", 100)
    elif not staff:
        raise InvalidInput("a {kind} pairing needs --staff", kind=PAIRING_KINDS[kind])
    with _writing(ctx, actor, case_id, states.OPEN_STATES, N_("a pairing")) as w:
        partner = w.staff_at_school(staff) if staff else None
        start = from_on or w.now.date()
        if to_on is not None and to_on < start:
            raise InvalidInput("--to {to} is before --from {start}", to=to_on.isoformat(), start=start.isoformat())
        row = Pairing(
            school_id=w.case.school_id,
            case_id=w.case.id,
            kind=kind,
            staff_id=partner.id if partner else None,
            partner_name=partner_name if not partner else None,
            from_on=start,
            to_on=to_on,
            recorded_at=w.now,
            recorded_by=w.actor.id,
        )
        w.session.add(row)
        w.session.flush()
        w.audit("pairing.recorded", "pairing", row.id, kind=kind, staff_id=row.staff_id)
        return row.id


def contact(
    ctx: Context,
    actor: str | None,
    case_id: int,
    *,
    kind: str,
    occurred_on: date | None,
    by: str | None,
    summary: str,
    follow_up: str | None,
) -> int:
    if kind not in CONTACT_KINDS:
        raise InvalidInput("contact kind '{kind}' is not one of {known}", kind=kind, known=", ".join(CONTACT_KINDS))
    summary = require_text(summary, "--summary", 5000)
    with _writing(ctx, actor, case_id, states.OPEN_STATES, N_("a contact")) as w:
        author = w.staff_at_school(by) if by else w.actor
        day = occurred_on or w.now.date()
        if day > w.now.date():
            raise InvalidInput("--date {day} is in the future", day=day.isoformat())
        row = ContactEntry(
            school_id=w.case.school_id,
            case_id=w.case.id,
            kind=kind,
            occurred_on=day,
            by_id=author.id,
            summary=summary,
            follow_up=follow_up.strip() if follow_up and follow_up.strip() else None,
            recorded_at=w.now,
            recorded_by=w.actor.id,
        )
        w.session.add(row)
        w.session.flush()
        w.audit(
            "contact.recorded",
            "contact_entry",
            row.id,
            kind=kind,
            occurred_on=day.isoformat(),
            by_id=author.id,
        )
        return row.id


def review(
    ctx: Context,
    actor: str | None,
    case_id: int,
    *,
    item_id: int,
    result: str,
    effect: str,
    reviewed_on: date | None = None,
    summary: str | None = None,
) -> int:
    """Record the stage effect of one plan item in this stage's review (created on first use)."""
    result = parse_choice(
        result,
        "--result",
        REVIEW_RESULTS,
        {"达成": "met", "部分达成": "partly_met", "未达成": "not_met"},
    )
    effect = require_text(effect, "--effect", 5000)
    with _writing(ctx, actor, case_id, (states.REVIEWED,), N_("a review")) as w:
        r = case_facts.rounds(Store.of(w.session), w.case)
        plan = case_facts.current_plan(w.session, w.case, r.plan)
        if plan is None:
            raise InvalidInput("case {case} has no plan to review", case=w.case.id)
        item = w.session.get(PlanItem, item_id)
        if item is None or item.plan_id != plan.id:
            items = w.session.scalars(select(PlanItem.id).where(PlanItem.plan_id == plan.id)).all()
            raise NotFound(
                "plan item {item} is not in the current plan of case {case} (items: {items})",
                item=item_id,
                case=w.case.id,
                items=", ".join(map(str, items)),
            )
        row = case_facts.current_review(w.session, w.case)
        if row is None:
            row = Review(
                school_id=w.case.school_id,
                case_id=w.case.id,
                case_version=w.case.version,
                plan_id=plan.id,
                reviewed_on=reviewed_on or w.now.date(),
                by_id=w.actor.id,
                summary=summary,
                recorded_at=w.now,
            )
            w.session.add(row)
            w.session.flush()
        elif summary:
            row.summary = summary
        existing = w.session.scalars(
            select(ReviewEffect).where(ReviewEffect.review_id == row.id, ReviewEffect.plan_item_id == item.id)
        ).first()
        if existing is None:
            w.session.add(
                ReviewEffect(
                    school_id=w.case.school_id,
                    review_id=row.id,
                    plan_item_id=item.id,
                    result=result,
                    effect=effect,
                )
            )
        else:
            existing.result, existing.effect = result, effect
        w.session.flush()
        w.audit(
            "review.recorded",
            "review",
            row.id,
            plan_item_id=item.id,
            result=result,
            replaced=existing is not None,
        )
        return row.id


def screening(
    ctx: Context,
    actor: str | None,
    case_id: int,
    *,
    scores: str,
    informant: str = "parent",
    screened_on: date | None = None,
) -> tuple[int, sdq.SdqResult]:
    """An SDQ-style screening: 25 item scores in, five subscales, the total and their bands out."""
    result = sdq.score(sdq.parse_items(scores), informant)
    with _writing(ctx, actor, case_id, states.OPEN_STATES, N_("a screening")) as w:
        row = Screening(
            school_id=w.case.school_id,
            case_id=w.case.id,
            instrument="sdq",
            item_scores=[str(i) for i in sdq.parse_items(scores)],
            result=result.as_data(),
            screened_on=screened_on or w.now.date(),
            by_id=w.actor.id,
            recorded_at=w.now,
        )
        w.session.add(row)
        w.session.flush()
        w.audit("screening.recorded", "screening", row.id, instrument="sdq", informant=informant)
        return row.id, result


def referral(
    ctx: Context, actor: str | None, case_id: int, *, agency: str, summary: str, referred_on: date | None = None
) -> int:
    """An external referral; the agencies a deployment accepts are the suspected_illegal module's."""
    module = ctx.rule_set.module("suspected_illegal")
    agencies = list(module.params["agencies"]) if module else list(REFERRAL_AGENCIES)
    code = parse_choice(agency, "--agency", {a: REFERRAL_AGENCIES.get(a, a) for a in agencies}, AGENCY_ALIASES)
    summary = require_text(summary, "--summary", 5000)
    with _writing(ctx, actor, case_id, states.OPEN_STATES, N_("a referral")) as w:
        row = Referral(
            school_id=w.case.school_id,
            case_id=w.case.id,
            agency=code,
            referred_on=referred_on or w.now.date(),
            summary=summary,
            by_id=w.actor.id,
            recorded_at=w.now,
        )
        w.session.add(row)
        w.session.flush()
        w.audit("referral.recorded", "referral", row.id, agency=code)
        return row.id


def acknowledge(ctx: Context, actor: str | None, case_id: int, code: str = "critical") -> int:
    """The leadership group acknowledges a flag the rules raised."""
    with _writing(ctx, actor, case_id, states.STATES, N_("an acknowledgement"), policy.T0) as w:
        if not policy.may(w.roles, policy.FLAG_ACKNOWLEDGE):
            raise access.denied(
                w.case.school_id,
                w.actor.id,
                w.roles,
                policy.FLAG_ACKNOWLEDGE,
                N_("only the leader or deputy leader acknowledges a {flag} flag"),
                flag=code,
            )
        flag = w.session.scalars(select(CaseFlag).where(CaseFlag.case_id == w.case.id, CaseFlag.code == code)).first()
        if flag is None:
            raise NotFound("case {case} has no {flag} flag", case=w.case.id, flag=code)
        if flag.acknowledged_at is not None:
            raise InvalidInput("the {flag} flag of case {case} is already acknowledged", flag=code, case=w.case.id)
        flag.acknowledged_at, flag.acknowledged_by = w.now, w.actor.id
        w.audit("flag.acknowledged", "case_flag", flag.id, code=code)
        return flag.id


@contextmanager
def _child_write(
    ctx: Context, actor: str | None, child_id: int, tier: str
) -> Iterator[tuple[Session, Staff, Any, datetime]]:
    """One write transaction about a child (not a case) in the actor's scope; ``tier``: what is written."""
    now = ctx.now()
    with ctx.db.write() as session:
        principal = access.enter(session, actor, now.date())
        child = access.child_in_scope(session, principal, child_id)
        access.require_tier(principal, child.school_id, policy.WRITE, tier)
        if tier == policy.T2:
            consent.require_for_records(session, child.id, now.date(), principal, child.school_id)
        who = access.staff_of(session, principal)
        yield session, who, child, now


def _check_term(school_year: int, term: int) -> None:
    if term not in (1, 2):
        raise InvalidInput("--term: {term} is not 1 (autumn) or 2 (spring)", term=term)
    parse_int(str(school_year), "--year", 2000, 2100)


def _per_term(session: Session, model: Any, child: Any, school_year: int, term: int) -> tuple[Any, bool]:
    """The child's row of ``model`` for the term, new if there is none; and whether it existed."""
    row = session.scalars(
        select(model).where(model.child_id == child.id, model.school_year == school_year, model.term == term)
    ).first()
    if row is not None:
        return row, True
    row = model(school_id=child.school_id, child_id=child.id, school_year=school_year, term=term)
    session.add(row)
    return row, False


def term_result(
    ctx: Context,
    actor: str | None,
    child_id: int,
    *,
    school_year: int,
    term: int,
    total: float,
    rank: int,
    class_size: int | None = None,
    subjects: dict[str, float] | None = None,
    three_good: bool = False,
    serious_violation: bool = False,
) -> int:
    """A child's final exam of one term; recording the same term again replaces it (audited)."""
    _check_term(school_year, term)
    if rank < 1 or (class_size is not None and rank > class_size):
        raise InvalidInput("--rank: {rank} is not a place in the class", rank=rank)
    if total < 0 or any(v < 0 for v in (subjects or {}).values()):
        raise InvalidInput("scores must not be negative")
    with _child_write(ctx, actor, child_id, policy.T0) as (session, who, child, now):
        row, replaced = _per_term(session, TermResult, child, school_year, term)
        row.total_score, row.class_rank, row.class_size = total, rank, class_size
        row.subjects, row.three_good, row.serious_violation = dict(subjects or {}), three_good, serious_violation
        row.recorded_at, row.recorded_by = now, who.id
        session.flush()
        trail.append(
            session,
            school_id=child.school_id,
            at=now,
            actor_id=who.id,
            action="term_result.recorded",
            object_type="term_result",
            object_id=row.id,
            data={"child_id": child.id, "school_year": school_year, "term": term, "replaced": replaced},
        )
        return int(row.id)


def enrolment(ctx: Context, actor: str | None, child_id: int, *, school_year: int, term: int, status: str) -> int:
    """A child's enrolment status in a term; recording the same term again replaces it (audited)."""
    from casework.domain.vocab import ENROLMENT_STATUSES
    from casework.persistence.tables import Enrolment

    if term not in (1, 2):
        raise InvalidInput("--term: {term} is not 1 (autumn) or 2 (spring)", term=term)
    parse_int(str(school_year), "--year", 2000, 2100)
    code = parse_choice(
        status,
        "--status",
        ENROLMENT_STATUSES,
        {"在读": "enrolled", "在校": "enrolled", "辍学": "dropped_out", "转学": "transferred", "休学": "suspended"},
    )
    with _child_write(ctx, actor, child_id, policy.T0) as (session, who, child, now):
        row, replaced = _per_term(session, Enrolment, child, school_year, term)
        row.status, row.recorded_at, row.recorded_by = code, now, who.id
        row.class_id = child.class_id  # the class the child is in this term, for the counts per class
        session.flush()
        trail.append(
            session,
            school_id=child.school_id,
            at=now,
            actor_id=who.id,
            action="enrolment.recorded",
            object_type="enrolment",
            object_id=row.id,
            data={"child_id": child.id, "school_year": school_year, "term": term, "status": code, "replaced": replaced},
        )
        return int(row.id)


def aid(
    ctx: Context, actor: str | None, child_id: int, *, kind: str, description: str, given_on: date | None = None
) -> int:
    """Material help given to a child (物质帮助)."""
    from casework.domain.vocab import AID_KINDS
    from casework.persistence.tables import Aid

    code = parse_choice(
        kind,
        "--kind",
        AID_KINDS,
        {
            "衣物": "clothing",
            "学习用品": "stationery",
            "文具": "stationery",
            "餐食": "meals",
            "助学金": "money",
            "现金": "money",
            "其他": "other",
        },
    )
    text = require_text(description, "--description", 2000)
    with _child_write(ctx, actor, child_id, policy.T2) as (session, who, child, now):
        day = given_on or now.date()
        if day > now.date():
            raise InvalidInput("--date {day} is in the future", day=day.isoformat())
        row = Aid(
            school_id=child.school_id,
            child_id=child.id,
            kind=code,
            given_on=day,
            description=text,
            recorded_at=now,
            recorded_by=who.id,
        )
        session.add(row)
        session.flush()
        trail.append(
            session,
            school_id=child.school_id,
            at=now,
            actor_id=who.id,
            action="aid.recorded",
            object_type="aid",
            object_id=row.id,
            data={"child_id": child.id, "kind": code},
        )
        return row.id
