"""Key ranges of the audit chain worked on side by side: one worker process per range after the first.

Verifying and exporting a long chain cost 7–20 µs of CPU an event in one process. Both cut the
chain into key ranges over (school, seq) (``audit_rows.plan``); the calling process works on the
first range while a worker process per further range, on its own connection, works on its own.
A worker is a fresh interpreter (nothing of the caller's main module or threads carried over, and
this very casework package found first); its job goes in as JSON on stdin, not on the command
line where anyone's process list would show a database URL with its password, and its result
comes back as JSON on stdout. Its errors go to a temporary file, so a chatty worker never blocks
on a full pipe. A worker asked for its progress writes the number of events it has read so far into
a small file of its own after every batch, which the calling process reads when it reports progress
(``Tally``).

Verification in ranges: the first range of each school starts at sequence 1 after the genesis
hash; a range that begins inside a school's chain starts from the stored hash of the event before
it, which the range before recomputed and compared. Joined in order (``audit.join_stretches``),
the ranges check every link one pass would, and report the same first problem.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import subprocess
import sys
import tempfile
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from casework import audit
from casework.formats.gcpause import without_cyclic_gc
from casework.persistence import audit_rows
from casework.persistence.audit_rows import Filters, Segment

if TYPE_CHECKING:  # a worker starts without SQLAlchemy (see main)
    from casework.persistence.db import Database

# One range per core.
PARTS = max(1, min(2, os.cpu_count() or 1))
# Below this many events one process is quicker than starting another.
PARALLEL_FROM = 50_000
# Events the calling process takes beyond each worker's range (audit_rows.plan): about what it reads
# and works on in the 0.2 s a worker takes to start (measured on 1,000,000 events: a worker
# finished a half 0.23 s after this process, the same half alone 0.23 s slower than here).
HEAD_START = 20_000
# Rows read at a time in a range: each process holds a batch or two (on PostgreSQL three: the one
# being worked on, the one its reader thread fetched, the one waiting); 1,000 keep two processes
# under 150 MB.
BATCH = 1_000

# What a worker can be asked to do: "module:function(read: Reader, job) -> JSON-able result".
TASKS = {
    "export": "casework.services.audit.export:export_range",
    "verify": "casework.services.audit.workers:verify_range",
}
# The folder that holds the casework package (casework/services/audit/workers.py is three below it).
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])

# How often a process waiting for its workers reports their progress, in seconds.
TICK = 0.25

Batches = Iterator[list[tuple[Any, ...]]]
# What a long verification or export reports: (events done, events in all).
Progress = Callable[[int, int], None]


class Reader(Protocol):
    """Opens the rows of some segments (those that pass ``filters``), read in batches of a given size."""

    def __call__(
        self, segments: Sequence[Segment], size: int, filters: Filters | None = None
    ) -> AbstractContextManager[Batches]: ...


def reader_of(db: Database, pause_gc: bool = True) -> Reader:
    """Segments read through a read session of ``db``, each opening in a transaction of its own.

    The cyclic garbage collector is paused while the rows stream through (read, then hashed or
    formatted and written): they are tuples freed by reference counting as the stream moves
    on, and the collections their allocation triggered cost about a twelfth of an export's time
    for nothing. ``pause_gc`` False leaves that to the caller (a server, whose other requests
    go on meanwhile, pauses it a batch at a time).
    """

    @contextmanager
    def read(segments: Sequence[Segment], size: int, filters: Filters | None = None) -> Iterator[Batches]:
        with (
            without_cyclic_gc() if pause_gc else nullcontext(),
            db.read() as session,
            closing(audit_rows.segment_batches(session, segments, size, filters)) as batches,
        ):
            yield batches

    return read


def _driver_reader(connection: Any, pg: bool) -> Reader:
    @contextmanager
    def read(segments: Sequence[Segment], size: int, filters: Filters | None = None) -> Iterator[Batches]:
        with (
            without_cyclic_gc(),
            closing(audit_rows.segment_batches_on(connection, pg, segments, size, filters)) as batches,
        ):
            yield batches

    return read


def counted(read: Reader, tell: Callable[[int], None]) -> Reader:
    """``read``, telling ``tell`` the number of rows read so far after every batch."""

    @contextmanager
    def counting(segments: Sequence[Segment], size: int, filters: Filters | None = None) -> Iterator[Batches]:
        def batches(source: Batches) -> Generator[list[tuple[Any, ...]], None, None]:
            done = 0
            for batch in source:
                done += len(batch)
                tell(done)
                yield batch

        with read(segments, size, filters) as source, closing(batches(source)) as told:
            yield told

    return counting


@dataclass
class Worker:
    """A worker process at work on one range; ``tally`` the file descriptor its progress is read from."""

    process: subprocess.Popen[bytes]
    errors: IO[bytes]
    tally: int | None = None
    tally_path: str | None = None
    last: int = 0

    def done(self) -> int:
        """Events the worker has read so far (asked for with ``start(..., progress=True)``, else 0)."""
        if self.tally is not None:
            told = int.from_bytes(os.pread(self.tally, 8, 0).ljust(8, b"\0"), "little")
            self.last = max(self.last, told)  # never backwards, whatever a read caught mid-write
        return self.last

    def close(self) -> None:
        """Its error file and progress file closed and removed."""
        self.errors.close()
        if self.tally is not None:
            self.done()
            os.close(self.tally)
            self.tally = None
        if self.tally_path is not None:
            try:
                os.unlink(self.tally_path)
            except OSError:
                pass
            self.tally_path = None


def start(db: Database, job: Mapping[str, Any], progress: bool = False) -> Worker:
    """A worker process doing ``job`` (its "task" one of TASKS) on the database ``db`` points at;
    with ``progress``, one that tells how far it has read (``Worker.done``)."""
    tally, tally_path = tempfile.mkstemp(prefix=".casework-progress-") if progress else (None, None)
    if tally_path is not None:
        job = {**job, "progress": tally_path}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    errors = tempfile.TemporaryFile()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", "from casework.services.audit.workers import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
        )
    except BaseException:
        errors.close()
        if tally is not None and tally_path is not None:
            os.close(tally)
            os.unlink(tally_path)
        raise
    worker = Worker(process, errors, tally, tally_path)
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps({**job, "url": db.url}).encode())
        process.stdin.close()
    except BrokenPipeError:  # the worker died at once: its exit status says so in finish()
        pass
    return worker


def finish(worker: Worker, tick: Callable[[], None] | None = None) -> Any:
    """The worker's result, once it has ended; RuntimeError with its last line of error when it failed.

    ``tick`` is called every TICK seconds while the worker is still at work (progress reports)."""
    process = worker.process
    assert process.stdout is not None
    if tick is not None and os.name == "posix":  # its result is the first thing it writes to its stdout
        while not select.select([process.stdout], [], [], TICK)[0]:
            tick()
    out = process.stdout.read()
    process.stdout.close()
    try:
        if process.wait() != 0:
            worker.errors.seek(0)
            lines = worker.errors.read().decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"audit worker failed: {(lines or [f'exit status {process.returncode}'])[-1]}")
        return json.loads(out)
    finally:
        worker.close()


def stop(workers: Sequence[Worker]) -> None:
    """Workers still running killed (after an error elsewhere), every one waited for and its files closed."""
    for worker in workers:
        process = worker.process
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
        worker.close()


class Tally:
    """Events worked on by this process and its workers, reported to ``progress`` as they move on."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.progress = progress
        self.own = 0
        self.workers: list[Worker] = []

    def reader(self, read: Reader) -> Reader:
        """``read``, its rows counted as this process's own."""
        if self.progress is None:
            return read
        base = self.own

        def tell(done: int) -> None:
            self.own = base + done
            self.tell()

        return counted(read, tell)

    def tell(self) -> None:
        if self.progress is not None:
            done = self.own + sum(worker.done() for worker in self.workers)
            self.progress(min(done, self.total), self.total)


