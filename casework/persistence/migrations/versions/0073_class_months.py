"""class_month: each class's monthly indicator counts kept; triggers mark what a change leaves stale

Revision ID: 0073
Revises: 0072
Create Date: 2026-12-07

`report indicators` counted, per class, the cases open at the month's end and of those the ones
with each kind of contact, a mentor, a talk by a class teacher or a subject teacher: passes over a
million rows each in a province's school. ``class_month`` keeps those numbers per class and month;
``class_month_stale`` lists the classes whose kept months a change has made stale, from which
month on (through which month, for a contact: its own, and the next when its week ends there).
The database writes it itself, with triggers on case_file (a case opened, closed or
reopened, moved to another class or school), contact_entry (a contact recorded) and pairing (a
partner paired or unpaired), so that no way of writing those rows (the service's sessions, the
hot path's own statements, a bulk import) can change the counts without saying so.

A talk's ``contact_month`` bits gain the roles its teacher held at the school on the day of the
talk (bit 3: class teacher, bit 4: subject teacher), filled here from the memberships' dates;
from now on each talk keeps them as it is recorded. Nothing is counted here: a month not yet kept is counted when
it is asked for, and kept by the daily sweep.

Timestamps are marked from the month of the day before: a moment late on the last day of a month
in one time zone is early on the first of the next in another.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0073"
down_revision: str | None = "0072"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COUNTS = (
    "open",
    "talk",
    "parent_feedback",
    "letter",
    "call_home_weekly",
    "talk_class_teacher",
    "talk_subject_teacher",
    "mentored",
)

SQLITE = """
CREATE TRIGGER tr_class_month_contact AFTER INSERT ON contact_entry BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month, through)
  SELECT c.school_id, COALESCE(c.class_id, 0), CAST(strftime('%Y%m', NEW.occurred_on) AS INTEGER),
         CAST(strftime('%Y%m', NEW.occurred_on, '+6 days') AS INTEGER)
    FROM case_file c WHERE c.id = NEW.case_id;
END;
CREATE TRIGGER tr_class_month_case_new AFTER INSERT ON case_file BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month)
  VALUES (NEW.school_id, COALESCE(NEW.class_id, 0), CAST(strftime('%Y%m', NEW.opened_at, '-1 day') AS INTEGER));
END;
CREATE TRIGGER tr_class_month_case_change AFTER UPDATE OF school_id, class_id, state, opened_at ON case_file
WHEN OLD.school_id IS NOT NEW.school_id OR OLD.class_id IS NOT NEW.class_id
  OR (OLD.state = 'closed') IS NOT (NEW.state = 'closed') OR OLD.opened_at IS NOT NEW.opened_at
BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month)
  SELECT school_id, class_key, CASE
      WHEN OLD.school_id IS NOT NEW.school_id OR OLD.class_id IS NOT NEW.class_id THEN 0
      WHEN OLD.opened_at IS NOT NEW.opened_at
        THEN CAST(strftime('%Y%m', min(OLD.opened_at, NEW.opened_at), '-1 day') AS INTEGER)
      ELSE CAST(strftime('%Y%m', CASE WHEN NEW.state = 'closed' THEN NEW.state_since ELSE OLD.state_since END,
                         '-1 day') AS INTEGER) END
    FROM (SELECT OLD.school_id AS school_id, COALESCE(OLD.class_id, 0) AS class_key
          UNION SELECT NEW.school_id, COALESCE(NEW.class_id, 0));
END;
CREATE TRIGGER tr_class_month_case_gone AFTER DELETE ON case_file BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month) VALUES (OLD.school_id, COALESCE(OLD.class_id, 0), 0);
END;
CREATE TRIGGER tr_class_month_pairing_new AFTER INSERT ON pairing BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month)
  SELECT c.school_id, COALESCE(c.class_id, 0),
         CAST(strftime('%Y%m', min(NEW.from_on, COALESCE(NEW.to_on, NEW.from_on))) AS INTEGER)
    FROM case_file c WHERE c.id = NEW.case_id;
END;
CREATE TRIGGER tr_class_month_pairing_change AFTER UPDATE ON pairing BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month)
  SELECT c.school_id, COALESCE(c.class_id, 0),
         CAST(strftime('%Y%m', min(OLD.from_on, NEW.from_on, COALESCE(OLD.to_on, OLD.from_on),
                                   COALESCE(NEW.to_on, NEW.from_on))) AS INTEGER)
    FROM case_file c WHERE c.id IN (OLD.case_id, NEW.case_id);
