"""Reporting queries over many cases at once: stalled reasons and indicator counts, done by the database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, case, exists, false, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from casework.domain.contact_months import MONTHLY_KINDS, TALK_ROLES, every_week, kind_bit, month_key, role_bit
from casework.domain.listing import RISK_ORDER, ListedCase, Reason
from casework.persistence import crypto
from casework.persistence.store import Store
from casework.persistence.tables import (
    Aid,
    Case,
    Child,
    ContactEntry,
    ContactMonth,
    Enrolment,
    Pairing,
    SchoolClass,
)

CLOSED = "closed"
new_tuple = tuple.__new__


# What each list takes of the duty table; ``?`` is today, then (for overdue and stalled) today - N.
DUE, OVERDUE, STALLED = "due", "overdue", "stalled"
_LEVEL = {
    # not yet past the grace, due within the days ahead (the first parameter is the last day looked at)
    DUE: " AND d.due_on <= ? AND d.overdue_on > ?",
    # past the grace, climbing the ladder, not yet N days past it
    OVERDUE: " AND d.overdue_on <= ? AND d.escalates = ? AND d.overdue_on > ?",
    # a deadline past its grace, or a duty N days past it: for the leadership group
    STALLED: " AND d.overdue_on <= ? AND (d.escalates = ? OR d.overdue_on <= ?)",
}


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _label(grade: int | None, name: str | None) -> str | None:
    return f"{grade}/{name}" if grade is not None else None


# The class label is not joined per reason: a school has tens of classes, read once (``_class_labels``).
_LIST_FROM = " JOIN case_file c ON c.id = {alias}.case_id JOIN child ch ON ch.id = c.child_id WHERE c.state <> 'closed'"
_LIST_COLUMNS = "c.school_id, c.state, c.risk_level, c.child_id, ch.name, ch.class_id"


def _class_labels(store: Store, school_id: int | None) -> dict[Any, str | None]:
    """Class id -> "grade/name" of the school's classes (of every school without one)."""
    sql, params = "SELECT id, grade, name FROM school_class", []
    if school_id is not None:
        sql += " WHERE school_id = ?"
        params.append(school_id)
    labels: dict[Any, str | None] = {None: None}
    for cls, grade, name in store.rows(sql, *params):
        labels[cls] = _label(grade, name)
    return labels


