"""The outbox's use cases: deliver the pending digests with retries and backoff, show their status, set addresses.

Safe to run from several processes at once (a cron job, the web server's background thread): a
sender takes a batch of digests with a lease (``claimed_until``) before it sends them, and writes
each attempt and outcome once they are done. A sender killed between a channel accepting a digest
and recording it leaves the row claimed; after the lease it is tried again, under the same key
(the SMTP Message-ID, the SMS body's {key}), so that a gateway that deduplicates can.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from casework import i18n
from casework.domain import access as policy
from casework.domain import limits
from casework.domain.names import shown_name
from casework.domain.validation import require_text
from casework.domain.vocab import ROLES, duty_label
from casework.errors import InvalidInput, NotFound
from casework.persistence.tables import Child, Notification, NotificationAttempt, NotifyAddress, School, Staff
from casework.services import access, trail
from casework.services.actors import require_member, resolve_staff
from casework.services.channels import (
    DeliveryFailed,
    Message,
    SmsTransport,
    SmtpTransport,
    Transport,
    WecomTransport,
)
from casework.services.context import Context
from casework.services.ladder import FAILED, PENDING, SENT
from casework.services.notify_settings import CHANNELS, NotifySettings, SchoolChannels
from casework.text import printable

BATCH = 500
SMTP_CONNECTIONS = 4  # connections one school's email channel uses at once


# -- the text of a digest ------------------------------------------------------------------------


@cache
def _template(msgid: str, lang: str) -> str:
    """A digest's message template in ``lang``: translated once per run, not once per line."""
    return i18n.render(msgid, lang)


def _fill(template: str, **params: Any) -> str:
    # as i18n.render fills a Msg: text parameters printable (a stored escape shown, never obeyed)
    return template.format(**{k: printable(v) if isinstance(v, str) else v for k, v in params.items()})


def render(
    payload: dict[str, Any], person: str, lang: str, names: Mapping[int, str | None] | None = None
) -> tuple[str, str, str]:
    """Subject, text and the short text (SMS) of a digest: labels, never internal codes; no contact data.

    ``names``: child id -> the name as the school allows it shown (王**), or nothing.
    """
    names = names or {}

    def t(msgid: str, **params: Any) -> str:
        template = _template(msgid, lang)
        return _fill(template, **params) if params else template

    counts = payload.get("counts", {})
    due, late, up = (int(counts.get(k, 0)) for k in ("due", "overdue", "escalated"))
    summary = t(
        "{due} due, {overdue} overdue, {escalated} with the leadership group",
        due=due,
        overdue=late,
        escalated=up,
    )
    subject = t("Care of left-behind children: reminders for {name}", name=person) + f" ({summary})"
    steps = {"due": t("due"), "overdue": t("overdue"), "escalated": t("escalated to the leadership group")}
    lines = [t("{name}, today's reminders:", name=person), summary, ""]
    for item in payload.get("items", []):
        child = names.get(int(item.get("child_id") or 0))
        who = t("case {id}", id=item["case"]) + (f" {child}" if child else "")
        what = t(duty_label(item["reason"]))
        when = t("due {day}", day=item["since"])
        line = f"· {who}: {what} ({steps[item['step']]}, {when})"
        if item.get("stand_in"):
            line += " " + t("standing in for the {role}", role=t(ROLES.get(item.get("role") or "", "—")))
        lines.append(line)
    more = due + late + up - len(payload.get("items", []))
    if more > 0:
        lines.append(t("and {n} more: see 'casework review due'", n=more))
    title = t("Care of left-behind children")
    short = f"{title}: {person}, {summary}"
    return subject, "\n".join(lines), short


# -- sending -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendReport:
    sent: int
    retrying: int  # failed this time, tried again after the backoff
    failed: int  # gave up after the last attempt
    deferred: int  # not tried: their channel was unreachable this run
    by_channel: tuple[tuple[str, int, int], ...]  # channel, sent, not sent

    def as_data(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "deferred": self.deferred,
            "by_channel": {c: {"sent": s, "not_sent": n} for c, s, n in self.by_channel},
        }