END;
CREATE TRIGGER tr_class_month_pairing_gone AFTER DELETE ON pairing BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month)
  SELECT c.school_id, COALESCE(c.class_id, 0),
         CAST(strftime('%Y%m', min(OLD.from_on, COALESCE(OLD.to_on, OLD.from_on))) AS INTEGER)
    FROM case_file c WHERE c.id = OLD.case_id;
END;
"""

PG_MONTH = "(EXTRACT(YEAR FROM {d})::int * 100 + EXTRACT(MONTH FROM {d})::int)"
CLOSING = "(CASE WHEN NEW.state = 'closed' THEN NEW.state_since ELSE OLD.state_since END)"
POSTGRESQL = f"""
CREATE FUNCTION class_month_stale_contact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO class_month_stale (school_id, class_key, month, through)
  SELECT c.school_id, COALESCE(c.class_id, 0), {PG_MONTH.format(d="NEW.occurred_on")},
         {PG_MONTH.format(d="(NEW.occurred_on + 6)")}
    FROM case_file c WHERE c.id = NEW.case_id;
  RETURN NULL;
END $$;
CREATE TRIGGER tr_class_month_contact AFTER INSERT ON contact_entry
  FOR EACH ROW EXECUTE FUNCTION class_month_stale_contact();

CREATE FUNCTION class_month_stale_case() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  m int;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO class_month_stale (school_id, class_key, month)
    VALUES (NEW.school_id, COALESCE(NEW.class_id, 0), {PG_MONTH.format(d="(NEW.opened_at - interval '1 day')")});
    RETURN NULL;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO class_month_stale (school_id, class_key, month) VALUES (OLD.school_id, COALESCE(OLD.class_id, 0), 0);
    RETURN NULL;
  END IF;
  IF OLD.school_id IS DISTINCT FROM NEW.school_id OR OLD.class_id IS DISTINCT FROM NEW.class_id THEN
    m := 0;
  ELSIF OLD.opened_at IS DISTINCT FROM NEW.opened_at THEN
    m := {PG_MONTH.format(d="(LEAST(OLD.opened_at, NEW.opened_at) - interval '1 day')")};
  ELSE
    -- closed: from the closing; reopened: from the closing it undoes
    m := {PG_MONTH.format(d=f"({CLOSING} - interval '1 day')")};
  END IF;
  INSERT INTO class_month_stale (school_id, class_key, month)
  SELECT DISTINCT s, k, m FROM (VALUES (OLD.school_id, COALESCE(OLD.class_id, 0)),
                                       (NEW.school_id, COALESCE(NEW.class_id, 0))) AS v (s, k);
  RETURN NULL;
END $$;
CREATE TRIGGER tr_class_month_case_new AFTER INSERT OR DELETE ON case_file
  FOR EACH ROW EXECUTE FUNCTION class_month_stale_case();
CREATE TRIGGER tr_class_month_case_change AFTER UPDATE OF school_id, class_id, state, opened_at ON case_file
  FOR EACH ROW WHEN (OLD.school_id IS DISTINCT FROM NEW.school_id OR OLD.class_id IS DISTINCT FROM NEW.class_id
    OR (OLD.state = 'closed') IS DISTINCT FROM (NEW.state = 'closed') OR OLD.opened_at IS DISTINCT FROM NEW.opened_at)
  EXECUTE FUNCTION class_month_stale_case();

