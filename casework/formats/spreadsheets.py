"""Spreadsheet files in and out: CSV in UTF-8 or GB18030, XLSX through openpyxl, read in bounded memory."""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from casework.errors import InvalidInput
from casework.formats.files import atomic_path
from casework.text import N_

CHUNK = 1 << 20
MAX_CSV_BYTES = 512 << 20
MAX_XLSX_BYTES = 100 << 20
MAX_XLSX_MEMBERS = 10_000
MAX_XLSX_UNCOMPRESSED = 1 << 30  # all parts together
MAX_SHARED_STRINGS = 96 << 20  # openpyxl holds the shared-string table in memory
MAX_RATIO = 100  # a part that inflates more than this is a zip bomb, not a register
RATIO_FLOOR = 8 << 20  # small parts may compress as well as they like
CSV_CELL_LIMIT = csv.field_size_limit()

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
OLD_SUFFIXES = {".xls", ".et", ".ods", ".numbers"}
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")

Row = tuple[int, Sequence[object]]


@dataclass
class Table:
    """An opened register: its rows, numbered as the spreadsheet shows them, read once."""

    path: str
    format: str  # "csv" or "xlsx"
    sha256: str
    rows: Iterator[Row]
    estimated_rows: int | None = None
    encoding: str | None = None
    sheet: str | None = None
    other_sheets: list[str] = field(default_factory=list)


def _refuse(msg: str, path: str, **params: Any) -> InvalidInput:
    return InvalidInput(msg, path=path, **params)


@contextmanager
def open_table(path: str, sheet: str | None = None) -> Iterator[Table]:
    """Open a CSV or XLSX file by its content (a renamed file is recognised or refused)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            magic = f.read(8)
    except OSError as exc:
        raise _refuse(N_("cannot read {path}: {error}"), path, error=exc.strerror or str(exc)) from None
    if size == 0:
        raise _refuse(N_("{path} is empty"), path)
    suffix = Path(path).suffix.lower()
    if magic.startswith(b"\xd0\xcf\x11\xe0") or suffix in OLD_SUFFIXES:
        raise _refuse(
            N_("{path} is an old Excel or WPS workbook (.xls, .et): save it as .xlsx or as CSV and import that"),
            path,
        )
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"PK\x05\x06"):
        # A workbook renamed .csv is still read as the workbook it is.
        with _xlsx(path, size, sheet) as table:
            yield table
        return
    if suffix in XLSX_SUFFIXES:
        raise _refuse(N_("{path} is not an XLSX workbook (its content is not a zip archive)"), path)
    if sheet is not None:
        raise _refuse(N_("--sheet: {path} is a CSV file and has no sheets"), path)
    with _csv(path, size) as table:
        yield table


# ---------------------------------------------------------------------------- CSV


@dataclass
class _Scan:
    sha256: str
    lines: int
    encoding: str


def _line_of(path: str, offset: int) -> int:
    line = 1
    with open(path, "rb") as f:
        done = 0
        while done < offset:
            chunk = f.read(min(CHUNK, offset - done))
            if not chunk:
                break
            line += chunk.count(b"\n")
            done += len(chunk)
    return line


def _decodes(path: str, encoding: str) -> int | None:
    """None when the whole file decodes strictly; else the offset of the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return offset + max(exc.start, 0)
            if not chunk:
                return None
            offset += len(chunk)


def _scan_csv(path: str, size: int) -> _Scan:
    """Hash the file, count its lines, refuse binary files and pick the encoding, in one read."""
    if size > MAX_CSV_BYTES:
        raise _refuse(
            N_("{path} is {size} MB; a register file may hold at most {limit} MB"),
            path,
            size=size >> 20,
            limit=MAX_CSV_BYTES >> 20,
        )
    digest = hashlib.sha256()
    lines = 0
    utf8 = codecs.getincrementaldecoder("utf-8-sig")("strict")
    utf8_bad: int | None = None
    non_ascii = 0
    offset = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            if b"\x00" in chunk:
                raise _refuse(
                    N_(
                        "{path} is not a text file (it holds NUL bytes): is it a workbook or UTF-16 text? "
                        "Save it as CSV UTF-8 or .xlsx"
                    ),
                    path,
                )
            if utf8_bad is None:
                try:
                    text = utf8.decode(chunk)
                    if non_ascii < 16:
                        non_ascii += sum(1 for c in text[:4096] if ord(c) > 127)
                except UnicodeDecodeError as exc:
                    utf8_bad = offset + max(exc.start, 0)
                    valid = chunk[: max(exc.start, 0)].decode("utf-8", errors="ignore")
                    non_ascii += sum(1 for c in valid[-4096:] if ord(c) > 127)
            offset += len(chunk)
        if utf8_bad is None:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8_bad = offset
    if utf8_bad is None:
        return _Scan(digest.hexdigest(), lines, "utf-8-sig")
    if non_ascii >= 16:
        # Long runs of valid multi-byte UTF-8 do not happen by chance in GBK text: this is a
        # UTF-8 file with a damaged byte, and decoding it as GB18030 would only garble it.
        raise _refuse(
            N_("{path} is UTF-8 text with an invalid byte on line {line}: repair or re-export the file"),
            path,
            line=_line_of(path, utf8_bad),
        )
    bad = _decodes(path, "gb18030")
    if bad is not None:
        raise _refuse(
            N_(
                "{path} is neither UTF-8 nor GBK/GB18030 text (an invalid byte on line {line}): "
                "save it as CSV UTF-8 or as .xlsx"
            ),
            path,
            line=_line_of(path, bad),
        )
    return _Scan(digest.hexdigest(), lines, "gb18030")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@contextmanager
