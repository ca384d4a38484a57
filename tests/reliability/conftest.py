"""The reliability campaign's fixtures: a world whose key is in a file, so that rotation can replace it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import BACKENDS, TEST_KEY, World, copy_world
from tests.reliability.harness import FIGURES


@pytest.fixture(params=BACKENDS)
def keyed_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A fresh world whose key ring comes from a key file (tmp), as a school's does."""
    from casework.persistence import crypto

    w = copy_world(request.param, tmp_path_factory)
    key_file = tmp_path_factory.mktemp("key") / "casework.key"
    key_file.write_text(TEST_KEY + "\n")
    key_file.chmod(0o600)
    w.ctx.db.use_keyring(crypto.read_key_ring(key_file))
    w.extra["key_file"] = str(key_file)
    yield w
    w.ctx.db.dispose()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES.counts:
        terminalreporter.write_line(
            "reliability figures: " + ", ".join(f"{k} {v}" for k, v in sorted(FIGURES.counts.items()))
        )


def key_path(world: World) -> Path:
    return Path(world.extra["key_file"])
