"""a child's move to another school: each school's side of it, and the file left read-only

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

A child who moves keeps their file and case at the new school while the old school keeps, read-only,
the history it wrote: child.transferred_out_on marks the file the old school may no longer change;
table transfer holds each school's side of the move (the other school's ids as plain numbers, or a
school elsewhere by name and the hash of the signed package).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transferred_out_on", sa.Date(), nullable=True))
    op.create_table(
        "transfer",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("child_id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=True),
        sa.Column("other_school_id", Id, nullable=True),
        sa.Column("other_school", sa.String(length=200), nullable=False),
        sa.Column("other_child_id", sa.BigInteger(), nullable=True),
        sa.Column("other_case_id", sa.BigInteger(), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", Id, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_transfer_case_id_case_file")),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], name=op.f("fk_transfer_child_id_child")),
        sa.ForeignKeyConstraint(["other_school_id"], ["school.id"], name=op.f("fk_transfer_other_school_id_school")),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"], name=op.f("fk_transfer_recorded_by_staff")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_transfer_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer")),
    )
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfer_package_sha256"), ["package_sha256"], unique=False)
        batch_op.create_index("ix_transfer_school_child", ["school_id", "child_id"], unique=False)


def downgrade() -> None:
    op.drop_table("transfer")
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.drop_column("transferred_out_on")
