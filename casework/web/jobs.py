"""The server's background jobs: run in worker threads of this process, their state, progress and outcome in
the job table (casework.services.jobs), their progress also kept in memory for this process's pages.

A job's work reports its progress as often as it likes (a batch at a time); a writer thread writes the
latest figures of each running job to its row at most every ``INTERVAL`` seconds, apart from the job's
own thread: on SQLite a job that holds the write lock (an import, a rollover) only delays the writes,
never waits on them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from casework.errors import CaseworkError
from casework.services.context import Context
from casework.text import N_, Msg

log = logging.getLogger("casework.web.jobs")
WORKERS = 2  # at most this many jobs at once; the rest wait their turn
INTERVAL = 0.5  # seconds: a running job's progress is written to its row at most this often


@dataclass(frozen=True)
class Outcome:
    """What a job's work returns: whether it succeeded, the message to show, details for its page."""

    ok: bool
    message: Msg
    detail: dict[str, Any]
    done: int = 0


Progress = Callable[[int, int | None], None]
Work = Callable[[Progress], Outcome]


class Runner:
    """Runs jobs one after another on a few threads; a page reads a running job's progress from here."""

    def __init__(self, ctx: Context, workers: int = WORKERS, interval: float = INTERVAL) -> None:
        self.ctx = ctx
        self.workers = workers
        self.interval = interval
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._progress: dict[int, tuple[int, int | None]] = {}
        self._written: dict[int, tuple[int, int | None]] = {}
        self._writer: threading.Thread | None = None

    def recover(self) -> int:
        """Fail every job a previous server process left running (it stopped meanwhile)."""
        from casework.services import jobs

        return jobs.fail_interrupted(self.ctx)

    def progress(self, job_id: int) -> tuple[int, int | None] | None:
        """(done, total) of a running job of this process; None once it has ended or if it is not ours."""
        with self._lock:
            return self._progress.get(job_id)

    def submit(self, job_id: int, work: Work, cleanup: Callable[[], None] | None = None) -> None:
        """Run ``work`` for the job row ``job_id`` (already started); its end is recorded whatever happens."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="casework-job")
            self._progress[job_id] = self._written[job_id] = (0, None)  # as jobs.start wrote it
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_progress, name="casework-job-progress", daemon=True)
                self._writer.start()
            pool = self._pool
        pool.submit(self._run, job_id, work, cleanup)

    def _write_progress(self) -> None:
        """While jobs run: every ``interval`` seconds, the progress of each that moved on written to its row."""
        from casework.services import jobs

        while True:
            with self._lock:
                if not self._progress:
                    self._writer = None
                    return
                moved = {j: p for j, p in self._progress.items() if self._written.get(j) != p}
            for job_id, (done, total) in moved.items():
                try:
                    jobs.record_progress(self.ctx, job_id, done, total)
                except Exception:  # the page shows older figures; the job goes on
                    log.warning("job %s: its progress could not be recorded", job_id, exc_info=True)
                    continue
                with self._lock:
                    if job_id in self._progress:
                        self._written[job_id] = (done, total)
            time.sleep(self.interval)

    def _run(self, job_id: int, work: Work, cleanup: Callable[[], None] | None) -> None:
        from casework.services import jobs

        def report(done: int, total: int | None) -> None:
            with self._lock:
                self._progress[job_id] = (done, total)

        try:
            try:
                outcome = work(report)
            except CaseworkError as exc:
                outcome = Outcome(False, exc.msg, {})
            except Exception:
                log.exception("job %s failed", job_id)
                outcome = Outcome(False, Msg(N_("the job failed on the server; nothing of it was applied")), {})
            jobs.finish(self.ctx, job_id, outcome.ok, outcome.message, outcome.detail, outcome.done)
        except Exception:
            log.exception("job %s: its end could not be recorded", job_id)
            try:  # at least as failed, so that nobody waits for it
                jobs.finish(self.ctx, job_id, False, Msg(N_("the job failed on the server; nothing of it was applied")))
            except Exception:  # the database is gone: the next start marks it interrupted
                log.exception("job %s: not even its failure could be recorded", job_id)
        finally:
            with self._lock:
                self._progress.pop(job_id, None)
                self._written.pop(job_id, None)
            if cleanup is not None:
                cleanup()

    def wait(self, timeout: float = 60.0) -> None:
        """Let the queued jobs finish (tests, and the server's shutdown)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
