"""The escalation ladder's steps, set-wise per school: due reminder, overdue reminder, to the leadership, resolved.

One row of ``stall`` per occurrence of a duty (case, duty code, due date) once it is due, and per
repeated refusal. Each step is a date set once (``reminded_on``, ``overdue_reminded_on``,
``escalated_on``, ``resolved_on``), so running the sweep again the same day takes no step twice.
Every statement is a set operation the database answers from the duty and stall indexes, never
a loop over cases: a province's sweep is a handful of statements per school.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

from casework.persistence.store import Store

DUE, OVERDUE, ESCALATED = "due", "overdue", "escalated"
STEP_ORDER = {ESCALATED: 0, OVERDUE: 1, DUE: 2}
REFUSALS = "repeated_refusal:%"  # a parameter, not a literal: psycopg reads % in SQL text as a placeholder

# The duty row of a stall row's occurrence, on an open case.
_SAME_DUTY = (
    "SELECT 1 FROM duty d JOIN case_file c ON c.id = d.case_id WHERE d.case_id = stall.case_id"
    " AND d.code = stall.reason AND d.due_on = stall.since AND c.state <> 'closed'"
)


class Step(NamedTuple):
    """A step the sweep took today on one occurrence, with what a digest says of it."""

    stall_id: int
    case_id: int
    reason: str
    since: date
    responsible_id: int | None
    step: str  # due, overdue or escalated: the highest taken today
    role: str | None
    stand_in: bool
    child_id: int
    child_name: Any  # sealed; not opened by the sweep
    risk_level: str | None


def take_steps(store: Store, school_id: int, today: date, escalate_after: int) -> tuple[list[Step], int]:
    """Take today's steps for one school; returns the steps taken and how many occurrences resolved."""
    t, ladder = store.d_in(today), store.d_in(today - timedelta(days=escalate_after))
    yes, no = store.b_in(True), store.b_in(False)
    stepped: set[int] = set()
    # 1. Newly due: an occurrence seen for the first time gets every step its dates have reached.
    stepped.update(
        int(r[0])
        for r in store.rows(
            "INSERT INTO stall (school_id, case_id, reason, since, responsible_id, found_on, reminded_on, "
            "overdue_reminded_on, escalated_on) "
            "SELECT d.school_id, d.case_id, d.code, d.due_on, d.responsible_id, ?, ?, "
            "CASE WHEN d.overdue_on <= ? AND d.escalates = ? THEN ? END, "
            "CASE WHEN d.overdue_on <= ? AND (d.escalates = ? OR d.overdue_on <= ?) THEN ? END "
            "FROM duty d JOIN case_file c ON c.id = d.case_id "
            "WHERE d.school_id = ? AND d.due_on <= ? AND c.state <> 'closed' AND NOT EXISTS "
            "(SELECT 1 FROM stall s WHERE s.case_id = d.case_id AND s.reason = d.code AND s.since = d.due_on) "
            "RETURNING id",
            t,
            t,
            t,
            yes,
            t,
            t,
            no,
            ladder,
            t,
            school_id,
            t,
        )
    )
    # 2. Past the grace since the due-day reminder: the overdue reminder.
    stepped.update(
        int(r[0])
        for r in store.rows(
            "UPDATE stall SET overdue_reminded_on = ? WHERE school_id = ? AND resolved_on IS NULL "
            "AND overdue_reminded_on IS NULL AND EXISTS "
            f"({_SAME_DUTY} AND d.escalates = ? AND d.overdue_on <= ?) RETURNING id",
            t,
            school_id,
            yes,
            t,
        )
    )
    # 3. N days past the grace (or a deadline past its grace): to the leadership group.
    stepped.update(
        int(r[0])
        for r in store.rows(
            "UPDATE stall SET escalated_on = ? WHERE school_id = ? AND resolved_on IS NULL "
            "AND escalated_on IS NULL AND EXISTS "
            f"({_SAME_DUTY} AND d.overdue_on <= ? AND (d.escalates = ? OR d.overdue_on <= ?)) RETURNING id",
            t,
            school_id,
            t,
            no,
            ladder,
        )
    )
    # 4. The same move refused again with nothing changed: for the leadership group at once.
    refused = {
        (int(case_id), f"repeated_refusal:{event}", Store.d_out(at) or today): (int(who), int(case_id))
        for case_id, event, at, who in store.rows(
            "SELECT r.case_id, r.event, r.at, COALESCE(c.counsellor_id, c.opened_by) FROM refusal r "
            "JOIN case_file c ON c.id = r.case_id WHERE r.school_id = ? AND r.repeated = ? "
            "AND r.case_version = c.version AND c.state <> 'closed' "
            "AND r.id IN (SELECT MAX(id) FROM refusal WHERE school_id = ? GROUP BY case_id)",
            school_id,
            yes,
            school_id,
        )
    }
    open_refusals = {
        (int(case_id), str(reason), Store.d_out(since) or today): int(sid)
        for sid, case_id, reason, since in store.rows(
            "SELECT id, case_id, reason, since FROM stall WHERE school_id = ? AND resolved_on IS NULL "
            "AND reason LIKE ?",
            school_id,
            REFUSALS,
        )
    }
    for key, (who, case_id) in refused.items():
        if key in open_refusals:
            continue
        row = store.one(
            "INSERT INTO stall (school_id, case_id, reason, since, responsible_id, found_on, reminded_on, "
            "escalated_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, reason, since) DO NOTHING "
            "RETURNING id",
            school_id,
            case_id,
            key[1],
            store.d_in(key[2]),
            who,
            t,
            t,
            t,
        )
        if row is not None:
            stepped.add(int(row[0]))
    # 5. Resolved: the occurrence is done (its duty has a new due date or is gone) or the case closed.
    resolved = store.run(
        "UPDATE stall SET resolved_on = ? WHERE school_id = ? AND resolved_on IS NULL "
        f"AND reason NOT LIKE ? AND NOT EXISTS ({_SAME_DUTY})",
        t,
        school_id,
        REFUSALS,
    )
    for key, stall_id in open_refusals.items():
        if key not in refused:
            resolved += store.run("UPDATE stall SET resolved_on = ? WHERE id = ?", t, stall_id)
    return _details(store, school_id, today, stepped), resolved


