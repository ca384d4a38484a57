"""The kept months of contacts (``contact_month``): written with every contact, in its transaction,
and recounted from the contact entries where rows come in bulk (a benchmark's builder) or to check
what was kept. What the bits mean: casework.domain.contact_months."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from casework.domain.contact_months import MONTHLY_KINDS, WEEKLY_KIND, marks
from casework.persistence.tables import ContactEntry, ContactMonth

_TABLE: Table = ContactMonth.__table__  # type: ignore[assignment]


def keep(connection: Connection, school_id: int, case_id: int, kind: str, day: Any) -> None:
    """Add one contact's bits to its case's month (a row made if the month has none yet)."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    for mark in marks(kind, day):
        stmt = insert(_TABLE).values(
            case_id=case_id, month=mark.month, school_id=school_id, kinds=mark.kinds, weeks=mark.weeks
        )
        connection.execute(
            stmt.on_conflict_do_update(
                index_elements=[_TABLE.c.case_id, _TABLE.c.month],
                set_={
                    "kinds": _TABLE.c.kinds.op("|")(stmt.excluded.kinds),
                    "weeks": _TABLE.c.weeks.op("|")(stmt.excluded.weeks),
                },
            )
        )


@event.listens_for(ContactEntry, "after_insert")
def _kept_with_the_contact(mapper: Any, connection: Connection, target: ContactEntry) -> None:
    keep(connection, target.school_id, target.case_id, target.kind, target.occurred_on)


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
