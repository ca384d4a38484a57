"""duties the counsellor answers for name the counsellor in charge, not whoever opened the case

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Since 0007 a case has a counsellor in charge (``case open --counsellor``), but its duties went on
naming the member of staff who opened it, so a case a leader opened for a counsellor was stalled
on the leader's name. Duties are recomputed whenever a case changes; this corrects the rows of
cases that have not changed since.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE duty SET responsible_id = (SELECT c.counsellor_id FROM case_file c WHERE c.id = duty.case_id)"
        " WHERE responsible_role = 'counsellor' AND EXISTS (SELECT 1 FROM case_file c WHERE c.id = duty.case_id"
        " AND c.counsellor_id IS NOT NULL AND (duty.responsible_id IS NULL OR c.counsellor_id <> duty.responsible_id))"
    )


def downgrade() -> None:
    """A correction of data: the wrong names are not put back."""
