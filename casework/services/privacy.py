"""Retention and compliance: purge the personal data of children whose cases closed long ago; the yearly report."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from casework import states
from casework.domain import access as policy
from casework.domain.consent import past_retention
from casework.errors import InvalidInput
from casework.persistence.tables import AuditEvent, Base, Case, Child, Plan, Review
from casework.services import access, trail
from casework.services.context import Context

# How a table holding personal data hangs off a child: through the child itself, a child_id,
# a case_id, or a parent row of the case (plan items through their plan, effects through their
# review). A sensitive table missing here stops the purge (tests enumerate SENSITIVE_COLUMNS).
# Tables whose sealed values are no one child's: a staff member's phone, a seminar's minutes and the
# guardians who came (many children's). The purge of a child leaves them.
SHARED_TABLES = frozenset({"staff", "care_event"})
_VIA_PARENT: dict[str, tuple[str, type[Any]]] = {
    "plan_item": ("plan_id", Plan),
    "review_effect": ("review_id", Review),
}


def _models() -> dict[str, type[Any]]:
    return {m.local_table.name: m.class_ for m in Base.registry.mappers}  # type: ignore[attr-defined]


def _link(table: str, model: type[Any], child_ids: list[int], case_ids: list[int]) -> Any:
    """The WHERE clause selecting the rows of ``table`` that belong to the children or their cases."""
    if table == "child":
        return model.id.in_(child_ids)
    if table in SHARED_TABLES:
        return false()
    columns = model.__table__.c
    if "child_id" in columns:
        return model.child_id.in_(child_ids)
    if "case_id" in columns:
        return model.case_id.in_(case_ids)
    if table in _VIA_PARENT:
        column, parent = _VIA_PARENT[table]
        return getattr(model, column).in_(select(parent.id).where(parent.case_id.in_(case_ids)))
    raise RuntimeError(f"the purge does not know how table {table} belongs to a child")


def _blank(model: type[Any], column: str, value: Any) -> Any:
    """What an erased value becomes: NULL where the column allows it, else an empty value of its kind."""
    if model.__table__.c[column].nullable:
        return None
    for kind in (str, bytes, dict, list):
        if isinstance(value, kind):
            return kind()
    return None


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | bytes | dict | list) and len(value) == 0)


@dataclass
class PurgedChild:
    child_id: int
    case_ids: list[int]
    closed_on: str  # the day the last of the child's cases closed
    fields: int = 0
    records: int = 0


@dataclass
class PurgeReport:
    school_id: int
    retention_days: int
    closed_before: str  # cases closed before this day are past retention
    dry_run: bool
    children: list[PurgedChild] = field(default_factory=list)
    tables: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> records, fields
    # Where older (sealed) copies of the erased values are still kept: None nowhere; "wal" in the
    # SQLite database file, as the WAL could not be checkpointed (the database was in use);
    # "vacuum" in PostgreSQL's dead row versions.
    old_copies: str | None = None

    @property
    def cases(self) -> int:
        return sum(len(c.case_ids) for c in self.children)

    @property
    def fields(self) -> int:
        return sum(c.fields for c in self.children)

    @property
    def records(self) -> int:
        return sum(c.records for c in self.children)

    def as_data(self) -> dict[str, Any]:
        return {
            "school_id": self.school_id,
            "retention_days": self.retention_days,
            "closed_before": self.closed_before,
            "dry_run": self.dry_run,
            "totals": {
                "children": len(self.children),
                "cases": self.cases,
                "records": self.records,
                "fields": self.fields,
            },
            "children": [asdict(c) for c in self.children],
            "tables": self.tables,
            "old_copies": self.old_copies,
        }


def _closed_on(case: Case) -> date:
    moment = case.state_since if case.state_since.tzinfo else case.state_since.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def due(session: Session, school_id: int, today: date, retention_days: int) -> list[PurgedChild]:
    """Children not yet purged whose cases are all closed, the last one longer than the retention period.

    A child with an open case, or a case closed within the period, keeps every case's data: the
    child's file is one, and erasing it would gut the cases still kept.
    """
    rows = session.execute(
        select(Case.child_id, Case.id, Case.state, Case.state_since)
        .join(Child, Child.id == Case.child_id)
        .where(Case.school_id == school_id, Child.purged_at.is_(None))
        .order_by(Case.child_id, Case.id)
    ).all()
    by_child: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_child[row.child_id].append(row)
    found = []
    for child_id, cases in by_child.items():
        if any(c.state != states.CLOSED for c in cases):
            continue
        last = max(_closed_on(c) for c in cases)
        if past_retention(last, today, retention_days):
            found.append(PurgedChild(child_id, [c.id for c in cases], last.isoformat()))
    return found


def _erase(session: Session, report: PurgeReport, child: PurgedChild, now: datetime) -> None:
    """Blank every T1 and T2 value of the child and its cases through the ORM; count what was there."""
    models = _models()
    for table, columns in sorted(policy.SENSITIVE_COLUMNS.items()):
        model = models[table]
        counts = report.tables.setdefault(table, {"records": 0, "fields": 0})
        for row in session.scalars(select(model).where(_link(table, model, [child.child_id], child.case_ids))):
            erased = 0
            for column in sorted(columns):
                value = getattr(row, column)
                if _is_blank(value):
                    continue
                erased += 1
                if not report.dry_run:
                    setattr(row, column, _blank(model, column, value))
            if erased:
                counts["records"] += 1
                counts["fields"] += erased
                child.records += 1
                child.fields += erased
    if not report.dry_run:
        row = session.get(Child, child.child_id)
        assert row is not None  # found by the same session moments ago
        row.purged_at = now


def purge(
    ctx: Context,
    actor: str | None,
    *,
    retention_days: int | None = None,
    dry_run: bool = False,
    school: str | None = None,
) -> PurgeReport:
    """Erase the contact data and counselling content of children past retention, audited by ids and counts.

    Idempotent: a purged child is marked and never selected again. A dry run changes nothing.
    """
    days = ctx.settings.privacy.retention_days if retention_days is None else retention_days
    if days < 0:
        raise InvalidInput("--retention-days: {days} is not 0 or more", days=days)
    now = ctx.now()
    today = now.date()
    with ctx.db.read() if dry_run else ctx.db.write() as session:
        who, _staff, school_id = access.at_school(session, actor, today, school, policy.PRIVACY_PURGE)
        report = PurgeReport(school_id, days, (today - timedelta(days=days)).isoformat(), dry_run)
        for child in due(session, school_id, today, days):
            _erase(session, report, child, now)
            report.children.append(child)
        if dry_run or not report.children:
            return report
        session.flush()
        for child in report.children:
            trail.Scribe(session, school_id, now, who.staff_id).write(
                "privacy.purged",
                "child",
                child.child_id,
                data={"case_ids": child.case_ids, "records": child.records, "fields": child.fields},
            )
        trail.Scribe(session, school_id, now, who.staff_id).write(
            "privacy.purge",
            data={
                "retention_days": days,
                "closed_before": report.closed_before,
                "children": len(report.children),
                "cases": report.cases,
                "records": report.records,
                "fields": report.fields,
            },
        )
    # Committed: older copies of the pages that held the values go too (SQLite zeroes erased
    # content in place, secure_delete; the WAL still has the pages as they were).
    if not ctx.db.is_sqlite:
        report.old_copies = "vacuum"
    elif not ctx.db.clear_old_copies():
        report.old_copies = "wal"
    return report


# The audit actions the yearly report counts as exports of personal or audit data.
EXPORT_ACTIONS = ("audit.exported", "roster.exported")


def _what(text: str) -> str:
    """An attempt's kind without its row id: "case:12" -> "case", "write:T2" stays."""
    head, _, tail = text.partition(":")
    return head if tail.isdigit() else text


