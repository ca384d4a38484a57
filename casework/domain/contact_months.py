"""What a case's contacts of a month come to, kept as they are recorded: which kinds it had, and in
which weeks the child called home.

The indicators count, per class and month, the open cases that had a talk, a parent feedback, a
letter, and a call home in every week of the month. Counted from the contact entries, each is a
pass over the month's entries of its kind and a look-up of every case found (a million cases: a
million look-ups each). Kept per case and month (``contact_month``, written in the transaction
that records the contact, at its commit), the four are one pass over one row per case. Contacts are never
changed nor deleted, so a month's row only ever gains bits.

A week (Monday to Sunday) belongs to the month of its Sunday, as the duties and the five ones
count it: the k-th Sunday of a month (k from 0) is on day 7k+1 to 7k+7, and its week is bit k.

A talk also marks the roles its teacher held at the school on the day of the talk (a membership
of the role begun by then and not ended before; the five ones count the class teacher's and the
subject teachers' talks): ``role_bit``. A teacher who takes up a role later does not turn the
talks they had before into that role's, nor one who gave it up the later talks.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from casework.domain.calendar import end_of_week

# Bit i of a row's ``kinds`` is MONTHLY_KINDS[i]. The order is stored in every row: append, never reorder.
MONTHLY_KINDS = ("talk", "parent_feedback", "letter")
WEEKLY_KIND = "call_home"
# Bits 3 and 4: a talk by a teacher holding the role at the school when it was recorded.
TALK_ROLES = ("class_teacher", "subject_teacher")


def month_key(day: date) -> int:
    """202610 for any day of October 2026."""
    return day.year * 100 + day.month


def kind_bit(kind: str) -> int:
    return 1 << MONTHLY_KINDS.index(kind)


def role_bit(role: str) -> int:
    """The bit of a talk by a teacher holding ``role`` (one of TALK_ROLES)."""
    return 1 << (len(MONTHLY_KINDS) + TALK_ROLES.index(role))


def week_bit(sunday: date) -> int:
    return 1 << ((sunday.day - 1) // 7)


def every_week(sundays: int) -> int:
    """The ``weeks`` of a case that called home in each of a month's ``sundays`` weeks."""
    return (1 << sundays) - 1


class Mark(NamedTuple):
    month: int
    kinds: int
    weeks: int


def marks(kind: str, day: date, roles: frozenset[str] = frozenset()) -> list[Mark]:
    """What one contact adds to its case's months (nothing, for the kinds not kept); ``roles``: those
    its teacher holds at the school."""
    if kind in MONTHLY_KINDS:
        bits = kind_bit(kind)
        if kind == "talk":
            for role in TALK_ROLES:
                if role in roles:
                    bits |= role_bit(role)
        return [Mark(month_key(day), bits, 0)]
    if kind == WEEKLY_KIND:
        sunday = end_of_week(day)
        return [Mark(month_key(sunday), 0, week_bit(sunday))]
    return []
