"""Each class's monthly indicator counts (``class_month``), kept in the transaction that changes
what they count.

What makes a class's months stale is written by the database itself: triggers on case_file,
contact_entry and pairing (revision 0073), child and aid (0074) add a ``class_month_stale`` row
(school, class, from which month on, through which) with every case opened, closed, reopened or
moved, every contact, pairing and aid, every child moving class, however the row is written; and
a ``class_children_stale`` row with every child added, moved, moved away or whose file changes
(its children on file and complete files: ``class_children``, per class and family situation).
A transaction that appended to a school's audit chain (and so holds
its head, which serialises the school's writers) counts that school's stale months again at its
commit, after the contacts' months are kept (casework.persistence.contact_months, whose listener
comes first): the kept counts are then those of the committed rows. A change that leaves its mark
and no count (the hot path's own statements do not count) is counted by the next transaction in
the school, or the daily sweep; until then ``read`` counts that class afresh, in the reader's own
snapshot. So a report reads numbers of one moment, kept or counted, never stale ones.

The counts are those of casework.persistence.queries, restricted to the classes concerned: the
same statements the report would run, so a kept row and a count made now agree by construction
(tests/integration/test_class_months.py recounts them after random journeys through the services).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import Table, delete, event, insert, or_, select
from sqlalchemy.orm import Session

from casework.domain.calendar import end_of_week
from casework.domain.child import FILE_REQUIRED
from casework.domain.contact_months import MONTHLY_KINDS, TALK_ROLES
from casework.persistence import (
    contact_months,  # noqa: F401  (its listener goes first: see below)
    queries,
)
from casework.persistence import scope as scoping
from casework.persistence.tables import ClassChildren, ClassChildrenStale, ClassMonth, ClassMonthStale, SchoolClass

# the columns of a row after its key, in order: what ``count`` gives per class
COUNTS = (
    "open",
    *MONTHLY_KINDS,
    "call_home_weekly",
    *(f"talk_{role}" for role in TALK_ROLES),
    "mentored",
    "aided",
)

Counts = tuple[int, ...]
ZERO: Counts = (0,) * len(COUNTS)
NO_CLASS = 0  # the key of the cases without a class
EVERY_MONTH = 0

_KEPT: Table = ClassMonth.__table__  # type: ignore[assignment]
_STALE: Table = ClassMonthStale.__table__  # type: ignore[assignment]
_CHILDREN: Table = ClassChildren.__table__  # type: ignore[assignment]
_CHILDREN_STALE: Table = ClassChildrenStale.__table__  # type: ignore[assignment]
_HEADS = "casework.class_months.heads"  # in Session.info: the schools whose audit head the transaction holds


def first_day(month: int) -> date:
    return date(month // 100, month % 100, 1)


def last_day(month: int) -> date:
    first = first_day(month)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def sundays(month: int) -> int:
    """How many weeks (Monday to Sunday) end in the month: the weeks the month counts."""
    return (last_day(month).day - end_of_week(first_day(month)).day) // 7 + 1


def key_of(class_id: int | None) -> int:
    return class_id or NO_CLASS


def class_of(key: int) -> int | None:
    return key or None


def count(session: Session, school_id: int, month: int, keys: Collection[int] | None) -> dict[int, Counts]:
    """The counts of the classes ``keys`` (None: every class of the school) for ``month``, from the
    rows as the session's transaction sees them; a class with nothing to count is all zeros."""
    start, end = first_day(month), last_day(month)
    open_ = queries.open_cases_per_class(session, school_id, end, keys)
    marks = queries.month_marks_per_class(session, school_id, start, end, sundays(month), keys)
    mentored = queries.paired_per_class(session, school_id, end, "mentor", keys)
    aided = queries.aided_per_class(session, school_id, start, end, keys)
    columns = [
        open_,
        *(marks.per_kind[k] for k in MONTHLY_KINDS),
        marks.every_week,
        *(marks.by_role[r] for r in TALK_ROLES),
        mentored,
        aided,
    ]
    found = set(keys) if keys is not None else school_keys(session, school_id)
    for column in columns:
        found.update(key_of(c) for c in column)
    return {k: tuple(column.get(class_of(k), 0) for column in columns) for k in sorted(found)}


