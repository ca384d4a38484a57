"""The docs' example rule module, installed as a separate package, is discovered and used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "casework-rule-example"

SCRIPT = """
import sys
from casework.persistence.db import Database
from casework.services import Context, cases, consent, mentoring, setup
from casework.services.settings import Settings
from casework.rules import available
from casework.errors import TransitionRefused
from casework import i18n
from casework.domain.inputs import RecordConsent, RecordContact

assert "parents_informed" in available(), sorted(available())
settings = Settings(params={"parents_informed": {"call_days": 10}})
ctx = Context(db=Database(sys.argv[1]), settings=settings)
assert ctx.rule_set.module("parents_informed").params == {"call_days": 10}
first = str(setup.init(ctx, admin="管理员", school="测试小学").admin_id)
admin = str(setup.add_staff(ctx, first, "校长", ["leader"]))
child = __import__("casework.services.children", fromlist=["add"]).add(ctx, admin, {"name": "王小明"})
consent.record(ctx, admin, RecordConsent(child_id=child, guardian="王大山", relation="祖父"))
case = cases.open_case(ctx, admin, child)
try:
    cases.advance(ctx, admin, case, "close", "转学")
except TransitionRefused as refused:
    (verdict,) = refused.verdicts
    print(verdict.rule, verdict.code, i18n.render(verdict.message, "zh_CN"))
mentoring.contact(ctx, admin, RecordContact(case_id=case, kind="parent_feedback", summary="反馈"))
cases.advance(ctx, admin, case, "close", "转学")
print("closed")
"""


@pytest.mark.slow
def test_example_module_installed_as_a_package(tmp_path) -> None:
    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "p.db")], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == ["parents_informed parents_not_informed 结案前请先向家长反馈并记录", "closed"]
