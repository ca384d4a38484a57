"""Page handlers: read the request, call one service as the signed-in person, render a page or redirect."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from starlette.responses import PlainTextResponse, Response

from casework import i18n, states
from casework.domain.validation import parse_date
from casework.errors import CaseworkError, Conflict, InvalidInput, NotFound, PermissionDenied, TransitionRefused
from casework.text import N_, Msg
from casework.web import forms
from casework.web.core import CSRF_COOKIE, SESSION_COOKIE, Req

if TYPE_CHECKING:
    from casework.services.cases import CaseSummary

# Codes a redirect may carry in ?done= to say what just happened; nothing typed travels in a URL.
DONE: dict[str, str] = {
    "moved": N_("the case was moved"),
    "recorded": N_("recorded"),
    "saved": N_("saved"),
    "rendered": N_("the documents were rendered"),
    "password": N_("your password was changed"),
    "account": N_("the account was changed"),
}
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def _done(req: Req) -> str | None:
    code = req.query.get("done")
    return req.t(DONE[code]) if code in DONE else None


def _local(path: str | None, default: str) -> str:
    """A path on this site to go back to; anything else (another host, a scheme) is ignored."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default


# -- signing in and out -----------------------------------------------------------------------------


def ping(req: Req) -> Response:
    return PlainTextResponse("ok")


def home(req: Req) -> Response:
    return req.redirect("/desk" if req.who else "/sign-in")


def sign_in_form(req: Req) -> Response:
    if req.who is not None:
        return req.redirect("/desk")
    return req.page("sign_in.html", error=None, login="", next=_local(req.query.get("next"), "/desk"))


def sign_in(req: Req) -> Response:
    from casework.services import accounts

    login, target = req.field("login"), _local(req.field("next"), "/desk")
    try:
        signed = accounts.sign_in(
            req.ctx, login, req.field("password"), req.client, req.lang, replacing=req.cookies_in.get(SESSION_COOKIE)
        )
    except accounts.SignInFailed as exc:
        return req.page("sign_in.html", status=401, error=req.t(exc.msg), login=login, next=target)
    req.cookies[SESSION_COOKIE] = signed.token
    req.cookies[CSRF_COOKIE] = ""
    return req.redirect("/password" if signed.must_change else target)


def sign_out(req: Req) -> Response:
    from casework.services import accounts

    assert req.who is not None
    accounts.sign_out(req.ctx, req.who)
    req.cookies[SESSION_COOKIE] = ""
    return req.redirect("/sign-in")


def password_form(req: Req) -> Response:
    return req.page("password.html", error=None)


def password(req: Req) -> Response:
    from casework.services import accounts

    assert req.who is not None
    try:
        signed = accounts.change_password(req.ctx, req.who, req.field("current"), req.field("new"), req.field("repeat"))
    except InvalidInput as exc:
        return req.page("password.html", status=400, error=req.t(exc.msg))
    req.cookies[SESSION_COOKIE] = signed.token
    return req.redirect("/desk", done="password")


def set_lang(req: Req) -> Response:
    from casework.services import accounts

    try:
        lang = i18n.normalise(req.field("lang"))
    except ValueError:
        lang = i18n.DEFAULT
    if req.who is not None:
        accounts.set_lang(req.ctx, req.who, lang)
    req.cookies["casework_lang"] = lang
    return req.redirect(_local(req.field("back"), "/"))


# -- the desk, the class sheet, search ---------------------------------------------------------------


def desk(req: Req) -> Response:
    from casework.services import desk as desk_service

    found = desk_service.desk(req.ctx, req.actor)
    return req.page("desk.html", desk=found, done=_done(req))


def class_sheet(req: Req) -> Response:
    from casework.services import class_sheet as sheets

    chosen = req.query.get("class")
    sheet = sheets.sheet(req.ctx, req.actor, int(chosen) if chosen and chosen.isdigit() else None)
    return req.page("class_sheet.html", sheet=sheet, typed={}, problems={}, error=None, done=_done(req))


def _sheet_entries(req: Req, today: date) -> tuple[list[Any], dict[int, list[str]]]:
    """The ticked items of every row, and per row what cannot even be read (a date that is no date)."""
    from casework.services.class_sheet import ITEMS, SheetEntry

    entries: list[Any] = []
    problems: dict[int, list[str]] = {}
    for text in req.form.get("case", []):
        if not text.isdigit():
            raise NotFound("no such page")
        case_id = int(text)
        for kind in ITEMS:
            if req.field(f"{kind}-{case_id}") != "1":
                continue
            typed = req.field(f"{kind}-date-{case_id}").strip()
            day = None
            if typed:
                try:
                    day = parse_date(typed, Msg(N_("date")))
                except InvalidInput as exc:
                    problems.setdefault(case_id, []).append(req.t(exc.msg))
                    continue
            entries.append(SheetEntry(case_id, kind, day, req.field(f"note-{case_id}")))
    return entries, problems


