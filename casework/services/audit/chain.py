"""The auditor's use cases on the chains: which schools they may read, verify them, export them."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit
from casework.domain import access as policy
from casework.errors import InvalidInput
from casework.formats.files import atomic_path
from casework.persistence import audit_rows
from casework.persistence.tables import AuditHead
from casework.services import access, trail
from casework.services.audit import export, workers
from casework.services.context import Context
from casework.text import N_

STREAM_BATCH = 2000


def auditable(ctx: Context, actor: str | None, needed: Collection[int] = ()) -> tuple[access.Principal, list[int]]:
    """The actor and the schools whose chain they may read: those where they hold AUDIT_READ.

    A staff member who holds it nowhere is refused (exit 5), at the first school they work at;
    so is one who does not hold it at every school of ``needed``.
    """
    with ctx.db.read() as session:  # refused inside the transaction, so that the refusal is logged
        who = access.enter(session, actor, ctx.now().date())
        schools = sorted(s for s, roles in who.roles.items() if policy.may(roles, policy.AUDIT_READ))
        if not schools and who.roles:
            access.require(who, min(who.roles), policy.AUDIT_READ)
        if not schools:
            raise who.denied(
                None,
                policy.AUDIT_READ,
                N_("{name} (staff {id}) has no role at any school"),
                name=who.name,
                id=who.staff_id,
            )
        for school_id in needed:
            access.require(who, school_id, policy.AUDIT_READ)
    return who, schools


def _heads(session: Session, school_ids: Collection[int] | None) -> dict[int, tuple[int, str]]:
    query = select(AuditHead.school_id, AuditHead.seq, AuditHead.hash)
    if school_ids is not None:
        query = query.where(AuditHead.school_id.in_(list(school_ids)))
    return {int(sid): (int(seq), str(h)) for sid, seq, h in session.execute(query)}


def verify(
    ctx: Context,
    school_ids: Collection[int] | None = None,
    *,
    parallel_from: int = workers.PARALLEL_FROM,
    parts: int | None = None,
    progress: workers.Progress | None = None,
) -> audit.VerifyResult:
    """Recompute the chains of the given schools (all when None): the program's own check.

    Rows come through the driver cursor and are hashed over the canonical bytes built from
    the stored text (casework.audit.verify_rows): no ORM objects, no JSON parsing. From
    ``parallel_from`` events on, key ranges of the chains are verified side by side in worker
    processes (casework.services.audit.workers), with the same verdict. ``progress`` is told
    (events verified, events in all) as the work moves on, a batch at a time.
    """
    with ctx.db.read() as session:
        heads = _heads(session, school_ids)
        schools = audit_rows.school_ids(session) if school_ids is None else school_ids
        ranges = audit_rows.plan(session, schools, parts or workers.PARTS, workers.HEAD_START)
        ranges = [r for r in ranges if r]
        total = sum(s.count for r in ranges for s in r)
        if len(ranges) < 2 or total < parallel_from:
            with closing(audit_rows.batches(session, school_ids)) as found:
                return audit.verify_rows(_rows(found, total, progress), heads)
        starts = workers.starts_of(ranges, lambda school, seq: audit_rows.stored_hash(session, school, seq))
    return workers.verify(ctx.db, ranges, starts, heads, progress)


def _rows(
    batches: Iterator[list[tuple[Any, ...]]], total: int, progress: workers.Progress | None
) -> Iterator[tuple[Any, ...]]:
    """The batches' rows one by one, ``progress`` told after each batch."""
    done = 0
    for batch in batches:
        yield from batch
        done += len(batch)
        if progress is not None:
            progress(min(done, total), total)


def verify_as(ctx: Context, actor: str | None, progress: workers.Progress | None = None) -> audit.VerifyResult:
    """``verify`` over the schools where the actor holds AUDIT_READ."""
    _, schools = auditable(ctx, actor)
    return verify(ctx, schools, progress=progress)


EXPORT_FORMATS = export.FORMATS
HEADERS = export.HEADERS


@dataclass(frozen=True)
class Exported:
    """What an export wrote: how many events, of which schools, and whether numbers were masked."""

    path: str
    format: str
    events: int
    schools: tuple[int, ...]
    masked: bool


