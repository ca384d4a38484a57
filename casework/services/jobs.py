"""Background jobs as rows: start one (audited), finish it with its outcome (audited), and fail the interrupted ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update

from casework.domain import access as policy
from casework.errors import NotFound
from casework.persistence.tables import Job
from casework.services import access, trail
from casework.services.actors import home_school
from casework.services.context import Context
from casework.text import N_, Msg

RUNNING, DONE, FAILED = "running", "done", "failed"
KINDS = ("verify", "import", "rollover")
INTERRUPTED = N_("the server stopped while this job ran; nothing of it was applied")


@dataclass(frozen=True)
class JobView:
    id: int
    school_id: int
    kind: str
    state: str
    staff_id: int
    created_at: datetime
    finished_at: datetime | None
    done: int
    total: int | None
    outcome: Msg | None
    detail: dict[str, Any]


def _plain(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"msg": message_data(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def message_data(msg: Msg) -> dict[str, Any]:
    """A message as JSON: its msgid and parameters, a parameter that is itself a message kept as one,
    a date as its ISO text (what a message shows of it)."""
    return {"msgid": msg.msgid, "params": {k: _plain(v) for k, v in msg.params.items()}}


def message_of(data: dict[str, Any]) -> Msg:
    params = {
        k: message_of(v["msg"]) if isinstance(v, dict) and set(v) == {"msg"} else v
        for k, v in dict(data.get("params") or {}).items()
    }
    return Msg(str(data["msgid"]), params)


def _view(job: Job) -> JobView:
    outcome = dict(job.outcome or {})
    return JobView(
        job.id,
        job.school_id,
        job.kind,
        job.state,
        job.staff_id,
        job.created_at,
        job.finished_at,
        job.done,
        job.total,
        message_of(outcome["message"]) if outcome.get("message") else None,
        dict(outcome.get("detail") or {}),
    )


def start(ctx: Context, actor: str | None, kind: str, capability: str) -> int:
    """A new running job of ``kind`` for the actor's school, where they must hold ``capability``; audited."""
    now = ctx.now()
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        school_id = home_school(session, access.staff_of(session, who), now.date())
        access.require(who, school_id, capability)
        job = Job(school_id=school_id, kind=kind, state=RUNNING, staff_id=who.staff_id, created_at=now, done=0)
        session.add(job)
        session.flush()
        trail.Scribe(session, school_id, now, who.staff_id).write("job.started", "job", job.id, data={"kind": kind})
        return job.id


def record_progress(ctx: Context, job_id: int, done: int, total: int | None) -> None:
    """How far a running job has got (rows done, rows in all), written to its row for its page to show,
    whichever server process serves it. Not audited: the job's start and end are."""
    with ctx.db.write() as session:
        access.system(session)
        session.execute(update(Job).where(Job.id == job_id, Job.state == RUNNING).values(done=done, total=total))


def finish(
    ctx: Context, job_id: int, ok: bool, message: Msg, detail: dict[str, Any] | None = None, done: int = 0
) -> None:
    """The job's end: done or failed, with the message to show; audited in the job's school."""
    now = ctx.now()
    with ctx.db.write() as session:
        access.system(session)
        job = session.get(Job, job_id)
        if job is None or job.state != RUNNING:
            return
        job.state = DONE if ok else FAILED
        job.finished_at = now
        job.done = done
        job.outcome = {"message": message_data(message), "detail": detail or {}}
        trail.Scribe(session, job.school_id, now, job.staff_id).write(
            "job.finished", "job", job.id, data={"kind": job.kind, "state": job.state}
        )


def fail_interrupted(ctx: Context) -> int:
    """On the server's start: every job still marked running was interrupted; each is failed, with the reason."""
    now = ctx.now()
    with ctx.db.write() as session:
        access.system(session)
        found = list(session.scalars(select(Job).where(Job.state == RUNNING).order_by(Job.id)))
        for job in found:
            job.state = FAILED
            job.finished_at = now
            job.outcome = {"message": message_data(Msg(INTERRUPTED)), "detail": {"interrupted": True}}
            trail.Scribe(session, job.school_id, now, None).write(
                "job.finished", "job", job.id, data={"kind": job.kind, "state": FAILED, "interrupted": True}
            )
        return len(found)


def show(ctx: Context, actor: str | None, job_id: int) -> JobView:
    """A job, to the person who started it; anyone else is told there is no such job."""
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        job = session.get(Job, job_id)
        if job is None or job.staff_id != who.staff_id:
            raise NotFound("no job with id {id}", id=job_id)
        return _view(job)


def recent(ctx: Context, actor: str | None, kind: str, limit: int = 10) -> list[JobView]:
    """The actor's latest jobs of ``kind``, newest first."""
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        rows = session.scalars(
            select(Job).where(Job.staff_id == who.staff_id, Job.kind == kind).order_by(Job.id.desc()).limit(limit)
        )
        return [_view(j) for j in rows]


CAPABILITIES = {"verify": policy.AUDIT_READ, "import": policy.ROSTER_IMPORT, "rollover": policy.YEAR_ROLLOVER}
