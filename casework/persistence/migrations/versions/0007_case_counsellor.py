"""record scope: the counsellor a case is assigned to

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("counsellor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_case_file_counsellor_id"), ["counsellor_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_case_file_counsellor_id_staff"), "staff", ["counsellor_id"], ["id"])
    # Until now whoever opened a case was in charge of it.
    op.execute("UPDATE case_file SET counsellor_id = opened_by")


def downgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_case_file_counsellor_id_staff"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_case_file_counsellor_id"))
        batch_op.drop_column("counsellor_id")
