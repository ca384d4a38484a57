"""Encryption at rest: sealed values round-trip, stay bound to their row, need the key, rotate, and can be found."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from casework.cli import app
from casework.domain.inputs import RecordAssessment
from casework.persistence import crypto, migrate
from casework.persistence.db import Database
from casework.persistence.tables import AuditEvent, Child, Consent
from casework.services import Context, assessments, children, keys, roster, roster_export, setup
from casework.services.audit import chain
from tests.helpers import BACKENDS, new_url, unscoped

OTHER_KEY = base64.b64encode(b"another-key-of-thirty-two-bytes!").decode()


def raw(db: Database, sql: str, **params: object) -> list[tuple[object, ...]]:
    with db.engine.begin() as conn:
        result = conn.execute(sa.text(sql), params)
        return [tuple(r) for r in result] if result.returns_rows else []


def test_sealed_values_round_trip_and_are_not_stored_in_the_clear(world) -> None:
    child = world.child(name="测试甲", id_number="52032120160308169X")
    shown = children.show(world.ctx, world.leader, child)
    assert shown.fields["name"] == "测试甲"
    assert shown.fields["id_number"] == "52032120160308169X"
    (name, id_number, bidx) = raw(
        world.ctx.db, "SELECT name, id_number, id_number_bidx FROM child WHERE id = :i", i=child
    )[0]
    assert isinstance(name, bytes | memoryview)
    blob = bytes(name)
    assert blob[0] == crypto.VERSION and len(blob) == 1 + 4 + 12 + len("测试甲".encode()) + 16
    assert "测试甲".encode() not in blob and b"169X" not in bytes(id_number)
    assert bidx is not None and "169X" not in str(bidx)


def test_a_value_copied_to_another_row_or_column_does_not_decrypt(world) -> None:
    first = world.child(name="第一个")
    second = world.child(name="第二个")
    db = world.ctx.db
    raw(db, "UPDATE child SET name = (SELECT name FROM child WHERE id = :a) WHERE id = :b", a=first, b=second)
    with pytest.raises(crypto.SealBroken, match=rf"child.name of row {second} does not decrypt"):
        children.show(world.ctx, world.leader, second)
    assert children.show(world.ctx, world.leader, first).fields["name"] == "第一个"
    raw(db, "UPDATE child SET father_name = name WHERE id = :a", a=first)
    with pytest.raises(crypto.SealBroken, match=rf"child.father_name of row {first}"):
        children.show(world.ctx, world.leader, first)


def test_plaintext_is_refused_by_the_column_type(world) -> None:
    child = world.child()
    with world.ctx.db.write() as session, pytest.raises(sa.exc.StatementError, match="child.name is sealed"):
        session.connection().execute(
            sa.update(Child.__table__).where(Child.__table__.c.id == child).values(name="明文")
        )


def test_a_missing_or_wrong_key_is_refused(world, monkeypatch) -> None:
    world.child()
    wrong = Database(world.url, keyring=crypto.KeyRing(crypto.Key.decode(OTHER_KEY, "test")))
    with pytest.raises(crypto.KeyProblem, match="is not the key of"):
        wrong.check_key()
    wrong.dispose()
    monkeypatch.delenv("CASEWORK_KEY")
    db = Database(world.url)
    with pytest.raises(crypto.KeyProblem, match="is encrypted .* and no key was given"):
        db.check_key()
    db.dispose()


def test_the_cli_refuses_to_start_with_a_wrong_key(tmp_path, monkeypatch) -> None:
    db = str(tmp_path / "k.db")
    runner = CliRunner(catch_exceptions=False)
    assert runner.invoke(app(), ["--db", db, "init", "--admin", "管理员"]).exit_code == 0
    result = runner.invoke(app(), ["--db", db, "child", "list", "--as", "1"], env={"CASEWORK_KEY": OTHER_KEY})
    assert result.exit_code == 1 and "不是" in result.output and "的密钥" in result.output, result.output
    monkeypatch.delenv("CASEWORK_KEY")
    result = runner.invoke(app(), ["--db", db, "child", "list", "--as", "1"])
    assert result.exit_code == 1 and "未提供密钥" in result.output, result.output


def test_rotate_reseals_everything_and_the_old_key_is_no_longer_needed(world, tmp_path) -> None:
    child = world.child(name="轮换前", father_phone="13900002222")
    case_id = world.case()
    assessments.assessment(
        world.ctx, world.counsellor, RecordAssessment(case_id=case_id, categories=["learning"], summary="评估摘要轮换")
    )
    new_file = tmp_path / "new.key"
    done = keys.rotate(world.ctx, world.admin, out=str(new_file))
    assert done.values > 0 and done.old_key != done.new_key
    assert stat.S_IMODE(os.stat(new_file).st_mode) == 0o600
    fresh = Database(world.url, keyring=crypto.KeyRing(crypto.read_key_file(new_file)))
    fresh.check_key()
    ctx = Context(db=fresh, clock=world.clock)
    assert children.show(ctx, world.leader, child).fields["name"] == "轮换前"
    assert [c.id for c in keys.find_children(ctx, world.leader, phone="139-0000-2222")] == [child]
    with unscoped(fresh) as session:
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "keys.rotated")).one()
    assert json.loads(event.data) == {"from": done.old_key, "to": done.new_key}
    assert chain.verify(ctx).ok
    old = Database(world.url)  # the old key, from CASEWORK_KEY
    with pytest.raises(crypto.KeyProblem, match="is not the key of"):
        old.check_key()
    old.dispose()
    fresh.dispose()


def test_rotate_needs_the_keys_capability(world, tmp_path) -> None:
    from casework.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        keys.rotate(world.ctx, world.leader, out=str(tmp_path / "n.key"))
    assert not (tmp_path / "n.key").exists()


def test_find_by_blind_index_and_by_name_within_scope(world) -> None:
    a = world.child(name="查找王", id_number="520321201603081251", guardian_phone="13811112222")
    b = world.child(name="查找李", mother_phone="13811112222")
    world.child(name="别人")
    assert [c.id for c in keys.find_children(world.ctx, world.leader, phone="138 1111 2222")] == [a, b]
    assert [c.id for c in keys.find_children(world.ctx, world.leader, id_number="520321201603081251")] == [a]
    assert [c.id for c in keys.find_children(world.ctx, world.leader, name="查找")] == [a, b]
    assert keys.find_children(world.ctx, world.mentor, phone="13811112222") == []  # nothing in their scope
    children.edit(world.ctx, world.leader, a, {"guardian_phone": "13700000000"})
    assert [c.id for c in keys.find_children(world.ctx, world.leader, phone="13811112222")] == [b]
    assert [c.id for c in keys.find_children(world.ctx, world.leader, phone="13700000000")] == [a]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_of_the_previous_release_is_sealed_in_place(backend, tmp_path_factory) -> None:
    db = Database(new_url(backend, tmp_path_factory))
    migrate.upgrade(db.engine, "0009")  # the release before encryption at rest
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO school (id, name, created_at) VALUES (1, '旧校', CURRENT_TIMESTAMP)"))
        conn.execute(sa.text("INSERT INTO staff (id, name, created_at) VALUES (1, '旧管理员', CURRENT_TIMESTAMP)"))
        conn.execute(
            sa.text(
                "INSERT INTO membership (staff_id, school_id, role, started_on) VALUES (1, 1, 'leader', '2026-01-01')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO child (id, school_id, name, id_number, father_phone, created_at, created_by) "
                "VALUES (7, 1, '旧名字', '520321201603089999', '13655556666', CURRENT_TIMESTAMP, 1)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO consent (id, school_id, child_id, guardian_name, relation, scope, given_on, "
                "recorded_at, recorded_by) "
                "VALUES (3, 1, 7, '旧监护人', '祖父', 'all', '2026-09-01', CURRENT_TIMESTAMP, 1)"
            )
        )
    ctx = Context(db=db)
    setup.init(ctx)
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    (name,) = raw(db, "SELECT name FROM child WHERE id = 7")[0]
    assert "旧名字".encode() not in bytes(name)  # type: ignore[arg-type]
    assert children.show(ctx, "1", 7).fields["name"] == "旧名字"
    (guardian,) = raw(db, "SELECT guardian_name FROM consent WHERE id = 3")[0]
    assert "旧监护人".encode() not in bytes(guardian)  # type: ignore[arg-type]
    with unscoped(db) as session:
        assert session.get(Consent, 3).guardian_name == "旧监护人"
    assert [c.id for c in keys.find_children(ctx, "1", phone="13655556666")] == [7]
    assert [c.id for c in keys.find_children(ctx, "1", id_number="520321201603089999")] == [7]
    db.dispose()


MARKERS = ["甄秘密", "贾隐私", "13512345678", "520321201506067773", "谈心内容标记"]


def _scan(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        data = path.read_bytes()
        for marker in MARKERS:
            for encoding in ("utf-8", "gbk"):
                if marker.encode(encoding) in data:
                    found.append(f"{marker} ({encoding}) in {path.name}")
    return found


def test_no_plaintext_in_the_database_file_its_wal_or_the_exports(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CASEWORK_KEY")
    db = tmp_path / "scan.db"
    runner = CliRunner(catch_exceptions=False)

    def run(*args: str) -> str:
        result = runner.invoke(app(), ["--db", str(db), *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("init", "--admin", "管理员", "--school", "扫描小学")
    key_file = Path(f"{db}.key")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    run("class", "add", "4", "1班", "--as", "1")
    run("staff", "add", "郑心怡", "--role", "counsellor", "--as", "1")
    run("staff", "add", "周建国", "--role", "leader", "--as", "1")
    card = ["--set", "guardian_name=贾隐私", "--set", "guardian_phone=13512345678"]
    run("child", "add", "甄秘密", "--class", "4/1班", "--set", "id_number=520321201506067773", *card, "--as", "周建国")
    run("case", "open", "1", "--as", "郑心怡")
    run("record", "consent", "1", "--guardian", "贾隐私", "--relation", "祖母", "--as", "郑心怡")
    run("record", "talk", "1", "--summary", "谈心内容标记：孩子想念妈妈", "--as", "郑心怡")
    assert "甄秘密" in run("child", "find", "--phone", "13512345678", "--as", "周建国")
    audit_out, audit_csv = tmp_path / "audit.jsonl", tmp_path / "audit.csv"
    # as the administrator, who reads contact data: nothing is masked, there is nothing to mask
    run("audit", "export", "--format", "jsonl", "--out", str(audit_out), "--as", "1")
    run("audit", "export", "--format", "csv", "--out", str(audit_csv), "--as", "1")
    ctx = Context(db=Database(str(db)))
    sealed = [f for f in roster.CARD_FIELDS if f != "student_no"]
    roster_out = tmp_path / "children.csv"
    roster_export.export_children(ctx, "1", str(roster_out), redact=sealed)
    ctx.db.dispose()
    wal = Path(f"{db}-wal")
    files = [db, audit_out, audit_csv, roster_out] + ([wal] if wal.exists() else [])
    assert _scan(files) == []
    # and once checkpointed and closed, the database file alone
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert _scan([db]) == []
    # the scan itself can fail: the plaintext export of the same register holds the markers
    plain = tmp_path / "plain.csv"
    ctx = Context(db=Database(str(db)))
    roster_export.export_children(ctx, "1", str(plain))
    ctx.db.dispose()
    assert _scan([plain])


def test_keys_from_the_command_line_rotate_the_key_file_in_place(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CASEWORK_KEY")
    db = tmp_path / "rot.db"
    runner = CliRunner(catch_exceptions=False)

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app(), ["--db", str(db), "--lang", "en", *args])
        assert result.exit_code == code, result.output
        return result.output

    assert "created the encryption key" in run("init", "--admin", "管理员")
    key_file = Path(f"{db}.key")
    before = key_file.read_text()
    run("child", "add", "旋转前", "--as", "1")
    out = run("keys", "rotate", "--as", "1")
    assert "the key is now in" in out and str(key_file) in out
    assert key_file.read_text() != before and not Path(f"{key_file}.new").exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "旋转前" in run("child", "list", "--as", "1")
    old = tmp_path / "old.key"
    old.write_text(before)
    monkeypatch.setenv("CASEWORK_KEY_FILE", str(old))
    assert "is not the key of" in run("child", "list", "--as", "1", code=1)
    new = tmp_path / "made.key"
    assert "created key" in run("keys", "new", "--out", str(new))
    assert "already exists" in run("keys", "new", "--out", str(new), code=1)


def test_which_fields_are_filled_is_known_without_opening_values_that_cannot_be_empty(world, monkeypatch) -> None:
    from casework.domain.child import filled
    from casework.persistence.store import Store

    child = world.child(complete=False, sex="女")
    db = world.ctx.db
    # A sealed empty text (the services never store one, a tampered or older row might): the
    # length of its ciphertext says it may be empty, so it is opened, and it counts as unfilled.
    empty = db.keyring.seal("child", "home_address", child, b"")
    raw(db, "UPDATE child SET home_address = :v WHERE id = :i", v=empty, i=child)
    # Unsealed: an empty text is not filled; a false flag, a zero and a date are.
    raw(db, "UPDATE child SET student_no = '', boarding = :f, guardian_age = 0 WHERE id = :i", f=False, i=child)
    names = (
        "name",
        "sex",
        "home_address",
        "guardian_phone",
        "father_name",
        "mother_name",
        "student_no",
        "boarding",
        "guardian_age",
        "birth_date",
        "health",
    )
    opened: list[str] = []
    real_open = Store.open

    def counting_open(self: Store, table: str, column: str, row_id: int, blob: object) -> object:
        opened.append(column)
        return real_open(self, table, column, row_id, blob)

    monkeypatch.setattr(Store, "open", counting_open)
    with db.raw_write() as store:
        class_id, present, _ = store.child_filled(child, names)
        assert opened == ["home_address"]
        values = store.child_fields(child, names)
    assert class_id == values.pop("class_id") is not None
    assert present == filled(values) == {"name", "sex", "father_name", "boarding", "guardian_age", "birth_date"}
    assert len(empty) <= crypto.LONGEST_MAYBE_EMPTY and len(b"\x01short") <= crypto.LONGEST_MAYBE_EMPTY
    assert len(db.keyring.seal("child", "name", child, b"abc")) > crypto.LONGEST_MAYBE_EMPTY
    # A value too short to be a sealed one is opened, and refused as reading it is; a longer value
    # that would not open counts as filled here (moving a case does not open it), as docs/privacy.md says.
    raw(db, "UPDATE child SET name = :v WHERE id = :i", v=b"\x01abc", i=child)
    with db.raw_write() as store, pytest.raises(crypto.SealBroken, match=rf"child.name of row {child}"):
        store.child_filled(child, names)
    raw(db, "UPDATE child SET name = :v WHERE id = :i", v=b"\x02" + bytes(40), i=child)
    with db.raw_write() as store:
        assert "name" in store.child_filled(child, names)[1]
    with db.raw_write() as store, pytest.raises(crypto.SealBroken):
        store.child_fields(child, ("name",))
