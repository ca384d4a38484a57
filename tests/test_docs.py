"""Docs that cannot drift: the CLI reference is regenerated and compared."""

from __future__ import annotations

from pathlib import Path

from casework.reference import render

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == render(), "run 'make docs'"


def test_readme_quick_start_is_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_every_rule_module_and_parameter_is_documented() -> None:
    from casework.rules import load_rules

    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for module in load_rules():
        assert f"### `{module.name}`" in text, module.name
        for parameter in module.parameters:
            assert f"`{parameter.name}`" in text, f"{module.name}.{parameter.name}"


def test_the_architecture_page_names_what_exists() -> None:
    """Every file, package and function docs/architecture.md points at is there (module.function)."""
    import importlib
    import re

    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for path in re.findall(r"`((?:casework|templates|tests|bench|docs)/[\w/.]*)`", text):
        assert (ROOT / path).exists(), path
    for module, name in re.findall(r"`((?:services|persistence|rules|domain|commands)/\w+)[.](?!py`)(\w+)", text):
        target = importlib.import_module("casework." + module.replace("/", "."))
        assert hasattr(target, name.split(".")[0]), f"{module}.{name}"
