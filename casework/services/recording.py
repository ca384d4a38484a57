"""What every stage record shares: one write transaction on a case in scope and in stage, its audit and duties."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from casework import states
from casework.domain import access as policy
from casework.domain import limits
from casework.domain.inputs import field
from casework.errors import InvalidInput, TransitionRefused
from casework.persistence.store import Store
from casework.persistence.tables import (
    Case,
    Staff,
)
from casework.rules.engine import ModuleFailed
from casework.services import access, consent, trail
from casework.services import facts as case_facts
from casework.services.actors import require_member, resolve_staff
from casework.services.context import Context
from casework.text import Msg

LEADERSHIP = frozenset({"leader", "deputy"})


@dataclass
class CaseWrite:
    session: Session
    case: Case
    actor: Staff
    now: datetime
    ctx: Context
    roles: list[str]

    def audit(self, action: str, object_type: str, object_id: int, **data: Any) -> None:
        trail.Scribe(self.session, self.case.school_id, self.now, self.actor.id).write(
            action, object_type, object_id, case_id=self.case.id, from_state=self.case.state, data=data
        )

    def dated(self, on: date | None, name: str, option: str = "--date") -> date:
        """A record's date (today when not given): not before the case was opened, not beyond tomorrow."""
        today = self.now.date()
        with field(name):
            return limits.check_record_date(on or today, self.case.opened_at.date(), today, option)

    def staff_at_school(self, ref: str) -> Staff:
        staff = resolve_staff(self.session, ref)
        require_member(self.session, staff, self.case.school_id, self.now.date())
        return staff


@contextmanager
def case_write(
    ctx: Context, actor: str | None, case_id: int, allowed: tuple[str, ...], what: str, tier: str = policy.T2
) -> Iterator[CaseWrite]:
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
        w = CaseWrite(session, case, who, now, ctx, roles)
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
