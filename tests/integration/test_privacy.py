"""Consent before counselling records, the retention purge and the yearly privacy report, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from casework.domain import access as policy
from casework.domain.inputs import RecordAid, RecordConsent, RecordContact
from casework.errors import InvalidInput, NotFound, PermissionDenied
from casework.persistence.tables import (
    AuditEvent,
    AuditHead,
    Case,
    Child,
    ChildChange,
    Consent,
    ContactEntry,
    Document,
)
from casework.services import cases, children, consent, documents, mentoring, privacy, pupil_records, setup
from casework.services.audit import chain
from casework.services.consent import ConsentStatus
from tests.helpers import unscoped


def _talk(world, case_id: int, summary: str = "谈心：想念父母") -> int:
    return mentoring.contact(
        world.ctx,
        world.counsellor,
        RecordContact(case_id=case_id, kind="talk", occurred_on=None, by=None, summary=summary, follow_up=None),
    )


def _head(world) -> tuple[int, str]:
    with world.ctx.db.read() as session:
        head = session.scalars(select(AuditHead)).one()
        return head.seq, head.hash


def _count(world, model) -> int:
    with unscoped(world.ctx.db) as session:
        return int(session.scalar(select(func.count()).select_from(model)))


# --- consent -------------------------------------------------------------------------------


def test_a_counselling_record_needs_a_consent_in_force(world) -> None:
    case = world.case(consent=False)
    child = world_child(world, case)
    before = _head(world)
    with pytest.raises(PermissionDenied) as refused:
        _talk(world, case)
    assert f"child {child} has no guardian's consent in force" in str(refused.value)
    assert refused.value.denial.what == f"consent:{child}"
    # Nothing recorded: the one new event in the chain is the refusal, logged by the service layer.
    assert _count(world, ContactEntry) == 0 and _head(world)[0] == before[0] + 1
    with world.ctx.db.read() as session:
        last = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert last == "access.denied"

    consent.record(
        world.ctx,
        world.counsellor,
        RecordConsent(child_id=child, guardian="王大山", relation="祖父", scope="counselling"),
    )
    assert _talk(world, case) > 0

    world.clock.advance(3)
    withdrawn = consent.withdraw(world.ctx, world.leader, child)
    assert len(withdrawn) == 1
    with pytest.raises(PermissionDenied):
        _talk(world, case)
    with pytest.raises(PermissionDenied):  # a child-level counselling record too (material aid)
        pupil_records.aid(world.ctx, world.teacher, RecordAid(child_id=child, kind="clothing", description="冬衣"))
    assert _count(world, ContactEntry) == 1


def world_child(world, case_id: int) -> int:
    with unscoped(world.ctx.db) as session:
        return int(session.scalar(select(Case.child_id).where(Case.id == case_id)))


def test_consent_scope_dates_and_who_may_record_it(world) -> None:
    case = world.case(consent=False)
    child = world_child(world, case)
    consent.record(
        world.ctx, world.leader, RecordConsent(child_id=child, guardian="王大山", relation="祖父", scope="contact")
    )
    with pytest.raises(PermissionDenied):  # consent to the contact card only does not cover talks
        _talk(world, case)
    today = world.clock.now.date()
    with pytest.raises(InvalidInput):
        consent.record(
            world.ctx,
            world.leader,
            RecordConsent(child_id=child, guardian="王大山", relation="祖父", given_on=date(today.year + 1, 1, 1)),
        )
    with pytest.raises(InvalidInput):
        consent.record(
            world.ctx,
            world.leader,
            RecordConsent(child_id=child, guardian="王大山", relation="祖父", scope="everything"),
        )
    with pytest.raises(PermissionDenied):  # a mentor holds no CONSENT_RECORD
        consent.record(world.ctx, world.mentor, RecordConsent(child_id=child, guardian="王大山", relation="祖父"))
    with pytest.raises(InvalidInput):  # nothing of scope "all" to withdraw
        consent.withdraw(world.ctx, world.leader, child, scope="all")
    consent.record(world.ctx, world.leader, RecordConsent(child_id=child, guardian="王大山", relation="祖父"))
    _talk(world, case)
    with world.ctx.db.read() as session:
        events = session.scalars(select(AuditEvent.data).where(AuditEvent.action.like("consent.%"))).all()
    assert len(events) == 2 and not any("王" in e for e in events)  # ids only, never the guardian's name


def test_child_show_tells_whether_records_may_be_written(world) -> None:
    with_consent = world.child()
    without = world.child(consent=False, student_no="S2")
    shown = children.show(world.ctx, world.leader, with_consent).consent
    assert shown.records_allowed and shown.consents[0].guardian == "王大山"
    assert shown.consents[0].scope == "all" and shown.consents[0].in_force
    assert children.show(world.ctx, world.leader, without).consent == ConsentStatus(
        records_allowed=False, purged_at=None, consents=()
    )


# --- purge ---------------------------------------------------------------------------------


def _closed_case(world) -> tuple[int, int]:
    case = world.case()
    _talk(world, case, "谈心：秘密内容")
    world.fire(case, "close", "父母返乡")
    return world_child(world, case), case


def _snapshot(world) -> dict:
    with unscoped(world.ctx.db) as session:
        return {
            "children": [(c.id, c.name, c.guardian_phone, c.purged_at) for c in session.scalars(select(Child))],
            "talks": [(t.id, t.summary) for t in session.scalars(select(ContactEntry))],
            "docs": [(d.id, d.content) for d in session.scalars(select(Document))],
            "consents": [(c.id, c.guardian_name) for c in session.scalars(select(Consent))],
        }


def test_purge_erases_exactly_the_children_past_retention(world) -> None:
    documents.render_after_moves(world.ctx)  # closing renders a document holding the child's name
    old_child, old_case = _closed_case(world)
    children.edit(world.ctx, world.leader, old_child, {"guardian_phone": "13900001111"})  # history to erase
    kept_child, kept_case = _closed_case(world)  # closed long ago too, but a new case is open
    reopened = cases.open_case(world.ctx, world.counsellor, kept_child)
    world.clock.advance(10)
    recent_child, _ = _closed_case(world)  # closed 10 days later: within the retention period
    open_child = world_child(world, world.case())
    assert _count(world, Document) > 0

    world.clock.advance(20)  # old: closed exactly 30 days ago -> kept
    assert privacy.purge(world.ctx, world.admin, retention_days=30, dry_run=True).children == []
    world.clock.advance(1)  # 31 days
    before = _snapshot(world)
    head = _head(world)
    preview = privacy.purge(world.ctx, world.admin, retention_days=30, dry_run=True)
    assert _snapshot(world) == before and _head(world) == head  # a dry run changes nothing

    done = privacy.purge(world.ctx, world.admin, retention_days=30)
    assert [c.child_id for c in done.children] == [old_child] == [c.child_id for c in preview.children]
    assert done.children[0].case_ids == [old_case]
    assert done.old_copies == ("vacuum" if world.url.startswith("postgresql") else None)
    assert (done.records, done.fields) == (preview.records, preview.fields) and done.fields > done.records > 3
    assert done.tables["child"] == {"records": 1, "fields": 6}  # name, address, guardian's and father's name and phone
    assert done.tables["contact_entry"] == {"records": 1, "fields": 1}
    assert done.tables["child_change"] == {"records": 1, "fields": 2}
    assert done.tables["consent"] == {"records": 1, "fields": 1}
    assert done.tables["case_event"]["records"] == 1 and done.tables["document"]["records"] >= 1

    with unscoped(world.ctx.db) as session:
        old = session.get(Child, old_child)
        assert old.name == "" and old.guardian_phone is None and old.home_address is None
        assert old.purged_at is not None and old.sex == "male" and old.birth_date == date(2016, 3, 8)  # T0 stays
        assert session.scalars(select(ContactEntry.summary).join(Case).where(Case.child_id == old_child)).all() == [""]
        assert all(d is None for d in session.scalars(select(Document.content).where(Document.case_id == old_case)))
        assert session.scalars(select(ChildChange.new_value).where(ChildChange.child_id == old_child)).all() == [None]
        assert session.scalars(select(Consent.guardian_name).where(Consent.child_id == old_child)).all() == [""]
        for other in (kept_child, recent_child, open_child):
            child = session.get(Child, other)
            assert child.name == "王小明" and child.guardian_phone == "13812345678" and child.purged_at is None
        talks = session.scalars(select(ContactEntry.summary).join(Case).where(Case.child_id != old_child)).all()
        assert talks and all(t == "谈心：秘密内容" for t in talks)
        assert session.get(Case, reopened).state == "identified"

    # The chain still verifies; the purge events hold ids and counts, no personal value.
    assert chain.verify(world.ctx).ok
    with world.ctx.db.read() as session:
        purged = session.execute(
            select(AuditEvent.action, AuditEvent.object_id, AuditEvent.data).where(AuditEvent.action.like("privacy.%"))
        ).all()
        texts = session.scalars(select(AuditEvent.data)).all()
    assert [(a, o) for a, o, _ in purged] == [("privacy.purged", old_child), ("privacy.purge", None)]
    assert not any(marker in t for t in texts for marker in ("王小明", "秘密", "13812345678", "王大山"))

    # Idempotent: a second run finds nothing and appends nothing.
    head = _head(world)
    assert privacy.purge(world.ctx, world.admin, retention_days=30).children == []
    assert _head(world) == head

    # What was erased cannot be read back, and no counselling record can be added.
    shown = children.show(world.ctx, world.leader, old_child)
    assert shown.fields["name"] == "" and shown.fields["guardian_phone"] is None
    assert shown.consent.purged_at is not None and not shown.consent.records_allowed
    doc_id = documents.list_documents(world.ctx, world.leader, old_case)[0].id
    with pytest.raises(NotFound):
        documents.document_bytes(world.ctx, world.leader, doc_id)
    with pytest.raises(InvalidInput):
        consent.record(world.ctx, world.leader, RecordConsent(child_id=old_child, guardian="王大山", relation="祖父"))


def test_purge_uses_the_settings_default_and_only_the_admin_may(world) -> None:
    child, _ = _closed_case(world)
    world.clock.advance(1095)
    with pytest.raises(PermissionDenied):
        privacy.purge(world.ctx, world.leader)
    with pytest.raises(InvalidInput):
        privacy.purge(world.ctx, world.admin, retention_days=-1)
    assert privacy.purge(world.ctx, world.admin).children == []  # exactly 1095 days: kept
    world.clock.advance(1)
    report = privacy.purge(world.ctx, world.admin)
    assert report.retention_days == 1095 and [c.child_id for c in report.children] == [child]


def test_every_sensitive_table_is_reached_by_the_purge() -> None:
    models = privacy._models()
    for table in policy.SENSITIVE_COLUMNS:
        assert privacy._link(table, models[table], [1], [1]) is not None


# --- report --------------------------------------------------------------------------------


def test_the_yearly_report_counts_from_the_chain(world) -> None:
    child = world.child()  # consent 1 recorded
    other = world.child(consent=False, student_no="S2")
    children.show(world.ctx, world.leader, child)  # leader T1
    children.show(world.ctx, world.leader, other)  # leader T1, a second child
    children.list_children(world.ctx, world.leader)  # leader T1, both children
    outsider = setup.add_staff(world.ctx, world.admin, "钱老师", ["subject_teacher"])
    for _ in range(2):  # each refusal is logged by the service layer
        with pytest.raises(PermissionDenied):
            children.show(world.ctx, str(outsider), child)
    with pytest.raises(PermissionDenied):
        privacy.report(world.ctx, world.mentor, 2026)
    consent.record(
        world.ctx, world.leader, RecordConsent(child_id=other, guardian="李芳", relation="母亲")
    )  # consent 2
    consent.withdraw(world.ctx, world.leader, other)
    closed, _ = _closed_case(world)  # consent 3 (world.case), a talk
    world.clock.advance(1)
    privacy.purge(world.ctx, world.admin, retention_days=0)

    doc = privacy.report(world.ctx, world.admin, 2026)
    assert doc["access"] == [{"roles": "leader", "tier": "T1", "reads": 3, "children": 2}]
    assert doc["denied"] == [
        {"roles": "mentor", "what": policy.PRIVACY_REPORT, "attempts": 1},
        {"roles": "subject_teacher", "what": "child", "attempts": 2},
    ]
    assert doc["consents"] == {"recorded": 3, "withdrawn": 1}
    assert doc["purges"] == {"runs": 1, "children": 1}
    assert doc["exports"] == {}
    empty = privacy.report(world.ctx, world.admin, 2025)
    assert empty["events"] == 0 and empty["access"] == [] and empty["purges"] == {"runs": 0, "children": 0}
    with pytest.raises(InvalidInput):
        privacy.report(world.ctx, world.admin, 1999)
    assert children.show(world.ctx, world.leader, closed).consent.purged_at is not None


def test_a_purge_leaves_no_copy_of_the_erased_ciphertexts_in_the_sqlite_files(world) -> None:
    """Values overwritten by the purge are zeroed in the database's pages, and the WAL holding older
    copies of those pages is emptied: the sealed bytes are nowhere in the files afterwards."""
    if world.url.startswith("postgresql"):
        pytest.skip("SQLite's files; PostgreSQL keeps dead row versions until VACUUM (docs/privacy.md)")
    import sqlite3
    from pathlib import Path

    old_child, old_case = _closed_case(world)
    kept_child, _ = _closed_case(world)
    cases.open_case(world.ctx, world.counsellor, kept_child)  # kept: an open case
    path = Path(world.url)
    raw = sqlite3.connect(path)
    try:
        erased = [
            bytes(v)
            for v in raw.execute("SELECT name, guardian_phone FROM child WHERE id = ?", (old_child,)).fetchone()
        ]
        kept = [
            bytes(v)
            for v in raw.execute("SELECT name, guardian_phone FROM child WHERE id = ?", (kept_child,)).fetchone()
        ]
        erased += [bytes(v) for (v,) in raw.execute("SELECT summary FROM contact_entry WHERE case_id = ?", (old_case,))]
    finally:
        raw.close()
    with world.ctx.db.engine.connect() as conn:  # this SQLite is built with it on too: asked all the same
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    world.clock.advance(31)
    assert [c.child_id for c in privacy.purge(world.ctx, world.admin, retention_days=30).children] == [old_child]
    files = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.suffix != ".key")
    assert all(value in files for value in kept)  # the search finds what is there
    assert [value for value in erased if value in files] == []


def test_a_reader_keeping_the_wal_is_reported(world) -> None:
    if world.url.startswith("postgresql"):
        pytest.skip("SQLite's WAL")
    import sqlite3

    _closed_case(world)
    world.clock.advance(31)
    reader = sqlite3.connect(world.url, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM child").fetchone()  # holds a snapshot: the WAL must stay
        assert privacy.purge(world.ctx, world.admin, retention_days=30).old_copies == "wal"
    finally:
        reader.close()