def listed(
    session: Session,
    level: str,
    today: date,
    escalate_after: int,
    ahead: int = 0,
    school_id: int | None = None,
    class_id: int | None = None,
    responsible_id: int | None = None,
) -> list[ListedCase]:
    """Every case of one level (due, overdue or stalled) with its reasons, most urgent first, from
    stored dates.

    Due: not yet overdue, due within ``ahead`` days. Overdue: past the duty's grace, not yet
    ``escalate_after`` days past it. Stalled: a deadline past its grace, a duty ``escalate_after``
    days past its grace, and (a query of its own) the same move refused again with nothing
    changed. Plain SQL through the driver, each query on an index of the duty table, and the
    cases built in one pass over its rows: at a province's scale the per-row work in Python
    costs as much as the queries.
    """
    store = Store.of(session)
    # The child's name is sealed: open each child's once, however many reasons the case has.
    names: dict[int, str] = {}
    open_name = store.ring.opener("child", "name")
    staff = _StaffNames(store, school_id)
    labels = _class_labels(store, school_id)
    today_ordinal = today.toordinal()

    def scope(alias: str) -> tuple[str, list[Any]]:
        sql, params = _LIST_FROM.format(alias=alias), []
        if school_id is not None:
            # Only the reason's own school_id: a case_file condition would lead the planner to scan cases.
            sql += f" AND {alias}.school_id = ?"
            params.append(school_id)
        if class_id is not None:
            sql += " AND ch.class_id = ?"
            params.append(class_id)
        return sql, params

    where, params = scope("d")
    sql = (
        "SELECT d.case_id, d.code, d.due_on, d.overdue_on, d.responsible_role, d.responsible_id, d.stand_in, "
        f"{_LIST_COLUMNS} FROM duty d{where}{_LEVEL[level]}"
    )
    ladder_day = store.d_in(today - timedelta(days=escalate_after))
    if level == DUE:
        params += [store.d_in(today + timedelta(days=ahead)), store.d_in(today)]
    elif level == OVERDUE:
        params += [store.d_in(today), store.b_in(True), ladder_day]
    else:
        params += [store.d_in(today), store.b_in(False), ladder_day]
    if responsible_id is not None:
        sql += " AND d.responsible_id = ?"
        params.append(responsible_id)
    # Due dates repeat: each converted once, with its days overdue.
    dates: dict[Any, tuple[date, int]] = {}
    d_out = store.d_out
    staff_name = staff.get
    known = staff.names.get  # the school's staff, without a call; ``staff`` itself means "not yet read"
    risk_order = RISK_ORDER.get

    def day_of(value: Any) -> tuple[date, int]:
        day = d_out(value) or today
        got = dates[value] = (day, max(0, today_ordinal - day.toordinal()))
        return got

    def another(case_id: int, reason: Reason) -> None:
        """A second (third…) reason for a case already listed: most urgent first."""
        first = found[case_id]
        reasons = tuple(sorted((*first.reasons, reason), key=_most_urgent))
        found[case_id] = first._replace(reasons=reasons)
        rank[case_id] = _rank(risk_order(first.risk_level or "", 4), reasons[0].days_overdue, case_id)

    # Each case built when first met, with its place in the list (``urgency``) as one integer.
    found: dict[int, ListedCase] = {}
    rank: dict[int, int] = {}
    for case_id, code, due, over, role, who, stand, sid, state, risk, child, name, cls in store.rows(sql, *params):
        since, days = dates.get(due) or day_of(due)
        late = (dates.get(over) or day_of(over))[0]
        person = known(who, staff)
        if person is staff:
            person = staff_name(who)
        # tuple.__new__ directly: a NamedTuple's own constructor costs more than the row itself
        reason = new_tuple(Reason, (code, since, days, role, who, person, bool(stand), late))
        if case_id in found:
            another(case_id, reason)
            continue
        opened = names.get(child)
        if opened is None:
            opened = names[child] = open_name(child, name).decode("utf-8")
        listed = (level, case_id, sid, state, child, opened, labels.get(cls), risk, (reason,))
        found[case_id] = new_tuple(ListedCase, listed)
        # ``_rank``, written out: one call fewer for each of tens of thousands of cases
        rank[case_id] = (risk_order(risk or "", 4) << 62) | ((_MAX_DAYS - min(days, _MAX_DAYS)) << 40) | case_id
    if level == STALLED:
        where, params = scope("r")
        sql = (
            f"SELECT r.case_id, r.event, r.at, COALESCE(c.counsellor_id, c.opened_by), {_LIST_COLUMNS}"
            f" FROM refusal r{where}"
            " AND r.repeated = ? AND r.case_version = c.version"
            " AND r.id IN (SELECT MAX(id) FROM refusal GROUP BY case_id)"
        )
        params.append(store.b_in(True))
        if responsible_id is not None:
            sql += " AND COALESCE(c.counsellor_id, c.opened_by) = ?"
            params.append(responsible_id)
        for case_id, event, at, who, sid, state, risk, child, name, cls in store.rows(sql, *params):
            day = _day(at)
            days = max(0, today_ordinal - day.toordinal())
            reason = Reason(f"repeated_refusal:{event}", day, days, "counsellor", who, staff_name(who), False, day)
            if case_id in found:
                another(case_id, reason)
                continue
            opened = names.get(child)
            if opened is None:
                opened = names[child] = open_name(child, name).decode("utf-8")
            found[case_id] = ListedCase(level, case_id, sid, state, child, opened, labels.get(cls), risk, (reason,))
            rank[case_id] = _rank(risk_order(risk or "", 4), days, case_id)
    return [found[case_id] for case_id in sorted(rank, key=rank.__getitem__)]


