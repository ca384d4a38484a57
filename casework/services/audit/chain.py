"""The auditor's use cases on the chains: which schools they may read, verify them, export them."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import closing
from dataclasses import dataclass

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
