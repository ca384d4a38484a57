"""Web fixtures: the application on a test world, and browsers signed in as each role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import World

NEW_PASSWORD = "绿水青山就是金山银山2026"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found[1]


@dataclass
class Browser:
    """A TestClient with what a person would type: the CSRF token of the last page shown."""

    client: Any
    csrf: str = ""

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get(path, **kwargs)
        found = re.search(r'name="csrf" value="([^"]+)"', response.text)
        if found:
            self.csrf = found[1]
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True) -> Any:
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf", self.csrf)
        response = self.client.post(path, data=body)
        found = re.search(r'name="csrf" value="([^"]+)"', response.text)
        if found:
            self.csrf = found[1]
        return response


def app_of(world: World) -> Any:
    from casework.web.app import create_app

    return create_app(world.ctx)


def new_browser(world: World, app: Any | None = None) -> Browser:
    from starlette.testclient import TestClient

    return Browser(TestClient(app or app_of(world), follow_redirects=False))


def sign_in(world: World, staff: str, login: str, app: Any | None = None, change: bool = True) -> Browser:
    """A browser signed in as ``staff`` through the real pages: one-time password, then a new one."""
    from casework.services import accounts

    issued = accounts.issue_password(world.ctx, world.admin, staff, login)
    browser = new_browser(world, app)
    browser.get("/sign-in")
    response = browser.post("/sign-in", {"login": login, "password": issued.password, "next": "/desk"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/password"
    if change:
        browser.get("/password")
        response = browser.post("/password", {"current": issued.password, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
        assert response.status_code == 303, response.text
    return browser


@pytest.fixture
def app(world: World) -> Iterator[Any]:
    yield app_of(world)
