"""The daily sweep: take the escalation ladder's steps and write each person's digest to the outbox, in one transaction.

A reminder on the due day, an overdue reminder once the duty's grace has passed, the leadership
group ``escalate_after_days`` later; the digests (one per person, day and channel) are written in
the sweep's own transaction, so a sweep that dies leaves neither steps nor digests behind, and a
sweep run again takes no step twice. ``casework notify send`` delivers them (services.notify).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.domain.contact_months import month_key
from casework.domain.listing import RISK_ORDER
from casework.persistence import class_months, ladder
from casework.persistence.store import Store
from casework.persistence.tables import Membership, Notification, NotifyAddress, School
from casework.services import access, trail
from casework.services.context import Context
from casework.services.notify_settings import SchoolChannels
from casework.services.review import review_params

MAX_ITEMS = 30  # a digest lists this many items, the most urgent first, and counts the rest
PENDING, SENT, FAILED = "pending", "sent", "failed"
ADDRESSED = ("email", "sms")  # channels that need the person's own address; a WeCom robot posts to a group


@dataclass(frozen=True)
class SweepResult:
    reminded: int  # reminders on the due day
    overdue: int  # overdue reminders
    escalated: int  # gone to the leadership group
    resolved: int
    digests: int  # outbox rows written or added to
    unreachable: int  # people with something to be told and no channel reaching them

    @property
    def changed(self) -> bool:
        return bool(self.reminded or self.overdue or self.escalated or self.resolved)

    def as_data(self) -> dict[str, int]:
        return {
            "reminded": self.reminded,
            "overdue": self.overdue,
            "escalated": self.escalated,
            "resolved": self.resolved,
            "digests": self.digests,
            "unreachable": self.unreachable,
        }


def sweep(ctx: Context) -> SweepResult:
    """Take today's steps in every school and write the digests; twice a day changes nothing."""
    now = ctx.now()
    today = now.date()
    after = int(review_params(ctx)["escalate_after_days"])
    totals: dict[str, int] = defaultdict(int)
    with ctx.db.write() as session:
        access.system(session)  # the daily job of the program itself, not of a person
        store = Store.of(session)
        listed = session.execute(select(School.id, School.name).order_by(School.id)).all()
        schools = [school_id for school_id, _ in listed]
        for school_id, name in listed:
            steps, resolved = ladder.take_steps(store, school_id, today, after)
            counts = {
                "reminded": sum(1 for s in steps if s.step == ladder.DUE),
                "overdue": sum(1 for s in steps if s.step == ladder.OVERDUE),
                "escalated": sum(1 for s in steps if s.step == ladder.ESCALATED),
                "resolved": resolved,
            }
            digests, unreachable = _write_digests(
                session, store, school_id, steps, ctx.settings.notify.for_school(name), now
            )
            for key, value in counts.items():
                totals[key] += value
            totals["digests"] += digests
            totals["unreachable"] += unreachable
            if any(counts.values()):
                trail.Scribe(session, school_id, now, None).write(
                    "review.swept", "school", school_id, data={**counts, "digests": digests}
                )
    # The month's counts of every class kept (the first sweep of a month counts them), and what the
    # hot path left marked: a short transaction a school, under its audit head as its writers count,
    # rather than every school's head held to the end of the sweep.
    for school_id in schools:
        with ctx.db.write() as session:
            access.system(session)
            Store.of(session).audit_head(school_id)
            class_months.keep(session, [school_id], [month_key(today)])
    return SweepResult(
        totals["reminded"],
        totals["overdue"],
        totals["escalated"],
        totals["resolved"],
        totals["digests"],
        totals["unreachable"],
    )


def leadership(session: Session, school_id: int, today: date) -> list[int]:
    """The leader and deputies of the school today: every escalation goes to them."""
    return sorted(
        set(
            session.scalars(
                select(Membership.staff_id).where(
                    Membership.school_id == school_id,
                    Membership.role.in_(("leader", "deputy")),
                    Membership.started_on <= today,
                    (Membership.ended_on.is_(None)) | (Membership.ended_on >= today),
                )
            )
        )
    )


