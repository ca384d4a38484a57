"""Write the audit export file: key ranges of the chain formatted side by side in worker processes, then joined.

A large export is cut into key ranges over (school, seq) of nearly equal size
(``audit_rows.plan``). This process writes the first range straight into the output file while
a worker process per further range (``workers``) writes its range into a part file beside
it; the parts are then appended in order. Reading, masking and formatting cost
about 11 µs an event in one process and run on every core this way; the output is byte for
byte what one process writes. Small exports (under ``PARALLEL_FROM`` events) stay in one
process, which is quicker than starting another.

An export with filters (the web's: dates, case, action, staff) is cut into ranges of nearly equal
numbers of the events that pass them, and each process reads its range with the same filters.
``pieces`` hands the export over as pieces of bytes instead of a file (the web streams them): the
first range as it is formatted, while the workers write theirs into part files, then each part.
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
import tempfile
from collections.abc import Collection, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import asdict, astuple
from functools import partial
from typing import TYPE_CHECKING, Any

from casework import audit
from casework.formats import row_templates, spreadsheets, xlsx_stream
from casework.formats.gcpause import without_cyclic_gc
from casework.formats.row_templates import Layout, Slot
from casework.persistence import audit_rows
from casework.persistence.audit_rows import Filters, Segment
from casework.services.audit import workers

if TYPE_CHECKING:  # a worker starts without SQLAlchemy (workers.main)
    from casework.persistence.db import Database

HEADERS = (*audit.FIELDS, "hash")
FORMATS = ("jsonl", "csv", "xlsx")
PARALLEL_FROM = workers.PARALLEL_FROM
PARTS = workers.PARTS
# An export holds each batch several times over (rows, masking text, lines, their encoding).
BATCH = workers.BATCH
# Bytes of a part file (or of an XLSX export) handed over at a time by ``pieces``.
CHUNK = 1 << 20

Counts = dict[int, int]


class _Counted:
    """Batches of the export's rows, masked where the actor may not read contact data, counted per school
    (into ``counts`` when given)."""

    def __init__(
        self, batches: Iterable[list[tuple[Any, ...]]], masked_schools: Collection[int], counts: Counts | None = None
    ) -> None:
        self.batches = batches
        self.masked_schools = frozenset(masked_schools)
        self.counts: Counts = {} if counts is None else counts

    def __iter__(self) -> Iterator[list[tuple[Any, ...]]]:
        for batch in self.batches:  # one school's rows each (audit_rows.segment_batches)
            school = int(batch[0][0])
            self.counts[school] = self.counts.get(school, 0) + len(batch)
            yield audit.mask_rows(batch) if school in self.masked_schools else batch


_INTEGERS = {"school_id", "seq", "actor_id", "object_id", "case_id"}
_encode = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str
# What JSON escapes in a string: " \ and the controls.
_JSON_UNSAFE = bytes([*range(0x20), *b'"\\'])


def _utf8(text: str) -> bytes:
    """UTF-8; a lone surrogate, which no database hands out, written as the six characters of its
    \\u escape (as json.dumps writes it; in CSV they stay those six characters)."""
    return text.encode("utf-8", "backslashreplace")


def _json_value(value: Any) -> str:
    """A value of a stored row in JSON: what the chain writes (text, int, null), anything else as text."""
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    return _encode(value if type(value) is str else str(value))


def _json_slot(column: int, first: bool) -> Slot:
    name = audit.FIELDS[column] if column < len(audit.FIELDS) else "hash"
    text = ("" if first else ",") + json.dumps(name) + ":"
    key = text.encode()
    if name == "data":  # the stored canonical JSON, set in as it is
        raw = lambda v: _utf8(text + (v if type(v) is str else _json_value(v)))  # noqa: E731
        return Slot(column, None, key + b"%b", key + b"null", raw, row_templates.split)
    one = lambda v: _utf8(text + _json_value(v))  # noqa: E731
    if name in _INTEGERS:
        return Slot(column, key + b"%d", None, key + b"null", one)
    # Texts JSON writes between quotes as they are, or None when one needs an escape.
    return Slot(column, None, key + b'"%b"', key + b"null", one, partial(row_templates.split, unsafe=_JSON_UNSAFE))


# A row as one line of JSON, its keys in sorted order (what json.dumps(sort_keys=True) writes), in UTF-8.
JSON_LINES: Layout = Layout(
    [_json_slot(n, i == 0) for i, n in enumerate(sorted(range(len(HEADERS)), key=lambda n: HEADERS[n]))],
    b"{",
    b"}\n",
)


def _csv_value(value: Any) -> str:
    if type(value) is str:
        return '"' + spreadsheets.safe_text(value).replace('"', '""') + '"'
    return "" if value is None else str(value)


_CSV_RARE = b'"'  # and the formula bytes, which screened keeps


def _csv_fit(texts: list[str]) -> list[bytes] | None:
    screened = row_templates.screened(texts, b"", _CSV_RARE)
    if screened is None:
        return None
    data, found = screened
    return row_templates.formula_prefixed(data.replace(b'"', b'""') if b'"' in found else data, found)


def _csv_slot(column: int) -> Slot:
    """Every text quoted (quotes doubled), numbers bare, None empty; formulas neutralised.

    Written out here rather than by csv.writer, which spends most of an export's time on a
    data column full of quotes and commas.
    """
    sep = "," if column else ""
    return Slot(
        column,
        sep.encode() + b"%d",
        sep.encode() + b'"%b"',
        sep.encode(),
        lambda v: _utf8(sep + _csv_value(v)),
        _csv_fit,
    )


CSV_RECORDS: Layout = Layout([_csv_slot(n) for n in range(len(HEADERS))], b"", b"\r\n")


def _text(fmt: str, batches: Iterable[list[tuple[Any, ...]]], first: bool) -> Generator[bytes, None, None]:
    """A range of a JSON-lines or CSV export, a batch at a time; the first range carries the file's start."""
    if fmt == "csv" and first:  # UTF-8 with a BOM, so that Excel opens it in the right encoding
        yield codecs.BOM_UTF8 + (",".join(HEADERS) + "\r\n").encode()
    lines = JSON_LINES if fmt == "jsonl" else CSV_RECORDS  # CSV records end in CRLF (RFC 4180)
    for batch in batches:
        yield lines.format(batch)