def report(ctx: Context, actor: str | None, year: int | None = None, school: str | None = None) -> dict[str, Any]:
    """The yearly compliance summary of a school, counted from its audit chain (ids and counts only):
    of calendar year ``year``, or of the current school year (1 September to 31 August) when None."""
    today = ctx.now().date()
    if year is None:
        current = ctx.rule_set.calendar.school_year(today)
        school_year: int | None = current
        start, end = f"{current:04d}-09-01", f"{current + 1:04d}-09-01"
    elif not 2000 <= year <= 2100:
        raise InvalidInput("--year: {year} is not a year between 2000 and 2100", year=year)
    else:
        school_year = None
        start, end = f"{year:04d}-01-01", f"{year + 1:04d}-01-01"
    reads: Counter[tuple[str, str]] = Counter()
    read_children: dict[tuple[str, str], set[int]] = defaultdict(set)
    denials: Counter[tuple[str, str]] = Counter()
    exports: Counter[str] = Counter()
    purged_children = 0
    purge_runs = 0
    consents: Counter[str] = Counter()
    events = 0
    with ctx.db.read() as session:
        _who, _staff, school_id = access.at_school(session, actor, today, school, policy.PRIVACY_REPORT)
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.data)
            .where(
                AuditEvent.school_id == school_id,
                AuditEvent.ts >= start,
                AuditEvent.ts < end,
            )
            .order_by(AuditEvent.seq)
        )
        for action, text in rows:
            events += 1
            if action == "access.read":
                data = json.loads(text)
                key = ("+".join(data.get("roles") or []) or "-", str(data.get("tier")))
                reads[key] += 1
                read_children[key].update(data.get("child_ids") or [])
            elif action == "access.denied":
                data = json.loads(text)
                denials[("+".join(data.get("roles") or []) or "-", _what(str(data.get("what"))))] += 1
            elif action in EXPORT_ACTIONS:
                exports[action] += 1
            elif action == "privacy.purged":
                purged_children += 1
            elif action == "privacy.purge":
                purge_runs += 1
            elif action in ("consent.recorded", "consent.withdrawn"):
                consents[action.split(".")[1]] += 1
    return {
        "school_id": school_id,
        "year": year,
        "school_year": school_year,
        "events": events,
        "access": [
            {"roles": roles, "tier": tier, "reads": n, "children": len(read_children[(roles, tier)])}
            for (roles, tier), n in sorted(reads.items())
        ],
        "denied": [{"roles": roles, "what": what, "attempts": n} for (roles, what), n in sorted(denials.items())],
        "exports": dict(sorted(exports.items())),
        "purges": {"runs": purge_runs, "children": purged_children},
        "consents": {"recorded": consents["recorded"], "withdrawn": consents["withdrawn"]},
    }