def main() -> None:
    """A worker: the job as JSON on stdin, the result as JSON on stdout.

    It reads through a driver connection of its own (``audit_rows.connect_for_reading``) and so
    never imports SQLAlchemy; through a ``Database`` only for a URL that needs one.
    """
    job = json.load(sys.stdin)
    module, function = TASKS[job["task"]].split(":")
    task = getattr(importlib.import_module(module), function)
    tally = os.open(job["progress"], os.O_WRONLY) if job.get("progress") else None

    def told(read: Reader) -> Reader:
        if tally is None:
            return read

        def tell(done: int) -> None:
            os.pwrite(fd, done.to_bytes(8, "little"), 0)

        fd = tally
        return counted(read, tell)

    opened = audit_rows.connect_for_reading(job["url"])
    try:
        if opened is not None:
            connection, pg = opened
            try:
                result = task(told(_driver_reader(connection, pg)), job)
            finally:
                connection.close()
        else:
            from casework.persistence.db import Database

            db = Database(job["url"])
            try:
                result = task(told(reader_of(db)), job)
            finally:
                db.engine.dispose()
    finally:
        if tally is not None:
            os.close(tally)
    json.dump(result, sys.stdout)


def verify_range(read: Reader, job: Mapping[str, Any]) -> dict[str, Any]:
    """A range of the chain verified from where ``job["starts"]`` says its schools' chains begin."""
    segments = [Segment(*s) for s in job["segments"]]
    starts = {int(school): (int(seq), str(digest)) for school, (seq, digest) in job["starts"].items()}
    with read(segments, BATCH) as batches:
        stretch = audit.verify_stretch((row for batch in batches for row in batch), starts)
    return {
        "events": stretch.events,
        "schools": list(stretch.schools),
        "last": {school: list(end) for school, end in stretch.last.items()},
        "problem": None if stretch.problem is None else astuple(stretch.problem),
    }


