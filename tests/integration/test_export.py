"""The audit export streams every event as JSON lines or CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest

from casework import audit
from casework.errors import InvalidInput
from casework.services import trail


def test_jsonl_and_csv_hold_every_event_and_reverify(world, tmp_path) -> None:
    for _ in range(3):
        world.fire(world.case(), "assess")
    expected = trail.verify(world.ctx).events
    out = io.StringIO()
    assert trail.export(world.ctx, "jsonl", out) == expected
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(events) == expected and audit.verify(events).ok

    path = tmp_path / "trail.csv"
    assert trail.export_file(world.ctx, "csv", str(path)) == expected
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == expected and rows[0]["seq"] == "1"
    assert not (tmp_path / "trail.csv.part").exists()


def test_unknown_format_writes_nothing(world) -> None:
    with pytest.raises(InvalidInput):
        trail.export(world.ctx, "xml", io.StringIO())
