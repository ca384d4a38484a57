"""SQLAlchemy tables of casework; every table holding case data carries school_id, the tenant key."""

# No `from __future__ import annotations` here: SQLAlchemy reads each Mapped[...] annotation as an
# object rather than evaluating its text, a fifth of the cost of declaring the tables, which every
# command pays.

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from casework.domain.child import FILE_REQUIRED
from casework.persistence import crypto

# Stable constraint names, so Alembic revisions are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


# Every table mapped below, and any added later, has the T1 and T2 columns of the policy table
# (casework.domain.access.SENSITIVE_COLUMNS) sealed as it is mapped and as its rows are flushed.
crypto.install(Base)


class School(Base):
    __tablename__ = "school"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SchoolClass(Base):
    __tablename__ = "school_class"
    __table_args__ = (UniqueConstraint("school_id", "grade", "name"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    grade: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(50))


class Staff(Base):
    """Reference data: a person. Where they work and as what is a Membership."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The number a teacher gives the child and the guardian (篇3), printed on the contact card; sealed.
    phone: Mapped[str | None] = mapped_column(String(40))


class Membership(Base):
    """A staff member's role at a school; moving school is a new row, never an update."""

    __tablename__ = "membership"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)


# The children on file (not moved to another school), and of those the ones whose file is complete
# (a class and every required field): the indicators count these two partial indexes alone, never
# the wide, sealed rows (revision 0071 builds them with the same conditions).
ON_FILE = "transferred_out_on IS NULL"
FILE_COMPLETE = " AND ".join([ON_FILE, "class_id IS NOT NULL", *(f"{name} IS NOT NULL" for name in FILE_REQUIRED)])


