"""Read-only views of the rules: the modules in force, one case explained, the yearly evaluation."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select

from casework import i18n, states
from casework.domain import access as policy
from casework.domain.evaluation import ChildYear
from casework.errors import InvalidInput
from casework.persistence.store import Store
from casework.persistence.tables import Assessment, Case, Child, Duty, Pairing, TermResult
from casework.rules import evaluate, refusals
from casework.rules.engine import requirements, satisfied
from casework.rules.evaluation import EvaluationRules
from casework.services import access
from casework.services import facts as case_facts
from casework.services.cases import verdict_data
from casework.services.context import Context


def list_rules(ctx: Context) -> dict[str, Any]:
    rule_set = ctx.rule_set
    return {
        "rule_set": rule_set.version,
        "settings": ctx.settings.source,
        "modules": [
            {
                "name": m.name,
                "version": m.version,
                "description": i18n.both(m.description),
                "params": [
                    {
                        "name": p.name,
                        "value": m.params[p.name],
                        "default": p.default,
                        "description": i18n.both(p.description),
                    }
                    for p in m.parameters
                ],
            }
            for m in rule_set.modules
        ],
    }


def explain(ctx: Context, actor: str | None, case_id: int) -> dict[str, Any]:
    """Categories with evidence, duties with due dates, and what blocks each possible event."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        case = access.case_in_scope(session, who, case_id)
        facts = case_facts.load(Store.of(session), case, today, ctx.rule_set, reason_given=True)
        rounds = case_facts.rounds(Store.of(session), case)
        latest = session.scalars(
            select(Assessment)
            .where(Assessment.case_id == case.id, Assessment.case_version >= rounds.assessment)
            .order_by(Assessment.id.desc())
            .limit(1)
        ).first()
        duties = session.scalars(select(Duty).where(Duty.case_id == case.id).order_by(Duty.due_on)).all()
        events = {}
        for event in states.definition(case.definition_version).events_from(case.state):
            verdicts = evaluate(ctx.rules, event, facts, states.definition(case.definition_version))
            events[event] = {
                "allowed": not refusals(verdicts),
                "blocked_by": [verdict_data(v) for v in refusals(verdicts)],
            }
        needed = [
            {
                "rule": m.name,
                "category": r.category,
                "code": r.code,
                "description": i18n.both(r.description),
                "item_kind": r.item_kind,
                "subject": r.subject,
                "pairing": r.pairing,
                "satisfied": satisfied(r, facts),
            }
            for m in ctx.rules
            for r in requirements(m, facts)
        ]
        return {
            "id": case.id,
            "state": case.state,
            "version": case.version,
            "rule_set": ctx.rule_set.version,
            "risk_level": case.risk_level,
            "categories": list(facts.categories),
            "evidence": latest.facts.get("evidence", []) if latest else [],
            "flags": {code: (ack.isoformat() if ack else None) for code, ack in facts.flags.items()},
            "plan_requirements": needed,
            "duties": [
                {
                    "code": d.code,
                    "rule": d.rule,
                    "responsible_role": d.responsible_role,
                    "responsible_id": d.responsible_id,
                    "due_on": d.due_on.isoformat(),
                    "last_done_on": d.last_done_on.isoformat() if d.last_done_on else None,
                    "overdue_days": max(0, (today - d.due_on).days),
                }
                for d in duties
            ],
            "stage_due_on": case.stage_due_on.isoformat() if case.stage_due_on else None,
            "events": events,
        }


def evaluation(ctx: Context, actor: str | None, school_year: int, school_id: int | None = None) -> dict[str, Any]:
    """The yearly scoring table for ``school_year`` (2026 = autumn 2026 to summer 2027), of the
    schools where the actor holds REPORT_INDICATORS."""
    module = ctx.rule_set.module("evaluation")
    if not isinstance(module, EvaluationRules):
        raise InvalidInput("the evaluation module is not in force (rules.enabled in the settings)")
    year_start, year_end = date(school_year, 9, 1), date(school_year + 1, 8, 31)
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        schools = [school_id] if school_id is not None else sorted(who.roles)
        for school in schools:
            access.require(who, school, policy.REPORT_INDICATORS)
        query = (
            select(TermResult, Child.class_id, Child.name)
            .join(Child, Child.id == TermResult.child_id)
            .where(TermResult.school_year == school_year)
        )
        query = query.where(TermResult.school_id.in_(schools))
        rows: dict[int, dict[Any, Any]] = {}
        for term_row, class_id, name in session.execute(query):
            entry = rows.setdefault(term_row.child_id, {"class_id": class_id, "name": name})
            entry[term_row.term] = term_row
        mentors: dict[int, set[int]] = {}
        for child_id, staff_id in session.execute(
            select(Case.child_id, Pairing.staff_id)
            .join(Case, Case.id == Pairing.case_id)
            .where(
                Pairing.kind == "mentor",
                Case.child_id.in_(list(rows)),
                Pairing.from_on <= year_end,
                or_(Pairing.to_on.is_(None), Pairing.to_on >= year_start),
            )
        ):
            if staff_id is not None:
                mentors.setdefault(child_id, set()).add(staff_id)
        school_of = dict(session.execute(select(Child.id, Child.school_id).where(Child.id.in_(list(rows)))).all())
        reads = access.Reads(who)
        for child_id, school in school_of.items():
            reads.add(school, [child_id], policy.T1)
    access.log_reads(ctx, reads, "evaluation")
    years = [
        ChildYear(
            child_id=child_id,
            class_id=entry["class_id"],
            rank_term1=entry[1].class_rank,
            rank_term2=entry[2].class_rank,
            three_good=entry[1].three_good or entry[2].three_good,
            serious_violation=entry[1].serious_violation or entry[2].serious_violation,
            mentor_ids=tuple(sorted(mentors.get(child_id, ()))),
        )
        for child_id, entry in sorted(rows.items())
        if 1 in entry and 2 in entry
    ]
    scored = module.evaluate(years)
    names = {child_id: entry["name"] for child_id, entry in rows.items()}
    return {
        "school_year": school_year,
        "rule_set": ctx.rule_set.version,
        "children": [
            {
                "child_id": c.child_id,
                "name": names[c.child_id],
                "ranks_risen": c.ranks_risen,
                "points": c.points,
                "total_points": c.total_points,
                "awards_yuan": c.awards,
                "total_yuan": c.total_yuan,
                "next_baseline_rank": c.baseline_rank,
            }
            for c in scored.children
        ],
        "mentors": [{"staff_id": s, "points": p, "yuan": p} for s, p in scored.mentors.items()],
        "class_teachers": [
            {"class_id": c, "points": round(p, 2), "yuan": round(p, 2)} for c, p in scored.class_teachers.items()
        ],
        "skipped_children": sorted(set(rows) - {y.child_id for y in years}),
    }
