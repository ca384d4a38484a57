"""A streaming XLSX reader: expat under defusedxml's rules, shared strings and date styles, bounded memory.

openpyxl's read-only mode parses each cell through its object model and, with defusedxml, through
the pure-Python ElementTree parser: about 3,400 rows of 21 columns a second. Registers of
100,000 children need more. Here the small parts (workbook, relationships, styles) go through
defusedxml; the shared strings and every unusual row through expat with defusedxml's rules
(DTDs, entity declarations, external references refused); and the rows Excel, WPS and openpyxl
write through one regular expression each, after the worksheet's prolog is checked for a DTD.
Cell values are those openpyxl's ``values_only`` rows give: str, int, float, bool, datetime or
None, and a formula as its text starting with ``=``.
"""

from __future__ import annotations

import codecs
import io
import posixpath
import pyexpat
import re
import zipfile
import zlib
from collections.abc import Generator, Iterator
from datetime import datetime
from typing import IO, Any

from defusedxml.common import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

REL_TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_TYPES_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"
MAX_COLUMNS_READ = 1024  # cells further right are dropped; a header this wide is refused anyway
CHUNK = 1 << 16
SMALL_PART = 16 << 20

# Number formats 14-22 are Excel's built-in dates and times; 27-36 and 50-58 are the
# date formats of the Chinese, Japanese and Korean editions (yyyy年m月d日 and the like).
DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])

_C, _V, _F, _IS, _T, _ROW, _RPH, _SI = range(8)
_LOCAL = {"c": _C, "v": _V, "f": _F, "is": _IS, "t": _T, "row": _ROW, "rPh": _RPH, "si": _SI}


class _Tags(dict[str, "int | None"]):
    """Element name -> code; names with a namespace prefix (x:c) are looked up by their local part."""

    def __missing__(self, name: str) -> int | None:
        code = _LOCAL.get(name.rpartition(":")[2]) if ":" in name else None
        self[name] = code
        return code


_TAGS = _Tags(_LOCAL)


_SHEET_DATA = re.compile(r"<(\w+:)?sheetData\b[^>]*?(/?)>")
_ROW_XML = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
_ROW_NUMBER = re.compile(r'\br="(\d+)"')
# A cell as Excel and WPS write it: reference, optional style, optional type, optional value.
_FAST_CELL = re.compile(
    r'<c r="([A-Z]{1,3})\d+"(?: s="(\d+)")?(?: t="(s|n|b|e|str|d|inlineStr)")?\s*'
    r'(?:/>|>(?:<v>([^<]*)</v>|<is><t(?: xml:space="preserve")?>([^<]*)</t></is>)?</c>)'
)


def _from_excel(value: float, epoch: Any) -> Any:
    from openpyxl.utils.datetime import from_excel

    return from_excel(value, epoch)


class _Prefixed(Exception):
    """The worksheet writes its elements with a namespace prefix (x:row): expat reads it."""


class XlsxError(Exception):
    """The workbook cannot be read: damaged, truncated, not a workbook, or refused as unsafe."""


class XlsxUnsafe(XlsxError):
    """A part of the workbook declares a DTD, entities or external references: refused, not parsed."""


def _defuse(parser: Any) -> None:
    """defusedxml's rules on a raw expat parser: no DTD, no entity declaration, no external reference."""

    def doctype(name: str, sysid: str | None, pubid: str | None, _internal: bool) -> None:
        raise DTDForbidden(name, sysid, pubid)

    def entity(
        name: str,
        _pe: bool,
        value: str | None,
        base: str | None,
        sysid: str | None,
        pubid: str | None,
        notation: str | None,
    ) -> None:
        raise EntitiesForbidden(name, value, base, sysid, pubid, notation)

    def unparsed(name: str, base: str | None, sysid: str | None, pubid: str | None, notation: str | None) -> None:
        raise EntitiesForbidden(name, None, base, sysid, pubid, notation)

    def external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> None:
        raise ExternalReferenceForbidden(context, base, sysid, pubid)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = unparsed
    parser.ExternalEntityRefHandler = external


_COLUMNS: dict[str, int] = {}


def column_index(ref: str) -> int:
    """'C7' -> 2: the zero-based column of a cell reference."""
    letters = ref.rstrip("0123456789")
    index = _COLUMNS.get(letters)
    if index is None:
        index = 0
        for char in letters:
            index = index * 26 + (ord(char.upper()) - 64)
        index -= 1
        if len(_COLUMNS) < 20_000:
            _COLUMNS[letters] = index
    return index


