"""The auditor's desk: chain verification as a background job, checkpoint upload, filtered export, the access log."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date, timedelta
from typing import Any

from starlette.responses import Response, StreamingResponse

from casework.domain import access as policy
from casework.domain.validation import parse_date
from casework.errors import InvalidInput
from casework.text import N_, Msg
from casework.web import admin
from casework.web.core import Req
from casework.web.jobs import Outcome, Progress

UPLOAD_LIMIT = 1 << 20  # a checkpoint and a public key are a few kilobytes
EXPORT_TYPES = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _verdict(result: Any) -> Msg:
    """The CLI's words for a verification's result (casework.commands.audit)."""
    from casework.audit import PROBLEM_KINDS

    problem = result.problem
    if problem is None:
        return Msg(
            "audit chain intact: {events} events in {schools} school(s)",
            {"events": result.events, "schools": result.schools},
        )
    # The CLI's words without its technical detail, which is English: the page shows it apart (job.html).
    return Msg(
        "audit chain broken at school {school}, sequence {seq}: {kind}",
        {"school": problem.school_id, "seq": problem.seq, "kind": Msg(PROBLEM_KINDS[problem.kind])},
    )


def _detail(result: Any) -> dict[str, Any]:
    problem = result.problem
    return {
        "events": result.events,
        "schools": result.schools,
        "school": None if problem is None else problem.school_id,
        "seq": None if problem is None else problem.seq,
        "problem": None if problem is None else problem.detail,
    }


def desk(req: Req) -> Response:
    from casework.services import jobs

    return req.page(
        "audit.html",
        recent=jobs.recent(req.ctx, req.actor, "verify", 5),
        error=None,
        today=req.ctx.now().date().isoformat(),
        actions=_actions(),
    )


def _actions() -> list[str]:
    from casework.domain.vocab import AUDIT_ACTIONS

    return sorted(AUDIT_ACTIONS)


def verify(req: Req) -> Response:
    from casework.services import jobs
    from casework.services.audit import chain

    job_id = jobs.start(req.ctx, req.actor, "verify", policy.AUDIT_READ)
    ctx, actor = req.ctx, req.actor

    def work(progress: Progress) -> Outcome:
        result = chain.verify_as(ctx, actor, progress)
        return Outcome(result.ok, _verdict(result), _detail(result), result.events)

    req.runner.submit(job_id, work)
    return req.redirect(f"/jobs/{job_id}")


def checkpoint(req: Req) -> Response:
    from casework.services import jobs
    from casework.services.audit import checkpoint as checkpoints

    sent = req.files.get("checkpoint")
    key = req.files.get("public_key")
    if sent is None or not sent.content:
        return _desk_error(req, req.t(N_("choose the checkpoint file to upload")))
    folder = tempfile.mkdtemp(prefix="casework-checkpoint-")
    path = os.path.join(folder, "checkpoint.json")
    with open(path, "wb") as out:
        out.write(sent.content)
    key_path = None
    if key is not None and key.content:
        key_path = os.path.join(folder, "public-key.pem")
        with open(key_path, "wb") as out:
            out.write(key.content)
    names = {path: sent.name or "checkpoint", key_path or "": (key.name if key else "") or "public key"}
    job_id = jobs.start(req.ctx, req.actor, "verify", policy.AUDIT_READ)
    ctx, actor = req.ctx, req.actor

    def work(progress: Progress) -> Outcome:
        try:
            result = checkpoints.verify(ctx, actor, path, key_path, progress)
        except InvalidInput as exc:  # the files' own problem: named by the names they were uploaded under
            params = {k: names.get(v, v) if isinstance(v, str) else v for k, v in exc.msg.params.items()}
            return Outcome(False, Msg(exc.msg.msgid, params), {})
        return Outcome(result.ok, _verdict(result), _detail(result), result.events)

    req.runner.submit(job_id, work, cleanup=lambda: shutil.rmtree(folder, ignore_errors=True))
    return req.redirect(f"/jobs/{job_id}")


def _desk_error(req: Req, text: str) -> Response:
    from casework.services import jobs

    return req.page(
        "audit.html",
        status=400,
        recent=jobs.recent(req.ctx, req.actor, "verify", 5),
        error=text,
        today=req.ctx.now().date().isoformat(),
        actions=_actions(),
    )


# Words a person reads for the CLI's options in a job's message.
_OPTIONS = {
    "--checkpoint": N_("checkpoint file"),
    "--public-key": N_("public key file"),
    "--format": N_("format"),
}


def job(req: Req) -> Response:
    from casework.services import jobs

    found = jobs.show(req.ctx, req.actor, req.id_param("job_id"))
    text = req.t(found.outcome) if found.outcome is not None else None
    if text:
        for option, words in _OPTIONS.items():
            text = text.replace(option, req.t(words))
        folder = str(found.detail.get("folder", ""))
        if folder:  # an upload's own problem names the file as it was uploaded, not where the server keeps it
            text = text.replace(folder + os.sep, "")
    lines = admin.import_lines(req, found.detail) if found.kind == "import" else []
    return req.page("job.html", job=found, text=text, progress=_progress(req, found), lines=lines)


def _progress(req: Req, found: Any) -> tuple[int, int, int] | None:
    """A running job's (done, total, percent): as this process's runner has it, which is freshest,
    else as its row has it (written by whichever server process runs it); None while unknown."""
    if found.state != "running":
        return None
    mine = req.runner.progress(found.id) if req.runner is not None else None
    done, total = mine if mine is not None and mine[1] else (found.done, found.total)
    if not total:
        return None
    done = max(0, min(done, total))
    return done, total, 100 * done // total


# -- export ------------------------------------------------------------------------------------------------


def _day(req: Req, name: str, label: str) -> date | None:
    text = req.query.get(name, "").strip()
    return parse_date(text[:20], Msg(label)) if text else None


def _id(req: Req, name: str, label: str) -> int | None:
    text = req.query.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput("{field}: '{value}' is not a number", field=Msg(label), value=text[:20])
    return int(text)


def export(req: Req) -> Response:
    from casework.services.audit import chain

    fmt = req.query.get("format", "jsonl")
    if fmt not in EXPORT_TYPES:
        raise InvalidInput("'{value}' is not one of {choices}", value=fmt[:10], choices="jsonl, csv, xlsx")
    since, until = _day(req, "from", N_("from")), _day(req, "to", N_("until"))
    action = req.query.get("action", "").strip() or None
    if action is not None and action not in _actions():
        raise InvalidInput("'{value}' is not one of the choices", value=action[:40])
    filters = chain.ExportFilters(
        since=since.isoformat() if since else None,
        until_before=(until + timedelta(days=1)).isoformat() if until else None,
        case_id=_id(req, "case", N_("case")),
        action=action,
        actor_id=_id(req, "staff", N_("staff member")),
    )
    _, pieces = chain.export_stream(req.ctx, req.actor, fmt, filters)
    name = f"audit-{req.ctx.now().date().isoformat()}.{fmt}"
    response = StreamingResponse(
        pieces,
        media_type=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return req.finish(response)


# -- the access log ------------------------------------------------------------------------------------------


def access_log(req: Req) -> Response:
    from casework.services.audit import access_log as log

    error = None
    try:
        filters = log.AccessFilters(
            since=_day(req, "from", N_("from")),
            until=_day(req, "to", N_("until")),
            staff_id=_id(req, "staff", N_("staff member")),
            child_id=_id(req, "child", N_("child")),
            action=req.query.get("action") if req.query.get("action") in log.ACTIONS else None,
        )
    except InvalidInput as exc:
        error = req.t(exc.msg)
        filters = log.AccessFilters()
    page = max(
        1,
        min(int(req.query["page"]) if req.query.get("page", "").isdigit() and len(req.query["page"]) < 7 else 1, 10**5),
    )
    rows, more = log.entries(req.ctx, req.actor, filters, (page - 1) * log.PAGE, log.PAGE)
    query = {k: v for k, v in req.query.items() if k in {"from", "to", "staff", "child", "action"} and v}
    return req.page(
        "access_log.html",
        status=400 if error else 200,
        rows=rows,
        more=more,
        page=page,
        query=query,
        error=error,
        actions=log.ACTIONS,
    )