def _rank(risk: int, days_overdue: int, case_id: int) -> int:
    """``urgency`` as one integer (riskiest, then most days overdue, then the oldest case): integers
    sort several times faster than tuples, and a province's list has tens of thousands of cases."""
    return (risk << 62) | ((_MAX_DAYS - min(days_overdue, _MAX_DAYS)) << 40) | case_id


_MAX_DAYS = (1 << 22) - 1  # eleven thousand years overdue; case ids below 2**40


def _most_urgent(reason: Reason) -> tuple[int, str]:
    return (-reason.days_overdue, reason.reason)


class _StaffNames:
    """The names of the people responsible: the school's staff read at once, anyone else (a duty
    left with someone who has since left the school) when first met."""

    def __init__(self, store: Store, school_id: int | None) -> None:
        self.store = store
        sql, params = "SELECT id, name FROM staff", []
        if school_id is not None:
            sql += " WHERE id IN (SELECT staff_id FROM membership WHERE school_id = ?)"
            params.append(school_id)
        self.names: dict[Any, str | None] = {None: None}
        self.names.update(store.rows(sql, *params))

    def get(self, staff_id: Any) -> str | None:
        try:
            return self.names[staff_id]
        except KeyError:
            found = self.store.rows("SELECT name FROM staff WHERE id = ?", staff_id)
            name = self.names[staff_id] = found[0][0] if found else None
            return name


def unacknowledged_flags(session: Session, school_id: int, code: str = "critical") -> dict[int, date]:
    """Open cases with a flag of ``code`` the leadership has not acknowledged: case id -> day raised."""
    store = Store.of(session)
    return {
        int(case_id): _day(raised)
        for case_id, raised in store.rows(
            "SELECT f.case_id, f.raised_at FROM case_flag f JOIN case_file c ON c.id = f.case_id "
            "WHERE f.school_id = ? AND f.code = ? AND f.acknowledged_at IS NULL AND c.state <> 'closed'",
            school_id,
            code,
        )
    }


# -- indicators: counts per class, summed upwards by the caller --------------------------------


def _per_class(session: Session, query: Any) -> dict[int | None, int]:
    """Run a ``SELECT class_id, count`` grouped by class."""
    return {cls: int(n) for cls, n in session.execute(query)}


def enrolled_per_class(session: Session, school_id: int, school_year: int, term: int) -> dict[int | None, int]:
    """Children enrolled in the term, by the class they were in then (an index-only count)."""
    return _per_class(
        session,
        select(Enrolment.class_id, func.count())
        .where(
            Enrolment.school_id == school_id,
            Enrolment.school_year == school_year,
            Enrolment.term == term,
            Enrolment.status == "enrolled",
        )
        .group_by(Enrolment.class_id),
    )


def retained_per_class(
    session: Session, school_id: int, school_year: int, term: int, base: dict[int | None, int] | None = None
) -> tuple[dict[int | None, int], dict[int | None, int]]:
    """Children enrolled at the start of the year, and of those the ones still enrolled in ``term``.

    Both by the class they were in at the start of the year. ``base``: the first term's
    enrolment per class when the caller counted it already (``enrolled_per_class``, term 1).
    """
    if base is None:
        base = enrolled_per_class(session, school_id, school_year, 1)
    if term == 1:
        return base, dict(base)  # in the first term, those enrolled at its start are the ones counted
    later = aliased(Enrolment)
    still = _per_class(
        session,
        select(Enrolment.class_id, func.count())
        .join(
            later,
            and_(
                later.child_id == Enrolment.child_id,
                later.school_year == school_year,
                later.term == term,
                later.status == "enrolled",
            ),
        )
        .where(
            Enrolment.school_id == school_id,
            Enrolment.school_year == school_year,
            Enrolment.term == 1,
            Enrolment.status == "enrolled",
        )
        .group_by(Enrolment.class_id),
    )
    return base, still


