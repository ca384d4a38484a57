"""The kept months of contacts (``contact_month``): written with every contact inserted through an
ORM session, in its transaction (at its commit), and recounted from the contact entries where rows
come in bulk outside the ORM (a benchmark's builder) or to check what was kept. What the bits mean:
casework.domain.contact_months."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, object_session

from casework.domain.contact_months import MONTHLY_KINDS, TALK_ROLES, WEEKLY_KIND, marks, role_bit
from casework.persistence.tables import ContactEntry, ContactMonth, Membership

_TABLE: Table = ContactMonth.__table__  # type: ignore[assignment]


_PENDING = "casework.contact_months"  # in Session.info: ids of the contacts inserted, months not yet kept


def keep(connection: Connection, rows: Iterable[tuple[int, int, str, Any, frozenset[str]]]) -> None:
    """Add the bits of contacts (school, case, kind, day, the roles its teacher held at the school that day)
    to their cases' months, one upsert a case and month, in (case, month) order: a row made where
    the month has none yet."""
    merged: dict[tuple[int, int], list[int]] = {}
    for school_id, case_id, kind, day, roles in rows:
        for mark in marks(kind, day, roles):
            bits = merged.setdefault((case_id, mark.month), [school_id, 0, 0])
            bits[1] |= mark.kinds
            bits[2] |= mark.weeks
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    for (case_id, month), (school_id, kinds, weeks) in sorted(merged.items()):
        stmt = insert(_TABLE).values(case_id=case_id, month=month, school_id=school_id, kinds=kinds, weeks=weeks)
        connection.execute(
            stmt.on_conflict_do_update(
                index_elements=[_TABLE.c.case_id, _TABLE.c.month],
                set_={
                    "kinds": _TABLE.c.kinds.op("|")(stmt.excluded.kinds),
                    "weeks": _TABLE.c.weeks.op("|")(stmt.excluded.weeks),
                },
            )
        )


# The months are kept at the commit, not as each contact is flushed: by then the transaction holds
# the audit chain's head (every write that records a contact appends to it), so the month rows are
# always locked after the head. Locked at each insert, a class sheet (its first contact's audit
# event, then its second contact's month) and a single contact of the same month (its month, then
# its audit event) would take the two in opposite orders and deadlock on PostgreSQL.


@event.listens_for(ContactEntry, "after_insert")
def _noted(mapper: Any, connection: Connection, target: ContactEntry) -> None:
    session = object_session(target)
    assert session is not None  # a flush is a session's
    session.info.setdefault(_PENDING, set()).add(target.id)


@event.listens_for(Session, "before_commit")
def _kept_at_commit(session: Session) -> None:
    session.flush()  # contacts added and not yet flushed note themselves now
    ids = session.info.pop(_PENDING, None)
    if not ids:
        return
    # The contacts as the transaction has them: one inserted in a savepoint rolled back since is gone.
    table = ContactEntry.__table__
    connection = session.connection()
    found = connection.execute(
        select(table.c.school_id, table.c.case_id, table.c.kind, table.c.occurred_on, table.c.by_id).where(
            table.c.id.in_(sorted(ids))
        )
    ).all()
    # the roles each talk's teacher held at its school on the day of the talk, as the talk is kept
    teachers = {by for _, _, kind, _, by in found if kind == "talk" and by is not None}
    spans: dict[tuple[int, int], list[tuple[str, Any, Any]]] = {}
    if teachers:
        for staff_id, school_id, role, started, ended in connection.execute(
            select(
                Membership.staff_id, Membership.school_id, Membership.role, Membership.started_on, Membership.ended_on
            ).where(Membership.staff_id.in_(sorted(teachers)), Membership.role.in_(TALK_ROLES))
        ):
            spans.setdefault((school_id, staff_id), []).append((role, started, ended))

    def held(school_id: int, by: int | None, day: Any) -> frozenset[str]:
        return frozenset(
            role
            for role, started, ended in spans.get((school_id, by or 0), ())
            if started <= day and (ended is None or ended >= day)
        )

    keep(connection, [(s, c, k, d, held(s, by, d)) for s, c, k, d, by in found])


@event.listens_for(Session, "after_rollback")
def _forgotten(session: Session) -> None:
    if not session.in_transaction():  # the whole transaction, not a savepoint within it
        session.info.pop(_PENDING, None)


def recount_sql(dialect: str) -> str:
    """One statement filling an empty ``contact_month`` from every contact entry, on ``dialect``
    (sqlite, postgresql): the same rows as keeping them contact by contact."""
    if dialect == "postgresql":
        month = "(EXTRACT(YEAR FROM {d})::int * 100 + EXTRACT(MONTH FROM {d})::int)"
        sunday = "(occurred_on + (7 - EXTRACT(ISODOW FROM occurred_on)::int) % 7)"
        day_of = "EXTRACT(DAY FROM {d})::int"
    else:
        month = "CAST(strftime('%Y%m', {d}) AS INTEGER)"
        sunday = "date(occurred_on, 'weekday 0')"
        day_of = "CAST(strftime('%d', {d}) AS INTEGER)"
    kinds = " + ".join(f"MAX(CASE WHEN kind = '{k}' THEN {1 << i} ELSE 0 END)" for i, k in enumerate(MONTHLY_KINDS))
    for role in TALK_ROLES:  # a talk by a teacher holding the role at the school on the day of the talk
        kinds += (
            f" + MAX(CASE WHEN kind = 'talk' AND EXISTS (SELECT 1 FROM membership m WHERE m.role = '{role}'"
            " AND m.staff_id = contact_entry.by_id AND m.school_id = contact_entry.school_id"
            " AND m.started_on <= contact_entry.occurred_on"
            " AND (m.ended_on IS NULL OR m.ended_on >= contact_entry.occurred_on))"
            f" THEN {role_bit(role)} ELSE 0 END)"
        )
    listed = ", ".join(f"'{k}'" for k in MONTHLY_KINDS)
    # distinct powers of two: their sum is their bitwise or (SQLite has no BIT_OR)
    week = f"1 << (({day_of.format(d='sunday')} - 1) / 7)"
    return f"""
INSERT INTO contact_month (case_id, month, school_id, kinds, weeks)
SELECT case_id, month, MIN(school_id), SUM(kinds), SUM(weeks) FROM (
    SELECT case_id, {month.format(d="occurred_on")} AS month, MIN(school_id) AS school_id, {kinds} AS kinds,
           0 AS weeks
      FROM contact_entry WHERE kind IN ({listed})
     GROUP BY case_id, {month.format(d="occurred_on")}
    UNION ALL
    SELECT case_id, {month.format(d="sunday")} AS month, MIN(school_id), 0, SUM(DISTINCT {week})
      FROM (SELECT case_id, school_id, {sunday} AS sunday FROM contact_entry WHERE kind = '{WEEKLY_KIND}') calls
     GROUP BY case_id, {month.format(d="sunday")}
) found
GROUP BY case_id, month
"""
