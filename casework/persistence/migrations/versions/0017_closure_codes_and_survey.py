"""closure reasons as codes; the survey (摸底) of every pupil that gives 建档率 its denominator

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

A closed case's reason was free text only, so the indicators could not count why cases close
(转学, 父母返乡, 毕业, 年满18岁, other): case_event.reason_code. Closes recorded before have none and
are counted as not coded. The file rate's denominator is the children the survey identified: tables
survey, survey_class (counts per class) and survey_child (the children identified).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_code", sa.String(length=30), nullable=True))
    op.create_table(
        "survey",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.Column("identified", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", Id, nullable=False),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"], name=op.f("fk_survey_recorded_by_staff")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_survey_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey")),
    )
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.create_index("ix_survey_school_year", ["school_id", "school_year", "held_on"], unique=False)
    op.create_table(
        "survey_class",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("survey_id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=True),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.Column("identified", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["class_id"], ["school_class.id"], name=op.f("fk_survey_class_class_id_school_class")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_survey_class_school_id_school")),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], name=op.f("fk_survey_class_survey_id_survey")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_class")),
        sa.UniqueConstraint("survey_id", "class_id", name=op.f("uq_survey_class_survey_id")),
    )
    with op.batch_alter_table("survey_class", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_class_survey_id"), ["survey_id"], unique=False)
    op.create_table(
        "survey_child",
        sa.Column("id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=False),
        sa.Column("survey_id", Id, nullable=False),
        sa.Column("child_id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], name=op.f("fk_survey_child_child_id_child")),
        sa.ForeignKeyConstraint(["class_id"], ["school_class.id"], name=op.f("fk_survey_child_class_id_school_class")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_survey_child_school_id_school")),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], name=op.f("fk_survey_child_survey_id_survey")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_child")),
        sa.UniqueConstraint("survey_id", "child_id", name=op.f("uq_survey_child_survey_id")),
    )
    with op.batch_alter_table("survey_child", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_child_child_id"), ["child_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_child_survey_id"), ["survey_id"], unique=False)


def downgrade() -> None:
    op.drop_table("survey_child")
    op.drop_table("survey_class")
    op.drop_table("survey")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_column("reason_code")