def _details(store: Store, school_id: int, today: date, ids: set[int]) -> list[Step]:
    """What digests say of the steps taken: the highest step of today, the role, the child."""
    if not ids:
        return []
    t = store.d_in(today)
    steps = []
    for sid, case_id, reason, since, who, reminded, overdue, escalated, role, stand, child, name, risk in store.rows(
        "SELECT s.id, s.case_id, s.reason, s.since, s.responsible_id, s.reminded_on, s.overdue_reminded_on, "
        "s.escalated_on, d.responsible_role, d.stand_in, c.child_id, ch.name, c.risk_level FROM stall s "
        "JOIN case_file c ON c.id = s.case_id JOIN child ch ON ch.id = c.child_id "
        "LEFT JOIN duty d ON d.case_id = s.case_id AND d.code = s.reason AND d.due_on = s.since "
        "WHERE s.school_id = ? AND s.resolved_on IS NULL "
        "AND (s.reminded_on = ? OR s.overdue_reminded_on = ? OR s.escalated_on = ?)",
        school_id,
        t,
        t,
        t,
    ):
        if int(sid) not in ids:
            continue  # stepped by an earlier sweep today: already in a digest
        day = Store.d_out
        step = ESCALATED if day(escalated) == today else OVERDUE if day(overdue) == today else DUE
        steps.append(
            Step(
                int(sid),
                int(case_id),
                str(reason),
                day(since) or today,
                int(who) if who is not None else None,
                step if day(reminded) == today or step != DUE else DUE,
                role if role is not None else "counsellor",
                bool(stand),
                int(child),
                name,
                risk,
            )
        )
    return steps
