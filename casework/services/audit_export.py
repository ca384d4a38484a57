"""Write the audit export file: key ranges of the chain formatted side by side in worker processes, then joined.

A large export is cut into key ranges over (school, seq) of nearly equal size
(``audit_rows.plan``). This process writes the first range straight into the output file while
one process per further range, on its own connection, writes its range into a part
file beside it; the parts are then appended in order. Reading, masking and formatting cost
about 11 µs an event in one process and run on every core this way; the output is byte for
byte what one process writes. Small exports (under ``PARALLEL_FROM`` events) stay in one
process, which is quicker than starting another.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import astuple
from pathlib import Path
from typing import Any

from casework import audit
from casework.persistence import audit_rows
from casework.persistence.audit_rows import Segment
from casework.persistence.db import Database
from casework.services import spreadsheets, xlsx_stream

HEADERS = (*audit.FIELDS, "hash")
FORMATS = ("jsonl", "csv", "xlsx")
PARALLEL_FROM = 50_000
# One range per core: the reader thread of each process overlaps its database reads with formatting.
PARTS = max(1, min(2, os.cpu_count() or 1))

# Rows read at a time: an export holds each batch several times over (rows, masking text, lines,
# their encoding), and each of the two processes holds three batches; 1,000 keep a process near 60 MB.
BATCH = 1_000

Counts = dict[int, int]
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class _Counted:
    """Batches of the export's rows, masked where the actor may not read contact data, counted per school."""

    def __init__(self, batches: Iterable[list[tuple[Any, ...]]], masked_schools: Collection[int]) -> None:
        self.batches = batches
        self.masked_schools = frozenset(masked_schools)
        self.counts: Counts = {}

    def __iter__(self) -> Iterator[list[tuple[Any, ...]]]:
        for batch in self.batches:  # one school's rows each (audit_rows.segment_batches)
            school = int(batch[0][0])
            self.counts[school] = self.counts.get(school, 0) + len(batch)
            yield audit.mask_rows(batch) if school in self.masked_schools else batch


def _write_lines(out: Any, batches: Iterable[list[tuple[Any, ...]]], line: Any, end: str) -> None:
    """One line per row, written a batch at a time."""
    for batch in batches:
        out.write(end.join(map(line, batch)))
        out.write(end)


_DANGEROUS = spreadsheets.DANGEROUS_START


def csv_line(row: tuple[Any, ...]) -> str:
    """One CSV record: every text quoted (quotes doubled), numbers bare, None empty; formulas neutralised.

    Written out here rather than by csv.writer, which spends most of an export's time on a
    data column full of quotes and commas.
    """
    return ",".join(
        [
            ('"' + ("'" + v if v.startswith(_DANGEROUS) else v).replace('"', '""') + '"')
            if type(v) is str
            else ("" if v is None else str(v))
            for v in row
        ]
    )


def _write_text_part(fmt: str, path: str, batches: Iterable[list[tuple[Any, ...]]], first: bool) -> None:
    """A range of a JSON-lines or CSV export; the first range carries the file's start."""
    if fmt == "jsonl":
        with open(path, "w", encoding="utf-8", newline="") as out:
            _write_lines(out, batches, audit.json_row, "\n")
        return
    # UTF-8 with a BOM, so that Excel opens it in the right encoding; CRLF ends records (RFC 4180).
    with open(path, "w", encoding="utf-8-sig" if first else "utf-8", newline="") as out:
        if first:
            out.write(",".join(HEADERS) + "\r\n")
        _write_lines(out, batches, csv_line, "\r\n")


def _write_range(
    db: Database, fmt: str, path: str, segments: Sequence[Segment], masked: Collection[int], first: int
) -> tuple[Counts, dict[int, xlsx_stream.Fragment]]:
    """One range into ``path`` (JSON lines, CSV) or fragments named after it (XLSX, rows from ``first`` on)."""
    fragments: dict[int, xlsx_stream.Fragment] = {}
    with db.read() as session, closing(audit_rows.segment_batches(session, segments, BATCH)) as stream:
        rows = _Counted(stream, masked)
        if fmt == "xlsx":
            with xlsx_stream.SheetRows(path, first) as sheet:
                for batch in rows:
                    for row in batch:
                        sheet.append(row)  # the sheet neutralises formula-like text itself
                fragments = sheet.close()
        else:
            _write_text_part(fmt, path, rows, first == 0)
    return rows.counts, fragments


