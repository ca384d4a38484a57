"""Bad input and broken surroundings from the command line: one clear line, the right exit code, nothing changed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import Cli

SETUP = (
    ("init", "--admin", "赵校务", "--school", "白岩小学"),
    ("class", "add", "4", "1班", "--as", "1"),
    ("staff", "add", "郑心怡", "--role", "counsellor", "--as", "1"),
    ("staff", "add", "周建国", "--role", "leader", "--as", "1"),
    ("child", "add", "王小红", "--class", "4/1班", "--as", "1"),
    ("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "3"),
    ("case", "open", "1", "--as", "2"),
)


@pytest.fixture
def run(cli) -> Cli:
    return cli(*SETUP)


def _one_line(result) -> str:
    text = result.output.strip()
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    return text


@pytest.mark.parametrize(
    "args",
    [
        ("case", "show", "99999999999999999999", "--as", "2"),
        ("case", "advance", "9223372036854775808", "assess", "--as", "2"),
        ("child", "show", "0", "--as", "1"),
        ("case", "advance", "1", "assess", "--expect-version", "99999999999999999999", "--as", "2"),
    ],
    ids=["show", "advance", "zero", "expect-version"],
)
def test_ids_past_what_a_database_holds_are_a_usage_error_naming_the_range(run, args) -> None:
    result = run("--lang", "en", *args, code=2)
    assert "Traceback" not in result.output and ("ids run from 1 to" in result.output or "outside" in result.output)


@pytest.mark.parametrize(
    "args",
    [
        ("record", "talk", "1", "--summary", "谈心", "--as", "2", "--by", "99999999999999999999"),
        ("case", "show", "1", "--as", "99999999999999999999"),
    ],
    ids=["by-staff", "actor"],
)
def test_a_staff_reference_too_large_to_be_an_id_is_a_name_not_found(run, args) -> None:
    _one_line(run(*args, code=1))


def test_an_id_at_the_top_of_the_range_is_simply_not_found(run) -> None:
    assert "9223372036854775807" in _one_line(run("case", "show", "9223372036854775807", "--as", "2", code=1))


@pytest.mark.parametrize(
    "args",
    [
        ("child", "add", "\udcff\udcfe", "--as", "1"),
        ("child", "list", "--as", "\udcff"),
        ("child", "edit", "1", "--set", "home_address=\udcff村", "--as", "1"),
        ("record", "talk", "1", "--summary", "谈\udcff", "--as", "2"),
        ("case", "advance", "1", "close", "--reason", "\udcff", "--as", "3"),
    ],
    ids=["name", "actor", "set", "summary", "reason"],
)
def test_arguments_that_are_not_utf8_are_refused_in_one_line(run, args) -> None:
    # Python hands bytes that are not UTF-8 on as lone surrogates (\xff becomes \udcff).
    assert "UTF-8" in _one_line(run("--lang", "en", *args, code=1))


def test_invalid_utf8_from_a_real_process_gets_one_line_in_chinese(run) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from casework.cli import main; main()", "--db", run.url, "child", "add", b"\xff\xfe"],
        capture_output=True,
        env={**os.environ, "CASEWORK_KEY": os.environ["CASEWORK_KEY"]},
    )
    err = result.stderr.decode("utf-8")
    assert result.returncode == 1 and "Traceback" not in err and "不是有效的 UTF-8" in err, err


@pytest.mark.parametrize(
    "name", ["王\x1b]0;pwned\x07红", "王\n红", "王\u202e红", "王\x00红"], ids=["osc", "nl", "bidi", "nul"]
)
def test_control_and_bidi_characters_are_refused_in_names(run, name) -> None:
    before = run("child", "list", "--as", "1").output
    assert "U+" in _one_line(run("child", "add", name, "--as", "1", code=1))
    assert run("child", "list", "--as", "1").output == before


def test_prose_keeps_its_newlines_but_not_escapes(run) -> None:
    run("record", "talk", "1", "--summary", "第一行\n第二行", "--as", "2")
    assert "U+001B" in _one_line(run("record", "talk", "1", "--summary", "\x1b[2J清屏", "--as", "2", code=1))


def test_a_name_stored_with_escapes_is_printed_escaped(run) -> None:
    from casework.persistence import crypto
    from casework.persistence.db import Database
    from tests.helpers import TEST_KEY

    ring = crypto.KeyRing(crypto.Key.decode(TEST_KEY, "test"))
    db = Database(run.url, keyring=ring)
    with db.engine.begin() as conn:  # as a release without the check stored it
        blob = ring.seal("child", "name", 1, "王\x1b]0;pwned\x07[bold]红".encode())
        conn.exec_driver_sql("UPDATE child SET name = ? WHERE id = 1", (blob,))
    db.dispose()
    for out in (run("child", "list", "--as", "1").output, run("child", "show", "1", "--as", "1").output):
        assert "\x1b" not in out and "\x07" not in out
        assert "\\x1b]0;pwned\\x07[bold]红" in out


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("child", "edit", "1", "--set", "birth_date=2099-01-01"), "aged"),
        (("child", "edit", "1", "--set", "birth_date=1850-01-01"), "aged"),
        (("child", "edit", "1", "--set", "guardian_phone=00000000000"), "phone"),
        (("child", "edit", "1", "--set", "guardian_phone=000-12345678"), "phone"),
        (("record", "talk", "1", "--summary", "谈心", "--date", "1800-01-01"), "before the case was opened"),
        (("record", "talk", "1", "--summary", "谈心", "--date", "2099-01-01"), "in the future"),
    ],
    ids=["born-2099", "born-1850", "phone-zeros", "phone-area-00", "talk-1800", "talk-2099"],
)
def test_implausible_dates_and_numbers_are_refused_with_the_reason(run, args, word) -> None:
    as_ = "1" if args[0] == "child" else "2"
    assert word in _one_line(run("--lang", "en", *args, "--as", as_, code=1))


@pytest.mark.parametrize(
    "args",
    [
        ("case", "advance", "1", "close", "--reason"),
        ("record", "talk", "1", "--summary", "谈心", "--follow-up"),
        ("record", "talk", "1", "--summary"),
    ],
    ids=["advance-reason", "follow-up", "summary"],
)
def test_prose_has_one_limit(run, args) -> None:
    from casework.domain import limits

    as_ = "3" if args[1] == "advance" else "2"
    assert run(*args, "字" * limits.TEXT, "--as", as_).exit_code == 0
    assert str(limits.TEXT) in _one_line(run(*args, "字" * (limits.TEXT + 1), "--as", as_, code=1))


def test_a_database_from_a_newer_casework_says_to_upgrade_casework(run) -> None:
    if run.url.startswith("postgresql"):
        pytest.skip("SQLite file")
    with sqlite3.connect(run.url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    for args in (("child", "list", "--as", "1"), ("init",)):
        line = _one_line(run("--lang", "en", *args, code=1))
        assert "newer than this casework" in line and "upgrade casework" in line


def test_a_missing_template_folder_is_refused(run, tmp_path) -> None:
    settings = tmp_path / "casework.toml"
    settings.write_text('[documents]\ntemplates = "/nonexistent"\n', encoding="utf-8")
    line = _one_line(run("--lang", "en", "--settings", str(settings), "child", "list", "--as", "1", code=1))
    assert "/nonexistent" in line and "does not exist" in line


def test_a_symlink_out_of_the_template_folder_is_not_followed(run, tmp_path) -> None:
    from casework.documents.render import TemplateProblem, package_templates, template_version

    assert (package_templates() / "child_card" / "template.toml").is_file()
    overrides = tmp_path / "templates"
    (overrides / "child_card").mkdir(parents=True)
    secret = tmp_path / "secret.toml"
    secret.write_text('version = "stolen"\n')
    os.symlink(secret, overrides / "child_card" / "template.toml")
    with pytest.raises(TemplateProblem, match="leads out of its folder"):
        template_version("child_card", overrides)


def test_driver_errors_on_the_hot_path_are_one_line(run, tmp_path) -> None:
    """A database file made read-only underneath: the hot path's raw sqlite3 error is mapped."""
    if run.url.startswith("postgresql") or os.geteuid() == 0:
        pytest.skip("needs a SQLite file and a user that file modes apply to")
    Path(run.url).chmod(0o444)
    try:
        _one_line(run("case", "advance", "1", "assess", "--as", "2", code=1))
    finally:
        Path(run.url).chmod(0o644)


def test_an_output_target_that_is_a_fifo_is_refused(run, tmp_path) -> None:
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    line = _one_line(run("--lang", "en", "audit", "export", "--format", "csv", "--out", str(fifo), "--as", "1", code=1))
    assert "not a regular file" in line
    assert Path(fifo).is_fifo()
