"""indexes for the record scope: pairings by staff, plan items by the person responsible

Revision ID: 0040
Revises: 0013
Create Date: 2026-12-06

An assigned role's record scope is the union of the cases a staff member is counsellor of, paired
with, or responsible for an item of. Without these indexes each of those read every row of its
table. (Duties by the person responsible, for the desk, came with 0013.)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0040"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_pairing_staff", "pairing", ["staff_id", "case_id"])
    op.create_index("ix_plan_item_responsible", "plan_item", ["responsible_id", "plan_id"])


def downgrade() -> None:
    op.drop_index("ix_plan_item_responsible", table_name="plan_item")
    op.drop_index("ix_pairing_staff", table_name="pairing")
