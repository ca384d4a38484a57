"""The school calendar: terms and the holidays between them, so that no duty falls due in a holiday."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Term:
    name: str
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def default_terms(year: int) -> tuple[Term, Term]:
    """The usual Chinese school year starting in autumn of ``year``.

    Autumn term 1 September to 15 January, spring term 15 February to 5 July; the winter and
    summer holidays lie between.
    """
    return (
        Term(f"{year}-autumn", date(year, 9, 1), date(year + 1, 1, 15)),
        Term(f"{year}-spring", date(year + 1, 2, 15), date(year + 1, 7, 5)),
    )


@dataclass(frozen=True)
class SchoolCalendar:
    """Terms from the settings, or the default school year for any year not listed there."""

    terms: tuple[Term, ...] = ()

    def _around(self, day: date) -> list[Term]:
        listed = [t for t in self.terms if t.start.year in (day.year - 1, day.year, day.year + 1)]
        if listed:
            return sorted(listed, key=lambda t: t.start)
        return [t for y in (day.year - 2, day.year - 1, day.year, day.year + 1) for t in default_terms(y)]

    def term_of(self, day: date) -> Term | None:
        return next((t for t in self._around(day) if day in t), None)

    def in_holiday(self, day: date) -> bool:
        return self.term_of(day) is None

    def next_term(self, day: date) -> Term:
        upcoming = [t for t in self._around(day) if t.start > day]
        if upcoming:
            return upcoming[0]
        return default_terms(day.year + (1 if day.month >= 9 else 0))[0 if day.month < 9 else 0]

    def school_year(self, day: date) -> int:
        """2026 for any day from September 2026 to August 2027."""
        return day.year if day.month >= 9 else day.year - 1

    def term_number(self, day: date) -> tuple[int, int]:
        """The school year and term number (1 autumn, 2 spring) of the term ``day`` falls in, or of the
        next one in a holiday."""
        current = self.term_of(day) or self.next_term(day)
        year = current.start.year if current.start.month >= 7 else current.start.year - 1
        return year, 1 if self.term(year, 1).start == current.start else 2

    def term(self, school_year: int, number: int) -> Term:
        """Term ``number`` (1 autumn, 2 spring) of ``school_year``: as listed in the settings, else the default."""
        # An autumn term may start in late August: a term starting from July on opens its school year.
        listed = sorted(
            (t for t in self.terms if (t.start.year if t.start.month >= 7 else t.start.year - 1) == school_year),
            key=lambda t: t.start,
        )
        both = [*listed[:2], *default_terms(school_year)[len(listed[:2]) :]]
        return both[number - 1]

    def shift_out_of_holiday(self, due: date, grace_days: int) -> date:
        """A due date that falls in a holiday moves to ``grace_days`` after the next term starts."""
        if not self.in_holiday(due):
            return due
        return self.next_term(due).start + timedelta(days=grace_days)


def end_of_month(day: date) -> date:
    first_next = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_next - timedelta(days=1)


def end_of_week(day: date) -> date:
    """The Sunday of the week (Monday to Sunday) that holds ``day``."""
    return day + timedelta(days=6 - day.weekday())


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return (
        end_of_month(date(year, month, 1))
        if day == end_of_month(day)
        else min(date(year, month, 1) + timedelta(days=day.day - 1), end_of_month(date(year, month, 1)))
    )


def parse_terms(raw: Sequence[dict[str, object]]) -> tuple[Term, ...]:
    terms = []
    for item in raw:
        start, end = item["start"], item["end"]
        assert isinstance(start, date) and isinstance(end, date)
        terms.append(Term(str(item.get("name", f"{start.isoformat()}")), start, end))
    return tuple(sorted(terms, key=lambda t: t.start))
