"""Guardians' consents per child: record, withdraw, and the check before any counselling record is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.domain import access as policy
from casework.domain.child import check_on_file
from casework.domain.consent import CONSENT_SCOPES, SCOPE_ALIASES, covers_records, in_force
from casework.domain.inputs import RecordConsent, field
from casework.domain.validation import parse_choice
from casework.errors import ConsentMissing, InvalidInput
from casework.persistence import scope as scoping
from casework.persistence.tables import Child, Consent
from casework.services import access, trail
from casework.services.context import Context
from casework.text import N_


def _consents(session: Session, child_id: int) -> list[Consent]:
    return list(session.scalars(select(Consent).where(Consent.child_id == child_id).order_by(Consent.id)))


def record(ctx: Context, actor: str | None, given: RecordConsent) -> int:
    """Record a guardian's consent for a child, in force from ``given_on`` (default today)."""
    guardian, relation, code, child_id = given.guardian, given.relation, given.scope, given.child_id
    now = ctx.now()
    day = given.given_on or now.date()
    if day > now.date():
        with field("given_on"):
            raise InvalidInput("--on {day} is in the future", day=day.isoformat())
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        child = access.child_to_open(session, who, child_id)
        check_on_file(child.id, child.transferred_out_on)
        access.require(who, child.school_id, policy.CONSENT_RECORD)
        if child.purged_at is not None:
            raise InvalidInput("the data of child {child} were purged; a consent is not recorded", child=child.id)
        row = Consent(
            school_id=child.school_id,
            child_id=child.id,
            guardian_name=guardian,
            relation=relation,
            scope=code,
            given_on=day,
            recorded_at=now,
            recorded_by=who.staff_id,
        )
        session.add(row)
        session.flush()
        trail.Scribe(session, child.school_id, now, who.staff_id).write(
            "consent.recorded",
            "consent",
            row.id,
            data={"child_id": child.id, "scope": code, "given_on": day.isoformat()},
        )
        return row.id


def withdraw(
    ctx: Context, actor: str | None, child_id: int, *, withdrawn_on: date | None = None, scope: str | None = None
) -> list[int]:
    """Withdraw the child's consents in force on ``withdrawn_on`` (default today), of ``scope`` if given."""
    code = parse_choice(scope, "--scope", CONSENT_SCOPES, SCOPE_ALIASES) if scope else None
    now = ctx.now()
    day = withdrawn_on or now.date()
    if day > now.date():
        raise InvalidInput("--on {day} is in the future", day=day.isoformat())
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        child = access.child_to_open(session, who, child_id)
        check_on_file(child.id, child.transferred_out_on)
        access.require(who, child.school_id, policy.CONSENT_RECORD)
        found = [
            c
            for c in _consents(session, child.id)
            if in_force(c.given_on, c.withdrawn_on, day) and (code is None or c.scope == code)
        ]
        if not found:
            raise InvalidInput(
                "child {child} has no consent in force on {day} to withdraw", child=child.id, day=day.isoformat()
            )
        for row in found:
            row.withdrawn_on, row.withdrawn_by = day, who.staff_id
            session.flush()
            trail.Scribe(session, child.school_id, now, who.staff_id).write(
                "consent.withdrawn",
                "consent",
                row.id,
                data={"child_id": child.id, "scope": row.scope, "withdrawn_on": day.isoformat()},
            )
        return [row.id for row in found]


def require_for_records(session: Session, child_id: int, day: date, who: access.Principal, school_id: int) -> None:
    """Refuse (ConsentMissing: exit 3) a counselling record for a child with no consent in force on ``day`` covering it.

    The actor already reaches the case or child, so their scope reaches its consents too.
    """
    purged = scoping.column_of(session, Child, child_id, "purged_at")
    if purged is not None:
        raise access.denied(
            school_id,
            who.staff_id,
            who.roles_at(school_id),
            f"consent:{child_id}",
            N_("the data of child {child} were purged; no counselling record can be added"),
            child=child_id,
        )
    if any(in_force(c.given_on, c.withdrawn_on, day) and covers_records(c.scope) for c in _consents(session, child_id)):
        return
    raise access.denied(
        school_id,
        who.staff_id,
        who.roles_at(school_id),
        f"consent:{child_id}",
        N_(
            "refused: child {child} has no guardian's consent in force on {day} covering counselling records; "
            "nothing was recorded (record one with 'casework record consent')"
        ),
        kind=ConsentMissing,
        child=child_id,
        day=day.isoformat(),
    )


def records_allowed(session: Session, child_ids: list[int], day: date) -> set[int]:
    """Which of the children have a consent in force on ``day`` covering counselling records (and were
    not purged): ``require_for_records`` for many at once, without refusing."""
    ids = sorted(set(child_ids))
    purged = set(session.scalars(select(Child.id).where(Child.id.in_(ids), Child.purged_at.is_not(None))))
    return {
        c.child_id
        for c in session.scalars(select(Consent).where(Consent.child_id.in_(ids)))
        if c.child_id not in purged and in_force(c.given_on, c.withdrawn_on, day) and covers_records(c.scope)
    }


@dataclass(frozen=True)
class ConsentShown:
    """One guardian's consent as the child's page shows it; the guardian's name only to T1 readers."""

    id: int
    guardian: str | None
    relation: str
    scope: str
    given_on: str
    withdrawn_on: str | None
    in_force: bool


@dataclass(frozen=True)
class ConsentStatus:
    """The child's consents and whether counselling records may be written today."""

    records_allowed: bool
    purged_at: str | None
    consents: tuple[ConsentShown, ...]


def status(session: Session, child: Child, day: date, names: bool) -> ConsentStatus:
    """The child's consents and whether counselling records may be written on ``day``.

    ``names``: whether the reader may see the guardian's name (contact data, T1).
    """
    rows = _consents(session, child.id)
    return ConsentStatus(
        records_allowed=child.purged_at is None
        and any(in_force(c.given_on, c.withdrawn_on, day) and covers_records(c.scope) for c in rows),
        purged_at=child.purged_at.isoformat() if child.purged_at else None,
        consents=tuple(
            ConsentShown(
                id=c.id,
                guardian=c.guardian_name if names else None,
                relation=c.relation,
                scope=c.scope,
                given_on=c.given_on.isoformat(),
                withdrawn_on=c.withdrawn_on.isoformat() if c.withdrawn_on else None,
                in_force=in_force(c.given_on, c.withdrawn_on, day),
            )
            for c in rows
        ),
    )