def class_sheet_save(req: Req) -> Response:
    from casework.services import class_sheet as sheets

    chosen = req.field("class")
    entries, problems = _sheet_entries(req, req.ctx.now().date())
    error = None
    if not problems:
        try:
            sheets.save(req.ctx, req.actor, entries)
            return req.redirect("/class-sheet", **({"class": chosen} if chosen.isdigit() else {}), done="saved")
        except sheets.SheetRefused as exc:
            problems = {case: [req.t(m) for m in msgs] for case, msgs in exc.rows.items()}
        except InvalidInput as exc:
            error = req.t(exc.msg)
    sheet = sheets.sheet(req.ctx, req.actor, int(chosen) if chosen.isdigit() else None)
    return req.page(
        "class_sheet.html",
        status=400,
        sheet=sheet,
        typed=req.form,
        problems=problems,
        error=error or req.t("some rows are wrong; nothing was saved"),
        done=None,
    )


def search(req: Req) -> Response:
    from casework.services import desk as desk_service

    text = req.query.get("q", "")[:100]
    hits = desk_service.find_children(req.ctx, req.actor, text) if text.strip() else []
    return req.page("search.html", q=text, hits=hits)


# -- the child and the case ----------------------------------------------------------------------------


def child(req: Req) -> Response:
    from casework.domain.child import CHILD_FIELDS
    from casework.services import children

    doc = children.show(req.ctx, req.actor, req.id_param("child_id"))
    return req.page("child.html", child=doc, fields=[f.name for f in CHILD_FIELDS], done=_done(req))


def _reason_required(case: CaseSummary, event: str) -> bool:
    found = states.definition(case.definition_version).transition(event)
    return found is not None and found.reason_required


def _verdicts(req: Req, case: CaseSummary) -> list[dict[str, Any]]:
    from casework.services import cases

    moves = []
    for event, why in zip(case.events, cases.why_each(req.ctx, case.id, case.events, req.actor), strict=True):
        moves.append(
            {
                "event": event,
                "allowed": why.allowed,
                "to_state": why.to_state,
                "reason_required": _reason_required(case, event),
                "verdicts": [(v.passed, i18n.render(v.message, req.lang)) for v in why.verdicts],
            }
        )
    return moves


def _case_page(req: Req, case_id: int, status: int = 200, **extra: Any) -> Response:
    from casework.services import cases

    case = cases.show(req.ctx, req.actor, case_id)
    history = cases.history(req.ctx, req.actor, case_id)
    moves = _verdicts(req, case) if req.can("case_move") else []
    context: dict[str, Any] = {"refused": None, "conflict": None, "typed_reason": {}, "done": _done(req)}
    context.update(extra)
    return req.page(
        "case.html", status=status, case=case, history=history, moves=moves, forms=forms.CASE_FORMS, **context
    )


def case(req: Req) -> Response:
    return _case_page(req, req.id_param("case_id"))


def case_move(req: Req) -> Response:
    from casework.services import cases

    case_id = req.id_param("case_id")
    event, reason, version = req.field("event"), req.field("reason"), req.field("version")
    typed = {event: reason}
    if not version.isdigit():
        raise InvalidInput("the form does not say which version of the case it showed; reload the page")
    try:
        cases.advance(req.ctx, req.actor, case_id, event, reason or None, int(version))
    except Conflict as exc:
        return _case_page(req, case_id, 409, conflict=req.t(exc.msg), typed_reason=typed)
    except TransitionRefused as exc:
        refused = {
            "event": event,
            "message": req.t(exc.msg),
            "verdicts": [i18n.render(v.message, req.lang) for v in exc.verdicts],
        }
        return _case_page(req, case_id, 422, refused=refused, typed_reason=typed)
    return req.redirect(f"/cases/{case_id}", done="moved")


def _form_of(req: Req, table: dict[str, forms.RecordForm]) -> forms.RecordForm:
    form = table.get(req.params.get("kind", ""))
    if form is None:
        raise NotFound("no such page")
    return form


def _choices(req: Req, form: forms.RecordForm, target_id: int) -> dict[str, list[tuple[str, str]]]:
    """The staff and plan items a form's pickers offer."""
    from casework.services import desk as desk_service
    from casework.services import setup
    from casework.web.labels import Labels

    found: dict[str, list[tuple[str, str]]] = {}
    kinds = {f.kind for f in form.fields}
    if "staff" in kinds:
        labels = Labels(req.lang)
        found["staff"] = [
            (str(s.id), f"{s.name}（{'、'.join(labels.of('role', r) for r in s.roles)}）")
            for s in setup.list_staff(req.ctx)
            if s.roles
        ]
    if "item" in kinds:
        labels = Labels(req.lang)
        found["item"] = [
            (str(i.item_id), f"#{i.item_id} {labels.of('category', i.category)} · {labels.of('plan_kind', i.kind)}")
            for i in desk_service.plan_items(req.ctx, req.actor, target_id)
        ]
    return found


