"""contact_month: a case's contacts of a month kept as they are recorded, for the indicators

Revision ID: 0072
Revises: 0071
Create Date: 2026-12-07

The indicators counted the open cases with a talk, a parent feedback, a letter in the month, and
with a call home in every week of it, each from the contact entries: a pass over the month's
entries of the kind and a look-up of every case found, four times. One row per case and month,
its bits kept with every contact recorded, makes the four one pass. Filled here from the entries
already recorded (casework.persistence.contact_months.recount_sql, as it was written then: a
revision does not follow the code).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0072"
down_revision: str | None = "0071"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# bit 0 talk, bit 1 parent_feedback, bit 2 letter; weeks: a call home in the week of the k-th Sunday, bit k
KINDS = (
    "MAX(CASE WHEN kind = 'talk' THEN 1 ELSE 0 END) + MAX(CASE WHEN kind = 'parent_feedback' THEN 2 ELSE 0 END)"
    " + MAX(CASE WHEN kind = 'letter' THEN 4 ELSE 0 END)"
)
DIALECTS = {
    "postgresql": (
        "(EXTRACT(YEAR FROM {d})::int * 100 + EXTRACT(MONTH FROM {d})::int)",
        "(occurred_on + (7 - EXTRACT(ISODOW FROM occurred_on)::int) % 7)",
        "EXTRACT(DAY FROM {d})::int",
    ),
    "sqlite": (
        "CAST(strftime('%Y%m', {d}) AS INTEGER)",
        "date(occurred_on, 'weekday 0')",
        "CAST(strftime('%d', {d}) AS INTEGER)",
    ),
}


def upgrade() -> None:
    op.create_table(
        "contact_month",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("school_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kinds", sa.Integer(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_contact_month_case_id_case_file")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_contact_month_school_id_school")),
        sa.PrimaryKeyConstraint("case_id", "month", name=op.f("pk_contact_month")),
    )
    month, sunday, day_of = DIALECTS["postgresql" if op.get_bind().dialect.name == "postgresql" else "sqlite"]
    week = f"1 << (({day_of.format(d='sunday')} - 1) / 7)"
    op.execute(
        f"""
INSERT INTO contact_month (case_id, month, school_id, kinds, weeks)
SELECT case_id, month, MIN(school_id), SUM(kinds), SUM(weeks) FROM (
    SELECT case_id, {month.format(d="occurred_on")} AS month, MIN(school_id) AS school_id, {KINDS} AS kinds,
           0 AS weeks
      FROM contact_entry WHERE kind IN ('talk', 'parent_feedback', 'letter')
     GROUP BY case_id, {month.format(d="occurred_on")}
    UNION ALL
    SELECT case_id, {month.format(d="sunday")} AS month, MIN(school_id), 0, SUM(DISTINCT {week})
      FROM (SELECT case_id, school_id, {sunday} AS sunday FROM contact_entry WHERE kind = 'call_home') calls
     GROUP BY case_id, {month.format(d="sunday")}
) found
GROUP BY case_id, month
"""
    )
    op.create_index("ix_contact_month_school", "contact_month", ["school_id", "month", "case_id", "kinds", "weeks"])


def downgrade() -> None:
    op.drop_index("ix_contact_month_school", table_name="contact_month")
    op.drop_table("contact_month")