def aided_per_class(
    session: Session, school_id: int, start: date, end: date, classes: Collection[int] | None = None
) -> dict[int | None, int]:
    """Children given aid in the period, by the class they are in (each child read once); ``classes``:
    only those (``in_classes``)."""
    aided = select(Aid.child_id).where(Aid.school_id == school_id, Aid.given_on.between(start, end))
    return _per_class(
        session,
        select(Child.class_id, func.count())
        .where(Child.id.in_(aided), in_classes(classes, Child.class_id))
        .group_by(Child.class_id),
    )


def _open_at(end: date) -> Any:
    """Cases open at the end of a period: opened by then and not closed (or closed later)."""
    last_moment = datetime.combine(end, datetime.max.time())
    return and_(Case.opened_at <= last_moment, or_(Case.state != CLOSED, Case.state_since > last_moment))


def in_classes(keys: Collection[int] | None, column: Any = Case.class_id) -> Any:
    """The cases (or the rows of ``column``'s table) of the classes ``keys`` (a class's id, 0 for
    those without a class); None: all."""
    if keys is None:
        return true()
    ids = sorted(k for k in keys if k)
    listed = column.in_(ids) if ids else false()
    return or_(listed, column.is_(None)) if 0 in keys else listed


def open_cases_per_class(
    session: Session, school_id: int, end: date, classes: Collection[int] | None = None
) -> dict[int | None, int]:
    """An index-only count over (school_id, class_id, state, opened_at, state_since); ``classes``:
    only those (``in_classes``)."""
    return _per_class(
        session,
        select(Case.class_id, func.count())
        .where(Case.school_id == school_id, in_classes(classes), _open_at(end))
        .group_by(Case.class_id),
    )


def follow_child_class(session: Session, child_ids: Sequence[int]) -> None:
    """Keep each case's class in step with its child's, after children changed class."""
    if child_ids:
        session.execute(
            update(Case)
            .where(Case.child_id.in_(list(child_ids)))
            .values(class_id=select(Child.class_id).where(Child.id == Case.child_id).scalar_subquery())
            .execution_options(synchronize_session=False)
        )


def contacted_per_class(session: Session, school_id: int, kind: str, start: date, end: date) -> dict[int | None, int]:
    """Open cases with at least one contact of ``kind`` in the period."""
    return _open_per_class(
        session,
        end,
        select(ContactEntry.case_id).where(
            ContactEntry.school_id == school_id,
            ContactEntry.kind == kind,
            ContactEntry.occurred_on.between(start, end),
        ),
    )


class MonthMarks(NamedTuple):
    """Of the cases open at a month's end, per class: those with a contact of each of
    ``contact_months.MONTHLY_KINDS`` in the month, those with a talk by a teacher holding each of
    ``contact_months.TALK_ROLES``, and those that called home in every week of it."""

    per_kind: dict[str, dict[int | None, int]]
    by_role: dict[str, dict[int | None, int]]
    every_week: dict[int | None, int]


