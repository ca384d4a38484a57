"""`casework serve --workers N`: several processes on one database, and what they share."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import World, copy_world
from tests.web.conftest import NEW_PASSWORD

CASEWORK = str(Path(sys.executable).parent / "casework")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _workers(parent: int) -> list[int]:
    """The serve command's worker processes (uvicorn spawns them; the resource tracker is not one)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and "multiprocessing" in cmdline and "resource_tracker" not in cmdline:
            found.append(int(entry))
    return sorted(found)


@contextmanager
def only(server: subprocess.Popen[bytes], worker: int, others: list[int]) -> Iterator[None]:
    """Every new connection is accepted by ``worker``: the others are stopped meanwhile (briefly:
    uvicorn replaces a worker that does not answer its health check within 5 s)."""
    for pid in others:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in others:
            os.kill(pid, signal.SIGCONT)
    assert server.poll() is None


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:300]
    return found[1]


def _client(port: int, cookies: httpx.Cookies | None = None) -> httpx.Client:
    # no kept connection: each request is a new one, accepted by whichever worker is running
    return httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        follow_redirects=False,
        timeout=20,
        cookies=cookies,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker processes in /proc")
def test_two_workers_serve_one_database_and_a_session_made_in_one_is_good_in_the_other(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    from casework.services import accounts

    world: World = copy_world("sqlite", tmp_path_factory)
    case_id = world.case()
    issued = accounts.issue_password(world.ctx, world.admin, world.counsellor, "xinli")
    world.ctx.db.dispose()
    settings = tmp_path / "casework.toml"
    settings.write_text("[web]\npassword_time_cost = 1\npassword_memory_kib = 8192\n", encoding="utf-8")
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [CASEWORK, "--db", world.url, "--settings", str(settings), "serve", "--port", str(port), "--workers", "2"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        workers: list[int] = []
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            workers = _workers(server.pid)
            if len(workers) == 2:
                try:
                    ready = [_client(port).get("/ping").status_code for _ in range(4)]
                except httpx.TransportError:
                    ready = []
                if ready == [200] * 4:
                    break
            time.sleep(0.2)
        first, second = workers

        # signed in and the one-time password changed on the first worker
        with only(server, first, [second]):
            browser = _client(port)
            page = browser.get("/sign-in")
            token = _csrf(page.text)
            sent = {"login": "xinli", "password": issued.password, "next": "/desk", "csrf": token}
            assert browser.post("/sign-in", data=sent).headers["location"] == "/password"
            token = _csrf(browser.get("/password").text)
            sent = {"current": issued.password, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf": token}
            assert browser.post("/password", data=sent).status_code == 303
        cookies = browser.cookies

        # the same session on the second worker: pages, and a form whose token the first issued
        with only(server, second, [first]):
            browser = _client(port, cookies)
            desk = browser.get("/desk")
            assert desk.status_code == 200, desk.text[:300]
            found = browser.get("/children", params={"q": "小明"})
            assert found.status_code == 200 and "王小明" in found.text
            case = browser.get(f"/cases/{case_id}")
            assert case.status_code == 200 and "王小明" in case.text
            gone = browser.post("/sign-out", data={"csrf": _csrf(desk.text)})
            assert gone.status_code == 303

        # signed out on the second: the first no longer knows the session either
        with only(server, first, [second]):
            assert _client(port, cookies).get("/desk").headers["location"].startswith("/sign-in")
        assert _workers(server.pid) == workers  # neither was replaced meanwhile
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()
    assert "Started parent process" in (tmp_path / "serve.log").read_text()


def test_a_jobs_progress_is_seen_by_the_other_workers(world: World, tmp_path: Path) -> None:
    import threading

    from casework.services import jobs
    from casework.text import Msg
    from casework.web.jobs import Outcome, Runner

    shared = str(tmp_path)
    here, there = Runner(world.ctx, shared=shared), Runner(world.ctx, shared=shared)
    job_id = jobs.start(world.ctx, world.admin, "import", "roster.import")
    halfway, finish = threading.Event(), threading.Event()

    def work(progress: object) -> Outcome:
        assert callable(progress)
        progress(40, 100)
        halfway.set()
        finish.wait(20)
        return Outcome(True, Msg("done"), {}, 100)

    here.submit(job_id, work)
    assert halfway.wait(20)
    assert here.progress(job_id) == (40, 100)
    assert there.progress(job_id) == (40, 100)  # another process's runner, reading the shared folder
    assert Runner(world.ctx).progress(job_id) is None  # one worker alone shares nothing
    finish.set()
    here.wait()
    assert there.progress(job_id) is None and os.listdir(shared) == []
    assert jobs.show(world.ctx, world.admin, job_id).state == jobs.DONE
