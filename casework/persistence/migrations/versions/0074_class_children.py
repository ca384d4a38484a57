"""class_children: each class's children on file kept; the month's aid kept with the class's months

Revision ID: 0074
Revises: 0073
Create Date: 2026-12-07

After revision 0073 the report's remaining passes over a school's million children were the
children on file (by class and family situation), the complete files and the children given aid
in the month. ``class_children`` keeps the first two per class and family situation; the month's
aided children become a count of ``class_month`` (its rows are emptied here, to be counted again
with it: a month not kept is counted when asked for). Triggers on child mark a class's children
stale (``class_children_stale``) when a child is added, moved, moved away, or its file changes,
and its months (for the aid, counted by the child's class) when a child moves class; triggers on
aid mark the month of the aid. ``ix_child_school_complete`` gains the family situation, so that
the complete files are counted per situation from the index alone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0074"
down_revision: str | None = "0073"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
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
ON_FILE = "transferred_out_on IS NULL"
COMPLETE = "transferred_out_on IS NULL AND class_id IS NOT NULL AND " + " AND ".join(
    f"{name} IS NOT NULL" for name in REQUIRED
)
WATCHED = ", ".join(("school_id", "class_id", "transferred_out_on", *REQUIRED))
CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("school_id", "class_id", "transferred_out_on", *REQUIRED))
MOVED = "OLD.school_id IS NOT NEW.school_id OR OLD.class_id IS NOT NEW.class_id"
# SQLite: a class marked once is enough, an import of 100,000 children marking each of its classes
# once, not once a child. Only where writers take turns: on PostgreSQL a mark seen may be one
# another transaction is counting and deleting (there, children added are marked once a statement).
marked = (
    "EXISTS (SELECT 1 FROM class_children_stale WHERE school_id = {s}.school_id "
    "AND class_key = COALESCE({s}.class_id, 0))"
)

SQLITE = f"""
CREATE TRIGGER tr_class_children_new AFTER INSERT ON child BEGIN
  INSERT INTO class_children_stale (school_id, class_key)
  SELECT NEW.school_id, COALESCE(NEW.class_id, 0) WHERE NOT {marked.format(s="NEW")};
END;
CREATE TRIGGER tr_class_children_change AFTER UPDATE OF {WATCHED} ON child WHEN {CHANGED} BEGIN
  INSERT INTO class_children_stale (school_id, class_key)
  SELECT OLD.school_id, COALESCE(OLD.class_id, 0) WHERE NOT {marked.format(s="OLD")}
  UNION SELECT NEW.school_id, COALESCE(NEW.class_id, 0) WHERE NOT {marked.format(s="NEW")};
END;
CREATE TRIGGER tr_class_children_moved AFTER UPDATE OF school_id, class_id ON child WHEN {MOVED} BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month)
  SELECT OLD.school_id, COALESCE(OLD.class_id, 0), 0 UNION SELECT NEW.school_id, COALESCE(NEW.class_id, 0), 0;
END;
CREATE TRIGGER tr_class_children_gone AFTER DELETE ON child BEGIN
  INSERT INTO class_children_stale (school_id, class_key) VALUES (OLD.school_id, COALESCE(OLD.class_id, 0));
  INSERT INTO class_month_stale (school_id, class_key, month) VALUES (OLD.school_id, COALESCE(OLD.class_id, 0), 0);
END;
CREATE TRIGGER tr_class_month_aid_new AFTER INSERT ON aid BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month, through)
  SELECT NEW.school_id, COALESCE(c.class_id, 0), CAST(strftime('%Y%m', NEW.given_on) AS INTEGER),
         CAST(strftime('%Y%m', NEW.given_on) AS INTEGER)
    FROM child c WHERE c.id = NEW.child_id;
END;
CREATE TRIGGER tr_class_month_aid_change AFTER UPDATE ON aid BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month, through)
  SELECT s, COALESCE(c.class_id, 0), CAST(strftime('%Y%m', d) AS INTEGER), CAST(strftime('%Y%m', d) AS INTEGER)
    FROM (SELECT OLD.school_id AS s, OLD.child_id AS k, OLD.given_on AS d
          UNION SELECT NEW.school_id, NEW.child_id, NEW.given_on) v JOIN child c ON c.id = v.k;
END;
CREATE TRIGGER tr_class_month_aid_gone AFTER DELETE ON aid BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month, through)
  SELECT OLD.school_id, COALESCE(c.class_id, 0), CAST(strftime('%Y%m', OLD.given_on) AS INTEGER),
         CAST(strftime('%Y%m', OLD.given_on) AS INTEGER)
    FROM child c WHERE c.id = OLD.child_id;
