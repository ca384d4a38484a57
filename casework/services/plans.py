"""The individual plan: its items with time, content and stage targets, and their review."""

from __future__ import annotations

from sqlalchemy import select

from casework import states
from casework.domain.inputs import AddPlanItem, ReviewPlanItem, field
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
)
from casework.text import N_


def plan_item(ctx: Context, actor: str | None, given: AddPlanItem) -> int:
    """Add one item to the case's current plan (a new plan starts after revise or reassess)."""
    code, kind, start, end = given.category, given.kind, given.start, given.end
    with case_write(ctx, actor, given.case_id, (states.ASSESSED, states.INDIVIDUAL_PLAN), N_("a plan item")) as w:
        with field("responsible"):
            owner = w.staff_at_school(given.responsible) if given.responsible else w.actor
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
            subject=given.subject,
            measures=given.measures,
            responsible_id=owner.id,
            start_on=start,
            end_on=end,
            content=given.content,
            stage_target=given.target,
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


def review(ctx: Context, actor: str | None, given: ReviewPlanItem) -> int:
    """Record the stage effect of one plan item in this stage's review (created on first use)."""
    item_id, result, effect, summary = given.item_id, given.result, given.effect, given.summary
    with case_write(ctx, actor, given.case_id, (states.REVIEWED,), N_("a review")) as w:
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
                reviewed_on=w.dated(given.reviewed_on, "reviewed_on"),
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