def month_marks_per_class(
    session: Session, school_id: int, month: date, end: date, sundays: int, classes: Collection[int] | None = None
) -> MonthMarks:
    """One pass over the school's kept rows of the month (``contact_month``), each case read once.

    ``month``: any day of it; ``sundays``: how many weeks end in it (``Period.weeks``); ``classes``:
    only those (``in_classes``), each case of theirs looked up in the month's rows."""

    def counted(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    full = every_week(sundays)
    bits = [kind_bit(k) for k in MONTHLY_KINDS] + [role_bit(r) for r in TALK_ROLES]
    counts = (*(counted(ContactMonth.kinds.op("&")(bit) != 0) for bit in bits), counted(ContactMonth.weeks == full))
    if classes is None:
        query = (
            select(Case.class_id, *counts)
            .join(Case, Case.id == ContactMonth.case_id)
            # a case's months are its school's (a contact is its case's school's): no filter on the
            # case's school here, which would make SQLite walk every case of the school instead
            .where(ContactMonth.school_id == school_id, ContactMonth.month == month_key(month), _open_at(end))
        )
    else:  # from the classes' cases, by the (case, month) key: not a pass over the school's month
        query = (
            select(Case.class_id, *counts)
            .join(
                ContactMonth,
                and_(
                    ContactMonth.case_id == Case.id,
                    ContactMonth.month == month_key(month),
                    ContactMonth.school_id == school_id,
                ),
            )
            .where(Case.school_id == school_id, in_classes(classes), _open_at(end))
        )
    per_bit: list[dict[int | None, int]] = [{} for _ in range(len(bits) + 1)]
    for cls, *found in session.execute(query.group_by(Case.class_id)):
        for seen, n in zip(per_bit, found, strict=True):
            if n:
                seen[cls] = int(n)
    kinds = len(MONTHLY_KINDS)
    return MonthMarks(
        dict(zip(MONTHLY_KINDS, per_bit[:kinds], strict=True)),
        dict(zip(TALK_ROLES, per_bit[kinds:-1], strict=True)),
        per_bit[-1],
    )


def _open_per_class(session: Session, end: date, case_ids: Any, school_id: int | None = None) -> dict[int | None, int]:
    """The cases among ``case_ids`` (a query of case ids) open at ``end``, per class.

    ``IN`` rather than a join: the ids are gathered once into a set without duplicates (a month's
    talks are 1.6 rows a case) and each case is read once, in id order; joining every row and
    counting distinct ids after took twice as long over a million cases.
    """
    return _per_class(
        session,
        select(Case.class_id, func.count())
        .where(Case.id.in_(case_ids), _open_at(end), *([Case.school_id == school_id] if school_id is not None else []))
        .group_by(Case.class_id),
    )


def cases_per_state(session: Session, school_id: int) -> dict[str, int]:
    rows = session.execute(select(Case.state, func.count()).where(Case.school_id == school_id).group_by(Case.state))
    return {state: int(n) for state, n in rows}


def classes(session: Session, school_id: int) -> dict[int, tuple[int, str]]:
    rows = session.execute(
        select(SchoolClass.id, SchoolClass.grade, SchoolClass.name).where(SchoolClass.school_id == school_id)
    )
    return {cid: (grade, name) for cid, grade, name in rows}


def child_with(session: Session, school_id: int, field: str, value: Any, other_than: int | None) -> int | None:
    """The child of the school whose card holds ``value`` in ``field``, whatever the record scope.

    A Core statement on the table, which the scope does not narrow: a duplicate ID number is a
    duplicate even on a card the actor may not read, and only the clashing id is revealed.
    """
    table = Child.__table__
    column = table.c[field]
    if field in crypto.BLIND_INDEXED["child"]:
        # Sealed: compare the blind index, never the (random) stored bytes.
        ring = crypto.ring_of(session.connection().dialect)
        column, value = table.c[crypto.bidx_column(field)], ring.blind_index("child", field, value)
    return (
        session.connection()
        .execute(
            select(table.c.id).where(table.c.school_id == school_id, column == value, table.c.id != (other_than or -1))
        )
        .scalar()
    )


def children_by_number(session: Session, kind: str, value: str) -> list[int]:
    """Children (in the session's scope) whose ID number, or any phone number, is ``value``.

    An exact match through the blind indexes: the numbers themselves are sealed.
    """
    ring = crypto.ring_of(session.connection().dialect)
    fields = (
        ("id_number",) if kind == "id_number" else tuple(f for f in crypto.BLIND_INDEXED["child"] if f != "id_number")
    )
    conditions = [getattr(Child, crypto.bidx_column(f)) == ring.blind_index("child", f, value) for f in fields]
    return list(session.scalars(select(Child.id).where(or_(*conditions)).order_by(Child.id)))


# -- the survey, closures and family situations (issue 21) -------------------------------------------


def latest_survey(session: Session, school_id: int, school_year: int, on: date) -> tuple[int, date, int, int] | None:
    """The school's last survey of ``school_year`` held by ``on``: (id, held on, pupils, identified)."""
    from casework.persistence.tables import Survey

    row = session.execute(
        select(Survey.id, Survey.held_on, Survey.pupils, Survey.identified)
        .where(Survey.school_id == school_id, Survey.school_year == school_year, Survey.held_on <= on)
        .order_by(Survey.held_on.desc(), Survey.id.desc())
        .limit(1)
    ).first()
    return (int(row[0]), row[1], int(row[2]), int(row[3])) if row else None


def surveyed_files_per_class(
    session: Session, survey_id: int, required: Sequence[str]
) -> tuple[dict[int | None, int], dict[int | None, int]]:
    """Of the children a survey identified, by the class it found them in: those whose file is complete
    (every required field and a class), and all of them (建档率's numerator and denominator)."""
    from casework.persistence.tables import SurveyChild

    complete = and_(Child.class_id.is_not(None), *(getattr(Child, name).is_not(None) for name in required))
    rows = session.execute(
        select(SurveyChild.class_id, func.sum(case((complete, 1), else_=0)), func.count())
        .join(Child, Child.id == SurveyChild.child_id)
        .where(SurveyChild.survey_id == survey_id)
        .group_by(SurveyChild.class_id)
    )
    num: dict[int | None, int] = {}
    den: dict[int | None, int] = {}
    for cls, done, total in rows:
        num[cls], den[cls] = int(done or 0), int(total)
    return num, den


def closures_by_reason(session: Session, school_id: int, start: date, end: date) -> dict[str | None, int]:
    """Cases closed from ``start`` to ``end`` by reason code (None: closed before codes were kept)."""
    from casework.persistence.tables import CaseEvent

    rows = session.execute(
        select(CaseEvent.reason_code, func.count())
        .where(
            CaseEvent.school_id == school_id,
            CaseEvent.event == "close",
            CaseEvent.at >= datetime.combine(start, datetime.min.time()),
            CaseEvent.at < datetime.combine(end, datetime.min.time()) + timedelta(days=1),
        )
        .group_by(CaseEvent.reason_code)
    )
    return {code: int(n) for code, n in rows}


def paired_per_class(
    session: Session, school_id: int, end: date, kind: str, classes: Collection[int] | None = None
) -> dict[int | None, int]:
    """Open cases at the end of the period with a partner of ``kind`` paired then (study helpers, say);
    ``classes``: only those (``in_classes``), each case of theirs looked up in its pairings."""
    paired = and_(
        Pairing.school_id == school_id,
        Pairing.kind == kind,
        Pairing.from_on <= end,
        or_(Pairing.to_on.is_(None), Pairing.to_on >= end),
    )
    if classes is None:
        return _open_per_class(session, end, select(Pairing.case_id).where(paired), school_id)
    return _per_class(
        session,
        select(Case.class_id, func.count())
        .where(
            Case.school_id == school_id,
            in_classes(classes),
            _open_at(end),
            exists().where(Pairing.case_id == Case.id, paired),
        )
        .group_by(Case.class_id),
    )


def weekly_per_class(
    session: Session, school_id: int, kind: str, weeks: Sequence[tuple[date, date]], end: date
) -> dict[int | None, int]:
    """Open cases with a contact of ``kind`` in every one of ``weeks`` (Monday to Sunday)."""
    if not weeks:
        return {}
    week = case(
        *((ContactEntry.occurred_on.between(monday, sunday), i) for i, (monday, sunday) in enumerate(weeks)),
        else_=None,
    )
    kept = (
        select(ContactEntry.case_id)
        .where(
            ContactEntry.school_id == school_id,
            ContactEntry.kind == kind,
            ContactEntry.occurred_on.between(weeks[0][0], weeks[-1][1]),
        )
        .group_by(ContactEntry.case_id)
        .having(func.count(func.distinct(week)) == len(weeks))
    )
    return _open_per_class(session, end, kept)


def open_cases(
    session: Session, school_id: int, end: date, class_id: int | None = None
) -> list[tuple[int, int, int | None]]:
    """(case id, child id, class id) of the cases open at the end of a period."""
    query = select(Case.id, Case.child_id, Case.class_id).where(Case.school_id == school_id, _open_at(end))
    if class_id is not None:
        query = query.where(Case.class_id == class_id)
    return [(int(c), int(ch), k) for c, ch, k in session.execute(query.order_by(Case.class_id, Case.id))]


def contact_days(session: Session, school_id: int, kind: str, start: date, end: date) -> dict[int, set[date]]:
    """The days of each case's contacts of ``kind`` in the period."""
    found: dict[int, set[date]] = {}
    for case_id, day in session.execute(
        select(ContactEntry.case_id, ContactEntry.occurred_on).where(
            ContactEntry.school_id == school_id, ContactEntry.kind == kind, ContactEntry.occurred_on.between(start, end)
        )
    ):
        found.setdefault(int(case_id), set()).add(_day(day))
    return found


def talked_by_role(session: Session, school_id: int, month: date, role: str) -> set[int]:
    """Cases with a talk in ``month`` (any day of it) by a teacher holding ``role`` at the school on
    the day of the talk: the bit the case's month keeps (``contact_month``), as the indicators count."""
    return {
        int(c)
        for c in session.scalars(
            select(ContactMonth.case_id).where(
                ContactMonth.school_id == school_id,
                ContactMonth.month == month_key(month),
                ContactMonth.kinds.op("&")(role_bit(role)) != 0,
            )
        )
    }


def contacts_by_kind(session: Session, school_id: int, start: date, end: date) -> dict[str, int]:
    """Talks, visits, feedback, growth-diary entries… recorded with a day in the period, by kind."""
    rows = session.execute(
        select(ContactEntry.kind, func.count())
        .where(ContactEntry.school_id == school_id, ContactEntry.occurred_on >= start, ContactEntry.occurred_on <= end)
        .group_by(ContactEntry.kind)
    )
    return {kind: int(n) for kind, n in rows}


def cases_opened(session: Session, school_id: int, start: date, end: date) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Case.school_id == school_id,
                Case.opened_at >= datetime.combine(start, datetime.min.time()),
                Case.opened_at <= datetime.combine(end, datetime.max.time()),
            )
        )
        or 0
    )


