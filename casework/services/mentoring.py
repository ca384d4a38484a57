"""Mentoring: pairing a mentor, caring parent or study helper with the child, and the contacts they record."""

from __future__ import annotations

from datetime import date

from casework import states
from casework.domain.validation import parse_choice, require_text
from casework.domain.vocab import (
    CONTACT_KINDS,
    PAIRING_KINDS,
)
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
    with case_write(ctx, actor, case_id, states.OPEN_STATES, N_("a pairing")) as w:
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
    with case_write(ctx, actor, case_id, states.OPEN_STATES, N_("a contact")) as w:
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
