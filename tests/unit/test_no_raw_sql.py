"""Raw SQL lives in the persistence package only, where the record scope is applied by hand."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "casework"
RAW = {"text", "exec_driver_sql", "raw_connection", "driver_connection", "literal_column"}


def test_no_raw_sql_outside_persistence() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {"persistence"}:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
                offenders += [f"{rel}: imports {a.name}" for a in node.names if a.name in RAW]
            if isinstance(node, ast.Attribute) and node.attr in {
                "exec_driver_sql",
                "raw_connection",
                "driver_connection",
            }:
                offenders.append(f"{rel}:{node.lineno}: .{node.attr}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "text":
                if isinstance(node.func.value, ast.Name) and node.func.value.id in {"sa", "sqlalchemy"}:
                    offenders.append(f"{rel}:{node.lineno}: sqlalchemy.text")
    assert offenders == []