def worker_main() -> None:
    """A further range, in a process of its own on its own engine: the job as JSON on stdin, the result on stdout."""
    job = json.load(sys.stdin)
    db = Database(job["url"])
    try:
        segments = [Segment(*s) for s in job["segments"]]
        counts, fragments = _write_range(db, job["fmt"], job["path"], segments, job["masked"], job["first"])
    finally:
        db.engine.dispose()
    json.dump({"counts": counts, "fragments": {n: astuple(f) for n, f in fragments.items()}}, sys.stdout)


def _start_worker(
    url: str, fmt: str, path: str, segments: Sequence[Segment], masked: Collection[int], first: int
) -> subprocess.Popen[bytes]:
    # A fresh interpreter rather than multiprocessing: nothing of the caller's main module or
    # threads is carried over, and it finds this very casework package first. The job goes
    # through stdin, not the command line, where anyone's process list would show the URL.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    job = {
        "url": url,
        "fmt": fmt,
        "path": path,
        "segments": [astuple(s) for s in segments],
        "masked": sorted(masked),
        "first": first,
    }
    with open(f"{path}.err", "wb") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", "from casework.services.audit_export import worker_main; worker_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
        )
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps(job).encode())
        process.stdin.close()
    except BrokenPipeError:  # the worker died at once: its exit status says so in _finish_worker
        pass
    return process


def _finish_worker(process: subprocess.Popen[bytes], path: str) -> tuple[Counts, dict[int, xlsx_stream.Fragment]]:
    assert process.stdout is not None
    out = process.stdout.read()
    process.stdout.close()
    if process.wait() != 0:
        with open(f"{path}.err", "rb") as errors:
            lines = errors.read().decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"audit export worker failed: {(lines or [f'exit status {process.returncode}'])[-1]}")
    result = json.loads(out)
    counts = {int(school): int(n) for school, n in result["counts"].items()}
    return counts, {int(n): xlsx_stream.Fragment(*f) for n, f in result["fragments"].items()}


def _append(out: Any, name: str) -> None:
    """The file ``name`` added to the end of ``out``, copied inside the kernel where it can."""
    out.seek(0, os.SEEK_END)
    start = out.tell()
    with open(name, "rb") as source:
        try:
            while os.copy_file_range(source.fileno(), out.fileno(), 1 << 30):
                pass
        except (AttributeError, OSError):  # not Linux, or not between these file systems
            out.truncate(start)
            out.seek(start)
            source.seek(0)
            shutil.copyfileobj(source, out, 1 << 20)


def write(
    db: Database,
    fmt: str,
    path: str,
    schools: Collection[int],
    masked: Collection[int],
    *,
    parallel_from: int = PARALLEL_FROM,
    parts: int | None = None,
) -> Counts:
    """Write the schools' chains to ``path`` in ``fmt``, masked in the ``masked`` schools; events per school.

    From ``parallel_from`` events on, the chain is cut into ``parts`` ranges (``PARTS`` unless
    told) written side by side (see the module's docstring). Part files live in a temporary
    folder beside ``path``, removed whatever happens; on an error the workers are stopped first.
    """
    with db.read() as session:
        ranges = audit_rows.plan(session, schools, parts or PARTS)
    total = sum(s.count for r in ranges for s in r)
    if total < parallel_from:
        ranges = [[s for r in ranges for s in r]]
    ranges = [r for r in ranges if r] or [[]]
    starts = [sum(s.count for r in ranges[:n] for s in r) for n in range(len(ranges))]
    if len(ranges) == 1 and fmt != "xlsx":
        return _write_range(db, fmt, path, ranges[0], masked, 0)[0]
    folder = tempfile.mkdtemp(prefix=".casework-export-", dir=os.path.dirname(os.path.abspath(path)))
    names = [path if fmt != "xlsx" and n == 0 else os.path.join(folder, f"part{n}") for n in range(len(ranges))]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(1, len(ranges)):
            workers.append(_start_worker(db.url, fmt, os.path.join(folder, f"part{n}"), ranges[n], masked, starts[n]))
        counts, fragments = _write_range(db, fmt, names[0], ranges[0], masked, 0)
        results = [fragments]
        for n, worker in enumerate(workers, 1):
            more, fragments = _finish_worker(worker, os.path.join(folder, f"part{n}"))
            for school, k in more.items():
                counts[school] = counts.get(school, 0) + k
            results.append(fragments)
        if fmt == "xlsx":
            xlsx_stream.write_workbook(path, HEADERS, "audit", total, results)
        else:
            with open(path, "r+b") as out:
                for name in names[1:]:
                    _append(out, name)
                    os.unlink(name)  # the disk holds at most one part twice
        return counts
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
            if worker.stdout is not None:
                worker.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)
