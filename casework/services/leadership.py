"""What the leadership group's pages pick from: the school's classes and staff, its meetings, the proposed agenda."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from casework import states
from casework.domain import access as policy
from casework.domain.listing import RISK_ORDER, ListedCase
from casework.domain.vocab import STALL_REASONS
from casework.persistence import queries
from casework.persistence.tables import Meeting, MeetingItem, Membership, School, SchoolClass, Staff
from casework.services import access, review
from casework.services.actors import home_school
from casework.services.context import Context
from casework.services.meetings import proposed_agenda
from casework.services.review import review_params


@dataclass(frozen=True)
class Colleague:
    id: int
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ClassChoice:
    id: int
    grade: int
    name: str

    @property
    def ref(self) -> str:
        return f"{self.grade}/{self.name}"


@dataclass(frozen=True)
class SchoolChoices:
    """The actor's school with the classes and the staff (active roles) a filter or a meeting may name."""

    school_id: int
    school: str
    classes: tuple[ClassChoice, ...]
    staff: tuple[Colleague, ...]


@dataclass(frozen=True)
class MeetingRow:
    id: int
    held_on: date
    title: str
    items: int
    decided: int


def home(ctx: Context, actor: str | None, capability: str) -> int:
    """The actor's school (their only one), where they must hold ``capability``."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        school_id = home_school(session, access.staff_of(session, who), today)
        access.require(who, school_id, capability)
    return school_id


def choices(
    ctx: Context, actor: str | None, capability: str = policy.REVIEW_MEETING, with_staff: bool = True
) -> SchoolChoices:
    """The classes and (unless not ``with_staff``) the staff of the actor's school, for a person holding
    ``capability`` there."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        staff = access.staff_of(session, who)
        school_id = home_school(session, staff, today)
        access.require(who, school_id, capability)
        school = session.scalar(select(School.name).where(School.id == school_id)) or str(school_id)
        classes = tuple(
            ClassChoice(c.id, c.grade, c.name)
            for c in session.scalars(
                select(SchoolClass)
                .where(SchoolClass.school_id == school_id)
                .order_by(SchoolClass.grade, SchoolClass.name)
            )
        )
        roles: dict[int, list[str]] = {}
        names: dict[int, str] = {}
        if not with_staff:
            return SchoolChoices(school_id, school, classes, ())
        rows = session.execute(
            select(Staff.id, Staff.name, Membership.role)
            .join(Membership, Membership.staff_id == Staff.id)
            .where(
                Membership.school_id == school_id,
                or_(Membership.ended_on.is_(None), Membership.ended_on >= today),
                Membership.started_on <= today,
            )
            .order_by(Staff.name, Staff.id, Membership.role)
        )
        for staff_id, name, role in rows:
            names[staff_id] = name
            if role not in roles.setdefault(staff_id, []):
                roles[staff_id].append(role)
        colleagues = tuple(Colleague(i, names[i], tuple(roles[i])) for i in names)
    return SchoolChoices(school_id, school, classes, colleagues)


def meetings(ctx: Context, actor: str | None, limit: int = 50) -> list[MeetingRow]:
    """The school's meetings, newest first, each with its agenda's size and how many cases are decided."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        school_id = home_school(session, access.staff_of(session, who), today)
        access.require(who, school_id, policy.REVIEW_MEETING)
        items = (
            select(
                MeetingItem.meeting_id,
                func.count().label("n_items"),
                func.count(MeetingItem.decision).label("n_decided"),
            )
            .where(MeetingItem.school_id == school_id)
            .group_by(MeetingItem.meeting_id)
            .subquery()
        )
        rows = session.execute(
            select(Meeting.id, Meeting.held_on, Meeting.title, items.c.n_items, items.c.n_decided)
            .outerjoin(items, items.c.meeting_id == Meeting.id)
            .where(Meeting.school_id == school_id)
            .order_by(Meeting.held_on.desc(), Meeting.id.desc())
            .limit(limit)
        ).all()
    return [MeetingRow(i, day, title, int(n or 0), int(d or 0)) for i, day, title, n, d in rows]


def proposed(ctx: Context, actor: str | None) -> dict[int, list[str]]:
    """The cases a new meeting's agenda proposes (escalated and critical), riskiest first, with their reasons."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        school_id = home_school(session, access.staff_of(session, who), today)
        access.require(who, school_id, policy.REVIEW_MEETING)
        agenda = proposed_agenda(session, school_id, today, int(review_params(ctx)["escalate_after_days"]))
    return dict(agenda)


# -- the stalled page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StalledPage:
    """One page of the stalled list as the leadership group's page shows it.

    ``rows`` are the only cases whose children are named (and logged as read); the counts, the
    filters' choices and ``total`` are over every case the filters match, most urgent first.
    """

    school_id: int
    classes: tuple[tuple[int, str], ...]  # id and "grade/name" of every class: thousands in a big school
    rows: tuple[ListedCase, ...]
    total: int
    page: int
    pages: int
    by_risk: tuple[tuple[str, int], ...]  # risk level ("" for none) and its cases, riskiest first
    by_reason: tuple[tuple[str, int], ...]  # reason head and the cases carrying it, most first
    reasons: tuple[str, ...]  # every reason head of the list, for the filter
    stages: tuple[str, ...]  # every stage of the list, in the workflow's order
    responsible: tuple[tuple[int, str], ...]  # who must act on the list's cases, by name
    class_id: int | None  # the filters as applied: one that names nothing is dropped
    responsible_id: int | None
    reason: str
    stage: str


def reason_head(code: str) -> str:
    """ "stage_deadline:assessed" → "stage_deadline": what the page filters and counts by."""
    return code.partition(":")[0]


