"""The auditor's export: streamed, limited to AUDIT_READ schools, masked by role, formula-safe, recorded."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import pytest

from casework import audit
from casework.errors import InvalidInput, PermissionDenied
from casework.services import access, setup, trail
from casework.services.audit import chain
from casework.services.audit import workers as audit_workers

# Marker values: a mobile, an 18-character resident ID, a landline, written where events could carry them.
MOBILE, ID_NUMBER, LANDLINE, INT_MOBILE = "13912340001", "110105201603080024", "0851-28123456", 13712340002
# What a tester looks for in the raw file: any phone or ID number at all, not only the markers.
ANY_NUMBER = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d{9}|\d{17}[\dXx]|\d{15}|0\d{2,3}-?\d{7,8})(?![0-9A-Za-z])")
FORMULAS = ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")


def _auditor(world) -> str:
    return str(setup.add_staff(world.ctx, world.admin, "冯审之", ["auditor"]))


def _append(world, **fields) -> None:
    with world.ctx.db.write() as session:
        access.system(session)
        trail.append(session, trail.Entry(school_id=1, at=world.clock(), actor_id=int(world.admin), **fields))


def _personal_events(world) -> None:
    """A child whose contact data holds the markers, and events whose text holds them too."""
    world.child(guardian_phone=MOBILE, id_number=ID_NUMBER, sex="女", birth_date="2016-03-08")
    _append(
        world,
        action="test.note",
        data={"note": f"家长电话{MOBILE}，身份证{ID_NUMBER}", "phones": [LANDLINE, INT_MOBILE], "seq": 12},
    )
    _append(world, action="test.note", to_state=f"tel {MOBILE}", data={})


def _xlsx_rows(path: Path) -> list[tuple]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return [row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _raw_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
    return path.read_text(encoding="utf-8-sig")


def _read(path: Path, fmt: str) -> list[dict]:
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))
    header, *rows = _xlsx_rows(path)
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_every_event_round_trips_and_the_export_is_recorded(world, tmp_path, fmt) -> None:
    for _ in range(3):
        world.fire(world.case(), "assess")
    expected = chain.verify(world.ctx).events
    path = tmp_path / f"trail.{fmt}"
    exported = chain.export_file(world.ctx, world.leader, fmt, str(path))
    assert exported.events == expected and exported.schools == (1,) and not exported.masked
    events = _read(path, fmt)
    assert len(events) == expected and str(events[0]["seq"]) == "1"
    if fmt == "jsonl":
        assert audit.verify(events).ok
    assert not list(tmp_path.glob("*.part"))
    # The export itself is in the chain, which still verifies.
    result = chain.verify(world.ctx)
    assert result.ok and result.events == expected + 1
    last = _read(_export_again(world, tmp_path), "jsonl")[-1]
    assert last["action"] == "audit.exported" and last["actor_id"] == int(world.leader)
    assert last["data"] == {"format": fmt, "events": expected, "roles": ["leader"], "masked": False}


def _export_again(world, tmp_path) -> Path:
    path = tmp_path / "again.jsonl"
    chain.export_file(world.ctx, world.leader, "jsonl", str(path))
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_the_auditor_sees_no_phone_or_id_number(world, tmp_path, fmt) -> None:
    _personal_events(world)
    auditor = _auditor(world)
    path = tmp_path / f"auditor.{fmt}"
    exported = chain.export_file(world.ctx, auditor, fmt, str(path))
    assert exported.masked
    raw = _raw_text(path)
    assert ANY_NUMBER.search(raw) is None, ANY_NUMBER.search(raw)
    for marker in (MOBILE, ID_NUMBER, LANDLINE, str(INT_MOBILE)):
        assert marker not in raw
    notes = [e for e in _read(path, fmt) if e["action"] == "test.note"]
    data = notes[0]["data"] if fmt == "jsonl" else json.loads(notes[0]["data"])
    assert data["note"] == "家长电话***********，身份证******************"
    assert data["phones"] == ["*************", "***********"] and data["seq"] == 12
    assert notes[1]["to_state"] == "tel ***********"
    # The export event records the masking, with no personal value of its own.
    with world.ctx.db.read() as session:
        from casework.persistence import audit_rows

        *_, last = audit_rows.stream(session, [1])
    assert last[4] == "audit.exported"
    assert json.loads(last[10]) == {"format": fmt, "events": exported.events, "roles": ["auditor"], "masked": True}
    assert chain.verify(world.ctx).ok


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_a_role_that_reads_contact_data_sees_the_numbers(world, tmp_path, fmt) -> None:
    _personal_events(world)
    path = tmp_path / f"admin.{fmt}"
    exported = chain.export_file(world.ctx, world.admin, fmt, str(path))
    assert not exported.masked
    raw = _raw_text(path)
    for marker in (MOBILE, ID_NUMBER, LANDLINE, str(INT_MOBILE)):
        assert marker in raw


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_cells_are_neutralised(world, tmp_path, fmt) -> None:
    for text in FORMULAS:
        _append(world, action="test.formula", object_type=text[:40], to_state=text[:30], data={})
    path = tmp_path / f"formulas.{fmt}"
    chain.export_file(world.ctx, _auditor(world), fmt, str(path))
    rows = [e for e in _read(path, fmt) if e["action"] == "test.formula"]
    assert [r["object_type"] for r in rows] == ["'" + t for t in FORMULAS]
    assert [r["to_state"] for r in rows] == ["'" + t for t in FORMULAS]
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path)  # full mode: cell types visible
        cells = [c for row in book.active.iter_rows() for c in row]
        assert all(c.data_type != "f" for c in cells)
        book.close()


def test_a_counsellor_may_not_read_the_trail(world, tmp_path) -> None:
    with pytest.raises(PermissionDenied):
        chain.export_file(world.ctx, world.counsellor, "jsonl", str(tmp_path / "x.jsonl"))
    with pytest.raises(PermissionDenied):
        chain.verify_as(world.ctx, world.counsellor)
    assert not (tmp_path / "x.jsonl").exists()


def test_unknown_format_writes_nothing(world, tmp_path) -> None:
    with pytest.raises(InvalidInput):
        chain.export_file(world.ctx, world.leader, "xml", str(tmp_path / "x.xml"))
    assert not (tmp_path / "x.xml").exists()


def test_only_schools_with_audit_read_are_exported(world, tmp_path) -> None:
    """Another school's chain stays out of the export of someone who audits only the first."""
    other = setup.init(world.ctx, admin="外校管理员", school="另一所小学")
    world.case()
    path = tmp_path / "one.jsonl"
    exported = chain.export_file(world.ctx, _auditor(world), "jsonl", str(path))
    assert exported.schools == (1,)
    assert {e["school_id"] for e in _read(path, "jsonl")} == {1}
    theirs = chain.export_file(world.ctx, str(other.admin_id), "jsonl", str(tmp_path / "two.jsonl"))
    assert theirs.schools == (other.school_id,)
    assert chain.verify(world.ctx).ok and chain.verify(world.ctx).schools == 2


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_worker_processes_write_what_one_process_writes(world, tmp_path, fmt, monkeypatch) -> None:
    """The chain cut into ranges written by worker processes beside this one: the same file, masked alike."""
    from casework.persistence import audit_rows
    from casework.services.audit import chain
    from casework.services.audit import export as audit_export

    monkeypatch.setattr(audit_export, "PARTS", 3)  # this process and two workers
    _personal_events(world)
    for text in FORMULAS:
        _append(world, action="test.formula", object_type=text[:40], to_state=text[:30], data={})
    for _ in range(3):
        world.fire(world.case(), "assess")
    auditor = _auditor(world)
    one, two = tmp_path / f"one.{fmt}", tmp_path / f"two.{fmt}"
    single = chain.export_file(world.ctx, auditor, fmt, str(one))  # the default threshold: one process
    with world.ctx.db.read() as session:
        assert all(audit_rows.plan(session, [1], 3, audit_workers.HEAD_START))  # three ranges, none empty
    split = chain.export_file(world.ctx, auditor, fmt, str(two), parallel_from=0)
    # The second export also holds the event recording the first, at the end of the one school's chain.
    assert split.events == single.events + 1 and single.events > 10
    assert _actions(world)[-2:] == ["audit.exported", "audit.exported"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([one.name, two.name])  # no part left behind
    if fmt == "xlsx":
        assert _xlsx_rows(two)[:-1] == _xlsx_rows(one)
        assert _xlsx_rows(two)[-1][4] == "audit.exported"
    else:
        first, second = one.read_bytes(), two.read_bytes()
        assert second.startswith(first)
        assert second[len(first) :].count(b"\n") == 1 and b"audit.exported" in second[len(first) :]
    assert not ANY_NUMBER.search(_raw_text(two))


def _actions(world) -> list[str]:
    from casework.persistence import audit_rows

    with world.ctx.db.read() as session:
        return [row[4] for row in audit_rows.stream(session, [1])]


def test_a_failed_worker_leaves_no_file_and_records_no_export(world, tmp_path, monkeypatch) -> None:
    import sys

    from casework.services.audit import chain
    from casework.services.audit import export as audit_export

    for _ in range(3):
        world.fire(world.case(), "assess")
    auditor = _auditor(world)
    before = _actions(world)
    monkeypatch.setattr(audit_export, "PARTS", 2)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the worker process exits 1 at once
    with pytest.raises(RuntimeError, match="audit worker failed"):
        chain.export_file(world.ctx, auditor, "csv", str(tmp_path / "trail.csv"), parallel_from=0)
    assert list(tmp_path.iterdir()) == []
    assert _actions(world) == before


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_a_filtered_export_is_cut_into_ranges_of_what_passes_and_streamed_as_one_process_writes_it(
    world, tmp_path, fmt
) -> None:
    """The web's export with filters: the workers read their ranges with the same filters, and the
    pieces are the bytes one process writes, masked alike."""
    from casework.persistence import audit_rows

    _personal_events(world)
    for _ in range(4):
        world.fire(world.case(), "assess")
    auditor = _auditor(world)
    filters = chain.ExportFilters(action="case.moved")
    with world.ctx.db.read() as session:
        ranges = audit_rows.plan(session, [1], 3, 0, filters)
        everything = sum(s.count for r in audit_rows.plan(session, [1], 1) for s in r)
    assert all(ranges) and sum(s.count for r in ranges for s in r) == 4 < everything  # cut in what passes

    def streamed(**options) -> tuple[bytes, int]:
        info, pieces = chain.export_stream(world.ctx, auditor, fmt, filters, **options)
        return b"".join(pieces), sum(info.events.values())

    one, one_events = streamed()  # below the threshold: one process
    split, split_events = streamed(parallel_from=0, parts=3)  # this process and two workers
    assert one_events == split_events == 4
    if fmt == "xlsx":
        (tmp_path / "one.xlsx").write_bytes(one)
        (tmp_path / "split.xlsx").write_bytes(split)
        assert _xlsx_rows(tmp_path / "split.xlsx") == _xlsx_rows(tmp_path / "one.xlsx")
        assert [row[4] for row in _xlsx_rows(tmp_path / "split.xlsx")[1:]] == ["case.moved"] * 4
    else:
        assert split == one
        lines = split.decode("utf-8-sig").splitlines()[(fmt == "csv") :]
        assert len(lines) == 4 and all("case.moved" in line for line in lines)
    with world.ctx.db.read() as session:
        recorded = [json.loads(row[10]) for row in audit_rows.stream(session, [1]) if row[4] == "audit.exported"]
    assert [(r["events"], r["filters"], r.get("complete", True)) for r in recorded] == [
        (4, {"action": "case.moved"}, True)
    ] * 2


def test_an_export_the_browser_stops_stops_its_workers_and_leaves_no_part(world, tmp_path, monkeypatch) -> None:
    import tempfile

    from casework.persistence import audit_rows

    for _ in range(6):
        world.fire(world.case(), "assess")
    auditor = _auditor(world)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the parts are written
    info, pieces = chain.export_stream(world.ctx, auditor, "jsonl", chain.ExportFilters(), parallel_from=0, parts=3)
    first = next(pieces)
    assert first.startswith(b'{"action":') and list(tmp_path.iterdir())  # the workers' folder is there
    pieces.close()  # the browser went away
    assert list(tmp_path.iterdir()) == []
    with world.ctx.db.read() as session:
        last = [row for row in audit_rows.stream(session, [1])][-1]
    assert last[4] == "audit.exported" and json.loads(last[10])["complete"] is False
    assert 0 < json.loads(last[10])["events"] == sum(info.events.values())