def _write_range(
    read: workers.Reader,
    fmt: str,
    path: str,
    segments: Sequence[Segment],
    masked: Collection[int],
    first: int,
    filters: Filters | None = None,
) -> tuple[Counts, dict[int, xlsx_stream.Fragment]]:
    """One range into ``path`` (JSON lines, CSV) or fragments named after it (XLSX, rows from ``first`` on)."""
    fragments: dict[int, xlsx_stream.Fragment] = {}
    with read(segments, BATCH, filters) as stream:
        rows = _Counted(stream, masked)
        if fmt == "xlsx":
            with xlsx_stream.SheetRows(path, first) as sheet:
                for batch in rows:
                    sheet.extend(batch)  # the sheet neutralises formula-like text itself
                fragments = sheet.close()
        else:
            with open(path, "wb") as out:
                for piece in _text(fmt, rows, first == 0):
                    out.write(piece)
    return rows.counts, fragments


def export_range(read: workers.Reader, job: Mapping[str, Any]) -> dict[str, Any]:
    """A further range, in a worker process (``workers``): its events per school, its XLSX fragments."""
    segments = [Segment(*s) for s in job["segments"]]
    filters = Filters(**job["filters"]) if job.get("filters") else None
    counts, fragments = _write_range(read, job["fmt"], job["path"], segments, job["masked"], job["first"], filters)
    return {"counts": counts, "fragments": {n: astuple(f) for n, f in fragments.items()}}


def _export_job(
    fmt: str, path: str, segments: Sequence[Segment], masked: Collection[int], first: int, filters: Filters | None
) -> dict[str, Any]:
    return {
        "task": "export",
        "fmt": fmt,
        "path": path,
        "segments": [astuple(s) for s in segments],
        "masked": sorted(masked),
        "first": first,
        "filters": None if filters is None else asdict(filters),
    }


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


def _ranges(
    db: Database, schools: Collection[int], filters: Filters | None, parallel_from: int, parts: int | None
) -> tuple[list[list[Segment]], list[int], int]:
    """The export's ranges (one below ``parallel_from`` events), the row each starts at, the events in all."""
    with db.read() as session:
        ranges = audit_rows.plan(session, schools, parts or PARTS, workers.HEAD_START, filters)
    total = sum(s.count for r in ranges for s in r)
    if total < parallel_from:
        ranges = [[s for r in ranges for s in r]]
    ranges = [r for r in ranges if r] or [[]]
    starts = [sum(s.count for r in ranges[:n] for s in r) for n in range(len(ranges))]
    return ranges, starts, total