def _csv(path: str, size: int) -> Iterator[Table]:
    scan = _scan_csv(path, size)
    with open(path, encoding=scan.encoding, newline="") as f:
        first = f.readline()
        f.seek(0)
        reader = csv.reader(f, delimiter=_delimiter(first))
        yield Table(
            path=path,
            format="csv",
            sha256=scan.sha256,
            rows=_csv_rows(reader, path),
            estimated_rows=scan.lines,
            encoding="utf-8" if scan.encoding == "utf-8-sig" else scan.encoding,
        )


def _csv_rows(reader: Iterable[list[str]], path: str) -> Iterator[Row]:
    number = 0
    iterator = iter(reader)
    while True:
        try:
            cells = next(iterator)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise _refuse(
                    N_("{path}, row {row}: a cell is longer than {limit} characters"),
                    path,
                    row=number + 1,
                    limit=CSV_CELL_LIMIT,
                ) from None
            raise _refuse(
                N_("{path}, row {row}: not readable as CSV ({error})"), path, row=number + 1, error=str(exc)
            ) from None
        number += 1
        if number == 1 and cells:
            cells[0] = cells[0].lstrip("\ufeff")  # a BOM a GB18030 file may carry
        yield number, cells


# ---------------------------------------------------------------------------- XLSX


