"""The auditor's journey from the command line, on SQLite and PostgreSQL: export, verify, checkpoint, refusals."""

from __future__ import annotations

import json
import re

import pytest

from casework.persistence import audit_rows
from casework.services import setup
from tests.helpers import Cli, unscoped

ANY_NUMBER = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d{9}|\d{17}[\dXx]|\d{15}|0\d{2,3}-?\d{7,8})(?![0-9A-Za-z])")


@pytest.fixture
def cli(world):
    return Cli(world.url)


def _actions(world) -> list[str]:
    with unscoped(world.ctx.db) as session:
        return [row[4] for row in audit_rows.stream(session)]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_the_auditor_exports_verifies_and_checkpoints(world, cli, tmp_path, fmt) -> None:
    world.child(guardian_phone="13912340001", id_number="110105201603080024", sex="女", birth_date="2016-03-08")
    world.fire(world.case(), "assess")
    auditor = str(setup.add_staff(world.ctx, world.admin, "冯审之", ["auditor"]))
    out = tmp_path / f"trail.{fmt}"
    result = cli("--lang", "en", "audit", "export", "--format", fmt, "--out", str(out), "--as", "冯审之")
    assert "events written to" in result.output and "masked" in result.output
    if fmt != "xlsx":
        assert ANY_NUMBER.search(out.read_text(encoding="utf-8-sig")) is None
    assert _actions(world)[-1] == "audit.exported"
    assert "audit chain intact" in cli("--lang", "en", "audit", "verify", "--as", auditor).output
    key, cp = str(tmp_path / "audit.key"), str(tmp_path / "cp.json")
    cli("audit", "keygen", "--out", key)
    cli("audit", "checkpoint", "--out", cp, "--key", key, "--as", auditor)
    checked = json.loads(cli("audit", "verify", "--checkpoint", cp, "--as", auditor, "--json").output)
    assert checked["ok"] and checked["schools"] == 1


def test_the_leadership_export_is_not_masked(world, cli, tmp_path) -> None:
    out = tmp_path / "trail.jsonl"
    result = cli("--lang", "en", "audit", "export", "--out", str(out), "--as", world.leader)
    assert "masked" not in result.output
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["seq"] == 1


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "export", "--format", "csv", "--out", "{out}"),
        ("audit", "verify"),
        ("audit", "checkpoint", "--out", "{out}", "--key", "{key}"),
    ],
    ids=["export", "verify", "checkpoint"],
)
def test_a_counsellor_is_refused_with_exit_5_and_the_refusal_logged(world, cli, tmp_path, args) -> None:
    out, key = tmp_path / "out.csv", str(tmp_path / "audit.key")
    cli("audit", "keygen", "--out", key)
    filled = [a.format(out=out, key=key) for a in args]
    result = cli("--lang", "en", *filled, "--as", world.counsellor, code=5)
    assert "may not do this: read the audit trail" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()
    assert _actions(world)[-1] == "access.denied"


def test_the_chain_and_a_checkpoint_verify_with_no_key_at_all(world, cli, tmp_path, monkeypatch) -> None:
    world.fire(world.case(), "assess")
    auditor = str(setup.add_staff(world.ctx, world.admin, "冯审之", ["auditor"]))
    key, cp = str(tmp_path / "audit.key"), str(tmp_path / "cp.json")
    cli("audit", "keygen", "--out", key)
    monkeypatch.delenv("CASEWORK_KEY")  # the auditor holds no key to the children's records
    cli("audit", "checkpoint", "--out", cp, "--key", key, "--as", auditor)
    assert "audit chain intact" in cli("--lang", "en", "audit", "verify", "--as", auditor).output
    result = cli("--lang", "en", "audit", "verify", "--checkpoint", cp, "--public-key", f"{key}.pub", "--as", auditor)
    assert "audit chain intact" in result.output
    assert "no key was given" in cli("--lang", "en", "child", "list", "--as", auditor, code=1).output
    cli("audit", "verify", "--as", world.counsellor, code=5)  # still refused out of role