# -- the indicators in few passes: one over the children, one over the cases, one over the contacts --


def children_per_class(
    session: Session, school_id: int, required: Sequence[str], classes: Collection[int] | None = None
) -> dict[tuple[int | None, str | None], tuple[int, int]]:
    """Per class and family situation: the children on file, and of them those whose file is
    complete (``complete_on_file_per_class``), each from its partial index; ``classes``: only those."""
    on_file = session.execute(
        select(Child.class_id, Child.family_situation, func.count())
        .where(Child.school_id == school_id, Child.transferred_out_on.is_(None), in_classes(classes, Child.class_id))
        .group_by(Child.class_id, Child.family_situation)
    )
    found = {(cls, situation): [int(n), 0] for cls, situation, n in on_file}
    complete = session.execute(
        select(Child.class_id, Child.family_situation, func.count())
        .where(
            Child.school_id == school_id,
            Child.transferred_out_on.is_(None),
            Child.class_id.is_not(None),
            *(getattr(Child, name).is_not(None) for name in required),
            in_classes(classes, Child.class_id),
        )
        .group_by(Child.class_id, Child.family_situation)
    )
    for cls, situation, n in complete:
        found.setdefault((cls, situation), [0, 0])[1] = int(n)
    return {k: (v[0], v[1]) for k, v in found.items()}