def columns(counted: dict[int, Counts]) -> dict[str, dict[int | None, int]]:
    """``read``'s counts as one mapping per count of COUNTS: class id (None: no class) to number."""
    return {name: {class_of(k): v[i] for k, v in counted.items() if v[i]} for i, name in enumerate(COUNTS)}


def school_keys(session: Session, school_id: int) -> set[int]:
    """Every class of the school, and the key of the cases without one."""
    ids = session.execute(select(SchoolClass.id).where(SchoolClass.school_id == school_id)).scalars()
    return {NO_CLASS, *ids}


def read(session: Session, school_id: int, month: int) -> tuple[dict[int, Counts], int]:
    """The school's counts for ``month``, per class key: the kept rows where they are current, the
    others (never kept, or stale) counted now in the same transaction. Also how many classes
    were counted now."""
    table = _KEPT
    kept: dict[int, Counts] = {
        row[0]: tuple(row[1:])
        for row in session.execute(
            select(table.c.class_key, *(table.c[name] for name in COUNTS)).where(
                table.c.school_id == school_id, table.c.month == month
            )
        )
    }
    stale_table = _STALE
    stale = set(
        session.execute(
            select(stale_table.c.class_key)
            .where(
                stale_table.c.school_id == school_id,
                stale_table.c.month <= month,
                or_(stale_table.c.through.is_(None), stale_table.c.through >= month),
            )
            .distinct()
        ).scalars()
    )
    keys = school_keys(session, school_id) | set(kept)
    wanted = (keys - set(kept)) | stale
    if not wanted:
        return kept, 0
    if wanted >= keys:  # nothing kept worth reading: one count of the whole school
        return count(session, school_id, month, None), len(wanted)
    fresh = count(session, school_id, month, wanted)
    return {**{k: v for k, v in kept.items() if k not in wanted}, **fresh}, len(wanted)


ChildKey = tuple[int, str]  # a class key and a family situation ('' where the card does not say)
Children = dict[ChildKey, tuple[int, int]]  # the children on file, and of them with a complete file


def count_children(session: Session, school_id: int, keys: Collection[int] | None) -> Children:
    """The children of the classes ``keys`` (None: every class of the school) as the session's
    transaction sees them, per class and family situation; a class with none has one row of zeros."""
    found: Children = {
        (key_of(c), situation or ""): counts
        for (c, situation), counts in queries.children_per_class(session, school_id, FILE_REQUIRED, keys).items()
    }
    every = set(keys) if keys is not None else school_keys(session, school_id)
    for key in every - {k for k, _ in found}:
        found[(key, "")] = (0, 0)
    return found


def read_children(session: Session, school_id: int) -> tuple[Children, int]:
    """The school's children per class and family situation: the kept rows where they are current,
    the others counted now in the same transaction; and how many classes were counted now."""
    kept: Children = {
        (k, situation): (on_file, complete)
        for k, situation, on_file, complete in session.execute(
            select(_CHILDREN.c.class_key, _CHILDREN.c.situation, _CHILDREN.c.on_file, _CHILDREN.c.complete).where(
                _CHILDREN.c.school_id == school_id
            )
        )
    }
    stale = set(
        session.execute(
            select(_CHILDREN_STALE.c.class_key).where(_CHILDREN_STALE.c.school_id == school_id).distinct()
        ).scalars()
    )
    kept_keys = {k for k, _ in kept}
    keys = school_keys(session, school_id) | kept_keys
    wanted = (keys - kept_keys) | stale
    if not wanted:
        return kept, 0
    if wanted >= keys:
        return count_children(session, school_id, None), len(wanted)
    fresh = count_children(session, school_id, wanted)
    return {**{k: v for k, v in kept.items() if k[0] not in wanted}, **fresh}, len(wanted)