# XML's five named references and its numeric ones; html.unescape would also take HTML's other
# names and map &#128;–&#159; to Windows-1252 (&#128; is U+0080 in XML, not €).
_REFERENCE = re.compile(r"&(?:#([0-9]+)|#x([0-9A-Fa-f]+)|(lt|gt|amp|quot|apos));")
_NOT_A_REFERENCE = re.compile(r"&(?!(?:#[0-9]+|#x[0-9A-Fa-f]+|lt|gt|amp|quot|apos);)")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


class _NotXml(Exception):
    """A character reference to what XML cannot hold (&#0;, a surrogate, beyond U+10FFFF)."""


def _character(match: re.Match[str]) -> str:
    if match[3]:
        return _NAMED[match[3]]
    code = int(match[1]) if match[1] else int(match[2], 16)
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF:
        return chr(code)
    raise _NotXml(match[0])


def _unescape(text: str) -> str:
    """XML text with its references resolved as an XML parser resolves them."""
    return _REFERENCE.sub(_character, text)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class Workbook:
    """An open workbook: its sheets in order, shared strings, and which cell styles are dates."""

    def __init__(self, path: str) -> None:
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise XlsxError(str(exc)) from None
        try:
            self._load()
        except BaseException:
            self.archive.close()
            raise

    def close(self) -> None:
        self.archive.close()

    def _xml(self, name: str) -> Any:
        info = self.archive.getinfo(name)
        if info.file_size > SMALL_PART:
            raise XlsxError(f"{name} is {info.file_size >> 20} MB")
        return fromstring(self.archive.read(name), forbid_dtd=True)

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", name + ".rels")
        if rels not in self.archive.namelist():
            return {}
        found = {}
        for rel in self._xml(rels):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[rel.get("Id", "")] = (rel.get("Type", "").rpartition("/")[2], path)
        return found

    def _load(self) -> None:
        book = next((p for kind, p in self._rels("").values() if kind == "officeDocument"), "xl/workbook.xml")
        root = self._xml(book)
        rels = self._rels(book)
        self.epoch_1904 = any(_local(el.tag) == "workbookPr" and el.get("date1904") in ("1", "true") for el in root)
        self.sheets: list[tuple[str, str, bool]] = []  # name, part, hidden
        for el in root.iter():
            if _local(el.tag) != "sheet":
                continue
            rid = el.get(f"{{{REL_TYPES}}}id") or el.get(f"{{{REL_TYPES_STRICT}}}id") or ""
            kind, part = rels.get(rid, ("", ""))
            if kind == "worksheet":
                self.sheets.append((el.get("name", ""), part, el.get("state", "visible") != "visible"))
        self._strings_part = next((p for kind, p in rels.values() if kind == "sharedStrings"), None)
        styles = next((p for kind, p in rels.values() if kind == "styles"), None)
        self.date_styles = self._date_styles(styles) if styles else frozenset()
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        self.epoch = CALENDAR_MAC_1904 if self.epoch_1904 else CALENDAR_WINDOWS_1900
        self.strings = self._shared_strings() if self._strings_part else []

    def _date_styles(self, part: str) -> frozenset[int]:
        from openpyxl.styles.numbers import is_date_format

        root = self._xml(part)
        custom = {}
        for el in root.iter():
            if _local(el.tag) == "numFmt":
                custom[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
        dates = set()
        for el in root:
            if _local(el.tag) != "cellXfs":
                continue
            for index, xf in enumerate(el):
                fmt = int(xf.get("numFmtId", "0"))
                if fmt in DATE_FORMAT_IDS or (fmt in custom and is_date_format(custom[fmt])):
                    dates.add(index)
        return frozenset(dates)

    def _shared_strings(self) -> list[str]:
        assert self._strings_part is not None
        strings: list[str] = []
        parts: list[str] = []
        depth = {"t": False, "rph": 0}

        def start(name: str, _attrs: Any) -> None:
            tag = _TAGS[name]
            if tag == _T and not depth["rph"]:
                depth["t"] = True
            elif tag == _RPH:
                depth["rph"] += 1
            elif tag == _SI:
                parts.clear()

        def end(name: str) -> None:
            tag = _TAGS[name]
            if tag == _T:
                depth["t"] = False
            elif tag == _RPH:
                depth["rph"] -= 1
            elif tag == _SI:
                strings.append("".join(parts))

        def chars(data: str) -> None:
            if depth["t"]:
                parts.append(data)

        with self.archive.open(self._strings_part) as stream:
            for _ in _parse(stream, start, end, chars, lambda: None):
                pass
        return strings

    def rows(self, part: str) -> Generator[tuple[int, list[object]], None, None]:
        """(row number, values) for every row of a worksheet, in order, streamed.

        Rows as Excel and WPS write them (``<c r="B7" s="3" t="s"><v>12</v></c>``) are read with
        one regular expression each; any other row (formulas, inline strings, unusual
        attributes, comments) goes through expat. The prolog is checked for a DTD first, so no
        entity but XML's own five can occur.
        """
        with self.archive.open(part) as stream:
            fast = self._rows_fast(stream)
            try:
                first = next(fast, None)
            except _Prefixed:
                with self.archive.open(part) as again:
                    yield from self._rows_expat(again)
                return
            if first is not None:
                yield first
                yield from fast

    def _rows_fast(self, stream: IO[bytes]) -> Generator[tuple[int, list[object]], None, None]:
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        buf = ""
        started = False
        number = 0
        while True:
            try:
                chunk = stream.read(CHUNK)
                buf += decoder.decode(chunk, final=not chunk)
            except (UnicodeDecodeError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                raise XlsxError(f"{type(exc).__name__}: {exc}") from None
            if not started:
                found = _SHEET_DATA.search(buf)
                prolog = buf[: found.start()] if found else buf
                if "<!DOCTYPE" in prolog or "<!ENTITY" in prolog:
                    raise XlsxUnsafe("DTDForbidden")
                if found is None:
                    if not chunk:
                        return
                    if len(buf) > SMALL_PART:
                        raise XlsxError("no sheetData in the worksheet")
                    continue
                if found[1]:
                    raise _Prefixed
                if found[2]:
                    return  # <sheetData/>: no rows
                buf = buf[found.end() :]
                started = True
            end = buf.rfind("</row>")
            if chunk and end < 0:
                continue
            cut = end + 6 if chunk else len(buf)
            block, buf = buf[:cut], buf[cut:]
            for match in _ROW_XML.finditer(block):
                number, cells = self._row(match, number)
                yield number, cells
            if not chunk:
                return

    def _row(self, match: re.Match[str], previous: int) -> tuple[int, list[object]]:
        attrs, content = match[1], match[2]
        found = _ROW_NUMBER.search(attrs)
        number = int(found[1]) if found else previous + 1
        if not content:
            return number, []
        cells = _FAST_CELL.findall(content)
        if len(cells) != content.count("<c") or "<!" in content or "<?" in content or _NOT_A_REFERENCE.search(content):
            return self._row_expat(match, number, previous)
        try:
            return number, self._cells(cells)
        except _NotXml:  # a reference to a character XML cannot hold: the parser says what is wrong
            return self._row_expat(match, number, previous)

    def _row_expat(self, match: re.Match[str], number: int, previous: int) -> tuple[int, list[object]]:
        snippet = f"<sheetData>{match[0]}</sheetData>".encode()
        rows = list(self._rows_expat(io.BytesIO(snippet), previous))
        return rows[0] if rows else (number, [])

    def _cells(self, cells: list[tuple[str, ...]]) -> list[object]:
        strings, date_styles = self.strings, self.date_styles
        row: list[object] = []
        for letters, style, kind, value, inline in cells:
            if kind == "inlineStr":
                value = inline
            column = _COLUMNS.get(letters)
            if column is None:
                column = column_index(letters)
            if column >= MAX_COLUMNS_READ:
                continue
            cell: object
            if not value:
                cell = None
            elif kind == "s":
                try:
                    cell = strings[int(value)]
                except (IndexError, ValueError):
                    raise XlsxError(f"shared string {value} does not exist") from None
            elif kind == "inlineStr":
                cell = _unescape(value) if "&" in value else value
            else:
                if "&" in value:
                    value = _unescape(value)
                cell = _convert(kind or None, value, [], style or None, strings, date_styles, self.epoch, _from_excel)
            if column == len(row):
                row.append(cell)
            elif column > len(row):
                row.extend([None] * (column - len(row)))
                row.append(cell)
            else:
                row[column] = cell
        return row

    def _rows_expat(self, stream: IO[bytes], number: int = 0) -> Iterator[tuple[int, list[object]]]:
        """The general reader: every row through expat (with defusedxml's rules)."""
        epoch, from_excel = self.epoch, _from_excel
        strings, date_styles = self.strings, self.date_styles
        ready: list[tuple[int, list[object]]] = []
        row: list[object] = []
        kind: str | None = None
        style: str | None = None
        column = 0
        text: str | None = None
        value: str | None = None
        formula: str | None = None
        inline: list[str] = []
        collecting = False
        in_inline = False
        phonetic = 0

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal kind, style, column, text, value, formula, collecting, number, row, in_inline, phonetic
            tag = _TAGS[name]
            if tag == _C:
                ref = attrs.get("r")
                column = column_index(ref) if ref else len(row)
                kind = attrs.get("t")
                style = attrs.get("s")
                value = formula = None
                inline.clear()
            elif tag == _V or tag == _F:
                collecting, text = True, None
            elif tag == _T:
                if in_inline and not phonetic:
                    collecting, text = True, None
            elif tag == _ROW:
                r = attrs.get("r")
                number = int(r) if r else number + 1
                row = []
            elif tag == _IS:
                in_inline = True
            elif tag == _RPH:
                phonetic += 1

        def end(name: str) -> None:
            nonlocal collecting, value, formula, in_inline, phonetic
            tag = _TAGS[name]
            if tag == _V:
                value, collecting = text, False
            elif tag == _C:
                if column >= MAX_COLUMNS_READ:
                    return
                if formula is not None:
                    cell: object = "=" + formula
                elif kind == "s" and value is not None:
                    try:
                        cell = strings[int(value)]
                    except (IndexError, ValueError):
                        raise XlsxError(f"shared string {value} does not exist") from None
                else:
                    cell = _convert(kind, value, inline, style, strings, date_styles, epoch, from_excel)
                if column > len(row):
                    row.extend([None] * (column - len(row)))
                if column == len(row):
                    row.append(cell)
                else:
                    row[column] = cell
            elif tag == _ROW:
                ready.append((number, row))
            elif tag == _F:
                formula, collecting = text or "", False
            elif tag == _T:
                if collecting:
                    inline.append(text or "")
                    collecting = False
            elif tag == _IS:
                in_inline = False
            elif tag == _RPH:
                phonetic -= 1

        def chars(data: str) -> None:
            nonlocal text
            if collecting:
                text = data if text is None else text + data

        def flush() -> list[tuple[int, list[object]]]:
            batch = ready[:]
            ready.clear()
            return batch

        for batch in _parse(stream, start, end, chars, flush):
            yield from batch


def _convert(
    kind: str | None,
    value: str | None,
    inline: list[str],
    style: str | None,
    strings: list[str],
    date_styles: frozenset[int],
    epoch: Any,
    from_excel: Any,
) -> object:
    if kind == "s":
        if value is None:
            return None
        try:
            return strings[int(value)]
        except (IndexError, ValueError):
            raise XlsxError(f"shared string {value} does not exist") from None
    if kind == "inlineStr":
        return "".join(inline)
    if value is None:
        return None
    if kind is None or kind == "n":
        try:
            number: float = float(value) if ("." in value or "E" in value or "e" in value) else int(value)
        except ValueError:
            raise XlsxError(f"'{value}' is not a number") from None
        if style is not None and date_styles and int(style) in date_styles:
            try:
                moment = from_excel(number, epoch)
            except (ValueError, OverflowError):
                return number
            return moment
        return number
    if kind == "b":
        return value in ("1", "true")
    if kind == "d":
        try:
            return datetime.fromisoformat(value.rstrip("Z"))
        except ValueError:
            return value
    return value  # str (a formula's result) and e (an error such as #N/A)


def _parse(
    stream: IO[bytes],
    start: Any,
    end: Any,
    chars: Any,
    flush: Any,
) -> Iterator[Any]:
    # Without namespace processing names stay short and interned; worksheets use one namespace.
    parser = pyexpat.ParserCreate()
    _defuse(parser)
    parser.buffer_text = True
    parser.buffer_size = CHUNK
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        while True:
            chunk = stream.read(CHUNK)
            parser.Parse(chunk, not chunk)
            yield flush()
            if not chunk:
                return
    except DefusedXmlException as exc:
        raise XlsxUnsafe(type(exc).__name__) from None
    except (pyexpat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise XlsxError(f"{type(exc).__name__}: {exc}") from None
