"""A real server on 127.0.0.1 and Debian's Chromium driven by Playwright; skipped with the reason where
Chromium is missing, except under CI=true, where that fails."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import World, copy_world

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
SHOTS = Path(os.environ.get("CASEWORK_SCREENSHOTS", "")) if os.environ.get("CASEWORK_SCREENSHOTS") else None


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed under CI: .ci/system-packages installs it")
        pytest.skip("chromium is not installed (apt-get install chromium, or bash .ci/system-packages)")
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        launched.close()


class Server:
    def __init__(self, world: World) -> None:
        import uvicorn

        from casework.web.app import create_app

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(create_app(world.ctx), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Server]]:
    chromium_path()
    world = copy_world("sqlite", tmp_path_factory)
    server = Server(world)
    yield world, server
    server.stop()
    world.ctx.db.dispose()


def shot(page: Any, name: str) -> None:
    """Keep a screenshot when CASEWORK_SCREENSHOTS names a folder (to look at the pages)."""
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
