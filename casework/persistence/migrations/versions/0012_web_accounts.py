"""web accounts: sign-in names and password hashes, server-side sessions, failed sign-ins

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

The web application signs staff in. An account belongs to a person (staff, reference data), so
it carries no school_id; sessions and failed attempts belong to an account or to a name typed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("login", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("must_change", sa.Boolean(), nullable=False),
        sa.Column("password_set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_account_staff_id_staff"),
        sa.PrimaryKeyConstraint("staff_id", name="pk_account"),
        sa.UniqueConstraint("login", name="uq_account_login"),
    )
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_web_session_staff_id_staff"),
        sa.PrimaryKeyConstraint("id", name="pk_web_session"),
    )
    op.create_index("ix_web_session_staff_id", "web_session", ["staff_id"])
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", Id, nullable=False),
        sa.Column("login", sa.String(100), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_attempt"),
    )
    op.create_index("ix_sign_in_attempt_login_at", "sign_in_attempt", ["login", "at"])
    op.create_index("ix_sign_in_attempt_client_at", "sign_in_attempt", ["client", "at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_attempt_client_at", "sign_in_attempt")
    op.drop_index("ix_sign_in_attempt_login_at", "sign_in_attempt")
    op.drop_table("sign_in_attempt")
    op.drop_index("ix_web_session_staff_id", "web_session")
    op.drop_table("web_session")
    op.drop_table("account")
