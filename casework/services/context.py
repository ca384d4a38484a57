"""What every use case needs: the database, a clock, the rule set in force, the language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from casework.persistence.db import Database
from casework.rules import RuleModule, RuleSet
from casework.services.settings import Settings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    db: Database
    clock: Clock = system_clock
    lang: str = "zh_CN"
    settings: Settings = field(default_factory=Settings)
    # Render a move's stage documents after it commits (services.documents.after_move). Off by
    # default so that library callers and the benchmarks pay nothing; the CLI turns it on from
    # the settings' documents.auto_render (default true).
    auto_render: bool = False
    stored_rule_sets: set[str] = field(default_factory=set, repr=False)

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
