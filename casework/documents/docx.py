"""DOCX from the canonical HTML: headings, paragraphs, lists and real Word tables (Word and WPS).

The WordprocessingML package is written directly, with its own styles (宋体 for Chinese): python-docx
spends about 100 ms a document on its template and XPath look-ups, this about 1 ms.

Only the small HTML vocabulary the templates use is understood: h1–h3, p, ul/ol/li, table with
tr/th/td (colspan), br, strong/b. <style>, <head> and <svg> are skipped (a chart's title is its
figcaption, printed as a paragraph).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from xml.sax.saxutils import escape

from casework.formats import xmltext

SKIP = {"style", "head", "svg", "script", "title"}
EAST_ASIAN_FONT = {"zh_CN": "宋体", "en": "SimSun"}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # no render time in the package: the same page, the same bytes


@dataclass
class Cell:
    text: list[tuple[str, bool]] = field(default_factory=list)  # (text, bold)
    header: bool = False
    colspan: int = 1


@dataclass
class Block:
    kind: str  # h1, h2, h3, p, li, table
    runs: list[tuple[str, bool]] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    css: str = ""


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.skip = 0
        self.bold = 0
        self.current: Block | None = None
        self.table: Block | None = None
        self.cell: Cell | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        css = dict(attrs).get("class") or ""
        if tag in {"strong", "b", "th"}:
            self.bold += 1
        if tag == "table":
            self.table = Block("table", css=css)
        elif tag == "tr" and self.table is not None:
            self.table.rows.append([])
        elif tag in {"td", "th"} and self.table is not None:
            span = dict(attrs).get("colspan") or "1"
            self.cell = Cell(header=tag == "th", colspan=int(span) if span.isdigit() else 1)
            if self.table.rows:
                self.table.rows[-1].append(self.cell)
        elif tag in {"h1", "h2", "h3", "p", "li"} and self.cell is None:
            self.current = Block(tag, css=css)
        elif tag == "br":
            self._text("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag in {"strong", "b", "th"}:
            self.bold = max(0, self.bold - 1)
        if tag == "table" and self.table is not None:
            self.blocks.append(self.table)
            self.table = None
        elif tag in {"td", "th"}:
            self.cell = None
        elif tag in {"h1", "h2", "h3", "p", "li"} and self.current is not None and self.current.kind == tag:
            if any(t.strip() for t, _ in self.current.runs):
                self.blocks.append(self.current)
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self._text(" ".join(data.split()) if "\n" in data else data)

    def _text(self, text: str) -> None:
        if not text:
            return
        target = self.cell.text if self.cell is not None else self.current.runs if self.current is not None else None
        if target is not None:
            target.append((text, self.bold > 0))


_NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    "</Relationships>"
)
DOCUMENT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/>'
    "</Relationships>"
)
CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>{title}</dc:title><dc:creator>casework</dc:creator>"
    "</cp:coreProperties>"
)


def _style(style_id: str, name: str, size: int, bold: bool = False, center: bool = False, space: int = 0) -> str:
    ppr = f'<w:pPr><w:spacing w:before="{space}" w:after="{space // 2}"/>' + (
        '<w:jc w:val="center"/></w:pPr>' if center else "</w:pPr>"
    )
    rpr = ("<w:b/>" if bold else "") + f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>'
    return (
        f'<w:style w:type="paragraph" w:styleId="{style_id}"><w:name w:val="{name}"/>'
        f'<w:basedOn w:val="Normal"/><w:qFormat/>{ppr}<w:rPr>{rpr}</w:rPr></w:style>'
    )


@cache
def _styles(lang: str) -> str:
    east = EAST_ASIAN_FONT.get(lang, "SimSun")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<w:styles {_NS}>"
        "<w:docDefaults><w:rPrDefault><w:rPr>"
        f'<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="{east}" w:cs="Times New Roman"/>'
        f'<w:sz w:val="21"/><w:szCs w:val="21"/><w:lang w:val="{lang.replace("_", "-")}" w:eastAsia="zh-CN"/>'
        '</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="60" w:line="300" w:lineRule="auto"/>'
        "</w:pPr></w:pPrDefault></w:docDefaults>"
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>'
        + _style("Title", "Title", 36, bold=True, center=True, space=120)
        + _style("Heading1", "heading 1", 26, bold=True, space=200)
        + _style("Heading2", "heading 2", 22, bold=True, space=120)
        + '<w:style w:type="paragraph" w:styleId="ListBullet"><w:name w:val="List Bullet"/>'
        '<w:basedOn w:val="Normal"/><w:pPr><w:ind w:left="420" w:hanging="210"/></w:pPr></w:style>'
        '<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:tblPr><w:tblBorders>'
        + "".join(
            f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
            for side in ("top", "left", "bottom", "right", "insideH", "insideV")
        )
        + '</w:tblBorders><w:tblCellMar><w:left w:w="80" w:type="dxa"/><w:right w:w="80" w:type="dxa"/>'
        "</w:tblCellMar></w:tblPr></w:style>"
        "</w:styles>"
    )


def _runs(runs: list[tuple[str, bool]], bold_all: bool = False) -> str:
    out = []
    items = list(runs)
    if items:
        items[0] = (items[0][0].lstrip(), items[0][1])
        items[-1] = (items[-1][0].rstrip(" "), items[-1][1])
    for text, bold in items:
        if not text:
            continue
        rpr = "<w:rPr><w:b/></w:rPr>" if bold or bold_all else ""
        parts = xmltext.for_word(text).split("\n")
        body = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(part)}</w:t>' for part in parts)
        out.append(f"<w:r>{rpr}{body}</w:r>")
    return "".join(out)


def _paragraph(runs: list[tuple[str, bool]], style: str | None = None, align: str | None = None) -> str:
    ppr = ""
    if style or align:
        ppr = "<w:pPr>" + (f'<w:pStyle w:val="{style}"/>' if style else "")
        ppr += (f'<w:jc w:val="{align}"/>' if align else "") + "</w:pPr>"
    return f"<w:p>{ppr}{_runs(runs)}</w:p>"


def _table(block: Block) -> str:
    rows = [row for row in block.rows if row]
    width = max((sum(c.colspan for c in row) for row in rows), default=0)
    if width == 0:
        return ""
    out = [
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="5000" w:type="pct"/>'
        '<w:tblLayout w:type="autofit"/></w:tblPr><w:tblGrid>',
        f'<w:gridCol w:w="{9638 // width}"/>' * width,
        "</w:tblGrid>",
    ]
    for row in rows:
        header = all(c.header for c in row)
        out.append("<w:tr>" + ("<w:trPr><w:tblHeader/></w:trPr>" if header else ""))
        used = 0
        for cell in row:
            span = max(1, min(cell.colspan, width - used))
            used += span
            tcpr = '<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="EEEEEE"/>' if cell.header else "<w:tcPr>"
            tcpr += (f'<w:gridSpan w:val="{span}"/>' if span > 1 else "") + "</w:tcPr>"
            runs = [(t, b or cell.header) for t, b in cell.text]
            out.append(f"<w:tc>{tcpr}<w:p>{_runs(runs)}</w:p></w:tc>")
        if used < width:  # a short row: pad it so Word keeps the grid
            out.append(f'<w:tc><w:tcPr><w:gridSpan w:val="{width - used}"/></w:tcPr><w:p/></w:tc>')
        out.append("</w:tr>")
    out.append("</w:tbl><w:p/>")
    return "".join(out)


def _write(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text.encode("utf-8"))


def from_html(page: str, lang: str) -> bytes:
    """The page as a .docx package, written directly (no Word template): fast and byte-stable."""
    parser = _Parser()
    parser.feed(page)
    parser.close()
    body: list[str] = []
    title = ""
    for block in parser.blocks:
        if block.kind == "table":
            body.append(_table(block))
        elif block.kind == "h1":
            title = title or "".join(t for t, _ in block.runs).strip()
            body.append(_paragraph(block.runs, "Title"))
        elif block.kind in {"h2", "h3"}:
            body.append(_paragraph(block.runs, "Heading1" if block.kind == "h2" else "Heading2"))
        elif block.kind == "li":
            body.append(_paragraph([("• ", False), *block.runs], "ListBullet"))
        else:
            align = "right" if "right" in block.css.split() else "center" if "school" in block.css.split() else None
            body.append(_paragraph(block.runs, None, align))
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<w:document {_NS}><w:body>{''.join(body)}"
        '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
        '<w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="567" w:footer="567" '
        'w:gutter="0"/></w:sectPr></w:body></w:document>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        _write(archive, "[Content_Types].xml", CONTENT_TYPES)
        _write(archive, "_rels/.rels", ROOT_RELS)
        _write(archive, "word/document.xml", document)
        _write(archive, "word/_rels/document.xml.rels", DOCUMENT_RELS)
        _write(archive, "word/styles.xml", _styles(lang))
        _write(archive, "docProps/core.xml", CORE.format(title=escape(xmltext.for_word(title).replace("\n", " "))))
    return out.getvalue()
