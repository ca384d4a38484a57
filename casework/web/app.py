"""The application: the route table made into Starlette routes, behind sign-in, CSRF, headers and error pages."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.routing import Route as StarletteRoute
from starlette.staticfiles import StaticFiles

from casework import i18n
from casework.errors import CaseworkError, Conflict, NotFound, PermissionDenied
from casework.services.context import Context
from casework.text import N_, Msg
from casework.web.core import CSRF_COOKIE, SESSION_COOKIE, Req, Upload
from casework.web.jobs import Runner
from casework.web.routes import ROUTES, WHILE_ONE_TIME, Route, url

MAX_BODY = 1024 * 1024  # bytes of a request body; more is refused before it is read
STATIC = Path(__file__).parent / "static"


def pages() -> Path:
    """The pages' templates: the repository's templates/web, shipped inside the package as casework.templates."""
    return Path(str(resources.files("casework.templates"))) / "web"


CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
LANG_COOKIE = "casework_lang"
log = logging.getLogger("casework.web")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """A request body went past MAX_BODY while it was read."""


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(pages()),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["url"] = url
    return env


def bare_page(status: int, msgid: str, lang: str = i18n.DEFAULT, **params: Any) -> HTMLResponse:
    """A page that needs no template and no database: body too large, server error, unknown path."""
    text = escape(i18n.render(Msg(msgid, params) if params else msgid, lang))
    title = escape(i18n.render("casework", lang))
    html = (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh_CN" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
        f'<link rel="stylesheet" href="/static/casework.css"></head><body><main class="page">'
        f'<p class="notice error">{text}</p><p><a href="/">{escape(i18n.render("back to my desk", lang))}</a></p>'
        f"</main></body></html>"
    )
    return HTMLResponse(html, status_code=status)


def client_of(scope: Scope, trusted: tuple[str, ...]) -> tuple[str, bool]:
    """The client's address and whether the request came over HTTPS.

    A proxy's X-Forwarded-For and X-Forwarded-Proto are believed only from an address listed in
    [web] trusted_proxies; anyone else could write them.
    """
    peer = (scope.get("client") or ("unknown", 0))[0]
    secure = scope.get("scheme") == "https"
    if peer in trusted:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        forwarded = [p.strip() for p in headers.get("x-forwarded-for", "").split(",") if p.strip()]
        if forwarded:
            try:
                peer = str(ipaddress.ip_address(forwarded[-1]))
            except ValueError:
                pass
        secure = headers.get("x-forwarded-proto", "").strip().lower() == "https" or secure
    return peer, secure


def _scope_denial(exc: PermissionDenied) -> bool:
    """A refusal because a case or child is outside the person's scope: shown exactly as an unknown id."""
    what = getattr(exc.denial, "what", "")
    kind, _, rest = str(what).partition(":")
    return kind in {"case", "child"} and rest.isdigit()


def _serve(
    route: Route,
    ctx: Context,
    env: Environment,
    request: Request,
    form: dict[str, list[str]],
    files: dict[str, Upload],
    runner: Runner,
) -> Response:
    from casework.services import access, accounts, denials

    request_id = request.scope["state"]["request_id"]
    client, secure = client_of(request.scope, ctx.settings.web.trusted_proxies)
    token = request.cookies.get(SESSION_COOKIE)
    who = accounts.identify(ctx, token) if token else None
    try:
        lang = i18n.normalise(request.cookies.get(LANG_COOKIE))
    except ValueError:
        lang = i18n.DEFAULT
    csrf = who.csrf if who else request.cookies.get(CSRF_COOKIE, "")[:100]
    req = Req(
        ctx=ctx,
        env=env,
        who=who,
        lang=who.lang if who else lang,
        method=route.method,
        path=request.url.path,
        params={k: str(v) for k, v in request.path_params.items()},
        query={k: v for k, v in request.query_params.items()},
        form=form,
        request_id=request_id,
        csrf=csrf,
        client=client,
        secure=secure,
        cookies_in=dict(request.cookies),
        can=lambda name: _open(name, who),
        files=files,
        runner=runner,
    )
    if token and who is None:
        req.cookies[SESSION_COOKIE] = ""  # ended, idle or too old: forget it
    if who is None and not csrf:
        req.csrf = req.cookies[CSRF_COOKIE] = secrets.token_urlsafe(32)
    try:
        if not route.open_to(who.roles if who else None):
            if who is None:
                return req.redirect("/sign-in", next=req.path) if route.method == "GET" else req.redirect("/sign-in")
            denials.page_refused(ctx.now, ctx.db, who.staff_id, who.roles, route.name)
            return _error(req, 403, req.t(N_("this page is not open to your role")))
        if who is not None and who.must_change and route.name not in WHILE_ONE_TIME:
            return req.redirect("/password")
        if route.method == "POST":
            sent = (form.get("csrf") or [""])[0]
            if not (req.csrf and hmac.compare_digest(sent.encode(), req.csrf.encode())):
                return _error(
                    req, 403, req.t(N_("the form has expired or did not come from this site; nothing was saved"))
                )
        with access.reads_held(ctx):  # the page's reads go to the access log in one transaction
            return route.handler(req)
    except NotFound:
        return _error(req, 404, req.t(N_("there is no such page, or it is not yours to see")))
    except PermissionDenied as exc:  # the service layer has logged it
        if _scope_denial(exc):
            return _error(req, 404, req.t(N_("there is no such page, or it is not yours to see")))
        return _error(req, 403, req.t(exc.msg))
    except CaseworkError as exc:
        return _error(req, 409 if isinstance(exc, Conflict) else 400, req.t(exc.msg))
    except Exception:
        log.exception("request %s (%s %s) failed", request_id, route.method, route.name)
        return _error(req, 500, req.t(N_("something went wrong on the server; request {id}"), id=request_id))


