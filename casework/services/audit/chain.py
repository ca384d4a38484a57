"""The auditor's use cases on the chains: which schools they may read, verify them, export them."""

from __future__ import annotations

import codecs
import dataclasses
import os
import shutil
import tempfile
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
) -> audit.VerifyResult:
    """Recompute the chains of the given schools (all when None): the program's own check.

    Rows come through the driver cursor and are hashed over the canonical bytes built from
    the stored text (casework.audit.verify_rows): no ORM objects, no JSON parsing. From
    ``parallel_from`` events on, key ranges of the chains are verified side by side in worker
    processes (casework.services.audit.workers), with the same verdict.
    """
    with ctx.db.read() as session:
        heads = _heads(session, school_ids)
        schools = audit_rows.school_ids(session) if school_ids is None else school_ids
        ranges = audit_rows.plan(session, schools, parts or workers.PARTS, workers.HEAD_START)
        ranges = [r for r in ranges if r]
        if len(ranges) < 2 or sum(s.count for r in ranges for s in r) < parallel_from:
            with closing(audit_rows.stream(session, school_ids)) as rows:
                return audit.verify_rows(rows, heads)
        starts = workers.starts_of(ranges, lambda school, seq: audit_rows.stored_hash(session, school, seq))
    return workers.verify(ctx.db, ranges, starts, heads)


def verify_as(ctx: Context, actor: str | None) -> audit.VerifyResult:
    """``verify`` over the schools where the actor holds AUDIT_READ."""
    _, schools = auditable(ctx, actor)
    return verify(ctx, schools)


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
CHUNK = 1 << 16  # bytes of an XLSX export handed to the browser at a time


@dataclass
class Streamed:
    """An export on its way to the browser: its format, the schools it reads, whether numbers are masked;
    ``events`` per school filled in as it is read."""

    format: str
    schools: tuple[int, ...]
    masked: frozenset[int]
    events: dict[int, int]


def export_stream(
    ctx: Context, actor: str | None, fmt: str, filters: audit_rows.Filters
) -> tuple[Streamed, Iterator[bytes]]:
    """The actor's AUDIT_READ schools' events that pass ``filters``, in ``fmt``, as pieces of bytes.

    Masked exactly as ``export_file`` masks (phone and ID numbers where the actor may not read
    contact data), read batch by batch through the driver cursor: memory stays constant whatever
    the number of events. The whole chains (no filter) are written by ``export_file``'s own writer,
    in worker processes side by side, to a temporary file sent in pieces; filtered JSON lines and
    CSV are formatted batch by batch straight to the browser, filtered XLSX (a zip) is built in a
    temporary file first. When the
    last piece is out, each school's chain records the export ("audit.exported", with the filters).
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of jsonl, csv, xlsx", fmt=fmt)
    who, schools = auditable(ctx, actor)
    masked = frozenset(s for s in schools if not who.may_read(s, policy.T1))
    info = Streamed(fmt, tuple(schools), masked, {})

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        with ctx.db.read() as session, closing(audit_rows.filtered_batches(session, schools, filters)) as found:
            for batch in found:
                school = int(batch[0][0])
                info.events[school] = info.events.get(school, 0) + len(batch)
                # a batch may hold two schools' rows: masked row by row where the schools differ
                if len({row[0] for row in batch}) > 1:
                    yield [audit.mask_rows([row])[0] if row[0] in masked else row for row in batch]
                else:
                    yield audit.mask_rows(batch) if school in masked else batch

    def pieces() -> Iterator[bytes]:
        complete = False
        try:
            if filters == audit_rows.Filters():
                yield from _whole_pieces(ctx, fmt, schools, masked, info)
            elif fmt == "xlsx":
                yield from _xlsx_pieces(batches())
            else:
                if fmt == "csv":
                    yield codecs.BOM_UTF8 + (",".join(HEADERS) + "\r\n").encode()
                layout = export.JSON_LINES if fmt == "jsonl" else export.CSV_RECORDS
                for batch in batches():
                    yield layout.format(batch)
            complete = True
        finally:  # an export the browser stopped half-way is recorded too, as incomplete
            _record_export(ctx, who, info, filters, complete)

    return info, pieces()


def _whole_pieces(
    ctx: Context, fmt: str, schools: list[int], masked: frozenset[int], info: Streamed
) -> Iterator[bytes]:
    """The whole chains, unfiltered: written by the CLI's own writer (ranges side by side in worker
    processes from PARALLEL_FROM events on) into a temporary file, then sent in pieces."""
    folder = tempfile.mkdtemp(prefix="casework-export-")
    try:
        path = os.path.join(folder, f"audit.{fmt}")
        info.events.update(export.write(ctx.db, fmt, path, schools, masked))
        with open(path, "rb") as done:
            while piece := done.read(CHUNK):
                yield piece
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _xlsx_pieces(batches: Iterator[list[tuple[Any, ...]]]) -> Iterator[bytes]:
    from casework.formats import xlsx_stream

    folder = tempfile.mkdtemp(prefix="casework-export-")
    try:
        rows = 0
        with xlsx_stream.SheetRows(os.path.join(folder, "part"), 0) as sheet:
            for batch in batches:
                sheet.extend(batch)
                rows += len(batch)
            fragments = sheet.close()
        path = os.path.join(folder, "audit.xlsx")
        xlsx_stream.write_workbook(path, HEADERS, "audit", rows, [fragments])
        with open(path, "rb") as done:
            while piece := done.read(CHUNK):
                yield piece
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