class _Derived:
    """What the page derives from one kept list: its filters' choices, and per filter its cases and counts.

    A school of 100,000 cases has some 40,000 stalled; going over them for every view would cost more
    than the whole rest of the page, so this is done once per list and filter while the list is kept.
    """

    VIEWS_KEPT = 32

    def __init__(self, cases: list[ListedCase]) -> None:
        self.cases = cases
        heads: set[str] = set()
        seen_states: set[str] = set()
        names: dict[int, str] = {}
        for c in cases:
            seen_states.add(c.state)
            for r in c.reasons:
                heads.add(reason_head(r.reason))
                if r.responsible_id is not None and r.responsible_name:
                    names[r.responsible_id] = r.responsible_name
        self.reasons = tuple(sorted(heads))
        self.stages = tuple(s for s in states.STATES if s in seen_states)
        self.responsible = tuple(sorted(names.items(), key=lambda kv: (kv[1], kv[0])))
        # The school's classes, read once with the list: classes change only by audited events
        # (added, imported, the rollover), and any of those makes the list service compute a new list.
        self.classes: tuple[tuple[int, str], ...] | None = None
        self._views: OrderedDict[tuple[str, str], _View] = OrderedDict()
        self._lock = threading.Lock()

    def view(self, reason: str, stage: str) -> _View:
        key = (reason, stage)
        with self._lock:
            found = self._views.get(key)
            if found is not None:
                self._views.move_to_end(key)
                return found
        rows = [
            c
            for c in self.cases
            if (not stage or c.state == stage)
            and (not reason or any(reason_head(r.reason) == reason for r in c.reasons))
        ]
        found = _View(rows)
        with self._lock:
            self._views[key] = found
            while len(self._views) > self.VIEWS_KEPT:
                self._views.popitem(last=False)
        return found


class _View:
    """The cases one filter keeps, most urgent first, with their counts per risk level and reason."""

    def __init__(self, rows: list[ListedCase]) -> None:
        self.rows = rows
        risks = Counter(c.risk_level or "" for c in rows)
        self.by_risk = tuple(sorted(risks.items(), key=lambda kv: RISK_ORDER.get(kv[0], 4)))
        heads = Counter(h for c in rows for h in {reason_head(r.reason) for r in c.reasons})
        self.by_reason = tuple(sorted(heads.items(), key=lambda kv: (-kv[1], kv[0])))


# By the kept list's identity: the list service keeps one object per school and filter for as long as
# nothing in the school changes, and a new object after a change. The entry holds the list itself,
# so its id cannot be taken by another list while the entry lives.
_DERIVED: OrderedDict[int, _Derived] = OrderedDict()
_DERIVED_LOCK = threading.Lock()
DERIVED_KEPT = 16


def _derived(cases: list[ListedCase]) -> _Derived:
    with _DERIVED_LOCK:
        found = _DERIVED.get(id(cases))
        if found is not None and found.cases is cases:
            _DERIVED.move_to_end(id(cases))
            return found
    found = _Derived(cases)
    with _DERIVED_LOCK:
        _DERIVED[id(cases)] = found
        while len(_DERIVED) > DERIVED_KEPT:
            _DERIVED.popitem(last=False)
    return found


def stalled_page(
    ctx: Context,
    actor: str | None,
    class_id: int | None = None,
    responsible_id: int | None = None,
    reason: str = "",
    stage: str = "",
    page: int = 1,
    per_page: int = 50,
) -> StalledPage:
    """One page of the stalled list of the actor's school, most urgent first, filtered by class and
    responsible person (by the list's query) and by reason and stage (over the list); a filter that
    names nothing of the school is dropped. Only the page's children are named and logged as read."""
    today = ctx.now().date()
    # one snapshot: the kept list is filed under the school's last change read in it (review.in_scope)
    with ctx.db.snapshot() as session:
        who = access.enter(session, actor, today)
        # the one school of the actor's roles (home_school says why when there is not exactly one)
        if len(who.roles) == 1:
            school_id = next(iter(who.roles))
        else:
            school_id = home_school(session, access.staff_of(session, who), today)
        access.require(who, school_id, policy.REVIEW_MEETING)
        if responsible_id is not None and session.get(Staff, responsible_id) is None:
            responsible_id = None  # nobody: the whole list, as with no filter
        if class_id is not None:
            owner = session.scalar(select(SchoolClass.school_id).where(SchoolClass.id == class_id))
            class_id = class_id if owner == school_id else None  # another school's class, or none
        listed = review.in_scope(session, ctx, who, queries.STALLED, today, school_id, class_id, responsible_id)
        derived = _derived(listed)
        if derived.classes is None:
            derived.classes = tuple(
                (i, f"{g}/{n}")
                for i, g, n in session.execute(
                    select(SchoolClass.id, SchoolClass.grade, SchoolClass.name)
                    .where(SchoolClass.school_id == school_id)
                    .order_by(SchoolClass.grade, SchoolClass.name)
                )
            )
        reason = reason if reason in derived.reasons or reason in STALL_REASONS else ""
        stage = stage if stage in states.STATES else ""
        view = derived.view(reason, stage)
        pages = max(1, -(-len(view.rows) // per_page))
        page = min(max(page, 1), pages)
        rows, reads = review.named(who, view.rows[(page - 1) * per_page : page * per_page])
    access.log_reads(ctx, reads, "review.stalled")
    return StalledPage(
        school_id,
        derived.classes,
        tuple(rows),
        len(view.rows),
        page,
        pages,
        view.by_risk,
        view.by_reason,
        derived.reasons,
        derived.stages,
        derived.responsible,
        class_id,
        responsible_id,
        reason,
        stage,
    )
