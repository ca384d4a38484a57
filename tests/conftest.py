"""Fixtures: a clean environment, worlds on each backend, the command line on a prepared database."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from tests.helpers import BACKENDS, TEST_KEY, Cli, World, cli_database, copy_world, drop_pg_schemas


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests cannot see the developer's CASEWORK_* settings."""
    for key in list(os.environ):
        if key.startswith("CASEWORK_") and key != "CASEWORK_TEST_PG_URL":
            monkeypatch.delenv(key, raising=False)
    for key in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):  # English locales choose English
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CASEWORK_KEY", TEST_KEY)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_pg_schemas()


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A fresh database per test, on each backend."""
    w = copy_world(request.param, tmp_path_factory)
    yield w
    w.ctx.db.dispose()


@pytest.fixture(params=BACKENDS, scope="module")
def shared_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One database per module and backend, for tests that only touch their own cases."""
    w = copy_world(request.param, tmp_path_factory)
    yield w
    w.ctx.db.dispose()


@pytest.fixture
def cli(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Make the command line on a fresh SQLite database prepared by the given steps (copied, after the first time)."""

    def make(*steps: Sequence[str], env: Mapping[str, str | None] | None = None, backend: str = "sqlite") -> Cli:
        return cli_database(backend, steps, tmp_path_factory, env)

    return make
