"""What every use case needs: the database, a clock, the rule modules in force, the language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from casework.persistence.db import Database
from casework.rules import RuleModule, load_rules

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    db: Database
    clock: Clock = system_clock
    lang: str = "zh_CN"
    rule_settings: dict[str, dict[str, object]] | None = None
    _rules: list[RuleModule] | None = field(default=None, repr=False)

    @cached_property
    def rules(self) -> list[RuleModule]:
        return self._rules if self._rules is not None else load_rules(self.rule_settings)

    def now(self) -> datetime:
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return value.astimezone(UTC)
