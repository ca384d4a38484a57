"""Mentoring: pairing a mentor, caring parent or study helper with the child, and the contacts they record."""

from __future__ import annotations

from casework import states
from casework.domain.inputs import PairPartner, RecordContact, field
from casework.errors import InvalidInput
from casework.persistence.tables import (
    ContactEntry,
    Pairing,
)
from casework.services.context import Context
from casework.services.recording import (
    case_write,
)
from casework.text import N_


def pairing(ctx: Context, actor: str | None, given: PairPartner) -> int:
    """Pair a mentor or caring parent (staff of the school) or a study helper (a pupil) with the child."""
    kind, to_on = given.kind, given.to_on
    partner_name = given.partner_name if kind == "study_helper" else None
    with case_write(ctx, actor, given.case_id, states.OPEN_STATES, N_("a pairing")) as w:
        with field("staff"):
            partner = w.staff_at_school(given.staff) if given.staff and kind != "study_helper" else None
        start = given.from_on or w.now.date()
        if to_on is not None and to_on < start:
            with field("to_on"):
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


def contact(ctx: Context, actor: str | None, given: RecordContact) -> int:
    """A talk, visit, call, counselling session or parent feedback, or one of the child's five ones."""
    kind = given.kind
    with case_write(ctx, actor, given.case_id, states.OPEN_STATES, N_("a contact")) as w:
        with field("by"):
            author = w.staff_at_school(given.by) if given.by else w.actor
        day = w.dated(given.occurred_on, "occurred_on")
        row = ContactEntry(
            school_id=w.case.school_id,
            case_id=w.case.id,
            kind=kind,
            occurred_on=day,
            by_id=author.id,
            summary=given.summary,
            follow_up=given.follow_up,
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