CREATE FUNCTION class_month_stale_pairing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO class_month_stale (school_id, class_key, month)
    SELECT c.school_id, COALESCE(c.class_id, 0), {PG_MONTH.format(d="LEAST(NEW.from_on, NEW.to_on)")}
      FROM case_file c WHERE c.id = NEW.case_id;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO class_month_stale (school_id, class_key, month)
    SELECT c.school_id, COALESCE(c.class_id, 0), {PG_MONTH.format(d="LEAST(OLD.from_on, OLD.to_on)")}
      FROM case_file c WHERE c.id = OLD.case_id;
  ELSE
    INSERT INTO class_month_stale (school_id, class_key, month)
    SELECT c.school_id, COALESCE(c.class_id, 0),
           {PG_MONTH.format(d="LEAST(OLD.from_on, NEW.from_on, OLD.to_on, NEW.to_on)")}
      FROM case_file c WHERE c.id IN (OLD.case_id, NEW.case_id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER tr_class_month_pairing AFTER INSERT OR UPDATE OR DELETE ON pairing
  FOR EACH ROW EXECUTE FUNCTION class_month_stale_pairing();
"""

DROP_SQLITE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "tr_class_month_contact",
        "tr_class_month_case_new",
        "tr_class_month_case_change",
        "tr_class_month_case_gone",
        "tr_class_month_pairing_new",
        "tr_class_month_pairing_change",
        "tr_class_month_pairing_gone",
    )
]
DROP_POSTGRESQL = [
    "DROP TRIGGER IF EXISTS tr_class_month_contact ON contact_entry",
    "DROP TRIGGER IF EXISTS tr_class_month_case_new ON case_file",
    "DROP TRIGGER IF EXISTS tr_class_month_case_change ON case_file",
    "DROP TRIGGER IF EXISTS tr_class_month_pairing ON pairing",
    "DROP FUNCTION IF EXISTS class_month_stale_contact()",
    "DROP FUNCTION IF EXISTS class_month_stale_case()",
    "DROP FUNCTION IF EXISTS class_month_stale_pairing()",
]

# bit 3: a talk by a class teacher, bit 4: by a subject teacher (of the talk's school)
ROLE_BITS = """
UPDATE contact_month SET kinds = kinds
  + CASE WHEN EXISTS (SELECT 1 FROM contact_entry e JOIN membership m
                       ON m.staff_id = e.by_id AND m.school_id = e.school_id AND m.role = 'class_teacher'
                          AND m.started_on <= e.occurred_on AND (m.ended_on IS NULL OR m.ended_on >= e.occurred_on)
                      WHERE e.case_id = contact_month.case_id AND e.kind = 'talk'
                        AND e.occurred_on >= {first} AND e.occurred_on < {next}) THEN 8 ELSE 0 END
  + CASE WHEN EXISTS (SELECT 1 FROM contact_entry e JOIN membership m
                       ON m.staff_id = e.by_id AND m.school_id = e.school_id AND m.role = 'subject_teacher'
                          AND m.started_on <= e.occurred_on AND (m.ended_on IS NULL OR m.ended_on >= e.occurred_on)
                      WHERE e.case_id = contact_month.case_id AND e.kind = 'talk'
                        AND e.occurred_on >= {first} AND e.occurred_on < {next}) THEN 16 ELSE 0 END
 WHERE kinds % 2 = 1
"""
FIRST_DAY = {
    "postgresql": (
        "make_date(contact_month.month / 100, contact_month.month % 100, 1)",
        "(make_date(contact_month.month / 100, contact_month.month % 100, 1) + interval '1 month')::date",
    ),
    "sqlite": (
        "printf('%04d-%02d-01', contact_month.month / 100, contact_month.month % 100)",
        "date(printf('%04d-%02d-01', contact_month.month / 100, contact_month.month % 100), '+1 month')",
    ),
}


def upgrade() -> None:
    op.create_table(
        "class_month",
        sa.Column("school_id", ID, nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("class_key", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_class_month_school_id_school")),
        sa.PrimaryKeyConstraint("school_id", "month", "class_key", name=op.f("pk_class_month")),
    )
    op.create_table(
        "class_month_stale",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("school_id", ID, nullable=False),
        sa.Column("class_key", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("through", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_month_stale")),
    )
    op.create_index("ix_class_month_stale_school", "class_month_stale", ["school_id", "class_key", "month"])
    dialect = op.get_bind().dialect.name
    first, following = FIRST_DAY["postgresql" if dialect == "postgresql" else "sqlite"]
    op.execute(ROLE_BITS.format(first=first, next=following))
    if dialect == "postgresql":
        op.execute(POSTGRESQL)
    else:
        for statement in SQLITE.split("END;"):
            if statement.strip():
                op.execute(statement + "END;")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in DROP_POSTGRESQL if dialect == "postgresql" else DROP_SQLITE:
        op.execute(statement)
    op.execute("UPDATE contact_month SET kinds = kinds % 8")
    op.drop_index("ix_class_month_stale_school", table_name="class_month_stale")
    op.drop_table("class_month_stale")
    op.drop_table("class_month")
