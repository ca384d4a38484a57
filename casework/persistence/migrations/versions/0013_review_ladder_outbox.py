"""review ladder and outbox: each duty's grace, overdue day, ladder kind, stand-in; ladder steps; the outbox

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06

Duties keep the grace their rule module sets and the first day past it (``overdue_on``), so that
due, overdue and stalled are three indexed queries. Existing rows get a grace of 0 (overdue the
day after due, as before); they take their module's grace the next time their case changes.
Stage deadlines and the critical acknowledgement do not climb the ladder (``escalates`` false).
A duty nobody holds the role of falls to the case's counsellor (``stand_in``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("duty", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grace_days", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("overdue_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("escalates", sa.Boolean(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("stand_in", sa.Boolean(), server_default="0", nullable=False))
    bind = op.get_bind()
    duty = sa.table(
        "duty",
        sa.column("id", Id),
        sa.column("code", sa.String),
        sa.column("due_on", sa.Date),
        sa.column("overdue_on", sa.Date),
        sa.column("escalates", sa.Boolean),
    )
    # The day after due, in each dialect's own date arithmetic (this is the persistence package).
    # On SQLite the text date() gives is what the Date type stores; a CAST would make it a number.
    next_day = (
        sa.func.date(duty.c.due_on, "+1 day")
        if bind.dialect.name == "sqlite"
        else sa.cast(duty.c.due_on + sa.text("INTERVAL '1 day'"), sa.Date)
    )
    op.execute(duty.update().values(overdue_on=next_day))
    op.execute(
        duty.update()
        .where(sa.or_(duty.c.code.like("stage_deadline:%"), duty.c.code == "critical_acknowledgement"))
        .values(escalates=sa.false())
    )
    with op.batch_alter_table("duty", schema=None) as batch_op:
        batch_op.alter_column("overdue_on", existing_type=sa.Date(), nullable=False)
        batch_op.create_index("ix_duty_school_overdue", ["school_id", "overdue_on"], unique=False)
        batch_op.create_index("ix_duty_responsible_due", ["responsible_id", "due_on"], unique=False)

    with op.batch_alter_table("stall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("overdue_reminded_on", sa.Date(), nullable=True))

    # The five ones count talks by role: who made the contact joins the covering index.
    op.drop_index("ix_contact_entry_school_kind_day", table_name="contact_entry")
    op.create_index(
        "ix_contact_entry_school_kind_day",
        "contact_entry",
        ["school_id", "kind", "occurred_on", "case_id", "by_id"],
        unique=False,
    )

    op.create_table(
        "notification",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("staff_id", Id, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),  # case and child ids, duty codes: no names
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_notification_school_id_school")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_notification_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("school_id", "staff_id", "day", "channel", name=op.f("uq_notification_school_id")),
    )
    op.create_index("ix_notification_pending", "notification", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "notification_attempt",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("notification_id", Id, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notification.id"], name=op.f("fk_notification_attempt_notification_id_notification")
        ),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_notification_attempt_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempt")),
    )
    op.create_index(
        op.f("ix_notification_attempt_notification_id"), "notification_attempt", ["notification_id"], unique=False
    )
    op.create_table(
        "notify_address",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("staff_id", Id, nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),  # a staff member's work address
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_notify_address_school_id_school")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_notify_address_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_address")),
        sa.UniqueConstraint("school_id", "staff_id", "channel", name=op.f("uq_notify_address_school_id")),
    )


def downgrade() -> None:
    op.drop_table("notify_address")
    op.drop_index(op.f("ix_notification_attempt_notification_id"), table_name="notification_attempt")
    op.drop_table("notification_attempt")
    op.drop_index("ix_notification_pending", table_name="notification")
    op.drop_table("notification")
    op.drop_index("ix_contact_entry_school_kind_day", table_name="contact_entry")
    op.create_index(
        "ix_contact_entry_school_kind_day",
        "contact_entry",
        ["school_id", "kind", "occurred_on", "case_id"],
        unique=False,
    )
    with op.batch_alter_table("stall", schema=None) as batch_op:
        batch_op.drop_column("overdue_reminded_on")
    with op.batch_alter_table("duty", schema=None) as batch_op:
        batch_op.drop_index("ix_duty_responsible_due")
        batch_op.drop_index("ix_duty_school_overdue")
        batch_op.drop_column("stand_in")
        batch_op.drop_column("escalates")
        batch_op.drop_column("overdue_on")
        batch_op.drop_column("grace_days")
