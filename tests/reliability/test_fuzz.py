"""Every command's arguments fuzzed (ids of any size, dates, any Unicode, surrogates, control characters, huge
strings): never a traceback. And a state machine of opens, moves, records, refusals and rotations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.reliability.harness import FIGURES, scaled

# Not fuzzed: they serve, send, or build whole demo schools (each tested on its own).
SKIP = {"serve", "demo", "notify send", "notify test", "roster sample"}


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(command, click.Group):
            out.extend(_leaves(command, path))
        elif " ".join(path) not in SKIP:
            out.append((path, command))
    return out


def _commands() -> list[tuple[tuple[str, ...], click.Command]]:
    from casework.cli import app

    return _leaves(app())


nasty_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp"]), max_size=8),
    st.sampled_from(["\udcff\udcfe", "王\x1b]0;pwned\x07红", "a\u202eb", "", " ", "\x00", "字" * 6000]),
    st.integers().map(str),
    st.integers(min_value=2**63 - 10, max_value=2**70).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["2099-01-01", "1800-01-01", "2026年13月1日", "1", "0", "-1", "2", "99999999999999999999"]),
)


def _value(param: click.Parameter) -> st.SearchStrategy[list[str]]:
    if isinstance(param, click.Option):
        if param.is_flag:
            return st.sampled_from([[], [param.opts[0]]])
        if not param.required:
            return st.one_of(st.just([]), nasty_text.map(lambda v: [param.opts[0], v]))
        return nasty_text.map(lambda v: [param.opts[0], v])
    return nasty_text.map(lambda v: [v])


@st.composite
def invocations(draw: Any) -> list[str]:
    path, command = draw(st.sampled_from(_commands()))
    args: list[str] = []
    for param in command.params:
        if param.name in ("help",) or (isinstance(param, click.Option) and param.name in ("out", "path")):
            continue
        args += draw(_value(param))
    return [*path, *args]


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory) -> str:
    from tests.helpers import TEST_KEY, cli_database

    # Module-scoped, so built before the autouse fixture sets CASEWORK_KEY: the key is given here, and
    # makes this a database of its own rather than the one function-scoped tests copy for the same steps.
    run = cli_database(
        "sqlite",
        [
            ("init", "--admin", "赵校务", "--school", "白岩小学"),
            ("class", "add", "4", "1班", "--as", "1"),
            ("staff", "add", "郑心怡", "--role", "counsellor", "--as", "1"),
            ("staff", "add", "周建国", "--role", "leader", "--as", "1"),
            ("child", "add", "王小红", "--class", "4/1班", "--as", "1"),
            ("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "3"),
            ("case", "open", "1", "--as", "2"),
        ],
        tmp_path_factory,
        env={"CASEWORK_KEY": TEST_KEY},
    )
    return run.url


@pytest.mark.slow
def test_no_command_gives_a_traceback_whatever_its_arguments(fuzz_db, tmp_path, monkeypatch) -> None:
    from casework.cli import app

    monkeypatch.chdir(tmp_path)  # whatever a command writes lands here
    runner = CliRunner()
    seen = {"n": 0}

    @settings(
        max_examples=scaled(150),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(invocations(), st.sampled_from(["2", "1", "\udcff", "99999999999999999999"]))
    def one(args: list[str], actor: str) -> None:
        seen["n"] += 1
        result = runner.invoke(app(), ["--db", fuzz_db, *args, "--as", actor] if "--as" not in args else args)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{args!r}: {type(result.exception).__name__}: {result.exception}")
        assert "Traceback" not in result.output, (args, result.output)
        assert result.exit_code in (0, 1, 2, 3, 4, 5), (args, result.exit_code, result.output)

    one()
    FIGURES.add("fuzzed command lines", seen["n"])
    assert Path(fuzz_db).exists() and os.path.getsize(fuzz_db) > 0


class Casework(RuleBasedStateMachine):
    """Opens, moves, records, refusals and key rotations; after every step the chain verifies and every row reads."""

    def __init__(self) -> None:
        super().__init__()
        self.world: Any = None
        self.cases: list[int] = []

    @initialize()
    def setup(self) -> None:
        from casework.persistence import crypto
        from tests.helpers import TEST_KEY, copy_world

        self.world = copy_world("sqlite", _FACTORY[0])
        key_file = Path(self.world.url + ".key")
        key_file.write_text(TEST_KEY + "\n")
        self.world.ctx.db.use_keyring(crypto.read_key_ring(key_file))
        self.cases = [self.world.case()]

    def teardown(self) -> None:
        if self.world is not None:
            self.world.ctx.db.dispose()

    @rule()
    def open_case(self) -> None:
        self.cases.append(self.world.case())

    @rule(i=st.integers(0, 10), event=st.sampled_from(["assess", "plan", "close", "reopen", "review"]))
    def move(self, i: int, event: str) -> None:
        from casework.errors import CaseworkError

        case_id = self.cases[i % len(self.cases)]
        reason = "父母返乡" if event in ("close", "reopen") else None
        try:
            self.world.fire(case_id, event, reason)
        except CaseworkError:
            FIGURES.add("state machine refusals")

    @rule(i=st.integers(0, 10), summary=st.text(min_size=1, max_size=40))
    def record(self, i: int, summary: str) -> None:
        from casework.domain.inputs import RecordContact
        from casework.errors import CaseworkError
        from casework.services import mentoring

        case_id = self.cases[i % len(self.cases)]
        try:
            mentoring.contact(
                self.world.ctx, self.world.counsellor, RecordContact(case_id=case_id, kind="talk", summary=summary)
            )
        except CaseworkError:
            FIGURES.add("state machine refusals")

    @rule()
    def rotate(self) -> None:
        from casework.services import keys

        keys.rotate(self.world.ctx, self.world.admin)
        FIGURES.add("state machine rotations")

    @invariant()
    def chain_verifies_and_every_row_reads(self) -> None:
        if self.world is None:
            return
        from sqlalchemy import select

        from casework.persistence.crypto import sealed_columns
        from casework.persistence.tables import Base
        from casework.services.audit import chain
        from tests.helpers import unscoped

        assert chain.verify(self.world.ctx).ok
        with unscoped(self.world.ctx.db) as session:
            for table in Base.metadata.sorted_tables:
                names = [c for c in sealed_columns(table.name) if c in table.c]
                if names:
                    session.execute(select(*(table.c[n] for n in names))).all()
        FIGURES.add("state machine steps checked")


_FACTORY: list[Any] = []


@pytest.mark.slow
def test_the_state_machine_keeps_the_chain_and_every_row(tmp_path_factory) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    _FACTORY[:] = [tmp_path_factory]
    run_state_machine_as_test(
        Casework,
        settings=settings(
            max_examples=scaled(4),
            stateful_step_count=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
