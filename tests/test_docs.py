"""Docs that cannot drift: the CLI reference is regenerated and compared."""

from __future__ import annotations

from pathlib import Path

from casework.cli.reference import render

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == render(), "run 'make docs'"


def test_readme_quick_start_is_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