class Child(Base):
    """The child file and contact card in one row; every change is kept in ChildChange."""

    __tablename__ = "child"
    __table_args__ = (
        UniqueConstraint("school_id", "student_no"),
        Index("ix_child_school_class", "school_id", "class_id"),
        Index("ix_child_school_id_number_bidx", "school_id", "id_number_bidx"),
        Index("ix_child_school_father_phone_bidx", "school_id", "father_phone_bidx"),
        Index("ix_child_school_mother_phone_bidx", "school_id", "mother_phone_bidx"),
        Index("ix_child_school_guardian_phone_bidx", "school_id", "guardian_phone_bidx"),
        Index(
            "ix_child_school_on_file",
            "school_id",
            "class_id",
            "family_situation",
            sqlite_where=text(ON_FILE),
            postgresql_where=text(ON_FILE),
        ),
        Index(
            "ix_child_school_complete",
            "school_id",
            "class_id",
            "family_situation",
            sqlite_where=text(FILE_COMPLETE),
            postgresql_where=text(FILE_COMPLETE),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(10))
    birth_date: Mapped[date | None] = mapped_column(Date)
    student_no: Mapped[str | None] = mapped_column(String(40))
    id_number: Mapped[str | None] = mapped_column(String(40))
    boarding: Mapped[bool | None] = mapped_column(Boolean)
    health: Mapped[str | None] = mapped_column(String(500))
    home_address: Mapped[str | None] = mapped_column(String(500))
    family_situation: Mapped[str | None] = mapped_column(String(30))
    father_name: Mapped[str | None] = mapped_column(String(100))
    father_phone: Mapped[str | None] = mapped_column(String(40))
    father_address: Mapped[str | None] = mapped_column(String(500))
    father_workplace: Mapped[str | None] = mapped_column(String(500))
    father_workplace_address: Mapped[str | None] = mapped_column(String(500))
    father_workplace_phone: Mapped[str | None] = mapped_column(String(40))
    mother_name: Mapped[str | None] = mapped_column(String(100))
    mother_phone: Mapped[str | None] = mapped_column(String(40))
    mother_address: Mapped[str | None] = mapped_column(String(500))
    mother_workplace: Mapped[str | None] = mapped_column(String(500))
    mother_workplace_address: Mapped[str | None] = mapped_column(String(500))
    mother_workplace_phone: Mapped[str | None] = mapped_column(String(40))
    guardian_name: Mapped[str | None] = mapped_column(String(100))
    guardian_relation: Mapped[str | None] = mapped_column(String(50))
    guardian_occupation: Mapped[str | None] = mapped_column(String(100))
    guardian_address: Mapped[str | None] = mapped_column(String(500))
    guardian_phone: Mapped[str | None] = mapped_column(String(40))
    guardian_health: Mapped[str | None] = mapped_column(String(500))
    guardian_age: Mapped[int | None] = mapped_column(Integer)
    guardian_literate: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    # HMAC-SHA256 blind indexes of the sealed numbers, for exact lookups (casework.persistence.crypto).
    id_number_bidx: Mapped[str | None] = mapped_column(String(32))
    father_phone_bidx: Mapped[str | None] = mapped_column(String(32))
    mother_phone_bidx: Mapped[str | None] = mapped_column(String(32))
    guardian_phone_bidx: Mapped[str | None] = mapped_column(String(32))
    # When the retention purge erased the child's contact data and counselling content.
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the child moved to another school: this school keeps the file read-only from then.
    transferred_out_on: Mapped[date | None] = mapped_column(Date)


class Consent(Base):
    """A guardian's consent to processing a child's data: who gave it, when, for what, and its withdrawal."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_school_child", "school_id", "child_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    guardian_name: Mapped[str] = mapped_column(String(100))
    relation: Mapped[str] = mapped_column(String(50))
    scope: Mapped[str] = mapped_column(String(20))
    given_on: Mapped[date] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class ChildChange(Base):
    """The old and new text of one field of one child, dated and attributed."""

    __tablename__ = "child_change"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class Case(Base):
    __tablename__ = "case_file"
    __table_args__ = (
        Index("ix_case_file_school_state", "school_id", "state"),
        Index("ix_case_file_school_class", "school_id", "class_id", "state", "opened_at", "state_since"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    # The child's class, kept in step with child.class_id (casework.persistence.queries.follow_child_class),
    # so that counts per class over many cases need not visit every child.
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"))
    state: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer)
    definition_version: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    # The counsellor in charge: the case is in their record scope (casework.persistence.scope).
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    state_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    risk_level: Mapped[str | None] = mapped_column(String(20))
    stage_due_on: Mapped[date | None] = mapped_column(Date)


class CaseEvent(Base):
    """One move of a case: the case's own history (reasons live here, not in the audit)."""

    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "version"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    version: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    rule_set: Mapped[str | None] = mapped_column(String(32))
    # Why a case was closed, as a code the indicators count (domain.vocab.CLOSURE_REASONS); the
    # reason's text stays sealed beside it.
    reason_code: Mapped[str | None] = mapped_column(String(30))


class Assessment(Base):
    __tablename__ = "assessment"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    case_version: Mapped[int] = mapped_column(Integer)
    categories: Mapped[list[str]] = mapped_column()
    facts: Mapped[dict[str, Any]] = mapped_column()
    summary: Mapped[str] = mapped_column(Text)
    assessed_on: Mapped[date] = mapped_column(Date)
    by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rule_set: Mapped[str | None] = mapped_column(String(32))


class Plan(Base):
    __tablename__ = "plan"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    case_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class PlanItem(Base):
    __tablename__ = "plan_item"
    # The record scope finds a staff member's cases through the items they answer for.
    __table_args__ = (Index("ix_plan_item_responsible", "responsible_id", "plan_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(30), default="general", server_default="general")
    subject: Mapped[str | None] = mapped_column(String(30))
    measures: Mapped[str] = mapped_column(Text)
    responsible_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    content: Mapped[str | None] = mapped_column(Text)
    stage_target: Mapped[str | None] = mapped_column(Text)


class Pairing(Base):
    __tablename__ = "pairing"
    # The record scope finds a mentor's or caring parent's cases through their pairings.
    # The indicators count a school's pairings of a kind at a date from ix_pairing_school_kind alone.
    __table_args__ = (
        Index("ix_pairing_staff", "staff_id", "case_id"),
        Index("ix_pairing_school_kind", "school_id", "kind", "from_on", "to_on", "case_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    partner_name: Mapped[str | None] = mapped_column(String(100))
    from_on: Mapped[date] = mapped_column(Date)
    to_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class ContactEntry(Base):
    """A talk, home visit, feedback to the parents or phone call."""

    __tablename__ = "contact_entry"
    __table_args__ = (
        Index("ix_contact_entry_case_kind", "case_id", "kind", "occurred_on"),
        # covering for coverage counts: the case id (and, for the five ones, who made the contact)
        # come from the index, not the table
        Index("ix_contact_entry_school_kind_day", "school_id", "kind", "occurred_on", "case_id", "by_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[date] = mapped_column(Date)
    by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    summary: Mapped[str] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class ContactMonth(Base):
    """A case's contacts of a month, as the indicators count them: bit i of ``kinds`` for a contact of
    ``casework.domain.contact_months.MONTHLY_KINDS[i]``, bit k of ``weeks`` for a call home in the
    week of the month's k-th Sunday. Written with each contact inserted through a session, at its commit
    (casework.persistence.contact_months); a month is 202610."""

    __tablename__ = "contact_month"
    __table_args__ = (
        # covering: a month's rows of a school, each case's bits read from the index
        Index("ix_contact_month_school", "school_id", "month", "case_id", "kinds", "weeks"),
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    kinds: Mapped[int] = mapped_column(Integer)
    weeks: Mapped[int] = mapped_column(Integer)


class ClassMonth(Base):
    """A class's counts of a month, as the indicators report them: of the cases open at the month's
    end (``open``), those with a talk, a parent feedback, a letter, a call home in every week, a talk
    by a class teacher and by a subject teacher in the month, and with a mentor paired at its end.
    ``class_key`` is the class's id, 0 for the cases without a class. Kept as the rows they count
    change (casework.persistence.class_months); a month is 202610."""

    __tablename__ = "class_month"
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    class_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    open: Mapped[int] = mapped_column(Integer)
    talk: Mapped[int] = mapped_column(Integer)
    parent_feedback: Mapped[int] = mapped_column(Integer)
    letter: Mapped[int] = mapped_column(Integer)
    call_home_weekly: Mapped[int] = mapped_column(Integer)
    talk_class_teacher: Mapped[int] = mapped_column(Integer)
    talk_subject_teacher: Mapped[int] = mapped_column(Integer)
    mentored: Mapped[int] = mapped_column(Integer)
    aided: Mapped[int] = mapped_column(Integer, server_default="0")  # children of the class given aid in the month


class ClassMonthStale(Base):
    """A class whose kept months from ``month`` (0: every month) through ``through`` (None: every
    later month) no longer count what is in the database: written by the database's own triggers
    on case_file, contact_entry and pairing (revision 0073), in the transaction of the change,
    whichever way it is made; cleared as the months are counted again. No key on (school, class,
    month): a row written never waits for another's."""

    __tablename__ = "class_month_stale"
    __table_args__ = (Index("ix_class_month_stale_school", "school_id", "class_key", "month"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(Id)
    class_key: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    through: Mapped[int | None] = mapped_column(Integer)


class ClassChildren(Base):
    """A class's children on file (not moved to another school) of one family situation ('' where
    the card does not say), and of them those whose file is complete: what the indicators count
    of the children, kept as the rows they count change (casework.persistence.class_months)."""

    __tablename__ = "class_children"
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    class_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    situation: Mapped[str] = mapped_column(String(30), primary_key=True)
    on_file: Mapped[int] = mapped_column(Integer)
    complete: Mapped[int] = mapped_column(Integer)


class ClassChildrenStale(Base):
    """A class whose kept children no longer count what is in the database: written by triggers on
    child (revision 0074) in the transaction of the change; cleared as the class is counted again."""

    __tablename__ = "class_children_stale"
    __table_args__ = (Index("ix_class_children_stale_school", "school_id", "class_key"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(Id)
    class_key: Mapped[int] = mapped_column(Integer)


class Review(Base):
    __tablename__ = "review"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    case_version: Mapped[int] = mapped_column(Integer)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    reviewed_on: Mapped[date] = mapped_column(Date)
    by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    summary: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewEffect(Base):
    """The stage effect of one plan item against its target."""

    __tablename__ = "review_effect"
    __table_args__ = (UniqueConstraint("review_id", "plan_item_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    plan_item_id: Mapped[int] = mapped_column(ForeignKey("plan_item.id"))
    result: Mapped[str] = mapped_column(String(20))
    effect: Mapped[str] = mapped_column(Text)


class AuditEvent(Base):
    """One link of a school's hash chain. Holds ids and field names, never personal values."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_case", "school_id", "case_id"),)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last link of each school's chain; its row lock serialises appends per school."""

    __tablename__ = "audit_head"
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class RuleSet(Base):
    """The rule modules, versions and parameters in force when a decision was made, by content hash."""

    __tablename__ = "rule_set"
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column()
    first_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TermResult(Base):
    """A child's final exam of one term: total, class rank, weak subjects, titles and violations."""

    __tablename__ = "term_result"
    __table_args__ = (UniqueConstraint("child_id", "school_year", "term"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    school_year: Mapped[int] = mapped_column(Integer)  # 2026 = the year starting in autumn 2026
    term: Mapped[int] = mapped_column(Integer)  # 1 autumn, 2 spring
    total_score: Mapped[float] = mapped_column()
    class_rank: Mapped[int] = mapped_column(Integer)
    class_size: Mapped[int | None] = mapped_column(Integer)
    subjects: Mapped[dict[str, Any]] = mapped_column()
    three_good: Mapped[bool] = mapped_column(Boolean, default=False)
    serious_violation: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    # The class and its grade in that school year: the rollover moves a class up a grade in place,
    # and the yearly evaluation's scope (from grade 7) and class averages are of that year.
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"))
    grade: Mapped[int | None] = mapped_column(Integer)


class Screening(Base):
    """A structured screening (SDQ-style item scores) with its computed subscales and bands."""

    __tablename__ = "screening"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(20))
    item_scores: Mapped[list[str]] = mapped_column()
    result: Mapped[dict[str, Any]] = mapped_column()
    screened_on: Mapped[date] = mapped_column(Date)
    by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Referral(Base):
    """An external referral: police, civil affairs, women's federation, the procuratorate's minors unit."""

    __tablename__ = "referral"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    agency: Mapped[str] = mapped_column(String(40))
    referred_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseFlag(Base):
    """A flag a rule raised on a case (critical, say) and who in the leadership acknowledged it."""

    __tablename__ = "case_flag"
    __table_args__ = (UniqueConstraint("case_id", "code"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    code: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(60))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Duty(Base):
    """A recurring duty or stage deadline of a case with its due date: due, overdue and stalled are queries on these."""

    __tablename__ = "duty"
    __table_args__ = (
        UniqueConstraint("case_id", "code"),
        Index("ix_duty_school_due", "school_id", "due_on"),
        Index("ix_duty_school_overdue", "school_id", "overdue_on"),
        Index("ix_duty_responsible_due", "responsible_id", "due_on"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    code: Mapped[str] = mapped_column(String(60))
    rule: Mapped[str] = mapped_column(String(60))
    responsible_role: Mapped[str] = mapped_column(String(30))
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    rhythm_days: Mapped[int | None] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    last_done_on: Mapped[date | None] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The rule module's grace for this duty, and the first day past it (due_on + grace + 1).
    grace_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    overdue_on: Mapped[date] = mapped_column(Date)
    # True: the escalation ladder (overdue, then the leadership N days later); False: stalled once overdue.
    escalates: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Nobody holds the duty's role on this case yet: the case's counsellor answers for it meanwhile.
    stand_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class Enrolment(Base):
    """A child's enrolment status in one term (入学率, 巩固率), with the class the child was in."""

    __tablename__ = "enrolment"
    __table_args__ = (
        UniqueConstraint("child_id", "school_year", "term"),
        Index("ix_enrolment_counts", "school_id", "school_year", "term", "status", "class_id", "child_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"))
    school_year: Mapped[int] = mapped_column(Integer)
    term: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class Aid(Base):
    """Material help given to a child: clothing, stationery, meals, money (物质帮助)."""

    __tablename__ = "aid"
    # child_id in the index: the aid rate reads the index, not the rows (their descriptions are sealed)
    __table_args__ = (Index("ix_aid_school_given", "school_id", "given_on", "child_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    given_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class Refusal(Base):
    """A refused move with a fingerprint of what was missing, so a repeat with nothing changed shows."""

    __tablename__ = "refusal"
    __table_args__ = (Index("ix_refusal_school_repeated", "school_id", "repeated"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    event: Mapped[str] = mapped_column(String(30))
    case_version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    repeated: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class Stall(Base):
    """One step of the escalation ladder per duty occurrence (case, reason, due date), as the daily sweep took it.

    ``reminded_on``: the reminder on the due day; ``overdue_reminded_on``: the reminder once the grace
    passed; ``escalated_on``: the day it went to the leadership group; ``resolved_on``: done (or moved on).
    """

    __tablename__ = "stall"
    __table_args__ = (
        UniqueConstraint("case_id", "reason", "since"),
        Index("ix_stall_school_open", "school_id", "resolved_on"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    reason: Mapped[str] = mapped_column(String(60))
    since: Mapped[date] = mapped_column(Date)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    found_on: Mapped[date] = mapped_column(Date)
    reminded_on: Mapped[date | None] = mapped_column(Date)
    escalated_on: Mapped[date | None] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    overdue_reminded_on: Mapped[date | None] = mapped_column(Date)


class Extension(Base):
    """A deadline the leadership group extended, with its reason and new date."""

    __tablename__ = "extension"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    new_due: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class Meeting(Base):
    """A meeting of the leadership group: its agenda is the stalled list of the day."""

    __tablename__ = "meeting"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    members: Mapped[list[str]] = mapped_column()  # staff ids present
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class MeetingItem(Base):
    """One case on a meeting's agenda, the reasons it is there, and the decision taken."""

    __tablename__ = "meeting_item"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    reasons: Mapped[list[str]] = mapped_column()
    decision: Mapped[str | None] = mapped_column(String(20))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    new_due: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Document(Base):
    """A generated stage document (or a failed attempt): template and case versions, format, hash, bytes."""

    __tablename__ = "document"
    __table_args__ = (Index("ix_document_school_case", "school_id", "case_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    stage: Mapped[str] = mapped_column(String(30))
    template: Mapped[str] = mapped_column(String(60))
    template_version: Mapped[str] = mapped_column(String(60))
    case_version: Mapped[int] = mapped_column(Integer)
    period: Mapped[str | None] = mapped_column(String(10))  # the month of a monthly document
    lang: Mapped[str] = mapped_column(String(10))
    format: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))  # ok, failed
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(Text)
    auto: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class CryptoKey(Base):
    """A key the sealed columns are (or were) sealed under: its id and check value, never the key itself."""

    __tablename__ = "crypto_key"
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    check_value: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Account(Base):
    """A staff member's sign-in: login name, argon2id hash, whether the password is a one-time one.

    Reference data like Staff (a person may work at several schools): no school_id. The sign-in
    itself is audited in the chain of every school the person works at.
    """

    __tablename__ = "account"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change: Mapped[bool] = mapped_column(Boolean)
    password_set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie's random token, never the token itself.

    Deleting the row ends the session at once (sign-out, password change, disable).
    """

    __tablename__ = "web_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SignInAttempt(Base):
    """A failed sign-in, kept for the lockout window: the login name as typed (normalised) and the client."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        Index("ix_sign_in_attempt_login_at", "login", "at"),
        Index("ix_sign_in_attempt_client_at", "client", "at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    login: Mapped[str] = mapped_column(String(100))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """The outbox: one daily digest for one person through one channel, written in the sweep's transaction.

    ``items`` holds what the digest says (reason codes, case and child ids, never a name); the text
    is rendered when it is sent, the child's name read then from the sealed child file, as far as
    the school allows (a purged child's is gone with the file). ``status``: pending, sent or failed (after
    the last attempt); ``next_attempt_at`` is when a sender may try it (backoff after a failure);
    ``claimed_until`` is the lease of the sender trying it now.
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("school_id", "staff_id", "day", "channel"),
        Index("ix_notification_pending", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20))
    items: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationAttempt(Base):
    """One try at delivering a digest: when, through which channel, whether it worked, and why not."""

    __tablename__ = "notification_attempt"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    elapsed_ms: Mapped[int] = mapped_column(Integer)


class NotifyAddress(Base):
    """Where a staff member receives digests at a school: an email address or a mobile number for SMS."""

    __tablename__ = "notify_address"
    __table_args__ = (UniqueConstraint("school_id", "staff_id", "channel"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))


class Survey(Base):
    """A survey (摸底) of every pupil with a left-behind flag: when, how many pupils, how many identified.

    The children it identified are linked in SurveyChild (their files open or update with it); the
    other pupils are only counted, per class, in SurveyClass: no file is kept of a child not left behind.
    """

    __tablename__ = "survey"
    __table_args__ = (Index("ix_survey_school_year", "school_id", "school_year", "held_on"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    school_year: Mapped[int] = mapped_column(Integer)
    held_on: Mapped[date] = mapped_column(Date)
    pupils: Mapped[int] = mapped_column(Integer)
    identified: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the file, as the import's audit event keeps it
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class SurveyClass(Base):
    """A survey's counts in one class: pupils listed, children identified as left behind."""

    __tablename__ = "survey_class"
    __table_args__ = (UniqueConstraint("survey_id", "class_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"))
    pupils: Mapped[int] = mapped_column(Integer)
    identified: Mapped[int] = mapped_column(Integer)


class SurveyChild(Base):
    """A child a survey identified as left behind, in the class the survey found them in (建档率's denominator)."""

    __tablename__ = "survey_child"
    __table_args__ = (UniqueConstraint("survey_id", "child_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"))


class CareEvent(Base):
    """A school-wide care activity: a seminar (座谈会) of mentors, children and guardians, a class meeting,
    an interest group, a birthday party, a family-phone session…, with who led it and, for a seminar,
    which guardians came and the minutes. The children in care who came are in CareAttendance."""

    __tablename__ = "care_event"
    __table_args__ = (Index("ix_care_event_school_day", "school_id", "held_on"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    kind: Mapped[str] = mapped_column(String(30))
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"))
    staff_ids: Mapped[list[str]] = mapped_column()  # who led or came, as staff ids
    guardians: Mapped[str | None] = mapped_column(Text)  # the guardians who came (T1, sealed)
    minutes: Mapped[str | None] = mapped_column(Text)  # what was said and decided (T2, sealed)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class CareAttendance(Base):
    """A child in care who came to a care event."""

    __tablename__ = "care_attendance"
    __table_args__ = (UniqueConstraint("event_id", "child_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("care_event.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)


class Star(Base):
    """A child chosen 留守少儿之星 in one of the term's selections, with the reason (篇6: twice a term)."""

    __tablename__ = "star"
    __table_args__ = (UniqueConstraint("child_id", "school_year", "term", "round"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    school_year: Mapped[int] = mapped_column(Integer)
    term: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    chosen_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)  # sealed (T2)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class CareGroup(Base):
    """A 3+2+1+1 group (篇6): three pupils, two left-behind children, a caring parent and a teacher."""

    __tablename__ = "care_group"
    __table_args__ = (UniqueConstraint("school_id", "name"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    name: Mapped[str] = mapped_column(String(100))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    parent_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))  # the caring parent (爱心家长)
    formed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class CareGroupMember(Base):
    """A child of a group: a left-behind child on file, or a pupil by name (T1, sealed)."""

    __tablename__ = "care_group_member"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("care_group.id"), index=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"), index=True)
    pupil_name: Mapped[str | None] = mapped_column(String(100))


class Transfer(Base):
    """One side of a child's move between schools: the sending school's row (out) or the receiving one's (in).

    Each school keeps its own row about its own child and case; the other school's ids are plain
    numbers (no foreign key across schools), and a school elsewhere is known by name and by the
    hash of the signed package that carried the child.
    """

    __tablename__ = "transfer"
    __table_args__ = (Index("ix_transfer_school_child", "school_id", "child_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    direction: Mapped[str] = mapped_column(String(3))  # out, in
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"))
    other_school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))  # in this database
    other_school: Mapped[str] = mapped_column(String(200))
    other_child_id: Mapped[int | None] = mapped_column(BigInteger)
    other_case_id: Mapped[int | None] = mapped_column(BigInteger)
    package_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    moved_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class Job(Base):
    """A background job the web server runs (verify, import, rollover): who asked, its state and its outcome.

    ``outcome`` is the message to show (msgid and parameters, rendered in the reader's language);
    a job still ``running`` when the server starts again was interrupted and is marked failed.
    """

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_school_state", "school_id", "state"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    kind: Mapped[str] = mapped_column(String(20))  # verify, import, rollover
    state: Mapped[str] = mapped_column(String(10))  # running, done, failed
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[dict[str, Any] | None] = mapped_column()
