"""What a page handler is given (the request as plain values) and how it answers: a page, a redirect, a file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment
from starlette.responses import HTMLResponse, RedirectResponse, Response

from casework import i18n
from casework.errors import NotFound
from casework.services.accounts import Identity
from casework.services.context import Context
from casework.text import Msg

SESSION_COOKIE = "casework_session"
CSRF_COOKIE = "casework_csrf"  # the sign-in form's token before there is a session (double submit)


@dataclass(frozen=True)
class Upload:
    """A file sent with a form: the name the browser gave it and its bytes (bounded by the route's limit)."""

    name: str
    content: bytes


@dataclass
class Req:
    """One request as a page handler sees it; handlers run in a worker thread and never await."""

    ctx: Context
    env: Environment
    who: Identity | None
    lang: str
    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    form: Mapping[str, list[str]]
    request_id: str
    csrf: str
    client: str
    secure: bool
    cookies_in: Mapping[str, str]
    can: Callable[[str], bool]  # whether the signed-in person's roles reach a route, by its name
    cookies: dict[str, str] = field(default_factory=dict)  # set on the response
    files: Mapping[str, Upload] = field(default_factory=dict)  # an upload route's files, by field name
    runner: Any = None  # the server's background jobs (casework.web.jobs.Runner)

    @property
    def actor(self) -> str:
        """The signed-in staff member as the services' ``actor`` argument (the id, never a name)."""
        assert self.who is not None
        return str(self.who.staff_id)

    def t(self, msgid: str | Msg, **params: Any) -> str:
        msg = msgid if isinstance(msgid, Msg) else Msg(msgid, params)
        return i18n.render(msg, self.lang)

    def id_param(self, name: str) -> int:
        """A numeric id from the path; anything else is the same 404 as an unknown id."""
        text = self.params.get(name, "")
        if not text.isdigit() or len(text) > 18:
            raise NotFound("no such page")
        return int(text)

    def field(self, name: str) -> str:
        values = self.form.get(name)
        return values[0] if values else ""

    def page(self, template: str, status: int = 200, **context: Any) -> Response:
        from casework.web.labels import Labels

        html = self.env.get_template(template).render(req=self, t=self.t, labels=Labels(self.lang), **context)
        return self.finish(HTMLResponse(html, status_code=status))

    def redirect(self, path: str, **query: Any) -> Response:
        target = path + ("?" + urlencode(query) if query else "")
        return self.finish(RedirectResponse(target, status_code=303))

    def file(self, name: str, content: bytes, media_type: str) -> Response:
        disposition = f"attachment; filename=\"document\"; filename*=UTF-8''{quote(name)}"
        return self.finish(Response(content, media_type=media_type, headers={"Content-Disposition": disposition}))

    def finish(self, response: Response) -> Response:
        for name, value in self.cookies.items():
            if value:
                response.set_cookie(name, value, httponly=True, samesite="lax", secure=self.secure, path="/")
            else:
                response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=self.secure)
        return response