def _record_page(req: Req, form: forms.RecordForm, target_id: int, status: int = 200, **state: Any) -> Response:
    from casework.services import desk as desk_service

    # The case or child must be within reach before a form for it is shown (the same 404 otherwise).
    if form.target == "case":
        reached = desk_service.reach(req.ctx, req.actor, case_id=target_id)
    else:
        reached = desk_service.reach(req.ctx, req.actor, child_id=target_id)
    context: dict[str, Any] = {"typed": {}, "errors": {}, "error": None, "reached": reached}
    context.update(state)
    return req.page(
        "record.html",
        status=status,
        form=form,
        target_id=target_id,
        choices=_choices(req, form, target_id),
        back=_local(
            req.query.get("back") or req.field("back"), f"/{form.target}s/{target_id}".replace("childs", "children")
        ),
        **context,
    )


def _record(req: Req, table: dict[str, forms.RecordForm], param: str) -> Response:
    form = _form_of(req, table)
    target_id = req.id_param(param)
    if req.method == "GET":
        return _record_page(req, form, target_id)
    values, errors = forms.parse(form, req.form)
    if errors:
        shown = {name: req.t(msg) if isinstance(msg, Msg) else msg for name, msg in errors.items()}
        return _record_page(req, form, target_id, 400, typed=req.form, errors=shown)
    try:
        form.submit(req, target_id, values)
    except PermissionDenied as exc:
        if exc.denial is not None and exc.denial.what.split(":")[0] in {"case", "child"}:
            raise  # outside the person's scope: the same 404 as an unknown id
        return _record_page(req, form, target_id, 403, typed=req.form, error=req.t(exc.msg))
    except (InvalidInput, Conflict, TransitionRefused) as exc:
        name, text = forms.place(form, exc, req.lang)
        if isinstance(exc, TransitionRefused):
            text = "；".join([text, *(i18n.render(v.message, req.lang) for v in exc.verdicts)])
        if name is not None and not isinstance(exc, NotFound):
            return _record_page(req, form, target_id, 400, typed=req.form, errors={name: text})
        return _record_page(req, form, target_id, 400, typed=req.form, error=text)
    back = _local(req.field("back"), "")
    if back:
        return req.redirect(back, done="recorded")
    return req.redirect(f"/cases/{target_id}" if form.target == "case" else f"/children/{target_id}", done="recorded")


def case_record(req: Req) -> Response:
    return _record(req, forms.CASE_FORMS, "case_id")


def child_record(req: Req) -> Response:
    return _record(req, forms.CHILD_FORMS, "child_id")


# -- documents ---------------------------------------------------------------------------------------------


def documents(req: Req) -> Response:
    from casework.services import documents as docs

    case_id = req.id_param("case_id")
    rows = docs.list_documents(req.ctx, req.actor, case_id)
    return req.page("documents.html", case_id=case_id, rows=rows, error=None, done=_done(req))


def documents_render(req: Req) -> Response:
    from casework.services import documents as docs

    case_id = req.id_param("case_id")
    fmt = req.field("format") if req.field("format") in MEDIA_TYPES else "html"
    lang = req.field("lang") if req.field("lang") in i18n.LANGUAGES else req.lang
    stage = req.field("stage") if req.field("stage") in states.STATES else None
    try:
        docs.render_case(req.ctx, req.actor, case_id, stage=stage, fmt=fmt, lang=lang)
    except CaseworkError as exc:
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        rows = docs.list_documents(req.ctx, req.actor, case_id)
        return req.page("documents.html", status=400, case_id=case_id, rows=rows, error=req.t(exc.msg), done=None)
    return req.redirect(f"/cases/{case_id}/documents", done="rendered")


def document(req: Req) -> Response:
    from casework.services import documents as docs

    name, content = docs.document_bytes(req.ctx, req.actor, req.id_param("document_id"))
    ext = name.rsplit(".", 1)[-1]
    return req.file(name, content, MEDIA_TYPES.get(ext, "application/octet-stream"))


# -- an administrator's sign-ins ----------------------------------------------------------------------------


def staff_accounts(req: Req) -> Response:
    from casework.web import admin

    return admin.staff_page(req)


def staff_password(req: Req) -> Response:
    from casework.services import accounts
    from casework.web import admin

    issued = accounts.issue_password(req.ctx, req.actor, str(req.id_param("staff_id")))
    return admin.staff_page(req, issued=issued)


def staff_disable(req: Req) -> Response:
    from casework.services import accounts

    accounts.set_disabled(req.ctx, req.actor, str(req.id_param("staff_id")), req.field("disabled") == "1")
    return req.redirect("/staff", done="account")
