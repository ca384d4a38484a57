"""What rules may know about a case or a child when judging: loaded by the services, read by the rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from casework.domain.calendar import SchoolCalendar


@dataclass(frozen=True)
class PlanItemFacts:
    id: int
    category: str
    has_time: bool
    has_content: bool
    has_target: bool
    has_responsible: bool
    kind: str = "general"
    subject: str | None = None

    @property
    def complete(self) -> bool:
        return self.has_time and self.has_content and self.has_target


@dataclass(frozen=True)
class TermFacts:
    school_year: int
    term: int
    total: float
    rank: int
    subjects: Mapping[str, float] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int]:
        return (self.school_year, self.term)


@dataclass(frozen=True)
class AssessmentFacts:
    """What classification reads: the card's situation, exam results, screening, the counsellor's view.

    Values here are personal; classification evidence is kept with the assessment (tier T2),
    never in audit events.
    """

    family_situation: str | None = None
    guardian_age: int | None = None
    guardian_health: str | None = None
    guardian_literate: bool | None = None
    term_results: tuple[TermFacts, ...] = ()
    screening: Mapping[str, Any] | None = None
    indicated: frozenset[str] = frozenset()


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
    boarding: bool | None = None  # 是否寄宿: boarders get frequent talks, day pupils regular home visits
    assessments: int = 0
    categories: tuple[str, ...] = ()
    plan_items: tuple[PlanItemFacts, ...] = ()
    active_pairings: frozenset[str] = frozenset()
    review_recorded: bool = False
    reviewed_items: frozenset[int] = frozenset()
    reason_given: bool = False
    opened_on: date | None = None
    state_since: date | None = None
    actor_roles: frozenset[str] = frozenset()
    flags: Mapping[str, date | None] = field(default_factory=dict)  # code -> acknowledged on
    flags_raised: Mapping[str, date] = field(default_factory=dict)  # code -> raised on
    referrals: tuple[str, ...] = ()
    term_results: tuple[TermFacts, ...] = ()
    last_contacts: Mapping[str, date] = field(default_factory=dict)  # "talk", "talk@class_teacher"…
    extensions: Mapping[str, date] = field(default_factory=dict)  # duty code -> date the leadership set
    calendar: SchoolCalendar = field(default_factory=SchoolCalendar)
    extra: Mapping[str, Any] = field(default_factory=dict)
