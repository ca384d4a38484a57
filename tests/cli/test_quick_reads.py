"""A read command as a user runs it, a process of its own: what it imports, and the garbage collector."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Run as the console script runs it; prints, at exit, whether the collector was off before the
# command's Context opened and on after, and which heavy packages the process imported.
PROBE = """
import atexit, gc, sys
from casework.commands import common

seen = []
release = common.release_collector

def watched():
    seen.append(gc.isenabled())
    release()
    seen.append(gc.isenabled())

common.release_collector = watched
heavy = {"alembic", "mako", "jinja2", "docx", "openpyxl", "rich", "argon2", "faker", "transitions"}
atexit.register(lambda: print("PROBE", seen, sorted({m.split(".")[0] for m in sys.modules} & heavy), file=sys.stderr))
sys.argv[0] = "casework"
from casework.cli import main
main()
"""


@pytest.fixture
def run(cli):
    return cli(
        ("init", "--admin", "赵校务", "--school", "白岩小学"),
        ("class", "add", "4", "1班", "--as", "1"),
        ("staff", "add", "郑心怡", "--role", "counsellor", "--as", "赵校务"),
        ("child", "add", "王小红", "--class", "4/1班", "--as", "1"),
        ("case", "open", "1", "--as", "郑心怡"),
    )


@pytest.mark.parametrize(
    "args",
    [("--as", "赵校务", "class", "list"), ("--as", "郑心怡", "case", "list"), ("--as", "郑心怡", "case", "show", "1")],
    ids=["class-list", "case-list", "case-show"],
)
def test_a_read_command_imports_neither_alembic_nor_the_machinery_of_moves_and_documents(run, args) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--db", run.url, *args], capture_output=True, text=True, env=dict(os.environ)
    )
    assert result.returncode == 0, result.stderr
    report = [line for line in result.stderr.splitlines() if line.startswith("PROBE")]
    # Off while the command's modules load, on (for good) once its Context is open; main's exit
    # releases it again (a no-op by then, as every later call finds it on).
    assert len(report) == 1 and report[0].endswith(" []"), result.stderr
    seen = report[0].removeprefix("PROBE [").split("]")[0].split(", ")
    assert seen[:2] == ["False", "True"] and set(seen[2:]) <= {"True"}, result.stderr


def test_a_process_that_did_not_hold_the_collector_keeps_it(run) -> None:
    """In-process runs (these tests, the web) never see the collector turned off or on."""
    import gc

    assert gc.isenabled()
    run("class", "list", "--as", "赵校务")
    assert gc.isenabled()


def test_a_command_that_opens_no_database_leaves_the_collector_on_at_its_end() -> None:
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('ENABLED', gc.isenabled(), file=sys.stderr))\n"
        "sys.argv[0] = 'casework'\n"
        "from casework.cli import main\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "--help"], capture_output=True, text=True, env=dict(os.environ)
    )
    assert result.returncode == 0, result.stderr
    assert "ENABLED True" in result.stderr, result.stderr