def _keep_children(session: Session, school_id: int, every_class: bool) -> None:
    """Count again the school's classes marked stale (and, ``every_class``, those never kept)."""
    marked = set(
        session.execute(
            delete(_CHILDREN_STALE)
            .where(_CHILDREN_STALE.c.school_id == school_id)
            .returning(_CHILDREN_STALE.c.class_key)
        ).scalars()
    )
    if every_class:
        kept = set(session.execute(select(_CHILDREN.c.class_key).where(_CHILDREN.c.school_id == school_id)).scalars())
        marked |= school_keys(session, school_id) - kept
    if not marked:
        return
    every = school_keys(session, school_id)
    counted = count_children(session, school_id, None if marked >= every else marked)
    session.execute(
        delete(_CHILDREN).where(
            _CHILDREN.c.school_id == school_id, _CHILDREN.c.class_key.in_(sorted({k for k, _ in counted}))
        )
    )
    session.execute(
        insert(_CHILDREN),
        [
            {"school_id": school_id, "class_key": k, "situation": situation, "on_file": n, "complete": c}
            for (k, situation), (n, c) in counted.items()
        ],
    )


def keep(session: Session, school_ids: Iterable[int], months: Collection[int] = ()) -> None:
    """Count again the stale months of the schools' classes (and make the rows of ``months`` of
    every class where there are none), in the session's transaction, which must hold each
    school's audit head: the school's writers wait for it, so no two count the same months."""
    with _unscoped(session):
        for school_id in sorted(set(school_ids)):
            _keep_school(session, school_id, months)


def _keep_school(session: Session, school_id: int, months: Collection[int]) -> None:
    _keep_children(session, school_id, every_class=bool(months))
    marked = session.execute(
        delete(_STALE)
        .where(_STALE.c.school_id == school_id)
        .returning(_STALE.c.class_key, _STALE.c.month, _STALE.c.through)
    ).all()
    spans: dict[int, set[tuple[int, int | None]]] = defaultdict(set)  # per class key, (from, through)
    for key, first, through in marked:
        spans[key].add((first, through))
    todo: dict[int, set[int]] = defaultdict(set)  # per month, the classes to count
    if spans:
        for key, month in session.execute(
            select(_KEPT.c.class_key, _KEPT.c.month).where(
                _KEPT.c.school_id == school_id, _KEPT.c.class_key.in_(sorted(spans))
            )
        ):
            if any(first <= month and (through is None or month <= through) for first, through in spans[key]):
                todo[month].add(key)
        for key, found in spans.items():
            for first, through in found:  # the months of the change itself, kept from now on
                for month in (first, through):
                    if month:
                        todo[month].add(key)
    every = school_keys(session, school_id) if months or todo else set()
    for month in months:
        kept = session.execute(
            select(_KEPT.c.class_key).where(_KEPT.c.school_id == school_id, _KEPT.c.month == month)
        ).scalars()
        todo[month] |= every - set(kept)
    for month, keys in sorted(todo.items()):
        if not keys:
            continue
        counted = count(session, school_id, month, None if keys >= every else keys)
        session.execute(
            delete(_KEPT).where(
                _KEPT.c.school_id == school_id, _KEPT.c.month == month, _KEPT.c.class_key.in_(sorted(counted))
            )
        )
        session.execute(
            insert(_KEPT),
            [
                {"school_id": school_id, "month": month, "class_key": key, **dict(zip(COUNTS, values, strict=True))}
                for key, values in counted.items()
            ],
        )


@contextmanager
def _unscoped(session: Session) -> Iterator[None]:
    """The counts are the school's, whoever's transaction keeps them: the program's own scope
    for the while, the session's own after."""
    before = scoping.bound(session)
    scoping.bind(session, scoping.Scope.system())
    try:
        yield
    finally:
        if before is None:
            session.info.pop(scoping.SCOPE_KEY, None)
        else:
            scoping.bind(session, before)


def holds_head(session: Session, school_id: int) -> None:
    """Note that the session's transaction holds the school's audit head (casework.services.trail)."""
    session.info.setdefault(_HEADS, set()).add(school_id)


# Registered after contact_months' own listener (imported above), so that the contacts' months
# are kept before the classes' months are counted from them.
@event.listens_for(Session, "before_commit")
def _kept_at_commit(session: Session) -> None:
    schools = session.info.pop(_HEADS, None)
    if schools:
        session.flush()
        keep(session, schools)


@event.listens_for(Session, "after_rollback")
def _forgotten(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_HEADS, None)
