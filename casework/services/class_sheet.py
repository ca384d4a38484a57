"""The class teacher's sheet: this month's recurring contacts of every child in care, saved all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import states
from casework.domain import access as policy
from casework.domain import limits
from casework.domain.validation import require_text
from casework.errors import CaseworkError, InvalidInput, NotFound, PermissionDenied, TransitionRefused
from casework.persistence.store import Store
from casework.persistence.tables import Case, Child, ContactEntry, SchoolClass
from casework.rules.engine import ModuleFailed
from casework.services import access, consent, trail
from casework.services import facts as case_facts
from casework.services.context import Context
from casework.text import N_, Msg

# The recurring items of a class teacher's month (the five ones and the monthly talk and feedback).
ITEMS: tuple[str, ...] = ("talk", "call_home", "letter", "parent_feedback")


@dataclass(frozen=True)
class SheetRow:
    case_id: int
    child_id: int
    child_name: str | None
    state: str
    last: dict[str, date | None]  # the latest of each item, this month or before


@dataclass(frozen=True)
class Sheet:
    class_id: int
    class_name: str
    classes: list[tuple[int, str]]  # every class the actor teaches, to switch between
    month_start: date
    rows: list[SheetRow]


@dataclass(frozen=True)
class SheetEntry:
    """One ticked item of one row: the case, which contact, when, and what was said or done."""

    case_id: int
    kind: str
    occurred_on: date | None
    summary: str


class SheetRefused(InvalidInput):
    """Some rows are wrong: nothing was saved. ``rows`` maps a case id to what is wrong with its row."""

    def __init__(self, rows: dict[int, list[Msg]]) -> None:
        super().__init__("some rows are wrong; nothing was saved")
        self.rows = rows


def _classes(session: Session, who: access.Principal) -> list[tuple[int, str]]:
    if not who.class_ids:
        return []
    rows = session.execute(
        select(SchoolClass.id, SchoolClass.grade, SchoolClass.name)
        .where(SchoolClass.id.in_(sorted(who.class_ids)))
        .order_by(SchoolClass.grade, SchoolClass.name)
    ).all()
    return [(i, f"{g}/{n}") for i, g, n in rows]


def sheet(ctx: Context, actor: str | None, class_id: int | None = None) -> Sheet:
    """A row per open case of a class the actor teaches, with the last date of each recurring item."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        classes = _classes(session, who)
        if not classes:
            raise access.denied(
                None,
                who.staff_id,
                who.all_roles(),
                "class_sheet",
                N_("{name} (staff {id}) teaches no class: the class sheet is a class teacher's"),
                name=who.name,
                id=who.staff_id,
            )
        chosen = class_id if class_id is not None else classes[0][0]
        label = dict(classes).get(chosen)
        if label is None:
            raise NotFound("no class with id {id}", id=chosen)
        found = session.execute(
            select(Case.id, Case.child_id, Case.state, Case.school_id, Child.name)
            .join(Child, Child.id == Case.child_id)
            .where(Child.class_id == chosen, Case.state.in_(states.OPEN_STATES))
            .order_by(Child.id, Case.id)
        ).all()
        last: dict[int, dict[str, date | None]] = {r[0]: dict.fromkeys(ITEMS) for r in found}
        if found:
            for case_id, kind, day in session.execute(
                select(ContactEntry.case_id, ContactEntry.kind, ContactEntry.occurred_on).where(
                    ContactEntry.case_id.in_(list(last)), ContactEntry.kind.in_(ITEMS)
                )
            ):
                seen = last[case_id][kind]
                if seen is None or day > seen:
                    last[case_id][kind] = day
        reads = access.Reads(who)
        rows = []
        for case_id, child_id, state, school_id, name in found:
            named = who.may_read(school_id, policy.T1)
            if named:
                reads.add(school_id, [child_id], policy.T1)
            rows.append(SheetRow(case_id, child_id, name if named else None, state, last[case_id]))
    access.log_reads(ctx, reads, "class_sheet")
    return Sheet(chosen, label, classes, today.replace(day=1), rows)


def save(ctx: Context, actor: str | None, entries: Sequence[SheetEntry]) -> list[int]:
    """Record every entry, each its own audited contact, in one transaction; any bad row saves nothing.

    Each row is checked as ``records.contact`` checks one contact (the case in scope and open, the
    date not in the future, the guardian's consent in force, a summary); every problem of every
    row is collected before anything is written.
    """
    if not entries:
        raise InvalidInput("nothing ticked: tick what was done and save again")
    now = ctx.now()
    refusals: list[PermissionDenied] = []  # turned into row problems: logged once the transaction ends
    try:
        return _save(ctx, actor, entries, now, refusals)
    finally:
        for refusal in refusals:
            ctx.db.report_denial(refusal)


def _save(
    ctx: Context, actor: str | None, entries: Sequence[SheetEntry], now: datetime, refusals: list[PermissionDenied]
) -> list[int]:
    today = now.date()
    with ctx.db.write() as session:
        who = access.enter(session, actor, today)
        problems: dict[int, list[Msg]] = {}
        cases: dict[int, Case] = {}
        roles: dict[int, frozenset[str]] = {}
        for entry in entries:
            case = cases.get(entry.case_id) or access.case_in_scope(session, who, entry.case_id)
            cases[case.id] = case
            try:
                if entry.kind not in ITEMS:
                    raise InvalidInput("'{kind}' is not an item of the class sheet", kind=entry.kind)
                roles[case.id] = access.require_tier(who, case.school_id, policy.WRITE, policy.T2)
                consent.require_for_records(session, case.child_id, today, who, case.school_id)
                if case.state not in states.OPEN_STATES:
                    raise InvalidInput("case {case} is closed", case=case.id)
                if entry.occurred_on is not None and entry.occurred_on > today:
                    raise InvalidInput("the date {day} is in the future", day=entry.occurred_on.isoformat())
                require_text(entry.summary, Msg(N_("note")), limits.TEXT)
            except CaseworkError as exc:
                if isinstance(exc, PermissionDenied):
                    refusals.append(exc)
                if exc.msg not in problems.setdefault(case.id, []):
                    problems[case.id].append(exc.msg)
        if problems:
            raise SheetRefused(problems)
        ids = []
        for entry in entries:
            case = cases[entry.case_id]
            day = entry.occurred_on or today
            row = ContactEntry(
                school_id=case.school_id,
                case_id=case.id,
                kind=entry.kind,
                occurred_on=day,
                by_id=who.staff_id,
                summary=entry.summary.strip(),
                follow_up=None,
                recorded_at=now,
                recorded_by=who.staff_id,
            )
            session.add(row)
            session.flush()
            trail.Scribe(session, case.school_id, now, who.staff_id).write(
                "contact.recorded",
                "contact_entry",
                row.id,
                case_id=case.id,
                from_state=case.state,
                data={"kind": entry.kind, "occurred_on": day.isoformat(), "by_id": who.staff_id},
            )
            ids.append(row.id)
        session.flush()
        for case in cases.values():
            facts = case_facts.load(Store.of(session), case, today, ctx.rule_set, actor_roles=roles[case.id])
            try:
                case_facts.refresh_duties(session, case, facts, ctx.rule_set, now)
            except ModuleFailed as failed:
                raise TransitionRefused(
                    "the rules could not be applied to case {case}; nothing was recorded",
                    [failed.verdict],
                    case=case.id,
                ) from None
        return ids