def export_file(
    ctx: Context, actor: str | None, fmt: str, path: str, *, parallel_from: int = workers.PARALLEL_FROM
) -> Exported:
    """Stream the chains of the actor's AUDIT_READ schools to ``path`` in constant memory.

    Where the actor's roles may not read contact data (T1), every phone or ID number in an
    event's text is masked. The file is written under a temporary name; each exported
    school's chain then records the export ("audit.exported": format, events, roles, masked),
    and only then does the file take its name. From ``parallel_from`` events on, ranges of
    the chain are written by worker processes side by side (casework.services.audit.export).
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of jsonl, csv, xlsx", fmt=fmt)
    who, schools = auditable(ctx, actor)
    masked = frozenset(s for s in schools if not who.may_read(s, policy.T1))
    with atomic_path(path) as partial:
        counts = export.write(ctx.db, fmt, partial, schools, masked, parallel_from=parallel_from)
        now = ctx.now()
        with ctx.db.write() as session:
            access.system(session)
            for school_id in schools:
                trail.Scribe(session, school_id, now, who.staff_id).write(
                    "audit.exported",
                    "school",
                    school_id,
                    data={
                        "format": fmt,
                        "events": counts.get(school_id, 0),
                        "roles": sorted(who.roles_at(school_id)),
                        "masked": school_id in masked,
                    },
                )
    return Exported(path, fmt, sum(counts.values()), tuple(schools), bool(masked))


ExportFilters = audit_rows.Filters  # what the web's export asks for, named where the web may import it


@dataclass
class Streamed:
    """An export on its way to the browser: its format, the schools it reads, whether numbers are masked;
    ``events`` per school filled in as it is read."""

    format: str
    schools: tuple[int, ...]
    masked: frozenset[int]
    events: dict[int, int]


def export_stream(
    ctx: Context,
    actor: str | None,
    fmt: str,
    filters: audit_rows.Filters,
    *,
    parallel_from: int = workers.PARALLEL_FROM,
    parts: int | None = None,
) -> tuple[Streamed, Iterator[bytes]]:
    """The actor's AUDIT_READ schools' events that pass ``filters``, in ``fmt``, as pieces of bytes.

    Masked exactly as ``export_file`` masks (phone and ID numbers where the actor may not read
    contact data), and written by its own writer (``export.pieces``): from ``parallel_from``
    events that pass the filters on, in ranges side by side, this process formatting the first
    straight to the browser while worker processes write the others into part files sent after
    it. Memory stays constant whatever the number of events. When the last piece is out, each
    school's chain records the export ("audit.exported", with the filters); an export the
    browser stopped half-way is recorded too, as incomplete.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of jsonl, csv, xlsx", fmt=fmt)
    who, schools = auditable(ctx, actor)
    masked = frozenset(s for s in schools if not who.may_read(s, policy.T1))
    info = Streamed(fmt, tuple(schools), masked, {})
    asked = None if filters == audit_rows.Filters() else filters

    def sent() -> Iterator[bytes]:
        complete = False
        try:
            yield from export.pieces(
                ctx.db, fmt, schools, masked, info.events, asked, parallel_from=parallel_from, parts=parts
            )
            complete = True
        finally:
            _record_export(ctx, who, info, filters, complete)

    return info, sent()


def _record_export(
    ctx: Context, who: access.Principal, info: Streamed, filters: audit_rows.Filters, complete: bool
) -> None:
    now = ctx.now()
    asked = {k: v for k, v in dataclasses.asdict(filters).items() if v is not None}
    with ctx.db.write() as session:
        access.system(session)
        for school_id in info.schools:
            trail.Scribe(session, school_id, now, who.staff_id).write(
                "audit.exported",
                "school",
                school_id,
                data={
                    "format": info.format,
                    "events": info.events.get(school_id, 0),
                    "roles": sorted(who.roles_at(school_id)),
                    "masked": school_id in info.masked,
                    "filters": asked,
                    "via": "web",
                    **({} if complete else {"complete": False}),
                },
            )