def _stretch(result: Mapping[str, Any]) -> audit.Stretch:
    problem = result["problem"]
    return audit.Stretch(
        result["events"],
        tuple(result["schools"]),
        {int(school): (int(seq), str(digest)) for school, (seq, digest) in result["last"].items()},
        None if problem is None else audit.Problem(*problem),
    )


def verify(
    db: Database,
    ranges: Sequence[Sequence[Segment]],
    starts: Sequence[Mapping[int, tuple[int, str]]],
    heads: Mapping[int, tuple[int, str]],
    progress: Progress | None = None,
) -> audit.VerifyResult:
    """The ranges verified side by side (the first here, the others in workers), joined in order.

    The first problem in chain order ends it: the workers still at work on later ranges are
    stopped, and none of their results (or failures) can hide it. ``progress`` is told the events
    verified so far by all of them (after each batch here, and while this process waits for the others).
    """
    tally = Tally(sum(s.count for r in ranges for s in r), progress)
    workers = tally.workers
    try:
        for segments, begins in zip(ranges[1:], starts[1:], strict=True):
            job = {"task": "verify", "segments": [astuple(s) for s in segments], "starts": dict(begins)}
            workers.append(start(db, job, progress is not None))
        first = {"segments": [astuple(s) for s in ranges[0]], "starts": starts[0]}
        stretches = [_stretch(verify_range(tally.reader(reader_of(db)), first))]
        for worker in workers:
            if stretches[-1].problem is not None:
                break
            stretches.append(_stretch(finish(worker, tally.tell if progress is not None else None)))
            tally.tell()
    finally:
        stop(workers)
    return audit.join_stretches(stretches, heads)


def starts_of(ranges: Sequence[Sequence[Segment]], stored_hash: Any) -> list[dict[int, tuple[int, str]]]:
    """Per range, where its chains begin when a school's chain was cut before it: (first seq, the
    stored hash of the event before, from ``stored_hash(school, seq)``)."""
    seen: set[int] = set()
    starts: list[dict[int, tuple[int, str]]] = []
    for segments in ranges:
        begins: dict[int, tuple[int, str]] = {}
        for s in segments:
            if s.school_id in seen and s.first is not None:
                begins[s.school_id] = (s.first, stored_hash(s.school_id, s.first - 1))
        seen.update(s.school_id for s in segments)
        starts.append(begins)
    return starts
