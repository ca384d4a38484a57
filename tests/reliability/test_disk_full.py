"""A full disk under the database: every write command says so in one line (exit 1), and the database verifies after."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import Cli
from tests.reliability.harness import FIGURES

WRITES = [
    ("case", "advance", "1", "close", "--reason", "父母返乡", "--as", "3"),
    ("case", "open", "2", "--as", "2"),
    ("child", "add", "满盘", "--as", "1"),
    ("child", "edit", "1", "--set", "home_address=白岩镇新村13号", "--as", "1"),
    ("record", "talk", "1", "--summary", "磁盘已满时的谈心", "--as", "2"),
    ("record", "consent", "2", "--guardian", "李大山", "--relation", "祖父", "--as", "3"),
    ("staff", "add", "满盘老师", "--role", "mentor", "--as", "1"),
    ("class", "add", "5", "2班", "--as", "1"),
]


@pytest.fixture
def small_disk(tmp_path):
    """A 6 MB tmpfs mounted for the test (root only)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root; run as root (CI does) to test a full disk")
    point = tmp_path / "small"
    point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_every_write_command_on_a_full_disk_is_one_line_and_exit_1(cli, small_disk) -> None:
    prepared = cli(
        ("init", "--admin", "赵校务", "--school", "白岩小学"),
        ("staff", "add", "郑心怡", "--role", "counsellor", "--as", "1"),
        ("staff", "add", "周建国", "--role", "leader", "--as", "1"),
        ("child", "add", "王小红", "--as", "1"),
        ("child", "add", "李小明", "--as", "1"),
        ("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "3"),
        ("case", "open", "1", "--as", "2"),
    )
    db = small_disk / "casework.db"
    shutil.copyfile(prepared.url, db)
    run = Cli(str(db))
    filler = small_disk / "filler"
    with open(filler, "wb") as out:  # fill every byte left
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    for args in WRITES:
        result = run("--lang", "en", *args, code=1)
        text = result.output.strip()
        assert "Traceback" not in text and len(text.splitlines()) == 1, (args, text)
        assert "full" in text or "database error" in text, (args, text)
        FIGURES.add("full-disk writes refused in one line")
    filler.unlink()
    assert "audit chain intact" in run("--lang", "en", "audit", "verify", "--as", "1").output
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    run("case", "advance", "1", "close", "--reason", "父母返乡", "--as", "3")  # space is back: the write goes through
    assert Path(db).exists()
