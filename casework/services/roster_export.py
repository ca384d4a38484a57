"""Writing a school's registers out: children and cases to XLSX or CSV, with the export audited."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from casework import i18n, states
from casework.domain import access as policy
from casework.domain.roster import (
    export_header,
    export_targets,
    export_value,
)
from casework.errors import InvalidInput
from casework.formats import spreadsheets
from casework.persistence.tables import Case, Child, SchoolClass
from casework.services import access, trail
from casework.services.context import Context
from casework.services.roster import BATCH, CARD_FIELDS
from casework.text import N_, Msg

REDACTED = "***"
CASE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("case_id", N_("case")),
    ("child_id", N_("child")),
    ("name", N_("name")),
    ("student_no", N_("student number")),
    ("grade", N_("grade")),
    ("class", N_("class")),
    ("state", N_("stage")),
    ("state_since", N_("in this stage since (UTC)")),
    ("opened_at", N_("opened (UTC)")),
)


@dataclass(frozen=True)
class ExportResult:
    path: str
    format: str
    rows: int


def _audit_export(
    ctx: Context, actor_id: int, school_id: int, what: str, fmt: str, fields: list[str], redacted: list[str]
) -> Callable[[int], None]:
    def record(count: int) -> None:
        with ctx.db.write() as session:
            trail.Scribe(session, school_id, ctx.now(), actor_id).write(
                "roster.exported",
                "school",
                school_id,
                data={"what": what, "format": fmt, "rows": count, "fields": fields, "redacted": redacted},
            )

    return record


def _who(ctx: Context, actor: str | None, school: str | None) -> tuple[access.Principal, int]:
    with ctx.db.read() as session:
        who, _, school_id = access.at_school(session, actor, ctx.now().date(), school, policy.ROSTER_EXPORT)
        return who, school_id


def export_children(
    ctx: Context,
    actor: str | None,
    path: str,
    fmt: str | None = None,
    school: str | None = None,
    redact: Collection[str] = (),
) -> ExportResult:
    """Every child of the actor's school, with the headers an import recognises.

    ``redact`` names fields written as *** instead of their value; fields of a tier the actor's
    role may not read are always redacted. Every exported child is in the access log.
    """
    fmt = spreadsheets.format_of(path, fmt)
    unknown = sorted(set(redact) - set(CARD_FIELDS))
    if unknown:
        raise InvalidInput("cannot redact unknown fields: {fields}", fields=", ".join(unknown))
    who, school_id = _who(ctx, actor, school)
    actor_id = who.staff_id
    redact = set(redact) | {f for f in CARD_FIELDS if not who.may_read(school_id, policy.column_tier("child", f))}
    reads = access.Reads(who)
    shown = tuple({policy.column_tier("child", f) for f in CARD_FIELDS if f not in redact})
    targets = export_targets()
    headers = [export_header(t, ctx.lang) for t in targets]
    card = [t for t in targets if t in CARD_FIELDS]
    with ctx.db.read() as session:
        access.bind(session, who)
        query = (
            select(Child, SchoolClass.grade, SchoolClass.name)
            .outerjoin(SchoolClass, SchoolClass.id == Child.class_id)
            .where(Child.school_id == school_id)
            .order_by(SchoolClass.grade, SchoolClass.name, Child.id)
            .execution_options(yield_per=BATCH)
        )

        def rows() -> Iterator[list[Any]]:
            for child, grade, cname in session.execute(query):
                out: list[Any] = []
                for target in targets:
                    if target == "grade":
                        out.append(grade)
                    elif target == "class":
                        out.append(cname)
                    elif target in redact:
                        out.append(REDACTED if getattr(child, target) is not None else None)
                    else:
                        out.append(export_value(target, getattr(child, target), ctx.lang))
                reads.add(school_id, [child.id], *shown)
                session.expunge(child)
                yield out

        count = spreadsheets.write_table(
            path,
            fmt,
            headers,
            rows(),
            widths=[max(10, min(30, len(h) * 3)) for h in headers],
            before_replace=_audit_export(ctx, actor_id, school_id, "children", fmt, card, sorted(redact)),
        )
    access.log_reads(ctx, reads, "roster.export_children")
    return ExportResult(path, fmt, count)


def export_cases(
    ctx: Context, actor: str | None, path: str, fmt: str | None = None, school: str | None = None
) -> ExportResult:
    """Every case of the actor's school: child, class, stage and since when."""
    fmt = spreadsheets.format_of(path, fmt)
    who, school_id = _who(ctx, actor, school)
    actor_id = who.staff_id
    reads = access.Reads(who)
    headers = [i18n.render(Msg(label), ctx.lang) for _, label in CASE_COLUMNS]
    with ctx.db.read() as session:
        access.bind(session, who)
        query = (
            select(Case, Child.name, Child.student_no, SchoolClass.grade, SchoolClass.name)
            .join(Child, Child.id == Case.child_id)
            .outerjoin(SchoolClass, SchoolClass.id == Child.class_id)
            .where(Case.school_id == school_id)
            .order_by(Case.id)
            .execution_options(yield_per=BATCH)
        )

        def rows() -> Iterator[list[Any]]:
            for case, name, student_no, grade, cname in session.execute(query):
                yield [
                    case.id,
                    case.child_id,
                    name,
                    student_no,
                    grade,
                    cname,
                    i18n.render(states.state_label(case.state), ctx.lang),
                    _naive(case.state_since),
                    _naive(case.opened_at),
                ]
                reads.add(school_id, [case.child_id], policy.T1)
                session.expunge(case)

        count = spreadsheets.write_table(
            path,
            fmt,
            headers,
            rows(),
            widths=[8, 8, 12, 22, 6, 10, 12, 18, 18],
            before_replace=_audit_export(ctx, actor_id, school_id, "cases", fmt, ["name", "student_no"], []),
        )
    access.log_reads(ctx, reads, "roster.export_cases")
    return ExportResult(path, fmt, count)


def _naive(moment: datetime) -> datetime:
    """UTC without tzinfo, as spreadsheets hold date-times (SQLite hands back naive UTC)."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
