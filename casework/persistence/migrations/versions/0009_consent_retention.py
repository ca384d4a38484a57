"""consent and retention: guardians' consents per child, and when a child's data were purged

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "consent",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("child_id", Id, nullable=False),
        sa.Column("guardian_name", sa.String(length=100), nullable=False),
        sa.Column("relation", sa.String(length=50), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", Id, nullable=False),
        sa.Column("withdrawn_by", Id, nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], name=op.f("fk_consent_child_id_child")),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"], name=op.f("fk_consent_recorded_by_staff")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_consent_school_id_school")),
        sa.ForeignKeyConstraint(["withdrawn_by"], ["staff.id"], name=op.f("fk_consent_withdrawn_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index("ix_consent_school_child", ["school_id", "child_id"], unique=False)
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_school_child")
    op.drop_table("consent")