@dataclass(frozen=True)
class _Job:
    id: int
    school_id: int
    channel: str
    attempts: int
    message: Message


@dataclass(frozen=True)
class _Outcome:
    job: _Job
    ok: bool
    error: str | None
    elapsed_ms: int
    tried: bool  # False: deferred, no attempt made


def _transport(channels: SchoolChannels, channel: str, timeout: float) -> Transport:
    if channel == "email" and channels.email:
        return SmtpTransport(channels.email, timeout)
    if channel == "wecom" and channels.wecom:
        return WecomTransport(channels.wecom, timeout)
    if channel == "sms" and channels.sms:
        return SmsTransport(channels.sms, timeout)
    raise DeliveryFailed(f"the channel {channel} is no longer set for this school")


def _claim(ctx: Context, now: datetime, limit: int) -> tuple[list[_Job], dict[int, str]]:
    """Take up to ``limit`` digests due now with a lease, and render them; one transaction."""
    cfg = ctx.settings.notify
    lease = now + timedelta(seconds=cfg.lease_seconds)
    free = or_(Notification.claimed_until.is_(None), Notification.claimed_until < now)
    with ctx.db.write() as session:
        access.system(session)  # the program's own job, as the sweep is
        ids = list(
            session.scalars(
                select(Notification.id)
                .where(Notification.status == PENDING, Notification.next_attempt_at <= now, free)
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(limit)
            )
        )
        if not ids:
            return [], {}
        taken = list(
            session.scalars(
                update(Notification)
                .where(Notification.id.in_(ids), Notification.status == PENDING, free)
                .values(claimed_until=lease)
                .returning(Notification.id)
                .execution_options(synchronize_session=False)
            )
        )
        # The columns, not ORM objects: nothing here changes the rows, and a batch is hundreds of them.
        rows = session.execute(
            select(
                Notification.id,
                Notification.school_id,
                Notification.staff_id,
                Notification.channel,
                Notification.attempts,
                Notification.items,
            )
            .where(Notification.id.in_(taken))
            .order_by(Notification.id)
        ).all()
        people = dict(
            session.execute(select(Staff.id, Staff.name).where(Staff.id.in_({r.staff_id for r in rows}))).all()
        )
        schools = dict(session.execute(select(School.id, School.name)).all())
        addresses = {
            (a.school_id, a.staff_id, a.channel): a.address
            for a in session.scalars(
                select(NotifyAddress).where(NotifyAddress.staff_id.in_({r.staff_id for r in rows}))
            )
        }
        names = _child_names(session, rows, schools, cfg)
        jobs = []
        for r in rows:
            subject, text, short = render(r.items, people.get(r.staff_id, ""), cfg.lang, names)
            to = addresses.get((r.school_id, r.staff_id, r.channel))
            jobs.append(_Job(r.id, r.school_id, r.channel, r.attempts, Message(str(r.id), to, subject, text, short)))
        return jobs, schools


def _child_names(
    session: Session, rows: Sequence[Any], schools: Mapping[int, str], cfg: NotifySettings
) -> dict[int, str | None]:
    """The children the digests name, read from their (sealed) files and shown as each school allows.

    ``rows``: outbox rows, or rows of their columns, with ``school_id`` and ``items``.
    """
    mode_of = {sid: cfg.for_school(name).child_name for sid, name in schools.items()}
    wanted: dict[int, str] = {}
    for r in rows:
        mode = mode_of.get(r.school_id, "masked")
        if mode == "none":
            continue
        for item in r.items.get("items", []):
            if item.get("child_id"):
                wanted[int(item["child_id"])] = mode
    if not wanted:
        return {}
    found = dict(session.execute(select(Child.id, Child.name).where(Child.id.in_(list(wanted)))).all())
    return {child: shown_name(found.get(child) or None, mode) for child, mode in wanted.items()}


