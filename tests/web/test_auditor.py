"""The auditor's pages on SQLite and PostgreSQL: verification as a background job naming the first bad
sequence, checkpoint upload, the filtered export redacted as the CLI's, the access log."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from casework.persistence.tables import AuditEvent, Job
from casework.services import setup
from tests.helpers import World, unscoped
from tests.web.conftest import Browser, sign_in


def _auditor(world: World) -> Browser:
    staff = str(setup.add_staff(world.ctx, world.admin, "审计员甲", ["auditor"]))
    return sign_in(world, staff, "shenji")


def finished(browser: Browser, location: str) -> Any:
    """The job page once the job has ended (bounded: a few seconds)."""
    assert location.startswith("/jobs/"), location
    for _ in range(200):
        page = browser.get(location)
        assert page.status_code == 200, page.text
        if 'http-equiv="refresh"' not in page.text:
            return page
        time.sleep(0.05)
    raise AssertionError("the job did not end")


def test_verification_runs_as_a_job_and_names_the_altered_sequence(world: World) -> None:
    for _ in range(2):
        world.fire(world.case(), "assess")
    auditor = _auditor(world)
    assert auditor.get("/audit").status_code == 200
    started = auditor.post("/audit/verify", {})
    assert started.status_code == 303, started.text
    intact = finished(auditor, started.headers["location"])
    assert "审计链完整" in intact.text and "notice ok" in intact.text
    with unscoped(world.ctx.db) as session:
        last = session.execute(text("SELECT max(seq) FROM audit_event WHERE school_id = 1")).scalar_one()
    target = last - 4
    with world.ctx.db.engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_event SET actor_id = 99 WHERE school_id = 1 AND seq = {target}"))
    auditor.get("/audit")
    broken = finished(auditor, auditor.post("/audit/verify", {}).headers["location"])
    assert "notice error" in broken.text and f"第 {target} 条" in broken.text
    with unscoped(world.ctx.db) as session:
        actions = list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("job.%")).order_by(AuditEvent.seq))
        )
        states = list(session.scalars(select(Job.state).order_by(Job.id)))
    assert actions == ["job.started", "job.finished", "job.started", "job.finished"]
    assert states == ["done", "failed"]
    # another person's job is no page of theirs
    leader = sign_in(world, world.leader, "zuzhang")
    assert leader.get(started.headers["location"]).status_code == 404


def test_a_job_the_server_was_running_when_it_stopped_is_failed_with_the_reason(world: World) -> None:
    from casework.services import jobs
    from casework.web.app import create_app

    job_id = jobs.start(world.ctx, world.admin, "import", "roster.import")
    create_app(world.ctx)  # the server starts again
    admin = sign_in(world, world.admin, "guanli")
    page = admin.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and "服务器停止" in page.text and "notice error" in page.text


def test_a_checkpoint_is_uploaded_and_checked(world: World, tmp_path: Path) -> None:
    from casework.services.audit import checkpoint

    world.fire(world.case(), "assess")
    key = tmp_path / "signing.key"
    public = checkpoint.keygen(str(key))
    checkpoint.write(world.ctx, world.leader, str(tmp_path / "cp.json"), str(key))
    auditor = _auditor(world)
    auditor.get("/audit")
    sent = auditor.client.post(
        "/audit/checkpoint",
        data={"csrf": auditor.csrf},
        files={
            "checkpoint": ("cp.json", (tmp_path / "cp.json").read_bytes(), "application/json"),
            "public_key": ("signing.key.pub", Path(public).read_bytes(), "application/octet-stream"),
        },
    )
    assert sent.status_code == 303, sent.text
    assert "审计链完整" in finished(auditor, sent.headers["location"]).text
    auditor.get("/audit")
    garbage = auditor.client.post(
        "/audit/checkpoint",
        data={"csrf": auditor.csrf},
        files={"checkpoint": ("notes.txt", "这不是检查点".encode(), "text/plain")},
    )
    page = finished(auditor, garbage.headers["location"])
    assert "notice error" in page.text and "notes.txt" in page.text and "--checkpoint" not in page.text
    auditor.get("/audit")
    huge = auditor.client.post(
        "/audit/checkpoint", data={"csrf": auditor.csrf}, files={"checkpoint": ("big.json", b"x" * (2 << 20))}
    )
    assert huge.status_code == 413 and "1 MB" in huge.text


def test_the_export_streams_what_the_cli_writes_and_filters(world: World, tmp_path: Path) -> None:
    from casework.services.audit import chain

    case_id = world.case()
    world.fire(case_id, "assess")
    world.fire(world.case(), "assess")
    staff = str(setup.add_staff(world.ctx, world.admin, "审计员甲", ["auditor"]))
    written = chain.export_file(world.ctx, staff, "jsonl", str(tmp_path / "cli.jsonl"))
    assert written.masked  # the auditor does not read contact data
    auditor = sign_in(world, staff, "shenji")
    whole = auditor.get("/audit/export?format=jsonl")
    assert whole.status_code == 200, whole.text
    cli_lines = (tmp_path / "cli.jsonl").read_text(encoding="utf-8").splitlines()
    web_lines = whole.text.splitlines()
    # the web sees the CLI's own audit.exported event and every sign-in since: the CLI's lines are its start
    assert web_lines[: len(cli_lines)] == cli_lines
    moved = auditor.get(f"/audit/export?format=jsonl&case={case_id}&action=case.moved")
    rows = [json.loads(line) for line in moved.text.splitlines()]
    assert [(r["case_id"], r["action"]) for r in rows] == [(case_id, "case.moved")]
    csv = auditor.get(f"/audit/export?format=csv&case={case_id}")
    assert csv.content.startswith(b"\xef\xbb\xbfschool_id,seq")
    xlsx = auditor.get("/audit/export?format=xlsx&from=2026-09-01&to=2026-09-01")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert auditor.get("/audit/export?format=jsonl&from=2026-13-01").status_code == 400
    assert auditor.get("/audit/export?format=exe").status_code == 400
    with unscoped(world.ctx.db) as session:
        exported = [
            json.loads(d) for d in session.scalars(select(AuditEvent.data).where(AuditEvent.action == "audit.exported"))
        ]
    assert [e.get("via") for e in exported] == [None, "web", "web", "web", "web"]
    assert exported[2]["filters"] == {"case_id": case_id, "action": "case.moved"}


def test_the_access_log_lists_reads_and_filters_by_child(world: World) -> None:
    case_id = world.case()
    counsellor = sign_in(world, world.counsellor, "xinyi")
    assert counsellor.get(f"/cases/{case_id}").status_code == 200
    with unscoped(world.ctx.db) as session:
        child_id = session.execute(text(f"SELECT child_id FROM case_file WHERE id = {case_id}")).scalar_one()
    auditor = _auditor(world)
    page = auditor.get("/access-log")
    # what was read is named in words (个案页面), never by its code (case.show)
    assert page.status_code == 200 and "郑心怡" in page.text and "个案页面" in page.text
    assert "case.show" not in page.text
    one = auditor.get(f"/access-log?child={child_id}&action=access.read")
    assert "个案页面" in one.text
    none = auditor.get("/access-log?child=987654")
    assert "个案页面" not in none.text
    bad = auditor.get("/access-log?from=2026-02-30")
    assert bad.status_code == 400 and "notice error" in bad.text
