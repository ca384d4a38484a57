"""What every use case needs: the database, a clock, the rule set in force, the language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import Any

from casework.persistence.db import Database
from casework.rules import RuleModule, RuleSet
from casework.services import denials
from casework.services.settings import Settings

Clock = Callable[[], datetime]
# An action run after a move commits, given the context, the move (services.cases.Moved) and the
# acting staff id; it must never raise (the move is done). Rendering the stage documents is one.
AfterMove = Callable[["Context", Any, int], None]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    db: Database
    clock: Clock = system_clock
    lang: str = "zh_CN"
    settings: Settings = field(default_factory=Settings)
    # Run after each move commits, in order. None by default, so that library callers and the
    # benchmarks pay nothing; services.runtime registers the documents' rendering when the settings'
    # documents.auto_render asks for it (default true), for the CLI and the web alike.
    after_move: list[AfterMove] = field(default_factory=list)
    stored_rule_sets: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        # Every refused attempt that leaves a transaction goes to the school's access log.
        self.db.on_denied = partial(denials.log, self.now, self.db)

    @cached_property
    def rule_set(self) -> RuleSet:
        return self.settings.rule_set()

    @property
    def rules(self) -> Sequence[RuleModule]:
        return self.rule_set.modules

    def now(self) -> datetime:
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return value.astimezone(UTC)