@dataclass(frozen=True)
class Digest:
    """One digest as its person receives it (for a page showing the outbox, and for tests)."""

    id: int
    person: str
    channel: str
    day: date
    status: str
    subject: str
    text: str
    short: str


def digest(ctx: Context, notification_id: int) -> Digest:
    """The text of one digest of the outbox, rendered as it is (or was) sent."""
    with ctx.db.read() as session:
        access.system(session)
        row = session.get(Notification, notification_id)
        if row is None:
            raise NotFound("no notification with id {id}", id=notification_id)
        person = session.get(Staff, row.staff_id)
        schools = dict(session.execute(select(School.id, School.name)).all())
        names = _child_names(session, [row], schools, ctx.settings.notify)
        subject, text, short = render(row.items, person.name if person else "", ctx.settings.notify.lang, names)
        return Digest(row.id, person.name if person else "", row.channel, row.day, row.status, subject, text, short)


class _Transports:
    """The channels' connections of one run, kept from batch to batch: an SMTP connection's
    STARTTLS and login are paid once per run and lane, not once per batch of digests.

    A lane takes an idle connection of its school and channel (or opens one) and gives it back
    when its digests are sent; one found unreachable is closed instead, so the next batch tries anew.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._idle: dict[tuple[int, str], list[Transport]] = defaultdict(list)
        self._lock = threading.Lock()

    def take(self, school_id: int, channels: SchoolChannels, channel: str) -> Transport:
        with self._lock:
            idle = self._idle[(school_id, channel)]
            if idle:
                return idle.pop()
        return _transport(channels, channel, self.timeout)

    def give_back(self, school_id: int, channel: str, transport: Transport) -> None:
        with self._lock:
            self._idle[(school_id, channel)].append(transport)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, defaultdict(list)
        for transports in idle.values():
            for transport in transports:
                transport.close()


def _deliver(
    transports: _Transports,
    school_id: int,
    channels: SchoolChannels,
    channel: str,
    jobs: list[_Job],
    clock: Callable[[], float],
) -> list[_Outcome]:
    """One channel of one school, in order; once the channel is unreachable the rest wait for the next run."""
    out: list[_Outcome] = []
    try:
        transport = transports.take(school_id, channels, channel)
    except DeliveryFailed as exc:
        return [_Outcome(j, False, exc.reason, 0, True) for j in jobs]
    down = False
    try:
        for job in jobs:
            if down:
                out.append(_Outcome(job, False, None, 0, False))
                continue
            start = clock()
            try:
                transport.send(job.message)
                out.append(_Outcome(job, True, None, int((clock() - start) * 1000), True))
            except DeliveryFailed as exc:
                out.append(_Outcome(job, False, exc.reason, int((clock() - start) * 1000), True))
                down = exc.unreachable
    except BaseException:
        transport.close()
        raise
    if down:
        transport.close()
    else:
        transports.give_back(school_id, channel, transport)
    return out


def _record(ctx: Context, outcomes: list[_Outcome], now: datetime) -> Counter[str]:
    """Each attempt and each digest's new state, in one transaction."""
    cfg = ctx.settings.notify
    tally: Counter[str] = Counter()
    attempts: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for o in outcomes:
        job = o.job
        if not o.tried:
            tally["deferred"] += 1
            changes.append(
                {
                    "id": job.id,
                    "status": PENDING,
                    "attempts": job.attempts,
                    "next_attempt_at": now,
                    "claimed_until": None,
                }
            )
            continue
        attempts.append(
            {
                "school_id": job.school_id,
                "notification_id": job.id,
                "at": now,
                "ok": o.ok,
                "error": o.error,
                "elapsed_ms": o.elapsed_ms,
            }
        )
        tries = job.attempts + 1
        if o.ok:
            tally["sent"] += 1
            change = {"status": SENT, "sent_at": now, "next_attempt_at": now, "last_error": None}
        elif tries >= cfg.max_attempts:
            tally["failed"] += 1
            change = {"status": FAILED, "next_attempt_at": now, "last_error": o.error}
        else:
            tally["retrying"] += 1
            backoff = timedelta(seconds=cfg.backoff_seconds * 2 ** (tries - 1))
            change = {"status": PENDING, "next_attempt_at": now + backoff, "last_error": o.error}
        changes.append({"id": job.id, "attempts": tries, "claimed_until": None, **change})
    with ctx.db.write() as session:
        access.system(session)
        if attempts:
            session.execute(insert(NotificationAttempt), attempts)
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for change in changes:
            by_columns[tuple(sorted(change))].append(change)
        for group in by_columns.values():
            session.execute(update(Notification), group)  # executemany, by primary key
    return tally


