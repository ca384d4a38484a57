"""The house rules that can rot silently: nothing heavy at import, no raw SQL, one docstring line each."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p for p in (ROOT / "casework").rglob("*.py") if "migrations/versions" not in str(p))


def test_help_does_not_import_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "from casework.cli import app\n"
        "from click.testing import CliRunner\n"
        "r = CliRunner().invoke(app(), ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app(), ['case', '--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = {'sqlalchemy', 'alembic', 'faker', 'psycopg'}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "print(heavy)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_says_its_responsibility(path: Path) -> None:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc and doc.strip(), f"{path} needs a one-line docstring"


RAW = {"text", "exec_driver_sql", "raw_connection", "driver_connection", "literal_column"}


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if "persistence" not in p.relative_to(ROOT).parts],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_raw_sql_outside_persistence(path: Path) -> None:
    """Raw SQL lives in the persistence package only, where the record scope is applied by hand."""
    offenders = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
            offenders += [f"line {node.lineno}: imports {a.name}" for a in node.names if a.name in RAW]
        if isinstance(node, ast.Attribute) and node.attr in RAW - {"text", "literal_column"}:
            offenders.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in {"text", "exec_driver_sql", "literal_column"}:
                offenders.append(f"line {node.lineno}: {name}()")
    assert offenders == [], f"{path} builds raw SQL; use select() or move it to persistence"


def test_every_package_is_listed_for_the_wheel() -> None:
    """pyproject lists the packages (casework.templates lives in templates/): none may be left out."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "casework").rglob("__init__.py")
        if "migrations/versions" not in str(p)
    }
    assert found | {"casework.templates"} == listed


def test_the_top_level_holds_the_names_of_the_design_card() -> None:
    for name in (
        "pyproject.toml",
        "casework/states.py",
        "casework/rules",
        "casework/cli.py",
        "templates",
        "tests",
        "docs",
    ):
        assert (ROOT / name).exists(), name
    assert (ROOT / "templates" / "documents").is_dir()
    assert not (ROOT / "casework" / "templates").exists()