END;
"""

PG_MONTH = "(EXTRACT(YEAR FROM {d})::int * 100 + EXTRACT(MONTH FROM {d})::int)"
PG_CHANGED = " OR ".join(
    f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ("school_id", "class_id", "transferred_out_on", *REQUIRED)
)
POSTGRESQL = f"""
CREATE FUNCTION class_children_stale_child() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- every change marks: a mark seen here may be another transaction's, counted and deleted by
  -- it before this one commits (SQLite, one writer at a time, may skip a mark it sees)
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO class_children_stale (school_id, class_key) VALUES (OLD.school_id, COALESCE(OLD.class_id, 0));
  END IF;
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO class_children_stale (school_id, class_key) VALUES (NEW.school_id, COALESCE(NEW.class_id, 0));
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.school_id IS DISTINCT FROM NEW.school_id
                                              OR OLD.class_id IS DISTINCT FROM NEW.class_id)) THEN
    INSERT INTO class_month_stale (school_id, class_key, month) VALUES (OLD.school_id, COALESCE(OLD.class_id, 0), 0);
    IF TG_OP = 'UPDATE' THEN
      INSERT INTO class_month_stale (school_id, class_key, month) VALUES (NEW.school_id, COALESCE(NEW.class_id, 0), 0);
    END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER tr_class_children_gone AFTER DELETE ON child
  FOR EACH ROW EXECUTE FUNCTION class_children_stale_child();
-- children added: each class once a statement (an import's 100,000 children, a mark a class)
CREATE FUNCTION class_children_stale_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO class_children_stale (school_id, class_key)
  SELECT DISTINCT school_id, COALESCE(class_id, 0) FROM added;
  RETURN NULL;
END $$;
CREATE TRIGGER tr_class_children_new AFTER INSERT ON child
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION class_children_stale_added();
CREATE TRIGGER tr_class_children_change AFTER UPDATE OF {WATCHED} ON child
  FOR EACH ROW WHEN ({PG_CHANGED}) EXECUTE FUNCTION class_children_stale_child();

CREATE FUNCTION class_month_stale_aid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO class_month_stale (school_id, class_key, month, through)
    SELECT OLD.school_id, COALESCE(c.class_id, 0), {PG_MONTH.format(d="OLD.given_on")},
           {PG_MONTH.format(d="OLD.given_on")}
      FROM child c WHERE c.id = OLD.child_id;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO class_month_stale (school_id, class_key, month, through)
    SELECT NEW.school_id, COALESCE(c.class_id, 0), {PG_MONTH.format(d="NEW.given_on")},
           {PG_MONTH.format(d="NEW.given_on")}
      FROM child c WHERE c.id = NEW.child_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER tr_class_month_aid AFTER INSERT OR UPDATE OR DELETE ON aid
  FOR EACH ROW EXECUTE FUNCTION class_month_stale_aid();
"""

DROP_SQLITE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "tr_class_children_new",
        "tr_class_children_change",
        "tr_class_children_moved",
        "tr_class_children_gone",
        "tr_class_month_aid_new",
        "tr_class_month_aid_change",
        "tr_class_month_aid_gone",
    )
]
DROP_POSTGRESQL = [
    "DROP TRIGGER IF EXISTS tr_class_children_new ON child",
    "DROP TRIGGER IF EXISTS tr_class_children_gone ON child",
    "DROP FUNCTION IF EXISTS class_children_stale_added()",
    "DROP TRIGGER IF EXISTS tr_class_children_change ON child",
    "DROP TRIGGER IF EXISTS tr_class_month_aid ON aid",
    "DROP FUNCTION IF EXISTS class_children_stale_child()",
    "DROP FUNCTION IF EXISTS class_month_stale_aid()",
]


def _complete_index(columns: list[str]) -> None:
    op.drop_index("ix_child_school_complete", table_name="child")
    op.create_index(
        "ix_child_school_complete",
        "child",
        columns,
        sqlite_where=sa.text(COMPLETE),
        postgresql_where=sa.text(COMPLETE),
    )


def upgrade() -> None:
    op.create_table(
        "class_children",
        sa.Column("school_id", ID, nullable=False),
        sa.Column("class_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("situation", sa.String(length=30), nullable=False),
        sa.Column("on_file", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_class_children_school_id_school")),
        sa.PrimaryKeyConstraint("school_id", "class_key", "situation", name=op.f("pk_class_children")),
    )
    op.create_table(
        "class_children_stale",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("school_id", ID, nullable=False),
        sa.Column("class_key", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_children_stale")),
    )
    op.create_index("ix_class_children_stale_school", "class_children_stale", ["school_id", "class_key"])
    op.execute("DELETE FROM class_month")  # counted again with the aid, when asked for or swept
    with op.batch_alter_table("class_month") as batch:
        batch.add_column(sa.Column("aided", sa.Integer(), nullable=False, server_default="0"))
    _complete_index(["school_id", "class_id", "family_situation"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL)
    else:
        for statement in SQLITE.split("END;"):
            if statement.strip():
                op.execute(statement + "END;")


def downgrade() -> None:
    for statement in DROP_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else DROP_SQLITE:
        op.execute(statement)
    _complete_index(["school_id", "class_id"])
    op.execute("DELETE FROM class_month")
    with op.batch_alter_table("class_month") as batch:
        batch.drop_column("aided")
    op.drop_index("ix_class_children_stale_school", table_name="class_children_stale")
    op.drop_table("class_children_stale")
    op.drop_table("class_children")