def send(ctx: Context, limit: int | None = None) -> SendReport:
    """Deliver what is due in the outbox, a batch at a time; each school's channels side by side.

    While one batch is on its way the next is taken from the outbox, so that the database's work
    and the channels' overlap.
    """
    cfg = ctx.settings.notify
    total: Counter[str] = Counter()
    per_channel: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    done = 0
    stop = False
    transports = _Transports(cfg.timeout_seconds)
    try:
        # A failing or hanging channel holds up only its own digests: every group has its own thread.
        with ThreadPoolExecutor(max_workers=12) as pool:
            inflight: list[Future[list[_Outcome]]] = []
            schools: dict[int, str] = {}
            while True:
                jobs: list[_Job] = []
                if not stop and (limit is None or done < limit):
                    jobs, schools = _claim(ctx, ctx.now(), min(BATCH, limit - done) if limit is not None else BATCH)
                    done += len(jobs)
                started = [
                    pool.submit(
                        _deliver,
                        transports,
                        sid,
                        cfg.for_school(schools.get(sid, "")),
                        channel,
                        group,
                        time.perf_counter,
                    )
                    for (sid, channel, _), group in _groups(jobs).items()
                ]
                if inflight:
                    outcomes = [o for f in inflight for o in f.result()]
                    for o in outcomes:
                        per_channel[o.job.channel][0 if o.ok else 1] += 1
                    tally = _record(ctx, outcomes, ctx.now())
                    total += tally
                    if tally["deferred"] and not tally["sent"]:
                        stop = True  # nothing gets through: leave the rest for the next run
                if not started:
                    break
                inflight = started
    finally:
        transports.close()
    return SendReport(
        total["sent"],
        total["retrying"],
        total["failed"],
        total["deferred"],
        tuple((c, s, n) for c, (s, n) in sorted(per_channel.items())),
    )


def _groups(jobs: list[_Job]) -> dict[tuple[int, str, int], list[_Job]]:
    """By school and channel; email over several connections at once, as mail servers allow."""
    groups: dict[tuple[int, str, int], list[_Job]] = defaultdict(list)
    for k, job in enumerate(jobs):
        lane = k % SMTP_CONNECTIONS if job.channel == "email" else 0
        groups[(job.school_id, job.channel, lane)].append(job)
    return groups


class Drainer:
    """Drain the outbox in a background thread (for a long-running server): ``start()``, then ``stop()``."""

    def __init__(self, ctx: Context, interval_seconds: float = 60.0) -> None:
        self.ctx, self.interval = ctx, interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: SendReport | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="casework-notify", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = send(self.ctx)
            except Exception as exc:  # noqa: BLE001 - a failed round is reported and the next one tries again
                self.error = exc
            self._stop.wait(self.interval)

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


# -- status --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelStatus:
    channel: str
    pending: int
    sent: int
    failed: int
    oldest_pending: date | None


