"""a term result keeps the class and grade of its school year, for the yearly evaluation

Revision ID: 0015
Revises: 0040
Create Date: 2026-12-06

The evaluation (篇5) covers children 「从七年级开始」 and averages a class teacher's score over the
class's children; the rollover moves a class up a grade in place, so the grade of a past year must be
kept with the result. Older rows get the child's present class; their grade stays unknown and the
evaluation estimates it from the class's present grade and the years since.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("term_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("class_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.add_column(sa.Column("grade", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_term_result_class_id_school_class"), "school_class", ["class_id"], ["id"]
        )
    op.execute("UPDATE term_result SET class_id = (SELECT c.class_id FROM child c WHERE c.id = term_result.child_id)")


def downgrade() -> None:
    with op.batch_alter_table("term_result", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_term_result_class_id_school_class"), type_="foreignkey")
        batch_op.drop_column("grade")
        batch_op.drop_column("class_id")