def _merge(counts: Counts, result: Mapping[str, Any]) -> dict[int, xlsx_stream.Fragment]:
    """A worker's events per school added to ``counts``; its XLSX fragments."""
    for school, k in result["counts"].items():
        counts[int(school)] = counts.get(int(school), 0) + int(k)
    return {int(n): xlsx_stream.Fragment(*f) for n, f in result["fragments"].items()}


def write(
    db: Database,
    fmt: str,
    path: str,
    schools: Collection[int],
    masked: Collection[int],
    *,
    parallel_from: int = PARALLEL_FROM,
    parts: int | None = None,
    filters: Filters | None = None,
) -> Counts:
    """Write the schools' chains to ``path`` in ``fmt``, masked in the ``masked`` schools; events per school.

    From ``parallel_from`` events on, the chain is cut into ``parts`` ranges (``PARTS`` unless
    told) written side by side (see the module's docstring); with ``filters``, only the events
    that pass them. Part files live in a temporary folder beside ``path``, removed whatever
    happens; on an error the workers are stopped first.
    """
    ranges, starts, total = _ranges(db, schools, filters, parallel_from, parts)
    if len(ranges) == 1 and fmt != "xlsx":
        return _write_range(workers.reader_of(db), fmt, path, ranges[0], masked, 0, filters)[0]
    folder = tempfile.mkdtemp(prefix=".casework-export-", dir=os.path.dirname(os.path.abspath(path)))
    names = [path if fmt != "xlsx" and n == 0 else os.path.join(folder, f"part{n}") for n in range(len(ranges))]
    started: list[workers.Worker] = []
    try:
        for n in range(1, len(ranges)):
            started.append(workers.start(db, _export_job(fmt, names[n], ranges[n], masked, starts[n], filters)))
        counts, fragments = _write_range(workers.reader_of(db), fmt, names[0], ranges[0], masked, 0, filters)
        results = [fragments]
        for worker in started:
            results.append(_merge(counts, workers.finish(worker)))
        if fmt == "xlsx":
            xlsx_stream.write_workbook(path, HEADERS, "audit", total, results)
        else:
            with open(path, "r+b") as out:
                for name in names[1:]:
                    _append(out, name)
                    os.unlink(name)  # the disk holds at most one part twice
        return counts
    finally:
        workers.stop(started)
        shutil.rmtree(folder, ignore_errors=True)


def _paused(made: Generator[bytes, None, None]) -> Iterator[bytes]:
    """Each piece made with the cyclic garbage collector paused (``workers.reader_of``), which runs
    again while the consumer has the piece: a slow consumer never keeps it paused for long."""
    with closing(made):
        while True:
            with without_cyclic_gc():
                piece = next(made, None)
            if piece is None:
                return
            yield piece


def _chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as done:
        while piece := done.read(CHUNK):
            yield piece


def pieces(
    db: Database,
    fmt: str,
    schools: Collection[int],
    masked: Collection[int],
    counts: Counts,
    filters: Filters | None = None,
    *,
    parallel_from: int = PARALLEL_FROM,
    parts: int | None = None,
) -> Iterator[bytes]:
    """What ``write`` writes into a file, as pieces of bytes in order; events per school into ``counts``.

    JSON lines and CSV: the first range formatted batch by batch as the pieces are asked for, while
    a worker process per further range writes its range into a part file in a temporary folder;
    then each part file in pieces. XLSX (a zip, whose directory comes last) is written by
    ``write`` into the temporary folder first. Memory stays constant; the folder is removed and
    the workers stopped whatever happens, also when the consumer stops half-way.
    """
    folder = tempfile.mkdtemp(prefix="casework-export-")
    try:
        if fmt == "xlsx":
            path = os.path.join(folder, "audit.xlsx")
            counts.update(
                write(db, fmt, path, schools, masked, parallel_from=parallel_from, parts=parts, filters=filters)
            )
            yield from _chunks(path)
            return
        ranges, starts, _ = _ranges(db, schools, filters, parallel_from, parts)
        names = [os.path.join(folder, f"part{n}") for n in range(len(ranges))]
        started: list[workers.Worker] = []
        try:
            for n in range(1, len(ranges)):
                started.append(workers.start(db, _export_job(fmt, names[n], ranges[n], masked, starts[n], filters)))
            with workers.reader_of(db, pause_gc=False)(ranges[0], BATCH, filters) as stream:
                yield from _paused(_text(fmt, _Counted(stream, masked, counts), True))
            for n, worker in enumerate(started, 1):
                _merge(counts, workers.finish(worker))
                yield from _chunks(names[n])
                os.unlink(names[n])
        finally:
            workers.stop(started)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
