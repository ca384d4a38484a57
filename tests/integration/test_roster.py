"""Registers in and out on SQLite and PostgreSQL: every encoding, all or nothing, updates with history."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from casework import i18n
from casework.domain.roster import RosterRejected
from casework.errors import InvalidInput
from casework.persistence.tables import AuditEvent, Child, ChildChange, ClassChildren, SchoolClass
from casework.services import children, roster, roster_export
from casework.services.audit import chain
from tests.helpers import unscoped
from tests.rosters import children as register
from tests.rosters import write_csv, write_xlsx


def count(world: Any, what: Any = Child.id) -> int:
    with unscoped(world.ctx.db) as session:
        return session.scalar(select(func.count(what))) or 0


def audit_events(world: Any, action: str) -> list[dict[str, Any]]:
    with unscoped(world.ctx.db) as session:
        rows = session.scalars(select(AuditEvent.data).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        return [json.loads(r) for r in rows]


def by_student_no(world: Any, student_no: str) -> Any:
    with unscoped(world.ctx.db) as session:
        child_id = session.scalar(select(Child.id).where(Child.student_no == student_no))
    return children.show(world.ctx, world.leader, child_id)


def make(tmp_path: Path, rows: list[dict[str, Any]], kind: str) -> Path:
    if kind == "xlsx":
        return write_xlsx(tmp_path / "花名册.xlsx", rows, title="白岩镇中心小学留守儿童花名册")
    return write_csv(tmp_path / f"花名册-{kind}.csv", rows, kind)


@pytest.mark.parametrize("kind", ["utf-8", "utf-8-sig", "gbk", "gb18030", "xlsx"])
def test_a_register_in_every_encoding_goes_in(world: Any, tmp_path: Path, kind: str) -> None:
    rows = register(25, seed=5)
    report = roster.import_children(world.ctx, world.admin, str(make(tmp_path, rows, kind)))
    assert (report.rows, report.created, len(report.updated)) == (25, 25, 0)
    assert report.ignored_columns == ["序号"]
    assert count(world) == 25
    first = by_student_no(world, rows[0]["学籍号"])
    assert first.fields["name"] == rows[0]["学生姓名"]
    assert first.fields["id_number"] == rows[0]["身份证号"]
    assert first.fields["sex"] == ("male" if rows[0]["性别"] == "男" else "female")
    assert (
        first.fields["birth_date"]
        == f"{rows[0]['身份证号'][6:10]}-{rows[0]['身份证号'][10:12]}-{rows[0]['身份证号'][12:14]}"
    )
    assert first.class_ is not None
    assert chain.verify(world.ctx).ok
    (event,) = audit_events(world, "roster.imported")
    assert event["created"] == 25 and "guardian_phone" in event["fields"]
    text = json.dumps(audit_events(world, "roster.imported") + audit_events(world, "class.added"), ensure_ascii=False)
    for row in rows:  # ids and field names only: never a personal value
        for header in ("学生姓名", "身份证号", "监护人电话", "家庭住址"):
            assert str(row[header]) not in text


def test_a_register_longer_than_a_statement_goes_in_row_by_row(world: Any, tmp_path: Path) -> None:
    """SQLite takes a register a few hundred rows a statement: 450 rows are two full statements
    and a shorter one; PostgreSQL takes it by COPY. Each child's sealed fields open under its own
    id, and the classes' children are kept (COPY fires the statement's trigger as an INSERT does)."""
    from casework.persistence import class_months

    rows = register(450, seed=7)
    report = roster.import_children(world.ctx, world.admin, str(make(tmp_path, rows, "utf-8")))
    assert (report.rows, report.created) == (450, 450) and count(world) == 450
    for row in (rows[0], rows[199], rows[200], rows[449]):
        shown = by_student_no(world, row["学籍号"])
        assert (shown.fields["name"], shown.fields["id_number"]) == (row["学生姓名"], row["身份证号"])
    with unscoped(world.ctx.db) as session:
        school_id = session.scalar(select(SchoolClass.school_id).limit(1))
        kept, _ = class_months.read_children(session, school_id)
        assert sum(n for n, _ in kept.values()) == 450
        # the register's classes kept at the import's commit (a class it left alone is counted when asked)
        named = {c.id for c in session.scalars(select(SchoolClass)) if c.name != "1班" or c.grade != 4}
        stored = set(session.scalars(select(ClassChildren.class_key).where(ClassChildren.school_id == school_id)))
        assert named and named <= stored


def test_unknown_classes_are_created_and_audited(world: Any, tmp_path: Path) -> None:
    rows = register(6, seed=2, grades=(4,))
    for row, cls in zip(rows, ["1班", "一班", "(1)班", "2班", "（2）班", "二班"], strict=True):
        row["班级"], row["年级"] = cls, "四年级"
    report = roster.import_children(world.ctx, world.admin, str(make(tmp_path, rows, "utf-8")))
    assert report.classes_created == ["4/2班"]  # 4/1班 is the world's own class
    with unscoped(world.ctx.db) as session:
        names = sorted(session.scalars(select(SchoolClass.name).where(SchoolClass.grade == 4)))
    assert names == ["1班", "2班"]
    assert audit_events(world, "class.added")[-1] == {"by": "roster.imported"}


def test_reimport_is_idempotent_and_updates_with_history(world: Any, tmp_path: Path) -> None:
    rows = register(12, seed=9)
    path = make(tmp_path, rows, "gbk")
    roster.import_children(world.ctx, world.admin, str(path))
    again = roster.import_children(world.ctx, world.admin, str(path))
    assert (again.created, again.unchanged, again.updated) == (0, 12, [])
    assert count(world) == 12 and count(world, ChildChange.id) == 0

    rows[0]["父亲电话"] = "13900001111"
    rows[0]["家庭住址"] = "贵州省遵义市白岩镇新村99号"
    rows[1]["母亲电话"] = ""  # an empty cell changes nothing
    rows[2]["班级"] = "9班"
    report = roster.import_children(world.ctx, world.admin, str(write_xlsx(tmp_path / "更新.xlsx", rows)))
    assert report.created == 0 and count(world) == 12
    changed = {u.row: u.fields for u in report.updated}
    assert changed == {2: ["father_phone", "home_address"], 4: ["class_id"]}
    shown = by_student_no(world, rows[0]["学籍号"])
    history = {h.field: (h.old, h.new) for h in shown.history}
    assert history["father_phone"][1] == "13900001111"
    assert history["home_address"][0] != history["home_address"][1]
    assert by_student_no(world, rows[1]["学籍号"]).fields["mother_phone"] is not None or not rows[1]["母亲电话"]
    (*_, event) = audit_events(world, "roster.imported")
    assert event["changed_fields"] == {"class_id": 1, "father_phone": 1, "home_address": 1}
    assert chain.verify(world.ctx).ok


def test_any_problem_imports_nothing_and_lists_every_one(world: Any, tmp_path: Path) -> None:
    rows = register(30, seed=4)
    rows[3]["父亲电话"] = "12345"
    rows[10]["身份证号"] = rows[10]["身份证号"][:17] + ("1" if rows[10]["身份证号"][17] == "0" else "0")
    rows[20]["出生日期"] = "2001-01-01"
    rows[25]["学籍号"] = rows[24]["学籍号"]
    before = count(world, AuditEvent.seq)
    with pytest.raises(RosterRejected) as caught:
        roster.import_children(world.ctx, world.admin, str(make(tmp_path, rows, "utf-8")))
    found = [(p.row, p.column) for p in caught.value.problems]
    assert (5, "父亲电话") in found and (12, "身份证号") in found and (22, "出生日期") in found
    assert any(row == 27 for row, _ in found)  # the duplicate student number, named on its second row
    assert count(world) == 0 and count(world, SchoolClass.id) == 1
    assert count(world, AuditEvent.seq) == before
    assert "nothing was imported" in i18n.render(caught.value.msg, "en")


def test_a_birth_date_no_pupil_could_have_is_the_rows_problem(world: Any, tmp_path: Path) -> None:
    """As at the command line: 2099 or 1850 is a typing error, refused with the row and the reason."""
    rows = register(10, seed=5)
    for i, born in ((2, "2099-01-01"), (6, "1850-01-01")):
        rows[i]["身份证号"] = ""  # no ID number whose birth date would disagree first
        rows[i]["出生日期"] = born
    with pytest.raises(RosterRejected) as caught:
        roster.import_children(world.ctx, world.admin, str(make(tmp_path, rows, "utf-8")))
    problems = {(p.row, p.column): i18n.render(p.problem, "en") for p in caught.value.problems}
    assert set(problems) == {(4, "出生日期"), (8, "出生日期")}
    assert all("a school serves children aged" in text for text in problems.values())
    assert count(world) == 0


def test_the_same_child_twice_against_the_database(world: Any, tmp_path: Path) -> None:
    rows = register(2, seed=8)
    world.child(student_no=rows[0]["学籍号"])
    world.child(name="李四", id_number=rows[1]["身份证号"], sex=rows[1]["性别"], birth_date=rows[1]["出生日期"])
    rows[0]["身份证号"] = rows[1]["身份证号"]
    rows[0]["出生日期"] = rows[1]["出生日期"]
    rows[0]["性别"] = rows[1]["性别"]
    with pytest.raises(RosterRejected) as caught:
        roster.import_children(world.ctx, world.admin, str(make(tmp_path, rows, "utf-8")))
    texts = [i18n.render(p.problem, "en") for p in caught.value.problems]
    assert any("the student number is on the card of child 1, the ID number on that of child 2" in t for t in texts)
    assert any("is also on row 2" in t for t in texts)


def test_a_hand_added_child_is_found_by_name_and_birth_date(world: Any, tmp_path: Path) -> None:
    child_id = world.child()  # 王小明, 2016-03-08, no numbers yet
    rows = register(1, seed=1)
    rows[0].update(学生姓名="王小明", 出生日期="2016-03-08", 学籍号="G2016", 身份证号="")
    report = roster.import_children(world.ctx, world.admin, str(make(tmp_path, rows, "utf-8")))
    assert report.created == 0 and [u.child_id for u in report.updated] == [child_id]
    assert children.show(world.ctx, world.leader, child_id).fields["student_no"] == "G2016"


def test_dry_run_writes_nothing_but_says_what_would_happen(world: Any, tmp_path: Path) -> None:
    rows = register(5, seed=6)
    path = make(tmp_path, rows, "xlsx")
    roster.import_children(world.ctx, world.admin, str(path))
    rows[0]["监护人电话"] = "13900002222"
    rows.append(register(6, seed=6)[5])
    before = count(world, AuditEvent.seq)
    report = roster.import_children(world.ctx, world.admin, str(make(tmp_path, rows, "xlsx")), dry_run=True)
    assert report.dry_run and report.created == 1 and [u.fields for u in report.updated] == [["guardian_phone"]]
    assert [c.name for c in report.new_rows] == [rows[5]["学生姓名"]]
    assert count(world) == 5 and count(world, AuditEvent.seq) == before and count(world, ChildChange.id) == 0


def test_a_mapping_file_and_another_sheet(world: Any, tmp_path: Path) -> None:
    rows = register(3, seed=3)
    for row in rows:
        row["学号"] = row.pop("学籍号")
        row["家长手机"] = row.pop("监护人电话")
    headers = ["学生姓名", "学号", "身份证号", "家长手机", "备注"]
    path = write_xlsx(tmp_path / "r.xlsx", rows, headers=headers, sheet="三年级")
    with pytest.raises(RosterRejected) as caught:
        roster.import_children(world.ctx, world.admin, str(path), sheet="三年级")
    assert {p.column for p in caught.value.problems} == {"学号", "家长手机", "备注"}
    mapping = tmp_path / "mapping.txt"
    mapping.write_text("学号 = 学籍号\n家长手机 = guardian_phone\n备注 = ignore\n", encoding="gbk")
    report = roster.import_children(world.ctx, world.admin, str(path), sheet="三年级", mapping_path=str(mapping))
    assert report.created == 3 and report.sheet == "三年级"
    with pytest.raises(InvalidInput, match="no sheet '一年级'"):
        roster.import_children(world.ctx, world.admin, str(path), sheet="一年级")


# ---------------------------------------------------------------------------- export


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_again_unchanged(world: Any, tmp_path: Path, fmt: str) -> None:
    roster.import_children(world.ctx, world.admin, str(make(tmp_path, register(8, seed=12), "gb18030")))
    child_id = world.child(student_no="G-hand", health="=1+1 看似公式")
    out = tmp_path / f"children.{fmt}"
    result = roster_export.export_children(world.ctx, world.leader, str(out))
    assert result.rows == 9 and result.format == fmt
    if fmt == "csv":
        data = out.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so that Excel reads it right
        with open(out, encoding="utf-8-sig", newline="") as f:
            table = list(csv.reader(f))
        assert table[0][:3] == ["学生姓名", "性别", "出生日期"]
        assert any(row[table[0].index("身体状况")] == "'=1+1 看似公式" for row in table[1:])
    else:
        from openpyxl import load_workbook

        book = load_workbook(out, read_only=True)
        values = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        assert "'=1+1 看似公式" in [v for row in values for v in row]
    again = roster.import_children(world.ctx, world.admin, str(out))
    assert (again.created, len(again.updated), again.unchanged) == (0, 0, 9)
    assert children.show(world.ctx, world.leader, child_id).fields["health"] == "=1+1 看似公式"
    assert audit_events(world, "roster.exported")[-1]["rows"] == 9


def test_redaction_is_a_switch_for_access_control(world: Any, tmp_path: Path) -> None:
    world.child(id_number="110105201503080027", sex="女", birth_date="2015-03-08")
    out = tmp_path / "redacted.csv"
    roster_export.export_children(world.ctx, world.admin, str(out), redact={"id_number", "guardian_phone"})
    with open(out, encoding="utf-8-sig", newline="") as f:
        header, row = list(csv.reader(f))
    assert row[header.index("身份证号")] == "***" and row[header.index("监护人电话")] == "***"
    # the administrator reads no counselling content: the health notes are redacted whatever was asked
    assert audit_events(world, "roster.exported")[-1]["redacted"] == [
        "guardian_health",
        "guardian_phone",
        "health",
        "id_number",
    ]
    with pytest.raises(InvalidInput):
        roster_export.export_children(world.ctx, world.admin, str(out), redact={"shoe_size"})


def test_cases_export(world: Any, tmp_path: Path) -> None:
    case_id = world.case()
    out = tmp_path / "cases.xlsx"
    assert roster_export.export_cases(world.ctx, world.admin, str(out)).rows == 1
    from openpyxl import load_workbook

    book = load_workbook(out, read_only=True)
    header, row = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    assert row[0] == case_id and "摸底建档" in row
    assert not list(tmp_path.glob("*.part"))