def _items(steps: list[ladder.Step]) -> list[dict[str, Any]]:
    """What a digest lists, most urgent first: ids and codes only (names are read when it is sent)."""
    ranked = sorted(steps, key=lambda s: (ladder.STEP_ORDER[s.step], RISK_ORDER.get(s.risk_level or "", 4), s.since))
    out = []
    for s in ranked[:MAX_ITEMS]:
        out.append(
            {
                "case": s.case_id,
                "child_id": s.child_id,
                "reason": s.reason,
                "since": s.since.isoformat(),
                "step": s.step,
                "role": s.role,
                "stand_in": s.stand_in,
                "risk": s.risk_level,
                "key": f"{s.stall_id}:{s.step}",
            }
        )
    return out


def merge(payload: dict[str, Any] | None, items: list[dict[str, Any]], counts: dict[str, int]) -> dict[str, Any]:
    """A digest's content with today's new items added: counts add up, the list keeps the most urgent."""
    old = payload or {"counts": {}, "items": []}
    seen = {i["key"] for i in old["items"]}
    listed = [*old["items"], *(i for i in items if i["key"] not in seen)]
    listed.sort(key=lambda i: (ladder.STEP_ORDER[i["step"]], RISK_ORDER.get(i["risk"] or "", 4), i["since"]))
    total = {k: int(old["counts"].get(k, 0)) + counts.get(k, 0) for k in (ladder.DUE, ladder.OVERDUE, ladder.ESCALATED)}
    return {"counts": total, "items": listed[:MAX_ITEMS]}


def _write_digests(
    session: Session,
    store: Store,
    school_id: int,
    steps: list[ladder.Step],
    channels: SchoolChannels,
    now: datetime,
) -> tuple[int, int]:
    """One outbox row per person and channel, added to today's while it is not yet taken, else tomorrow's."""
    if not steps:
        return 0, 0
    today = now.date()
    mine: dict[int, list[ladder.Step]] = defaultdict(list)
    for s in steps:
        if s.responsible_id is not None:
            mine[s.responsible_id].append(s)
    leaders = leadership(session, school_id, today)
    for s in steps:
        if s.step == ladder.ESCALATED:
            for who in leaders:
                if who != s.responsible_id:
                    mine[who].append(s)
    enabled = channels.enabled()
    addresses: dict[tuple[int, str], str] = {}
    if any(c in ADDRESSED for c in enabled):
        for address in session.scalars(
            select(NotifyAddress).where(NotifyAddress.school_id == school_id, NotifyAddress.staff_id.in_(list(mine)))
        ):
            addresses[(address.staff_id, address.channel)] = address.address
    tomorrow = today + timedelta(days=1)
    existing = {
        (n.staff_id, n.day, n.channel): n
        for n in session.scalars(
            select(Notification).where(
                Notification.school_id == school_id,
                Notification.staff_id.in_(list(mine)),
                Notification.day.in_([today, tomorrow]),
            )
        )
    }
    written = unreachable = 0
    for staff_id, theirs in sorted(mine.items()):
        reach = [c for c in enabled if c not in ADDRESSED or (staff_id, c) in addresses]
        if not reach:
            unreachable += 1
            continue
        items = _items(theirs)
        counts: dict[str, int] = defaultdict(int)
        for s in theirs:
            counts[s.step] += 1
        for channel in reach:
            row = existing.get((staff_id, today, channel))
            free = row is not None and row.status == PENDING and (row.claimed_until is None or row.claimed_until < now)
            if row is not None and not free:
                # Today's digest is out (or being sent): these wait for tomorrow's, never a second today.
                row = existing.get((staff_id, tomorrow, channel))
                day, start = tomorrow, datetime.combine(tomorrow, time.min, UTC)
            else:
                day, start = today, now
            if row is None:
                row = Notification(
                    school_id=school_id,
                    staff_id=staff_id,
                    day=day,
                    channel=channel,
                    items=merge(None, items, counts),
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=start,
                    created_at=now,
                )
                session.add(row)
                existing[(staff_id, day, channel)] = row
            else:
                row.items = merge(row.items, items, counts)
            written += 1
    session.flush()
    return written, unreachable
