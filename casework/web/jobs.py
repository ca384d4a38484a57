"""The server's background jobs: run in worker threads of this process, their progress kept in memory (and
in a folder the server's worker processes share), their state and outcome in the job table
(casework.services.jobs)."""

from __future__ import annotations

import logging
import os
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
SHARE_EVERY = 0.5  # seconds between two writes of a job's progress to the shared folder


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
    """Runs jobs one after another on a few threads; a page reads a running job's progress from here.

    With ``shared`` (a folder of the server's, one per run) the progress is also written there, a
    small file per running job, so that a job page served by another worker process shows it too.
    Not in the job's row: a roster import holds SQLite's write lock until it ends.
    """

    def __init__(self, ctx: Context, workers: int = WORKERS, shared: str | None = None) -> None:
        self.ctx = ctx
        self.workers = workers
        self.shared = shared
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._progress: dict[int, tuple[int, int | None]] = {}

    def recover(self) -> int:
        """Fail every job a previous server process left running (it stopped meanwhile)."""
        from casework.services import jobs

        return jobs.fail_interrupted(self.ctx)

    def progress(self, job_id: int) -> tuple[int, int | None] | None:
        """(done, total) of a running job of this process or, with a shared folder, of another worker;
        None once it has ended or when nothing is known of it."""
        with self._lock:
            mine = self._progress.get(job_id)
        if mine is not None or self.shared is None:
            return mine
        try:
            with open(self._file(job_id), encoding="ascii") as f:
                done, total = f.read().split()
            return int(done), (None if total == "-" else int(total))
        except (OSError, ValueError):  # not started here, ended, or being replaced
            return None

    def _file(self, job_id: int) -> str:
        assert self.shared is not None
        return os.path.join(self.shared, f"job-{job_id}")

    def _share(self, job_id: int, done: int, total: int | None) -> None:
        path = self._file(job_id)
        with open(path + ".new", "w", encoding="ascii") as f:
            f.write(f"{done} {'-' if total is None else total}")
        os.replace(path + ".new", path)  # a reader sees the old figures or the new, never half

    def submit(self, job_id: int, work: Work, cleanup: Callable[[], None] | None = None) -> None:
        """Run ``work`` for the job row ``job_id`` (already started); its end is recorded whatever happens."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="casework-job")
            self._progress[job_id] = (0, None)
            pool = self._pool
        pool.submit(self._run, job_id, work, cleanup)

    def _run(self, job_id: int, work: Work, cleanup: Callable[[], None] | None) -> None:
        from casework.services import jobs

        shared_at = 0.0

        def report(done: int, total: int | None) -> None:
            nonlocal shared_at
            with self._lock:
                self._progress[job_id] = (done, total)
            if self.shared is not None and time.monotonic() - shared_at >= SHARE_EVERY:
                shared_at = time.monotonic()
                try:
                    self._share(job_id, done, total)
                except OSError:  # the figures are a courtesy: the job goes on without them
                    log.warning("job %s: its progress could not be shared", job_id)

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
            if self.shared is not None:
                try:
                    os.unlink(self._file(job_id))
                except OSError:
                    pass
            if cleanup is not None:
                cleanup()

    def wait(self, timeout: float = 60.0) -> None:
        """Let the queued jobs finish (tests, and the server's shutdown)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
