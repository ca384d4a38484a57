"""background jobs of the web server: verify, import, rollover

Revision ID: 0070
Revises: 0019
Create Date: 2026-12-07

One small table: who asked for which job in which school, its state, progress and outcome. A job
the server was running when it stopped is marked failed when it starts again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0070"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("staff_id", Id, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name="fk_job_school_id_school"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_job_staff_id_staff"),
        sa.PrimaryKeyConstraint("id", name="pk_job"),
    )
    op.create_index("ix_job_school_state", "job", ["school_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_job_school_state", table_name="job")
    op.drop_table("job")
