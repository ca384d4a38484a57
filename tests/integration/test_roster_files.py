"""Malformed registers: each gets one clear message and imports nothing."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from casework import i18n
from casework.domain.roster import RosterRejected
from casework.errors import InvalidInput
from casework.persistence.tables import Child
from casework.services import roster
from tests.helpers import unscoped
from tests.rosters import HEADERS, children, write_csv, write_xlsx

Maker = Callable[[Path], Path]


def truncated_xlsx(tmp: Path) -> Path:
    whole = write_xlsx(tmp / "whole.xlsx", children(20)).read_bytes()
    path = tmp / "truncated.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    return path


def wrong_encoding(tmp: Path) -> Path:
    path = tmp / "wrong.csv"
    path.write_bytes("学生姓名,学籍号\n".encode() + b"\xff\xfe\x80\x81,G1\n")
    return path


def utf16(tmp: Path) -> Path:
    path = tmp / "unicode.txt"
    path.write_bytes("学生姓名\t学籍号\n王小红\tG1\n".encode("utf-16"))
    return path


def utf8_with_a_damaged_byte(tmp: Path) -> Path:
    path = write_csv(tmp / "damaged.csv", children(30))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] = 0xFF
    path.write_bytes(bytes(data))
    return path


def empty(tmp: Path) -> Path:
    path = tmp / "empty.csv"
    path.write_bytes(b"")
    return path


def headers_only_csv(tmp: Path) -> Path:
    return write_csv(tmp / "headers.csv", [])


def headers_only_xlsx(tmp: Path) -> Path:
    return write_xlsx(tmp / "headers.xlsx", [])


def ten_thousand_columns(tmp: Path) -> Path:
    wide = [*HEADERS, *(f"列{i}" for i in range(10_000 - len(HEADERS)))]
    return write_xlsx(tmp / "wide.xlsx", children(2), headers=wide)


def ten_thousand_columns_csv(tmp: Path) -> Path:
    wide = [*HEADERS, *(f"列{i}" for i in range(10_000 - len(HEADERS)))]
    return write_csv(tmp / "wide.csv", children(2), headers=wide)


def megabyte_cell_csv(tmp: Path) -> Path:
    rows = children(3)
    rows[1]["家庭住址"] = "村" * 1_000_000
    return write_csv(tmp / "big-cell.csv", rows)


def megabyte_cell_xlsx(tmp: Path) -> Path:
    rows = children(3)
    rows[1]["家庭住址"] = "村" * 1_000_000
    return write_xlsx(tmp / "big-cell.xlsx", rows)


def formulas(tmp: Path) -> Path:
    rows = children(3)
    rows[2]["监护人年龄"] = "=2026-1950"
    return write_xlsx(tmp / "formulas.xlsx", rows)


def merged_header_cells(tmp: Path) -> Path:
    """Two header rows: 父亲 merged over three columns above 姓名, 电话, 务工单位."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["学生姓名", "学籍号", "父亲", None, None])
    ws.append([None, None, "姓名", "电话", "务工单位"])
    ws.merge_cells("C1:E1")
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:B2")
    ws.append(["王小红", "G1", "王建", "13812345678", "东莞某厂"])
    book.save(tmp / "merged.xlsx")
    book.close()
    return tmp / "merged.xlsx"


def renamed_text(tmp: Path) -> Path:
    path = tmp / "register.xlsx"
    path.write_text("学生姓名,学籍号\n王小红,G1\n", encoding="utf-8")
    return path


def renamed_docx(tmp: Path) -> Path:
    path = tmp / "register.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return path


def old_xls(tmp: Path) -> Path:
    path = tmp / "register.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    return path


def zip_bomb(tmp: Path) -> Path:
    path = write_xlsx(tmp / "bomb.xlsx", children(2))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", b"\0" * (64 << 20))
    return path


