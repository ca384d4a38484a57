"""The streaming XLSX reader against workbooks written by hand, openpyxl, and the odd generator."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest

from casework.formats.spreadsheets import open_table
from casework.formats.xlsx import Workbook, column_index

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def workbook(path: Path, sheet: str, strings: str | None = None, styles: str | None = None) -> Path:
    rels = [
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>',
        f'<Relationship Id="rId9" Type="{REL}/worksheet" Target="worksheets/sheet2.xml"/>',
    ]
    if strings is not None:
        rels.append(f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="/xl/sharedStrings.xml"/>')
    if styles is not None:
        rels.append(f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("_rels/.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="r" '
                   f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')  # fmt: skip
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><workbookPr/><sheets>'
            f'<sheet name="隐藏" sheetId="2" state="hidden" r:id="rId9"/>'
            f'<sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG}">{"".join(rels)}</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/worksheets/sheet2.xml", f'<worksheet xmlns="{MAIN}"><sheetData/></worksheet>')
        if strings is not None:
            z.writestr("xl/sharedStrings.xml", strings)
        if styles is not None:
            z.writestr("xl/styles.xml", styles)
    return path


STRINGS = (
    f'<sst xmlns="{MAIN}"><si><t>学生姓名</t></si><si><t>学籍号</t></si>'
    '<si><r><rPr><b/></rPr><t>王</t></r><r><t xml:space="preserve">小红</t></r>'
    '<rPh sb="0" eb="1"><t>おう</t></rPh></si><si><t>A&amp;B</t></si></sst>'
)
STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts><numFmt numFmtId="176" formatCode="yyyy/m/d"/></numFmts>'
    '<cellXfs><xf numFmtId="0"/><xf numFmtId="176"/><xf numFmtId="31"/><xf numFmtId="49"/></cellXfs></styleSheet>'
)


def test_every_kind_of_cell(tmp_path: Path) -> None:
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><dimension ref="A1:F3"/><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="3" spans="1:6"><c r="A3" t="s"><v>2</v></c><c r="B3"><v>2015030801</v></c>'
        '<c r="C3" s="1"><v>42071</v></c><c r="D3" s="2"><v>42071.5</v></c><c r="E3" t="b"><v>1</v></c>'
        '<c r="G3" t="inlineStr"><is><t>1&lt;2</t></is></c><c r="H3" t="s"><v>3</v></c>'
        '<c r="I3" t="str"><f>A3&amp;"x"</f><v>王小红x</v></c><c r="J3" t="e"><v>#N/A</v></c>'
        '<c r="K3" s="3"/><c r="L3"><v>1.5E3</v></c></row>'
        '<row r="4"/></sheetData></worksheet>'
    )
    path = workbook(tmp_path / "kinds.xlsx", sheet, STRINGS, STYLES)
    with open_table(str(path)) as table:
        rows = list(table.rows)
        assert table.sheet == "花名册" and table.estimated_rows == 3
    assert rows[0] == (1, ["学生姓名", "学籍号"])
    number, cells = rows[1]
    assert number == 3
    assert cells[:5] == ["王小红", 2015030801, datetime(2015, 3, 8), datetime(2015, 3, 8, 12), True]
    assert cells[5] is None and cells[6] == "1<2" and cells[7] == "A&B"
    assert cells[8] == '=A3&"x"' and cells[9] == "#N/A" and cells[10] is None and cells[11] == 1500.0
    assert rows[2] == (4, [])


def test_a_prefixed_worksheet_and_cells_without_references(tmp_path: Path) -> None:
    sheet = (
        f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row><x:c t="inlineStr"><x:is><x:t>姓名</x:t></x:is></x:c>'
        '<x:c t="inlineStr"><x:is><x:t>学籍号</x:t></x:is></x:c></x:row>'
        '<x:row><x:c t="inlineStr"><x:is><x:t>王小红</x:t></x:is></x:c><x:c><x:v>7</x:v></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    )
    with open_table(str(workbook(tmp_path / "prefixed.xlsx", sheet))) as table:
        assert list(table.rows) == [(1, ["姓名", "学籍号"]), (2, ["王小红", 7])]


def test_a_comment_inside_a_row_goes_the_careful_way(tmp_path: Path) -> None:
    sheet = (
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><!-- a note --><c r="A1" t="inlineStr">'
        '<is><t>姓名</t></is></c><c r="C1" cm="1"><v>3</v></c></row></sheetData></worksheet>'
    )
    with open_table(str(workbook(tmp_path / "odd.xlsx", sheet))) as table:
        assert list(table.rows) == [(1, ["姓名", None, 3])]


def test_openpyxl_files_read_alike(tmp_path: Path) -> None:
    from openpyxl import Workbook as Book

    book = Book()
    ws = book.active
    assert ws is not None
    ws.append(["学生姓名", "出生日期", "年龄", "备注"])
    ws.append(["王小红", date(2015, 3, 8), 9, "=1+1"])
    ws.append([" 空格 ", None, 9.5, "<&>"])
    book.save(tmp_path / "o.xlsx")
    book.close()
    with open_table(str(tmp_path / "o.xlsx")) as table:
        rows = [cells for _, cells in table.rows]
    assert rows[1] == ["王小红", datetime(2015, 3, 8), 9, "=1+1"]
    assert rows[2] == [" 空格 ", None, 9.5, "<&>"]


@pytest.mark.parametrize(("ref", "index"), [("A1", 0), ("Z9", 25), ("AA10", 26), ("XFD1048576", 16383)])
def test_column_index(ref: str, index: int) -> None:
    assert column_index(ref) == index


def test_hidden_sheets_are_skipped_by_default_and_listed(tmp_path: Path) -> None:
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>'
    path = workbook(tmp_path / "h.xlsx", sheet)
    book = Workbook(str(path))
    try:
        assert book.sheets == [
            ("隐藏", "xl/worksheets/sheet2.xml", True),
            ("花名册", "xl/worksheets/sheet1.xml", False),
        ]
    finally:
        book.close()
    with open_table(str(path)) as table:
        assert table.sheet == "花名册" and table.other_sheets == ["隐藏"] and list(table.rows) == [(1, [1])]
    with open_table(str(path), sheet="隐藏") as table:
        assert list(table.rows) == []
