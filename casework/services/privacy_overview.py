"""The administrator's view of keys and consent: the keys and their dates, consent in force per school."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from casework.domain import access as policy
from casework.domain.consent import in_force
from casework.persistence.tables import AuditEvent, Child, Consent, CryptoKey
from casework.services import access
from casework.services.context import Context


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class Overview:
    keys: tuple[KeyRow, ...]
    last_rotation: str | None  # the time of the school's last keys.rotated event, as the chain writes it
    children: int  # on file, not purged
    with_consent: int  # a consent in force today
    withdrawn: int  # every consent withdrawn
    without: int  # never a consent
    purged: int


def overview(ctx: Context, actor: str | None) -> Overview:
    """For a person who manages keys at their school: the keys (ids, never the keys), the last rotation,
    and how many of the school's children have a guardian's consent in force today."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        _, _, school_id = access.at_school(session, actor, today, None, policy.KEYS_MANAGE)
        keys = tuple(
            KeyRow(k.key_id, k.created_at, k.retired_at)
            for k in session.scalars(select(CryptoKey).order_by(CryptoKey.created_at.desc()))
        )
        last = session.scalar(
            select(func.max(AuditEvent.ts)).where(
                AuditEvent.school_id == school_id, AuditEvent.action == "keys.rotated"
            )
        )
        children = dict(
            session.execute(select(Child.id, Child.purged_at.is_not(None)).where(Child.school_id == school_id)).all()
        )
        given: dict[int, list[bool]] = {}
        for child_id, given_on, withdrawn_on in session.execute(
            select(Consent.child_id, Consent.given_on, Consent.withdrawn_on)
            .join(Child, Child.id == Consent.child_id)
            .where(Child.school_id == school_id)
        ):
            given.setdefault(child_id, []).append(in_force(given_on, withdrawn_on, today))
    live = [c for c, purged in children.items() if not purged]
    return Overview(
        keys=keys,
        last_rotation=last,
        children=len(live),
        with_consent=sum(1 for c in live if any(given.get(c, []))),
        withdrawn=sum(1 for c in live if c in given and not any(given[c])),
        without=sum(1 for c in live if c not in given),
        purged=len(children) - len(live),
    )
