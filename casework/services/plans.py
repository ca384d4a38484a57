"""The individual plan: its items with time, content and stage targets, and their review."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from casework import states
from casework.domain.validation import parse_choice, require_text
from casework.domain.vocab import (
    PLAN_ITEM_KINDS,
    REVIEW_RESULTS,
)
from casework.errors import InvalidInput, NotFound
from casework.persistence.store import Store
from casework.persistence.tables import (
    Plan,
    PlanItem,
    Review,
    ReviewEffect,
)
from casework.services import facts as case_facts
from casework.services.context import Context
from casework.services.recording import (
    case_write,
    parse_category,
)
from casework.text import N_

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
    with case_write(ctx, actor, case_id, (states.ASSESSED, states.INDIVIDUAL_PLAN), N_("a plan item")) as w:
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
    with case_write(ctx, actor, case_id, (states.REVIEWED,), N_("a review")) as w:
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