def _check_archive(path: str, size: int) -> None:
    """Refuse oversized files and zip bombs before openpyxl inflates anything."""
    if size > MAX_XLSX_BYTES:
        raise _refuse(
            N_("{path} is {size} MB; a register file may hold at most {limit} MB"),
            path,
            size=size >> 20,
            limit=MAX_XLSX_BYTES >> 20,
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        raise _refuse(N_("{path} is not a readable XLSX workbook: it is damaged or truncated"), path) from None
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _refuse(
            N_("{path} is a zip archive but not an XLSX workbook (no xl/workbook.xml): was another file renamed?"),
            path,
        )
    if len(members) > MAX_XLSX_MEMBERS:
        raise _refuse(N_("{path} holds {count} parts: refused as a zip bomb"), path, count=len(members))
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        too_big = member.filename == "xl/sharedStrings.xml" and member.file_size > MAX_SHARED_STRINGS
        if too_big or (member.file_size > RATIO_FLOOR and ratio > MAX_RATIO):
            raise _refuse(
                N_(
                    "{path}: the part {part} inflates to {size} MB ({ratio} times its packed size): "
                    "refused as a zip bomb"
                ),
                path,
                part=member.filename,
                size=member.file_size >> 20,
                ratio=round(ratio),
            )
    if total > MAX_XLSX_UNCOMPRESSED:
        raise _refuse(
            N_("{path} inflates to {size} MB: refused as a zip bomb (at most {limit} MB)"),
            path,
            size=total >> 20,
            limit=MAX_XLSX_UNCOMPRESSED >> 20,
        )


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _xlsx_problem(path: str, exc: Exception) -> InvalidInput:
    from defusedxml.common import DefusedXmlException

    from casework.formats.xlsx import XlsxUnsafe

    if isinstance(exc, XlsxUnsafe | DefusedXmlException):
        return _refuse(
            N_(
                "{path} was refused as unsafe: its XML declares a DTD or entities ({error}), which a "
                "workbook saved by Excel or WPS never does; nothing was read"
            ),
            path,
            error=str(exc)[:200],
        )
    return _refuse(
        N_("{path} is not a readable XLSX workbook ({error}): it may be damaged or truncated"),
        path,
        error=str(exc)[:200],
    )


def _openpyxl() -> Any:
    """openpyxl, checked to parse through defusedxml (no entity expansion, no DTDs)."""
    import defusedxml  # noqa: F401 - imported so openpyxl picks it up
    import openpyxl
    import openpyxl.xml

    if not openpyxl.xml.DEFUSEDXML:
        raise InvalidInput("XLSX files are read only through defusedxml: unset OPENPYXL_DEFUSEDXML")
    return openpyxl


@contextmanager
def _xlsx(path: str, size: int, sheet: str | None) -> Iterator[Table]:
    from casework.formats.xlsx import Workbook, XlsxError

    _check_archive(path, size)
    sha = _sha256(path)
    try:
        book = Workbook(path)
    except (XlsxError, KeyError, ValueError) as exc:
        raise _xlsx_problem(path, exc) from None
    try:
        names = [name for name, _, _ in book.sheets]
        if not names:
            raise _refuse(N_("{path} holds no worksheet"), path)
        if sheet is not None and sheet not in names:
            raise _refuse(
                N_("--sheet: {path} has no sheet '{sheet}'; its sheets: {sheets}"),
                path,
                sheet=sheet,
                sheets=", ".join(names),
            )
        visible = [name for name, _, hidden in book.sheets if not hidden] or names
        chosen = sheet if sheet is not None else visible[0]
        part = next(p for name, p, _ in book.sheets if name == chosen)
        if part not in book.archive.namelist():
            raise _refuse(N_("{path} is not a readable XLSX workbook (sheet {sheet} is missing)"), path, sheet=chosen)
        rows = _xlsx_rows(book.rows(part), path)
        try:
            yield Table(
                path=path,
                format="xlsx",
                sha256=sha,
                rows=rows,
                estimated_rows=_dimension_rows(book, part),
                sheet=chosen,
                other_sheets=[n for n in names if n != chosen],
            )
        finally:
            rows.close()
    finally:
        book.close()


def _dimension_rows(book: Any, part: str) -> int | None:
    """The row count the sheet's <dimension ref="A1:V501"/> announces, for the progress bar."""
    import re

    with book.archive.open(part) as stream:
        head = stream.read(4096).decode("utf-8", errors="replace")
    match = re.search(r"<(?:\w+:)?dimension\s+ref=\"[A-Z]+\d+:[A-Z]+(\d+)\"", head)
    return int(match[1]) if match else None


def _xlsx_rows(source: Iterator[tuple[int, list[object]]], path: str) -> Generator[Row, None, None]:
    """The sheet's rows, numbered as the sheet numbers them; a damaged sheet fails clearly."""
    from casework.formats.xlsx import XlsxError

    try:
        while True:
            try:
                item = next(source)
            except StopIteration:
                return
            except XlsxError as exc:
                raise _xlsx_problem(path, exc) from None
            yield item
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


# ---------------------------------------------------------------------------- writing


def safe_text(value: str) -> str:
    """Guard against formula injection: a cell starting with = + - @ is prefixed with '."""
    return "'" + value if value.startswith(DANGEROUS_START) else value


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return safe_text(str(value))


def format_of(path: str, given: str | None) -> str:
    """csv or xlsx: as given, else by the file's extension, else csv."""
    fmt = given or ("xlsx" if Path(path).suffix.lower() in XLSX_SUFFIXES else "csv")
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput("--format: '{fmt}' is not one of csv, xlsx", fmt=fmt)
    return fmt


def write_table(
    path: str,
    fmt: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    widths: Sequence[int] | None = None,
    before_replace: Callable[[int], None] | None = None,
) -> int:
    """Write through a temporary file, so a failed write leaves no half file; returns rows written.

    CSV is UTF-8 with a BOM, so that Excel opens it in the right encoding.
    ``before_replace`` runs (with the row count) after the data is safely written and before
    the file takes its name: the export's audit event goes there.
    """
    with atomic_path(path) as partial:
        if fmt == "csv":
            count = _write_csv(partial, headers, rows)
        else:
            count = _write_xlsx(partial, headers, rows, widths)
        if before_replace is not None:
            before_replace(count)
    return count


def _write_csv(path: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([safe_text(h) for h in headers])
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
            count += 1
    return count


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its name (31 characters at most), headers, rows and column widths."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    widths: Sequence[int] = ()


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """An XLSX workbook of several sheets, every text cell guarded as ``write_table`` guards it."""
    import io

    openpyxl = _openpyxl()
    book = openpyxl.Workbook(write_only=True)
    for sheet in sheets:
        _append_sheet(book, sheet.headers, sheet.rows, sheet.widths, sheet.title[:31])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_xlsx(
    path: str, headers: Sequence[str], rows: Iterable[Sequence[object]], widths: Sequence[int] | None
) -> int:
    openpyxl = _openpyxl()
    book = openpyxl.Workbook(write_only=True)
    count = _append_sheet(book, headers, rows, widths or (), None)
    book.save(path)
    return count


def _append_sheet(
    book: Any, headers: Sequence[str], rows: Iterable[Sequence[object]], widths: Sequence[int], title: str | None
) -> int:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = book.create_sheet(title)
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)

    def cell(value: Any, header: bool = False) -> Any:
        if isinstance(value, str):
            value = safe_text(value)
        elif isinstance(value, datetime):
            value = value.replace(tzinfo=None)
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # never a formula, whatever the text starts with
        elif isinstance(value, date):
            c.number_format = "yyyy-mm-dd" if not isinstance(value, datetime) else "yyyy-mm-dd hh:mm"
        if header:
            c.font = bold
        return c

    ws.append([cell(h, header=True) for h in headers])
    count = 0
    for row in rows:
        ws.append([cell(v) for v in row])
        count += 1
    return count
