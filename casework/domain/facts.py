"""What rules may know about a case when judging a move: names and counts, never personal values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class PlanItemFacts:
    id: int
    category: str
    has_time: bool
    has_content: bool
    has_target: bool
    has_responsible: bool

    @property
    def complete(self) -> bool:
        return self.has_time and self.has_content and self.has_target


@dataclass(frozen=True)
class CaseFacts:
    """A snapshot the service layer loads in one transaction and the rules read.

    Counts are "this round": since the case last (re)entered the stage that produces them,
    so a reassessed case needs a fresh assessment and a revised plan a fresh review.
    """

    case_id: int
    school_id: int
    state: str
    version: int
    today: date
    filled_fields: frozenset[str] = frozenset()
    in_class: bool = False
    assessments: int = 0
    categories: tuple[str, ...] = ()
    plan_items: tuple[PlanItemFacts, ...] = ()
    active_pairings: frozenset[str] = frozenset()
    review_recorded: bool = False
    reviewed_items: frozenset[int] = frozenset()
    reason_given: bool = False
    extra: dict[str, object] = field(default_factory=dict)
