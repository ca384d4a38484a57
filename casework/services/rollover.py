"""The school year's rollover: classes move up a grade, the top grade graduates and its cases close."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casework import states
from casework.domain import access as policy
from casework.domain.classes import PRIMARY_TOP_GRADE, ClassRow, plan_rollover, school_year
from casework.errors import Conflict, InvalidInput
from casework.persistence.store import Store
from casework.persistence.tables import AuditEvent, Case, Child, SchoolClass
from casework.services import access, trail
from casework.services.cases import ensure_rule_set, write_move
from casework.services.context import Context

ACTION = "year.rolled_over"
GRADUATED_REASON = "毕业"


@dataclass
class RolloverReport:
    school_year: int
    top_grade: int
    dry_run: bool
    moved: list[tuple[str, str]] = field(default_factory=list)  # 5/1班 -> 6/1班
    graduated: list[tuple[str, str]] = field(default_factory=list)  # 6/1班 -> 6/2026届1班
    graduated_children: int = 0
    closed_cases: list[int] = field(default_factory=list)


class _DryRun(Exception):
    pass


def _previous(session: Session, school_id: int) -> list[dict[str, object]]:
    """Earlier rollovers of the school, from its audit chain (where each one is recorded)."""
    rows = session.execute(
        select(AuditEvent.seq, AuditEvent.ts, AuditEvent.data).where(
            AuditEvent.school_id == school_id, AuditEvent.action == ACTION
        )
    )
    return [{"seq": seq, "ts": ts, **json.loads(data)} for seq, ts, data in rows]


def class_moves(session: Session, school_id: int) -> dict[int, list[int]]:
    """For each class of the school that a rollover moved up, the school years those rollovers prepared."""
    moves: dict[int, list[int]] = {}
    for event in _previous(session, school_id):
        for class_id in event.get("moved_classes", []):  # type: ignore[attr-defined]
            moves.setdefault(int(class_id), []).append(int(event["school_year"]))  # type: ignore[call-overload]
    return moves


def rollover(
    ctx: Context,
    actor: str | None,
    top_grade: int = PRIMARY_TOP_GRADE,
    school: str | None = None,
    year: int | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RolloverReport:
    """Move every class up a grade and graduate the top grade, once per school year.

    Graduation is not a leadership decision about care, so the open cases of graduating
    children are closed by the system (reason 毕业) without the rule modules' guards, through
    the workflow table, each with its case event and a case.moved audit event marked
    ``"closure": "year_rollover"``. Graduated classes keep their grade and are renamed
    2026届1班, so the classes moving up never collide with them.

    ``progress`` is told (rows written, rows in all) as the work moves on: the classes, then each
    closed case and each of their audit events.
    """
    now = ctx.now()
    target_year = year if year is not None else school_year(now.year, now.month)
    if not 2000 <= target_year <= 2100:
        raise InvalidInput("--school-year: {year} is not a school year such as 2026", year=target_year)
    report = RolloverReport(target_year, top_grade, dry_run)
    try:
        with ctx.db.write() as session:
            _, who, school_id = access.at_school(session, actor, now.date(), school, policy.YEAR_ROLLOVER)
            earlier = _previous(session, school_id)
            for event in earlier:
                if event.get("school_year") == target_year:
                    raise Conflict(
                        "the year rollover for school year {year} was done already "
                        "(audit event {seq}, {ts}); it runs once a year",
                        year=target_year,
                        seq=event["seq"],
                        ts=str(event["ts"])[:10],
                    )
            done_before = {int(i) for e in earlier for i in e.get("graduated_classes", [])}  # type: ignore[attr-defined]
            classes = [
                ClassRow(c.id, c.grade, c.name)
                for c in session.scalars(select(SchoolClass).where(SchoolClass.school_id == school_id))
                if c.id not in done_before
            ]
            plan = plan_rollover(classes, top_grade, target_year)
            graduate_ids = [c.id for c in plan.graduates]
            graduating_cases = _open_cases(session, school_id, graduate_ids)
            total = len(plan.graduates) + len(plan.moves) + 2 * len(graduating_cases)

            def told(done: int) -> None:
                if progress is not None:
                    progress(done, total)

            for cls in plan.graduates:
                session.execute(update(SchoolClass).where(SchoolClass.id == cls.id).values(name=plan.renamed[cls.id]))
                report.graduated.append((f"{cls.grade}/{cls.name}", f"{cls.grade}/{plan.renamed[cls.id]}"))
            for grade, group in groupby(plan.moves, key=lambda c: c.grade):
                moving = list(group)
                session.execute(
                    update(SchoolClass).where(SchoolClass.id.in_([c.id for c in moving])).values(grade=grade + 1)
                )
                report.moved += [(f"{c.grade}/{c.name}", f"{c.grade + 1}/{c.name}") for c in moving]
            classes_done = len(plan.graduates) + len(plan.moves)
            told(classes_done)
            closed = _close_cases(ctx, session, graduating_cases, who.id, now, report, lambda k: told(classes_done + k))
            done = classes_done + len(closed)
            report.graduated_children = len(
                session.scalars(select(Child.id).where(Child.class_id.in_(graduate_ids))).all()
            )
            trail.Scribe(session, school_id, now, who.id).write(
                ACTION,
                "school",
                school_id,
                data={
                    "school_year": target_year,
                    "top_grade": top_grade,
                    "moved_classes": [c.id for c in plan.moves],
                    "graduated_classes": graduate_ids,
                    "graduated_children": report.graduated_children,
                    "closed_cases": [c.id for c, _ in closed],
                },
            )
            for case, from_state in closed:
                trail.Scribe(session, school_id, now, who.id).write(
                    "case.moved",
                    "case",
                    case.id,
                    case_id=case.id,
                    from_state=from_state,
                    to_state=states.CLOSED,
                    data={
                        "event": "close",
                        "version": case.version,
                        "reason_given": True,
                        "closure": "year_rollover",
                        "school_year": target_year,
                        "verdicts": [],
                    },
                )
                done += 1
                told(done)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


@dataclass(frozen=True)
class _Closed:
    id: int
    version: int


def _open_cases(session: Session, school_id: int, class_ids: list[int]) -> list[int]:
    """The open cases of the children of the given (graduating) classes."""
    if not class_ids:
        return []
    return list(
        session.execute(
            select(Case.id)
            .join(Child, Child.id == Case.child_id)
            .where(Case.school_id == school_id, Child.class_id.in_(class_ids), Case.state != states.CLOSED)
            .order_by(Case.id)
        )
        .scalars()
        .all()
    )


def _close_cases(
    ctx: Context,
    session: Session,
    found: list[int],
    actor_id: int,
    now: datetime,
    report: RolloverReport,
    told: Callable[[int], None],
) -> list[tuple[_Closed, str]]:
    """Close the open cases of the graduating children, writing what ``cases.advance`` writes
    for a close (compare-and-set move, no stage deadline, no duties, the case event under the
    rule set in force) except the rule modules' verdicts: graduation is no decision about care.

    Case rows are updated before any audit append, so the audit head is locked last, as
    ``cases.advance`` does. ``told`` gets the number of cases closed so far.
    """
    if not found:
        return []
    store = Store.of(session)
    rule_set = ensure_rule_set(store, ctx)
    closed: list[tuple[_Closed, str]] = []
    for case_id in found:
        case = store.case_row(case_id)
        assert case is not None
        dest = states.fire(case.definition_version, case.state, "close")
        if dest is None:
            raise InvalidInput("case {case} cannot be closed from {state}", case=case_id, state=case.state)
        write_move(store, case, "close", dest, now, actor_id, GRADUATED_REASON, rule_set, {}, "graduated")
        closed.append((_Closed(case_id, case.version + 1), case.state))
        report.closed_cases.append(case_id)
        told(len(closed))
    return closed
