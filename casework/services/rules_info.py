"""Read-only views of the rules: the modules in force and one case explained."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from casework import i18n, states
from casework.persistence.store import Store
from casework.persistence.tables import Assessment, Duty
from casework.rules import evaluate, refusals
from casework.rules.engine import requirements, satisfied
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
