"""a staff member's phone number, sealed, for the contact card

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

篇3: 「把自己的电话号码告诉学生及其监护人，以便及时联络」. The number is contact data (T1): sealed as the
children's phones are (casework.persistence.crypto), so the column holds bytes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("phone")