def xml_bomb(tmp: Path) -> Path:
    """A billion laughs in the shared-string table."""
    path = write_xlsx(tmp / "laughs.xlsx", children(2))
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol3;</t></si></sst>'
    )
    rebuilt = tmp / "rebuilt.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/sharedStrings.xml", laughs)
        rels = src.read("xl/_rels/workbook.xml.rels").decode()
        rels = rels.replace(
            "</Relationships>",
            '<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/sharedStrings"/></Relationships>',
        )
        dst.writestr("xl/_rels/workbook.xml.rels.tmp", rels)
    # A second pass writes the patched relationships under their own name.
    final = tmp / "xml-bomb.xlsx"
    with zipfile.ZipFile(rebuilt) as src, zipfile.ZipFile(final, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename == "xl/_rels/workbook.xml.rels":
                continue
            name = item.filename.removesuffix(".tmp")
            dst.writestr(name, src.read(item.filename))
    return final


def xml_bomb_in_sheet(tmp: Path) -> Path:
    path = write_xlsx(tmp / "sheet.xlsx", children(2))
    final = tmp / "sheet-bomb.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(final, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet', 1)
            dst.writestr(item, data)
    return final


CASES: list[tuple[str, Maker, str]] = [
    ("truncated-xlsx", truncated_xlsx, "damaged or truncated"),
    ("wrong-encoding", wrong_encoding, "neither UTF-8 nor GBK/GB18030"),
    ("utf-16", utf16, "NUL bytes"),
    ("damaged-utf-8", utf8_with_a_damaged_byte, "UTF-8 text with an invalid byte on line"),
    ("empty", empty, "is empty"),
    ("headers-only-csv", headers_only_csv, "no data rows below the header (row 1)"),
    ("headers-only-xlsx", headers_only_xlsx, "no data rows below the header (row 1)"),
    ("10000-columns-xlsx", ten_thousand_columns, "a register has at most 200"),
    ("10000-columns-csv", ten_thousand_columns_csv, "a register has at most 200"),
    ("1mb-cell-csv", megabyte_cell_csv, "a cell is longer than"),
    ("1mb-cell-xlsx", megabyte_cell_xlsx, "longer than 500 characters"),
    ("formulas", formulas, "holds a formula"),
    ("merged-header-cells", merged_header_cells, "unknown column '父亲'"),
    ("renamed-text", renamed_text, "not an XLSX workbook"),
    ("renamed-docx", renamed_docx, "not an XLSX workbook"),
    ("old-xls", old_xls, "old Excel or WPS workbook"),
    ("zip-bomb", zip_bomb, "zip bomb"),
    ("xml-bomb", xml_bomb, "was refused as unsafe"),
    ("xml-bomb-in-sheet", xml_bomb_in_sheet, "was refused as unsafe"),
]


def _message(exc: InvalidInput) -> str:
    lines = [i18n.render(exc.msg, "en")]
    if isinstance(exc, RosterRejected):
        lines += [i18n.render(p.problem, "en") for p in exc.problems]
    return "\n".join(lines)


@pytest.mark.parametrize(("make", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_malformed_file_gets_a_clear_error_and_imports_nothing(
    shared_world: Any, tmp_path: Path, make: Maker, fragment: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(InvalidInput) as caught:
        roster.import_children(shared_world.ctx, shared_world.admin, str(path))
    message = _message(caught.value)
    assert fragment in message, message
    assert "Traceback" not in message
    if "unsafe" in fragment:  # refused on purpose, not "damaged or truncated"
        assert "damaged" not in message, message
    with unscoped(shared_world.ctx.db) as session:
        assert session.scalar(select(func.count(Child.id))) == 0


def test_a_workbook_renamed_csv_is_still_read(shared_world: Any, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "register.xlsx", children(2))
    renamed = path.rename(tmp_path / "register.csv")
    report = roster.import_children(shared_world.ctx, shared_world.admin, str(renamed), dry_run=True)
    assert report.format == "xlsx" and report.created == 2
