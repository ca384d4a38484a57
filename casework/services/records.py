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
from casework.domain.validation import parse_choice, require_text
from casework.domain.vocab import CONTACT_KINDS, NEED_CATEGORIES, PAIRING_KINDS, REVIEW_RESULTS
from casework.errors import InvalidInput, NotFound
from casework.persistence.tables import (
    Assessment,
    Case,
    ContactEntry,
    Pairing,
    Plan,
    PlanItem,
    Review,
    ReviewEffect,
    Staff,
)
from casework.services import facts as case_facts
from casework.services import trail
from casework.services.actors import require_actor, require_member, resolve_staff
from casework.services.cases import get_case
from casework.services.context import Context

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
    ctx: Context, actor: str | None, case_id: int, allowed: tuple[str, ...], what: str
) -> Iterator[_Write]:
    """One write transaction on an open case in one of the ``allowed`` stages."""
    now = ctx.now()
    with ctx.db.write() as session:
        who = require_actor(session, actor)
        case = get_case(session, case_id)
        require_member(session, who, case.school_id, now.date())
        if case.state not in allowed:
            raise InvalidInput(
                "case {case} is {state}: {what} is recorded when the case is {allowed}",
                case=case.id,
                state=states.state_label(case.state),
                what=what,
                allowed=[states.state_label(s) for s in allowed],
            )
        yield _Write(session, case, who, now)


def parse_category(text: str) -> str:
    return parse_choice(text, "category", NEED_CATEGORIES, CATEGORY_ALIASES)


def assessment(
    ctx: Context,
    actor: str | None,
    case_id: int,
    categories: list[str],
    summary: str,
    assessed_on: date | None = None,
    facts: dict[str, Any] | None = None,
) -> int:
    if not categories:
        raise InvalidInput(
            "--category: give at least one need category ({known})",
            known=", ".join(NEED_CATEGORIES),
        )
    codes = sorted({parse_category(c) for c in categories})
    summary = require_text(summary, "--summary", 5000)
    with _writing(ctx, actor, case_id, (states.IDENTIFIED, states.ASSESSED), "an assessment") as w:
        row = Assessment(
            school_id=w.case.school_id,
            case_id=w.case.id,
            case_version=w.case.version,
            categories=codes,
            facts=dict(facts or {}),
            summary=summary,
            assessed_on=assessed_on or w.now.date(),
            by_id=w.actor.id,
            recorded_at=w.now,
        )
        w.session.add(row)
        w.session.flush()
        w.audit("assessment.recorded", "assessment", row.id, categories=codes, facts=sorted(facts or {}))
        return row.id


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
) -> int:
    """Add one item to the case's current plan (a new plan starts after revise or reassess)."""
    code = parse_category(category)
    measures = require_text(measures, "--measures", 5000)
    if start and end and end < start:
        raise InvalidInput(
            "--end {end} is before --start {start}", end=end.isoformat(), start=start.isoformat()
        )
    with _writing(ctx, actor, case_id, (states.ASSESSED, states.INDIVIDUAL_PLAN), "a plan item") as w:
        owner = w.staff_at_school(responsible) if responsible else w.actor
        r = case_facts.rounds(w.session, w.case)
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
    with _writing(ctx, actor, case_id, states.OPEN_STATES, "a pairing") as w:
        partner = w.staff_at_school(staff) if staff else None
        start = from_on or w.now.date()
        if to_on is not None and to_on < start:
            raise InvalidInput(
                "--to {to} is before --from {start}", to=to_on.isoformat(), start=start.isoformat()
            )
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
        raise InvalidInput(
            "contact kind '{kind}' is not one of {known}", kind=kind, known=", ".join(CONTACT_KINDS)
        )
    summary = require_text(summary, "--summary", 5000)
    with _writing(ctx, actor, case_id, states.OPEN_STATES, "a contact") as w:
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
    with _writing(ctx, actor, case_id, (states.REVIEWED,), "a review") as w:
        r = case_facts.rounds(w.session, w.case)
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