def _open(name: str, who: Any) -> bool:
    from casework.web.routes import BY_NAME

    return BY_NAME[name].open_to(who.roles if who else None)


def _error(req: Req, status: int, text: str) -> Response:
    """An error page with ``text``, already in the reader's language."""
    try:
        return req.page("error.html", status=status, message=text)
    except Exception:  # the error page itself failed: the page that needs nothing
        log.exception("request %s: the error page failed", req.request_id)
        return req.finish(HTMLResponse(escape(text), status_code=status))


def _endpoint(route: Route, ctx: Context, env: Environment, runner: Runner) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        form: dict[str, list[str]] = {}
        files: dict[str, Upload] = {}
        try:
            if route.method == "POST":
                kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind in {"application/x-www-form-urlencoded", "multipart/form-data"}:
                    async with request.form(max_files=4 if route.upload else 0, max_fields=5000) as data:
                        form = {k: [v for v in data.getlist(k) if isinstance(v, str)] for k in data}
                        for key in data:
                            sent = data.get(key)
                            if not isinstance(sent, str) and sent is not None:
                                files[key] = Upload(sent.filename or "", await sent.read())
        except BodyTooLarge:
            return too_large(route.upload or MAX_BODY)
        except Exception:  # a malformed body: the same as a form that says nothing
            return bare_page(400, N_("the form could not be read; nothing was saved"))
        return await run_in_threadpool(_serve, route, ctx, env, request, form, files, runner)

    return endpoint


def too_large(limit: int) -> HTMLResponse:
    """The page for a body over ``limit`` bytes: the default 1 MB, or an upload's own limit."""
    if limit == MAX_BODY:
        return bare_page(413, N_("the request is larger than 1 MB and was refused"))
    return bare_page(413, N_("the file is larger than {mb} MB and was refused; nothing was written"), mb=limit >> 20)


class Guard:
    """Every response: a request id, the security headers, a body limit, and no traceback ever."""

    def __init__(self, app: ASGIApp, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.limits = limits or {}  # path -> the body limit of an upload route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(6)
        scope.setdefault("state", {})["request_id"] = request_id
        limit = self.limits.get(str(scope.get("path", "")), MAX_BODY)
        length = next((v for k, v in scope.get("headers", []) if k.lower() == b"content-length"), b"0")
        if not length.isdigit() or int(length) > limit:
            await too_large(limit)(scope, receive, self._send(send, scope))
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        wrapped = self._send(send, scope)

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await wrapped(message)

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge:
            if not started:
                await too_large(limit)(scope, receive, sending)
        except Exception:
            log.exception("request %s (%s) failed", request_id, scope.get("path"))
            if not started:
                page = bare_page(500, N_("something went wrong on the server; request {id}"), id=request_id)
                await page(scope, receive, sending)

    @staticmethod
    def _send(send: Send, scope: Scope) -> Send:
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += HEADERS
                headers.append((b"x-request-id", scope["state"]["request_id"].encode()))
                if not static:  # pages hold personal data: never kept by a browser or proxy cache
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        return with_headers


def create_app(ctx: Context, recover: bool = True, shared: str | None = None) -> ASGIApp:
    """The web application on ``ctx`` (its database, settings and clock).

    With ``recover`` the jobs a previous server left running are failed, with the reason; a worker
    of several does not (another worker may be running them: the serve command recovered once).
    ``shared`` is the folder where the workers of one server show each other their jobs' progress.
    """
    env = environment()
    runner = Runner(ctx, shared=shared)
    if recover:
        runner.recover()
    routes: list[Any] = [
        StarletteRoute(r.path, _endpoint(r, ctx, env, runner), methods=[r.method], name=r.name) for r in ROUTES
    ]
    routes.append(Mount("/static", app=StaticFiles(directory=STATIC), name="static"))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if status == 405:
            return bare_page(405, N_("this page does not take that kind of request"))
        return bare_page(404, N_("there is no such page, or it is not yours to see"))

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    return Guard(app, {r.path: r.upload for r in ROUTES if r.upload})
