"""The school administrator's pages: staff and roles, the school-year rollover, roster import, keys and privacy."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from starlette.responses import Response

from casework import i18n
from casework.domain import access as policy
from casework.errors import CaseworkError, InvalidInput, NotFound
from casework.text import N_, Msg
from casework.web.core import Req
from casework.web.jobs import Outcome, Progress

UPLOAD_LIMIT = 20 << 20  # a register of 50,000 pupils is a few megabytes as CSV, less as XLSX
LISTED = 500  # rows of a dry run listed on its page; the rest are counted (and all in the error file)
SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}


def _uploads() -> Path:
    root = Path(tempfile.gettempdir()) / "casework-uploads"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


# -- staff and roles -----------------------------------------------------------------------------------


def staff_page(req: Req, status: int = 200, **state: Any) -> Response:
    from casework.services import accounts, leadership

    school = leadership.choices(req.ctx, req.actor, policy.STAFF_MANAGE)
    context: dict[str, Any] = {"issued": None, "done": None, "error": None, "typed": {}, "bad_roles": {}}
    context.update(state)
    done = req.query.get("done")
    if context["done"] is None and done in DONE:
        context["done"] = req.t(DONE[done])
    return req.page(
        "staff.html",
        status=status,
        rows=accounts.list_accounts(req.ctx, req.actor),
        classes=school.classes,
        roles=ROLE_CHOICES,
        **context,
    )


ROLE_CHOICES = (
    "leader",
    "deputy",
    "counsellor",
    "class_teacher",
    "subject_teacher",
    "mentor",
    "caring_parent",
    "auditor",
    "admin",
)
DONE = {
    "added": N_("the staff member was added"),
    "roles": N_("the roles were changed"),
    "account": N_("the account was changed"),
}


def _class_ref(req: Req) -> str | None:
    text = req.field("class")
    return text if text.isdigit() and len(text) < 12 else None


def staff_add(req: Req) -> Response:
    from casework.services import setup

    roles = [r for r in req.form.get("role", []) if r]
    try:
        setup.add_staff(
            req.ctx,
            req.actor,
            req.field("name"),
            roles,
            _class_ref(req),
            None,
            req.field("phone").strip() or None,
        )
    except (InvalidInput, NotFound) as exc:
        return staff_page(req, 400, error=_plain(req, exc), typed=req.form)
    return req.redirect("/staff", done="added")


def staff_roles(req: Req) -> Response:
    from casework.services import staffing

    staff_id = req.id_param("staff_id")
    try:
        staffing.set_roles(
            req.ctx, req.actor, str(staff_id), [r for r in req.form.get("role", []) if r], _class_ref(req)
        )
    except (InvalidInput, NotFound) as exc:
        if isinstance(exc, NotFound) and "staff member" in exc.msg.msgid:
            raise
        return staff_page(req, 400, bad_roles={staff_id: _plain(req, exc)})
    return req.redirect("/staff", done="roles")


_OPTION_WORDS = {
    "--role": N_("roles"),
    "--class": N_("class"),
    "--phone": N_("phone"),
    "--school-year": N_("school year"),
    "--sheet": N_("sheet"),
}


def _plain(req: Req, exc: CaseworkError, folder: str | None = None) -> str:
    """A refusal's text as a person reads it: the command line's option names in words, no server paths."""
    text = req.t(exc.msg)
    for option, words in _OPTION_WORDS.items():
        text = text.replace(option, req.t(words))
    if folder:
        text = text.replace(folder + os.sep, "")
    return text


# -- the school year ------------------------------------------------------------------------------------


def rollover_preview(req: Req) -> Response:
    from casework.services import rollover

    report = rollover.rollover(req.ctx, req.actor, dry_run=True)
    return req.page("rollover.html", report=report)


def rollover_confirm(req: Req) -> Response:
    from casework.services import jobs, rollover

    year_text = req.field("year")
    if not year_text.isdigit() or len(year_text) != 4:
        raise InvalidInput("the form does not say which school year it showed; reload the page")
    year = int(year_text)
    job_id = jobs.start(req.ctx, req.actor, "rollover", policy.YEAR_ROLLOVER)
    ctx, actor = req.ctx, req.actor

    def work(progress: Progress) -> Outcome:
        report = rollover.rollover(ctx, actor, year=year, progress=progress)
        message = Msg(
            "school year {year}: {moved} class(es) moved up, {graduated} graduated, {closed} case(s) closed",
            {
                "year": report.school_year,
                "moved": len(report.moved),
                "graduated": len(report.graduated),
                "closed": len(report.closed_cases),
            },
        )
        return Outcome(True, message, {"back": "/staff"}, len(report.moved) + len(report.graduated))

    req.runner.submit(job_id, work)
    return req.redirect(f"/jobs/{job_id}")


# -- roster import ---------------------------------------------------------------------------------------


def roster(req: Req, status: int = 200, error: str | None = None) -> Response:
    from casework.services import jobs

    return req.page("roster.html", status=status, error=error, recent=jobs.recent(req.ctx, req.actor, "import", 5))


def roster_form(req: Req) -> Response:
    return roster(req)


def _safe_name(name: str) -> str:
    base = re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return base[-100:] or "roster.csv"


def roster_upload(req: Req) -> Response:
    """A register uploaded: checked at once for what makes it no register; the dry run then runs as a job."""
    from casework.formats import spreadsheets
    from casework.services import jobs

    sent = req.files.get("file")
    if sent is None or not sent.content:
        return roster(req, 400, req.t(N_("choose the register file to upload")))
    name = _safe_name(sent.name)
    if Path(name).suffix.lower() not in SUFFIXES:
        return roster(req, 400, req.t(N_("{name} is not a spreadsheet: upload a CSV or XLSX file"), name=name))
    folder = tempfile.mkdtemp(prefix="import-", dir=_uploads())
    path = os.path.join(folder, name)
    with open(path, "wb") as out:
        out.write(sent.content)
    try:
        with spreadsheets.open_table(path) as table:
            next(iter(table.rows), None)  # the encoding, the workbook's XML and its first row: read now
    except CaseworkError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return roster(req, 400, _plain(req, exc, folder))
    job_id = jobs.start(req.ctx, req.actor, "import", policy.ROSTER_IMPORT)
    req.runner.submit(job_id, _import_work(req, path, folder, dry_run=True))
    return req.redirect(f"/jobs/{job_id}")


def _import_work(req: Req, path: str, folder: str, dry_run: bool) -> Any:
    from casework.domain.roster import RosterRejected
    from casework.services import jobs
    from casework.services import roster as service

    ctx, actor, lang = req.ctx, req.actor, req.lang
    detail: dict[str, Any] = {"back": "/roster", "folder": folder, "file": path, "dry_run": dry_run}

    def work(progress: Progress) -> Outcome:
        try:
            report = service.import_children(ctx, actor, path, dry_run=dry_run, progress=progress)
        except RosterRejected as exc:
            errors = os.path.join(folder, "problems.csv")
            service.write_problems(errors, exc.problems, lang, "csv")
            detail["problems_file"] = errors
            detail["lines"] = [
                ["refuse", p.row, p.value, jobs.message_data(service.problem_line(p))] for p in exc.problems[:LISTED]
            ]
            detail["refused"] = len(exc.problems)
            message = Msg(exc.msg.msgid, {**exc.msg.params, "path": Path(path).name})
            return Outcome(False, message, detail)
        lines: list[list[Any]] = [["create", c.row, c.name, None] for c in report.new_rows[:LISTED]]
        lines += [
            ["update", u.row, u.name, {"fields": u.fields}] for u in report.updated[: max(0, LISTED - len(lines))]
        ]
        detail.update(
            lines=lines,
            created=report.created if not dry_run else len(report.new_rows),
            updated=len(report.updated),
            unchanged=report.unchanged,
            rows=report.rows,
            confirm=dry_run,
        )
        if dry_run:
            message = Msg(
                "dry run: {created} to add, {updated} to update, {unchanged} unchanged; nothing was written yet",
                {"created": len(report.new_rows), "updated": len(report.updated), "unchanged": report.unchanged},
            )
        else:
            shutil.rmtree(folder, ignore_errors=True)
            message = Msg(
                "imported: {created} added, {updated} updated, {unchanged} unchanged",
                {"created": report.created, "updated": len(report.updated), "unchanged": report.unchanged},
            )
        return Outcome(True, message, detail, report.rows)

    return work


def roster_confirm(req: Req) -> Response:
    """Apply the register a dry run checked: the same file, all or nothing, as a new job."""
    from casework.services import jobs

    checked = jobs.show(req.ctx, req.actor, req.id_param("job_id"))
    path, folder = str(checked.detail.get("file", "")), str(checked.detail.get("folder", ""))
    usable = (
        checked.kind == "import"
        and checked.state == "done"
        and checked.detail.get("confirm")
        and folder.startswith(str(_uploads()))
        and os.path.isfile(path)
    )
    if not usable:
        return roster(req, 409, req.t(N_("that dry run can no longer be imported; upload the file again")))
    job_id = jobs.start(req.ctx, req.actor, "import", policy.ROSTER_IMPORT)
    req.runner.submit(job_id, _import_work(req, path, folder, dry_run=False))
    return req.redirect(f"/jobs/{job_id}")


def roster_problems(req: Req) -> Response:
    from casework.services import jobs

    found = jobs.show(req.ctx, req.actor, req.id_param("job_id"))
    path = str(found.detail.get("problems_file", ""))
    if found.kind != "import" or not path.startswith(str(_uploads())) or not os.path.isfile(path):
        raise NotFound("no such page")
    content = Path(path).read_bytes()
    return req.file(f"{req.t(N_('problems'))}-{found.id}.csv", content, "text/csv; charset=utf-8")


def import_lines(req: Req, detail: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    """A dry run's or an import's rows as the job page lists them: what, row, name or value, why."""
    from casework.domain.child import field_label
    from casework.services import jobs

    shown = []
    for kind, row, name, extra in detail.get("lines", []):
        if kind == "refuse":
            text = req.t(jobs.message_of(extra))
        elif kind == "update":
            text = "、".join(i18n.render(field_label(f), req.lang) for f in extra.get("fields", []))
        else:
            text = ""
        shown.append((kind, int(row), str(name or ""), text))
    return shown


# -- keys and privacy --------------------------------------------------------------------------------------


def privacy(req: Req) -> Response:
    from casework.services import privacy as reports
    from casework.services import privacy_overview

    today = req.ctx.now().date()
    text = req.query.get("year", "")
    year = int(text) if text.isdigit() and len(text) == 4 else today.year
    error = None
    try:
        report = reports.report(req.ctx, req.actor, year)
    except InvalidInput as exc:
        error = _plain(req, exc).replace("--year", req.t(N_("year")))
        year = today.year
        report = reports.report(req.ctx, req.actor, year)
    overview = privacy_overview.overview(req.ctx, req.actor)
    return req.page(
        "privacy.html", status=400 if error else 200, report=report, overview=overview, year=year, error=error
    )
