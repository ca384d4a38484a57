"""indexes for the indicators: the children on file, complete files, pairings by kind, aid by day

Revision ID: 0071
Revises: 0070
Create Date: 2026-12-07

The indicators counted the children on file, their family situations and the complete files by
reading every child's row (wide: most of it sealed), 1.6 s of the report's 9.6 s over a million
children. Each count now reads a partial index holding exactly the rows it counts. Pairings of a
kind at a date, and the children given aid in a month, are read from an index too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0071"
down_revision: str | None = "0070"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ON_FILE = "transferred_out_on IS NULL"
# casework.domain.child.FILE_REQUIRED when this revision was written (a revision does not follow the code)
REQUIRED = (
    "name",
    "sex",
    "birth_date",
    "home_address",
    "family_situation",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
)
FILE_COMPLETE = " AND ".join([ON_FILE, "class_id IS NOT NULL", *(f"{name} IS NOT NULL" for name in REQUIRED)])


def upgrade() -> None:
    for name, columns, where in (
        ("ix_child_school_on_file", ["school_id", "class_id", "family_situation"], ON_FILE),
        ("ix_child_school_complete", ["school_id", "class_id"], FILE_COMPLETE),
    ):
        op.create_index(name, "child", columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    op.create_index("ix_pairing_school_kind", "pairing", ["school_id", "kind", "from_on", "to_on", "case_id"])
    op.drop_index("ix_aid_school_given", table_name="aid")
    op.create_index("ix_aid_school_given", "aid", ["school_id", "given_on", "child_id"])


def downgrade() -> None:
    op.drop_index("ix_aid_school_given", table_name="aid")
    op.create_index("ix_aid_school_given", "aid", ["school_id", "given_on"])
    op.drop_index("ix_pairing_school_kind", table_name="pairing")
    op.drop_index("ix_child_school_complete", table_name="child")
    op.drop_index("ix_child_school_on_file", table_name="child")
