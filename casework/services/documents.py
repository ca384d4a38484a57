"""Stage documents of a case: build their contexts in a read transaction, render, register and audit.

Rendering never happens inside a transaction: contexts are read, the bytes made outside, and the
registration (with the SHA-256 of the bytes, the template and case versions) written in one write
transaction with its audit events. After a move, ``after_move`` renders the documents the move
completed; a failure there is recorded, never raised, and ``render_case`` retries it.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import i18n, states
from casework.documents.catalog import EXTENSIONS, FORMATS, STAGE_TEMPLATES, TEMPLATES
from casework.domain import access as policy
from casework.errors import InvalidInput, NotFound
from casework.persistence.tables import (
    Case,
    Document,
    Staff,
)
from casework.services import access, trail
from casework.services.context import Context
from casework.services.document_contexts import Job, jobs_for

if TYPE_CHECKING:
    from casework.documents.render import Rendered
    from casework.services.cases import Moved


@dataclass(frozen=True)
class Generated:
    id: int
    case_id: int
    template: str
    template_version: str
    fmt: str
    lang: str
    period: str | None
    sha256: str
    data: bytes

    def filename(self) -> str:
        month = f"-{self.period}" if self.period else ""
        return f"case{self.case_id}-{self.template}{month}.{self.lang}.{EXTENSIONS[self.fmt]}"


# ---- reading a case into contexts ------------------------------------------------------------


# ---- rendering and the register ---------------------------------------------------------------


def _check_stage(stage: str | None) -> None:
    if stage is not None and stage not in STAGE_TEMPLATES:
        raise InvalidInput("--stage: '{stage}' is not one of {states}", stage=stage, states=", ".join(STAGE_TEMPLATES))


def _check_template(template: str | None, stage: str | None) -> None:
    if template is None:
        return
    spec = TEMPLATES.get(template)
    if spec is None or spec.stage is None:
        raise InvalidInput(
            "--template: '{name}' is not a case document; case documents: {known}",
            name=template,
            known=", ".join(n for n, s in TEMPLATES.items() if s.stage),
        )
    if stage is not None and spec.stage != stage:
        raise InvalidInput("--template {name} belongs to the {stage} stage", name=template, stage=spec.stage)


def _render(
    ctx: Context, jobs: Sequence[Job], fmt: str, lang: str, progress: Callable[[int], None] | None
) -> list[Rendered]:
    from casework.documents import render

    options = ctx.settings.documents
    return render.render_batch(
        [(job.template, job.context) for job in jobs], fmt, lang, options.templates, options.font, progress
    )


def _register(
    session: Session, jobs: Sequence[Job], made: Sequence[Rendered], actor_id: int, now: datetime, auto: bool
) -> list[Generated]:
    rows = []
    for job, done in zip(jobs, made, strict=True):
        row = Document(
            school_id=job.school_id,
            case_id=job.case_id,
            stage=job.stage,
            template=job.template,
            template_version=done.version,
            case_version=job.case_version,
            period=job.period,
            lang=done.lang,
            format=done.fmt,
            status="ok",
            sha256=done.sha256,
            size=len(done.data),
            content=done.data,
            error=None,
            auto=auto,
            created_at=now,
            actor_id=actor_id,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    generated = []
    for job, done, row in zip(jobs, made, rows, strict=True):
        trail.Scribe(session, job.school_id, now, actor_id).write(
            "document.registered",
            "document",
            row.id,
            case_id=job.case_id,
            data={
                "template": job.template,
                "template_version": done.version,
                "stage": job.stage,
                "case_version": job.case_version,
                "period": job.period,
                "format": done.fmt,
                "lang": done.lang,
                "sha256": done.sha256,
                "auto": auto,
            },
        )
        generated.append(
            Generated(
                row.id, job.case_id, job.template, done.version, done.fmt, done.lang, job.period, done.sha256, done.data
            )
        )
    return generated


def render_case(
    ctx: Context,
    actor: str | None,
    case_id: int,
    *,
    stage: str | None = None,
    template: str | None = None,
    fmt: str = "html",
    lang: str | None = None,
    month: str | None = None,
    redact: bool = False,
) -> list[Generated]:
    """Render the documents of a stage (default: the case's current stage) and register them.

    This is also the retry of a failed automatic rendering: the same stage renders again.
    """
    if fmt not in FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of {known}", fmt=fmt, known=", ".join(FORMATS))
    _check_stage(stage)
    _check_template(template, stage)
    language = i18n.normalise(lang) if lang else ctx.lang
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        case = access.case_in_scope(session, who, case_id)
        access.require_tier(who, case.school_id, policy.READ, policy.T2)
        chosen = stage or (TEMPLATES[template].stage if template else None) or case.state
        jobs = jobs_for(session, case, language, redact, chosen, [template] if template else None, month, today)
        reads = _reads(who, [case], redact)
    made = _render(ctx, jobs, fmt, language, None)
    with ctx.db.write() as session:
        access.bind(session, who)
        registered = _register(session, jobs, made, who.staff_id, ctx.now(), auto=False)
    access.log_reads(ctx, reads, "document.render")
    return registered


def _reads(who: access.Principal, cases: Sequence[Case], redact: bool) -> access.Reads:
    """A rendered document shows counselling content, and contact data unless redacted."""
    reads = access.Reads(who)
    tiers = (policy.T2,) if redact else (policy.T1, policy.T2)
    for case in cases:
        reads.add(case.school_id, [case.child_id], *tiers)
    return reads


def render_many(
    ctx: Context,
    actor: str | None,
    template: str,
    *,
    state: str | None = None,
    case_ids: Sequence[int] | None = None,
    fmt: str = "pdf",
    lang: str | None = None,
    month: str | None = None,
    redact: bool = False,
    batch_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> list[Generated]:
    """One template for many cases (month-end talk cards, say), in batches that share a PDF font.

    ``progress`` gets (documents done, documents in all). Each batch is registered as it is done.
    """
    _check_template(template, None)
    if fmt not in FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of {known}", fmt=fmt, known=", ".join(FORMATS))
    language = i18n.normalise(lang) if lang else ctx.lang
    today = ctx.now().date()
    stage = TEMPLATES[template].stage
    assert stage is not None
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        query = select(Case.id).order_by(Case.id)
        if case_ids is not None:
            query = query.where(Case.id.in_(list(case_ids)))
        else:
            query = query.where(Case.state == (state or stage))
        ids = list(session.scalars(query))
    if case_ids is not None:
        for missing in sorted(set(case_ids) - set(ids)):
            with ctx.db.read() as session:
                access.bind(session, who)
                access.case_in_scope(session, who, missing)  # outside the scope: denied; else: no such case
    total, done, out = len(ids), 0, []
    for start in range(0, total, batch_size):
        with ctx.db.read() as session:
            access.bind(session, who)
            jobs, batch = [], []
            for case_id in ids[start : start + batch_size]:
                case = _case(session, case_id)
                access.require_tier(who, case.school_id, policy.READ, policy.T2)
                batch.append(case)
                jobs.extend(jobs_for(session, case, language, redact, stage, [template], month, today))
        made = _render(ctx, jobs, fmt, language, _offset(progress, done, total))
        with ctx.db.write() as session:
            access.bind(session, who)
            out.extend(_register(session, jobs, made, who.staff_id, ctx.now(), auto=False))
        access.log_reads(ctx, _reads(who, batch, redact), "document.batch")
        done += len(jobs)
    return out


def _offset(progress: Callable[[int, int], None] | None, base: int, total: int) -> Callable[[int], None] | None:
    if progress is None:
        return None
    report = progress
    return lambda n: report(base + n, total)


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("no case with id {id}", id=case_id)
    return case


def documents_for_move(from_state: str, to_state: str) -> list[str]:
    """The stages whose documents a move completes: the stage left, and closed when closing."""
    stages = [] if from_state == states.CLOSED else [from_state]
    if to_state == states.CLOSED:
        stages.append(states.CLOSED)
    return stages


def render_after_moves(ctx: Context) -> None:
    """Render and file each move's stage documents once it commits (``after_move``)."""
    if after_move not in ctx.after_move:
        ctx.after_move.append(after_move)


def after_move(ctx: Context, moved: Moved, actor_id: int) -> None:
    """Render and register the documents a committed move completed; never raises.

    A failure is registered as a failed document (and audited) so that ``casework doc list``
    shows it and ``casework doc render`` retries it; the move itself stays done.
    """
    options = ctx.settings.documents
    stages = documents_for_move(moved.from_state, moved.to_state)
    for stage in stages:
        try:
            today = ctx.now().date()
            # The program files the documents a move completed; nobody reads them here.
            with ctx.db.read() as session:
                access.system(session)
                case = _case(session, moved.case_id)
                jobs = jobs_for(session, case, ctx.lang, options.redact, stage, None, None, today)
            made = {fmt: _render(ctx, jobs, fmt, ctx.lang, None) for fmt in options.formats}
            with ctx.db.write() as session:
                access.system(session)
                for fmt in options.formats:
                    _register(session, jobs, made[fmt], actor_id, ctx.now(), auto=True)
        except Exception as exc:  # noqa: BLE001 - a document must never undo or fail a committed move
            _record_failure(ctx, moved, stage, actor_id, exc)


def _record_failure(ctx: Context, moved: Moved, stage: str, actor_id: int, exc: Exception) -> None:
    message = exc.msg.msgid if hasattr(exc, "msg") else str(exc)
    detail = f"{type(exc).__name__}: {message}\n" + "".join(traceback.format_exception_only(exc))[-2000:]
    try:
        now = ctx.now()
        with ctx.db.write() as session:
            access.system(session)
            case = _case(session, moved.case_id)
            for fmt in ctx.settings.documents.formats:
                row = Document(
                    school_id=case.school_id,
                    case_id=case.id,
                    stage=stage,
                    template=",".join(STAGE_TEMPLATES[stage]),
                    template_version="",
                    case_version=moved.version,
                    period=None,
                    lang=ctx.lang,
                    format=fmt,
                    status="failed",
                    sha256=None,
                    size=None,
                    content=None,
                    error=detail,
                    auto=True,
                    created_at=now,
                    actor_id=actor_id,
                )
                session.add(row)
                session.flush()
                trail.Scribe(session, case.school_id, now, actor_id).write(
                    "document.failed",
                    "document",
                    row.id,
                    case_id=case.id,
                    data={"stage": stage, "case_version": moved.version, "format": fmt, "error": type(exc).__name__},
                )
    except Exception:  # noqa: BLE001, S110 - the database itself failing: the move is committed, nothing more to do
        pass


@dataclass(frozen=True)
class Registered:
    """One entry of a case's document register: a file made (ok), a failed attempt, or one later retried."""

    id: int
    stage: str
    template: str
    template_version: str
    case_version: int
    period: str | None
    lang: str
    format: str
    status: str
    sha256: str | None
    size: int | None
    error: str | None
    auto: bool
    created_at: str
    actor: str | None


def list_documents(ctx: Context, actor: str | None, case_id: int) -> list[Registered]:
    """The case's register: every document and failed attempt, oldest first; a failure later
    rendered for the same stage shows as retried."""
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        access.case_in_scope(session, who, case_id)
        rows = session.execute(
            select(
                Document.id,
                Document.stage,
                Document.template,
                Document.template_version,
                Document.case_version,
                Document.period,
                Document.lang,
                Document.format,
                Document.status,
                Document.sha256,
                Document.size,
                Document.error,
                Document.auto,
                Document.created_at,
                Staff.name,
            )
            .outerjoin(Staff, Staff.id == Document.actor_id)
            .where(Document.case_id == case_id)
            .order_by(Document.id)
        ).all()
    out = []
    for r in rows:
        retried = r.status == "failed" and any(
            later.status == "ok" and later.stage == r.stage and later.id > r.id for later in rows
        )
        out.append(
            Registered(
                id=r.id,
                stage=r.stage,
                template=r.template,
                template_version=r.template_version,
                case_version=r.case_version,
                period=r.period,
                lang=r.lang,
                format=r.format,
                status="retried" if retried else r.status,
                sha256=r.sha256,
                size=r.size,
                error=r.error.splitlines()[0] if r.error else None,
                auto=r.auto,
                created_at=r.created_at.isoformat(),
                actor=r.name,
            )
        )
    return out


def document_bytes(ctx: Context, actor: str | None, document_id: int) -> tuple[str, bytes]:
    """A registered document's file name and bytes, checked against its registered hash."""
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        row = session.get(Document, document_id)
        if row is None:
            access.case_in_scope(session, who, access.case_of_document(session, document_id))
        if row is None or row.content is None:
            raise NotFound("no stored document with id {id}", id=document_id)
        access.require_tier(who, row.school_id, policy.READ, policy.T2)
        if hashlib.sha256(row.content).hexdigest() != row.sha256:
            raise InvalidInput("document {id} does not match its registered hash", id=document_id)
        month = f"-{row.period}" if row.period else ""
        name = f"case{row.case_id}-{row.template}{month}.{row.lang}.{EXTENSIONS[row.format]}"
        case = session.get(Case, row.case_id)
        assert case is not None
        reads = _reads(who, [case], redact=False)
        content = bytes(row.content)
    access.log_reads(ctx, reads, "document.get")
    return name, content


def sample(template: str, fmt: str, lang: str, overrides: Path | None, font: Path | None) -> bytes:
    """A template rendered with made-up data: to preview an override without a database."""
    from casework.documents import render, samples

    if template not in TEMPLATES:
        raise InvalidInput(
            "no document template '{name}'; templates: {known}", name=template, known=", ".join(TEMPLATES)
        )
    language = i18n.normalise(lang)
    return render.render(template, samples.sample(template, language), fmt, language, overrides, font)