@dataclass(frozen=True)
class FailedDigest:
    id: int
    school: str
    person: str
    channel: str
    day: date
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class NotifyStatus:
    channels: tuple[ChannelStatus, ...]
    failed: tuple[FailedDigest, ...]  # the most recent digests that gave up, or are retrying
    unset_schools: tuple[str, ...]  # schools with no channel in [notify]

    def as_data(self) -> dict[str, Any]:
        return {
            "channels": [
                {
                    "channel": c.channel,
                    "pending": c.pending,
                    "sent": c.sent,
                    "failed": c.failed,
                    "oldest_pending": c.oldest_pending.isoformat() if c.oldest_pending else None,
                }
                for c in self.channels
            ],
            "failed": [
                {
                    "id": f.id,
                    "school": f.school,
                    "person": f.person,
                    "channel": f.channel,
                    "day": f.day.isoformat(),
                    "attempts": f.attempts,
                    "last_error": f.last_error,
                }
                for f in self.failed
            ],
            "unset_schools": list(self.unset_schools),
        }


def status(ctx: Context, recent: int = 20) -> NotifyStatus:
    """What is pending, sent and failed per channel, and the latest failures with their reasons."""
    from sqlalchemy import func

    with ctx.db.read() as session:
        access.system(session)
        counts: dict[str, dict[str, Any]] = {
            c: {"pending": 0, "sent": 0, "failed": 0, "oldest": None} for c in CHANNELS
        }
        for channel, state, n, oldest in session.execute(
            select(Notification.channel, Notification.status, func.count(), func.min(Notification.day)).group_by(
                Notification.channel, Notification.status
            )
        ):
            counts.setdefault(channel, {"pending": 0, "sent": 0, "failed": 0, "oldest": None})[state] = int(n)
            if state == PENDING:
                counts[channel]["oldest"] = oldest
        schools = dict(session.execute(select(School.id, School.name)).all())
        failing = session.execute(
            select(Notification, Staff.name)
            .join(Staff, Staff.id == Notification.staff_id)
            .where(Notification.last_error.is_not(None), Notification.status != SENT)
            .order_by(Notification.id.desc())
            .limit(recent)
        ).all()
        return NotifyStatus(
            tuple(
                ChannelStatus(c, v["pending"], v["sent"], v["failed"], v["oldest"]) for c, v in sorted(counts.items())
            ),
            tuple(
                FailedDigest(n.id, schools.get(n.school_id, ""), name, n.channel, n.day, n.attempts, n.last_error)
                for n, name in failing
            ),
            tuple(sorted(name for name in schools.values() if not ctx.settings.notify.for_school(name).enabled())),
        )


# -- addresses -----------------------------------------------------------------------------------


def set_address(
    ctx: Context, actor: str | None, staff: str, email: str | None, phone: str | None, school: str | None = None
) -> None:
    """Where a staff member receives digests (an empty value removes it); by whoever manages the staff."""
    from casework.domain.validation import parse_phone

    if email is None and phone is None:
        raise InvalidInput("give --email, --phone or both")
    wanted: dict[str, str | None] = {}
    if email is not None:
        email = email.strip()
        if email and ("@" not in email or " " in email or len(email) > 200):
            raise InvalidInput("--email: '{value}' is not an email address", value=email)
        wanted["email"] = email or None
    if phone is not None:
        wanted["sms"] = parse_phone(phone, "--phone") if phone.strip() else None
    now = ctx.now()
    with ctx.db.write() as session:
        _, who, school_id = access.at_school(session, actor, now.date(), school, policy.STAFF_MANAGE)
        person = resolve_staff(session, staff)
        require_member(session, person, school_id, now.date())  # an address at a school they work at
        for channel, address in wanted.items():
            _store_address(session, school_id, person.id, channel, address)
        trail.Scribe(session, school_id, now, who.id).write(
            "notify.address_set", "staff", person.id, data={"channels": sorted(wanted)}
        )


def _store_address(session: Session, school_id: int, staff_id: int, channel: str, address: str | None) -> None:
    row = session.scalars(
        select(NotifyAddress).where(
            NotifyAddress.school_id == school_id, NotifyAddress.staff_id == staff_id, NotifyAddress.channel == channel
        )
    ).first()
    if address is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(
            NotifyAddress(
                school_id=school_id,
                staff_id=staff_id,
                channel=channel,
                address=require_text(address, channel, limits.LINE),
            )
        )
    else:
        row.address = address
    session.flush()
