"""A long job's progress: told by the service as it works, written to the job's row at a bounded rate by the
server, and shown on the job page of any server process, rising before the job ends."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from casework.domain import access as policy
from casework.services import jobs, setup
from casework.services.audit import chain
from casework.services.audit import workers as audit_workers
from casework.text import Msg
from tests.helpers import World
from tests.web.conftest import sign_in

MARKS = (0.25, 0.5)  # of the events: where the job waits for the test to look


def _row_at(world: World, staff: str, job_id: int, done: int) -> Any:
    """The job's row once it holds ``done`` (bounded: ten seconds)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = jobs.show(world.ctx, staff, job_id)
        if row.done == done:
            return row
        time.sleep(0.02)
    raise AssertionError(f"the job's row never held {done} done: {row.done} of {row.total}")


def test_a_verification_jobs_progress_rises_in_its_row_and_on_its_page_before_it_ends(
    world: World, monkeypatch
) -> None:
    from casework.web.app import create_app
    from casework.web.jobs import Outcome, Progress, Runner

    for _ in range(6):
        world.fire(world.case(), "assess")
    staff = str(setup.add_staff(world.ctx, world.admin, "审计员甲", ["auditor"]))
    # Another server process on the same database, started before the job: it can only read the row.
    other = sign_in(world, staff, "shenji", create_app(world.ctx))
    monkeypatch.setattr(audit_workers, "BATCH", 2)  # this process's range told two events at a time
    runner = Runner(world.ctx, interval=0.05)
    job_id = jobs.start(world.ctx, staff, "verify", policy.AUDIT_READ)
    reached: list[int] = []
    paused = [threading.Event() for _ in MARKS]
    go_on = [threading.Event() for _ in MARKS]

    def work(progress: Progress) -> Outcome:
        def told(done: int, total: int) -> None:
            progress(done, total)
            for k, mark in enumerate(MARKS):
                if mark * total <= done < total and not paused[k].is_set():
                    reached.append(done)
                    paused[k].set()
                    assert go_on[k].wait(10)

        result = chain.verify(world.ctx, parallel_from=0, parts=2, progress=told)  # one worker beside this one
        verdict = Msg(
            "audit chain intact: {events} events in {schools} school(s)", {"events": result.events, "schools": 1}
        )
        return Outcome(result.ok, verdict, {}, result.events)

    runner.submit(job_id, work)
    seen = []
    try:
        for k in range(len(MARKS)):
            assert paused[k].wait(10), "the job never got there"
            row = _row_at(world, staff, job_id, reached[k])
            assert row.state == "running" and 0 < row.done < row.total
            page = other.get(f"/jobs/{job_id}")
            assert page.status_code == 200 and 'http-equiv="refresh"' in page.text
            percent = re.search(r'class="percent">(\d+)%<', page.text)
            assert percent and int(percent[1]) == 100 * row.done // row.total, page.text
            assert f'value="{row.done}"' in page.text and f'max="{row.total}"' in page.text
            seen.append(int(percent[1]))
            go_on[k].set()
    finally:
        for event in go_on:
            event.set()
        runner.wait()
    assert 0 < seen[0] < seen[1] < 100
    ended = jobs.show(world.ctx, staff, job_id)
    assert ended.state == "done" and ended.done == ended.total and ended.total > 0
    assert 'http-equiv="refresh"' not in other.get(f"/jobs/{job_id}").text
