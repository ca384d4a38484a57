"""school-wide care: seminars and activities with the children who came, stars, 3+2+1+1 groups

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

The plans require care beyond one case: seminars (座谈会) of mentors, children and guardians each term,
class and group activities, 留守少儿之星 chosen twice a term, and 3+2+1+1 groups (篇2, 篇6). Sealed
columns (a seminar's guardians and minutes, a star's reason, a pupil's name) hold bytes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "care_event",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("class_id", Id, nullable=True),
        sa.Column("staff_ids", sa.JSON(), nullable=False),
        sa.Column("guardians", sa.LargeBinary(), nullable=True),
        sa.Column("minutes", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", Id, nullable=False),
        sa.ForeignKeyConstraint(["class_id"], ["school_class.id"], name=op.f("fk_care_event_class_id_school_class")),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"], name=op.f("fk_care_event_recorded_by_staff")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_care_event_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_event")),
    )
    with op.batch_alter_table("care_event", schema=None) as batch_op:
        batch_op.create_index("ix_care_event_school_day", ["school_id", "held_on"], unique=False)
    op.create_table(
        "care_attendance",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("child_id", Id, nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], name=op.f("fk_care_attendance_child_id_child")),
        sa.ForeignKeyConstraint(["event_id"], ["care_event.id"], name=op.f("fk_care_attendance_event_id_care_event")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_care_attendance_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_attendance")),
        sa.UniqueConstraint("event_id", "child_id", name=op.f("uq_care_attendance_event_id")),
    )
    with op.batch_alter_table("care_attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_attendance_child_id"), ["child_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_attendance_event_id"), ["event_id"], unique=False)
    op.create_table(
        "star",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("child_id", Id, nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("chosen_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", Id, nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], name=op.f("fk_star_child_id_child")),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"], name=op.f("fk_star_recorded_by_staff")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_star_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_star")),
        sa.UniqueConstraint("child_id", "school_year", "term", "round", name=op.f("uq_star_child_id")),
    )
    with op.batch_alter_table("star", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_star_child_id"), ["child_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_star_school_id"), ["school_id"], unique=False)
    op.create_table(
        "care_group",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("teacher_id", Id, nullable=False),
        sa.Column("parent_id", Id, nullable=False),
        sa.Column("formed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", Id, nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["staff.id"], name=op.f("fk_care_group_parent_id_staff")),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"], name=op.f("fk_care_group_recorded_by_staff")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_care_group_school_id_school")),
        sa.ForeignKeyConstraint(["teacher_id"], ["staff.id"], name=op.f("fk_care_group_teacher_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_group")),
        sa.UniqueConstraint("school_id", "name", name=op.f("uq_care_group_school_id")),
    )
    op.create_table(
        "care_group_member",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("group_id", Id, nullable=False),
        sa.Column("child_id", Id, nullable=True),
        sa.Column("pupil_name", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], name=op.f("fk_care_group_member_child_id_child")),
        sa.ForeignKeyConstraint(["group_id"], ["care_group.id"], name=op.f("fk_care_group_member_group_id_care_group")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_care_group_member_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_group_member")),
    )
    with op.batch_alter_table("care_group_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_group_member_child_id"), ["child_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_group_member_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    op.drop_table("care_group_member")
    op.drop_table("care_group")
    op.drop_table("star")
    op.drop_table("care_attendance")
    op.drop_table("care_event")
