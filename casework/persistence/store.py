"""Hand-written SQL for the hot path (facts, moves, audit appends, duties) on the session's own connection.

Firing an event reads a dozen small things and writes five; through the ORM each statement
costs tens of microseconds of Python, through the driver's cursor a few. The statements here
are plain SQL that SQLite and PostgreSQL both accept (``?`` placeholders, rewritten to ``%s``
for psycopg), run inside the caller's transaction, and store values exactly as the SQLAlchemy
column types do, so ORM reads of the same rows see the same values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from casework.domain.child import filled
from casework.persistence.crypto import (
    LONGEST_MAYBE_EMPTY,
    KeyProblem,
    KeyRing,
    allocate_sqlite_ids,
    open_value,
    seal_value,
    sealed_columns,
)
from casework.text import N_


class DutyRow(NamedTuple):
    """A duty as stored: what the rules said, and who answers for it (``stand_in``: for a role nobody holds)."""

    code: str
    rule: str
    role: str
    responsible_id: int | None
    rhythm_days: int | None
    due: date
    last_done: date | None
    grace_days: int
    overdue_on: date
    escalates: bool
    stand_in: bool


class CaseRow(NamedTuple):
    """A case as the hot path reads it (the ORM's Case has the same attributes); a tuple, made
    in a fraction of a frozen dataclass's time."""

    id: int
    school_id: int
    child_id: int
    state: str
    version: int
    definition_version: str
    opened_at: datetime
    opened_by: int
    counsellor_id: int | None
    state_since: datetime
    stage_due_on: date | None


class CardFill(NamedTuple):
    """What the facts read of a child's card: the class, which fields are filled, whether the child boards."""

    class_id: int | None
    filled: frozenset[str]
    boarding: bool | None


_SEALED_CHILD = frozenset(sealed_columns("child"))
_CASE_EVENT = "school_id, case_id, version, event, from_state, to_state, at, actor_id, rule_set"

# The reads below are written once with named marks ({case}, {child}, {staff}, {school}, {day}):
# "?" each on their own (parameters in the order of the marks), expressions over the case's row
# where an advance on PostgreSQL sends them all in one statement (_move_reads).
_MARKS = {"case": "?", "child": "?", "staff": "?", "school": "?", "day": "?"}

# The kinds of record facts read, by the table that holds them (term results are the child's).
RECORD_KINDS: dict[str, str] = {
    "case_event": "case_event WHERE case_id = {case}",
    "assessment": "assessment WHERE case_id = {case}",
    "plan": "plan WHERE case_id = {case}",
    "pairing": "pairing WHERE case_id = {case}",
    "flag": "case_flag WHERE case_id = {case}",
    "referral": "referral WHERE case_id = {case}",
    "contact": "contact_entry WHERE case_id = {case}",
    "extension": "extension WHERE case_id = {case}",
    "term_result": "term_result WHERE child_id = {child}",
}
_PRESENT_OF = ", ".join(f"EXISTS (SELECT 1 FROM {where})" for where in RECORD_KINDS.values())
_PRESENT = "SELECT " + _PRESENT_OF.format(**_MARKS)


def _present_params(case_id: int, child_id: int) -> tuple[int, ...]:
    return tuple(child_id if kind == "term_result" else case_id for kind in RECORD_KINDS)


_CASE_COLUMNS = (
    "id, school_id, child_id, state, version, definition_version, opened_at, opened_by, "
    "state_since, stage_due_on, counsellor_id"
)
_CASE_ROW = f"SELECT {_CASE_COLUMNS} FROM case_file WHERE id = ?"
_LOCKED = " FOR UPDATE"


@cache
def _case_row_guarded(guard: str) -> str:
    """The case's locked row with one more column: the answer of ``guard`` (Database.raw_write's key
    guard) as an array. An uncorrelated sub-select, run before the row is locked (its FOR SHARE
    taken first, as when it was a statement of its own); no row, no answer (case_row then sends it)."""
    return _CASE_ROW.replace(" FROM case_file ", f", ARRAY({guard}) FROM case_file ", 1) + _LOCKED


_HEAD = "SELECT seq, hash FROM audit_head WHERE school_id = ?"
_ROLES_OF = (
    "SELECT role FROM membership WHERE staff_id = {staff} AND school_id = {school} AND started_on <= {day} "
    "AND (ended_on IS NULL OR ended_on >= {day}) ORDER BY id"
)
_ROLES = _ROLES_OF.format(**_MARKS)
_ASSIGNED_OF = (
    "SELECT 1 FROM case_file c WHERE c.id = {case} AND (c.counsellor_id = {staff} "
    "OR c.class_id IN (SELECT m.class_id FROM membership m WHERE m.staff_id = {staff} "
    "AND m.school_id = c.school_id "
    "AND m.class_id IS NOT NULL AND m.started_on <= {day} AND (m.ended_on IS NULL OR m.ended_on >= {day})) "
    "OR EXISTS (SELECT 1 FROM pairing p WHERE p.case_id = c.id AND p.staff_id = {staff} AND p.from_on <= {day} "
    "AND (p.to_on IS NULL OR p.to_on >= {day})) "
    "OR EXISTS (SELECT 1 FROM plan_item i JOIN plan p ON p.id = i.plan_id WHERE p.case_id = c.id "
    "AND i.responsible_id = {staff}))"
)
_ASSIGNED = _ASSIGNED_OF.format(**_MARKS)


def _assigned_params(case_id: int, staff_id: int, day: Any) -> tuple[Any, ...]:
    return (case_id, staff_id, staff_id, day, day, staff_id, day, day, staff_id)


@cache
def _filled_query(names: tuple[str, ...]) -> str:
    """The child's class, whether they board, and two bit masks over ``names`` (bit i for names[i]):
    the fields that hold a value, and the sealed ones whose length says they may hold an empty one.

    Filled as ``domain.child.filled`` says: neither null nor empty text (a date, a number or a
    flag is never empty text); a sealed value longer than crypto.LONGEST_MAYBE_EMPTY cannot be empty.
    """
    return f"SELECT class_id, boarding, {_mask_terms(names, '')} FROM child WHERE id = ?"


def _mask_terms(names: tuple[str, ...], table: str) -> str:
    """``_filled_query``'s two bit masks, over the columns of ``table`` (an alias and a dot, or nothing)."""
    filled_terms, maybe_terms = [], []
    for i, name in enumerate(names):
        column = f"{table}{name}"
        if name in _SEALED_CHILD:
            filled_terms.append(f"CASE WHEN length({column}) > {LONGEST_MAYBE_EMPTY} THEN {1 << i} ELSE 0 END")
            maybe_terms.append(f"CASE WHEN length({column}) <= {LONGEST_MAYBE_EMPTY} THEN {1 << i} ELSE 0 END")
        else:
            filled_terms.append(f"CASE WHEN CAST({column} AS TEXT) <> '' THEN {1 << i} ELSE 0 END")
    return f"{' + '.join(filled_terms) or '0'}, {' + '.join(maybe_terms) or '0'}"


@cache
def _move_reads_sqlite(names: tuple[str, ...]) -> str:
    """``_move_reads`` for SQLite, where BEGIN IMMEDIATE already holds every other writer off and
    each statement is a call into the library, not a round trip: the case's row, the actor's name,
    whether the case is assigned to them, ``_filled_query``'s answer, the kinds of record present and
    the school's audit head, in one statement rather than six (the actor's roles stay a statement of
    their own: SQLite 3.40 has no ordered aggregate). Parameters: case, staff (an id), day.
    """
    marks = {"case": "mc.id", "child": "mc.child_id", "staff": ":staff", "school": "mc.school_id", "day": ":day"}
    case_columns = ", ".join(f"mc.{c}" for c in _CASE_COLUMNS.split(", "))
    return (
        f"SELECT {case_columns}, (SELECT name FROM staff WHERE id = :staff), "
        f"EXISTS ({_ASSIGNED_OF.format(**marks)}), k.class_id, k.boarding, {_mask_terms(names, 'k.')}, "
        f"{_PRESENT_OF.format(**marks)}, h.seq, h.hash "
        "FROM case_file mc LEFT JOIN child k ON k.id = mc.child_id "
        "LEFT JOIN audit_head h ON h.school_id = mc.school_id WHERE mc.id = :case"
    )


def _lengths(names: tuple[str, ...]) -> str:
    """The length of each of ``names`` (a value as text, a sealed one as stored), for _masks."""
    return ", ".join(f"length({n})" if n in _SEALED_CHILD else f"length(CAST({n} AS TEXT))" for n in names)


def _masks(names: tuple[str, ...], lengths: Sequence[int | None]) -> tuple[int, int]:
    """The two bit masks of ``_filled_query`` from the lengths ``_lengths`` reads: filled, neither
    null nor empty (a sealed value longer than the longest that may hold an empty one), and sealed
    values that short."""
    present = maybe_empty = 0
    for i, (name, length) in enumerate(zip(names, lengths, strict=True)):
        if length is None:
            continue
        if name not in _SEALED_CHILD:
            present |= (length > 0) << i
        elif length > LONGEST_MAYBE_EMPTY:
            present |= 1 << i
        else:
            maybe_empty |= 1 << i
    return present, maybe_empty


@cache
def _move_reads(names: tuple[str, ...], by_name: bool) -> str:
    """What an advance reads once it holds the case's lock, as one statement (PostgreSQL): the
    case's school and child; the actor's id and name (every id of that name, when ``by_name``),
    roles and whether the case is assigned to them; the child's class, whether they board and the
    lengths of the card's fields ``names`` (``_masks``); the kinds of record present; and the
    school's audit head, locked (after the case: the order every writer takes them in).
    Parameters: case, staff (an id, or a name when ``by_name``), day. Sent after the statement
    that locks the case, it reads what was committed before that lock was granted, as the
    statements one by one did. Under psycopg's 4,096 characters, past which it parses a
    statement's placeholders anew each time.
    """
    marks = {"case": "mc.id", "child": "mc.child_id", "staff": "who.id", "school": "mc.school_id", "day": "%(day)s"}
    if by_name:
        staff = "(SELECT min(id) FROM staff WHERE name = %(staff)s)"
        named = "ARRAY(SELECT id FROM staff WHERE name = %(staff)s ORDER BY id)"
    else:
        staff = "CAST(%(staff)s AS BIGINT)"
        named = "(SELECT name FROM staff WHERE id = who.id)"
    return (
        "WITH mc AS (SELECT id, school_id, child_id FROM case_file WHERE id = %(case)s), "
        f"who AS (SELECT {staff} AS id), "
        "h AS (SELECT seq, hash FROM audit_head WHERE school_id = (SELECT school_id FROM mc) FOR UPDATE) "
        f"SELECT mc.school_id, mc.child_id, who.id, {named}, ARRAY({_ROLES_OF.format(**marks)}), "
        f"EXISTS ({_ASSIGNED_OF.format(**marks)}), k.class_id, k.boarding, k.lengths, "
        f"{_PRESENT_OF.format(**marks)}, h.seq, h.hash "
        "FROM mc CROSS JOIN who "
        f"LEFT JOIN LATERAL (SELECT class_id, boarding, ARRAY[{_lengths(names)}] AS lengths "
        "FROM child WHERE id = mc.child_id) k ON true "
        "LEFT JOIN h ON true"
    )


@lru_cache(maxsize=4096)
def _named(names: tuple[str, ...], mask: int) -> frozenset[str]:
    return frozenset(name for i, name in enumerate(names) if mask >> i & 1)


_UNKNOWN: Any = object()  # no answer known (None is an answer)
_VALUES = re.compile(r"VALUES \(([^()]*)\)")


@cache
def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class Store:
    """The driver connection of ``session``'s transaction, with the few conversions the types need."""

    def __init__(
        self, driver_connection: Any, pg: bool, ring: KeyRing | None = None, info: dict[str, Any] | None = None
    ) -> None:
        self._raw = driver_connection
        self.pg = pg
        self._ring = ring
        self._info = info if info is not None else {}
        self._last_dt: tuple[datetime, str] | None = None  # a transaction stamps its rows with one moment
        # PostgreSQL in pipeline mode (Database.raw_write): a write is sent without waiting for its
        # answer, which comes back with the next read's or the commit's; a compare-and-set that
        # finds its row changed fails the transaction (settled()).
        self.pipeline: Any = None
        self._checks: list[Callable[[], Exception]] = []  # the conflicts of compare-and-sets not yet answered
        self._ahead: dict[tuple[str, tuple[Any, ...]], Any] = {}  # reads sent before they are asked for
        self._move: tuple[Any, int, date, tuple[str, ...], str] | None = None  # ahead_move's statement, unread
        self._known: dict[tuple[Any, ...], Any] = {}  # its answers, by the question each answers
        self._queued: list[tuple[str, Sequence[Any], bool]] = []  # writes waiting (sql, params, compare-and-set)
        # The key guard in pipeline mode (guard_first): its statement while not yet sent, the cursor
        # that will answer it, or the case row it rides on (ahead_case); its key ids once read.
        self._guard: str | None = None
        self._guard_cursor: Any = None
        self._guard_row: tuple[int, str] | None = None  # (case id, guard) of a row sent with the guard
        self._guard_keys: list[Any] | None = None

    @classmethod
    def of(cls, session: Session) -> Store:
        """The store of an ORM session's current transaction."""
        connection = session.connection()
        ring = getattr(connection.dialect, "casework_keyring", None)
        return cls(
            connection.connection.driver_connection, connection.dialect.name == "postgresql", ring, connection.info
        )

    @property
    def ring(self) -> KeyRing:
        if self._ring is None:
            raise KeyProblem(
                N_(
                    "no encryption key: set CASEWORK_KEY_FILE (or CASEWORK_KEY) to this database's key, "
                    "or create one with 'casework keys new --out FILE'"
                )
            )
        return self._ring

    def open(self, table: str, column: str, row_id: int, blob: Any) -> Any:
        """The plain value of a sealed column this store read."""
        return open_value(self.ring, table, column, row_id, blob)

    def next_id(self, table: str) -> int:
        """A fresh id for a row of a table with sealed columns (their associated data names it)."""
        if self.pg:
            row = self.one("SELECT nextval(pg_get_serial_sequence(?, 'id'))", table)
            assert row is not None
            return int(row[0])
        return allocate_sqlite_ids(self._raw, self._info, table, 1)[0]

    # -- plumbing -----------------------------------------------------------------------------

    def guard_first(self, sql: str) -> None:
        """In pipeline mode, have the key guard ``sql`` (Database.raw_write's) sent before anything
        else: on its own with the first statement, or as a column of the case's row when that row
        goes first (ahead_case), one statement fewer. guard_keys() gives its answer."""
        self._guard = sql

    def guard_keys(self) -> list[Any]:
        """The key ids the guard read (sent now, when nothing was sent yet)."""
        if self._guard_row is not None:
            self.case_row(self._guard_row[0])  # sent with the guard and not asked for
        if self._guard_keys is None:
            if self._guard is not None:
                self._send_guard()
            cursor, self._guard_cursor = self._guard_cursor, None
            assert cursor is not None
            try:
                self._guard_keys = [r[0] for r in cursor.fetchall()]
            finally:
                cursor.close()
        return self._guard_keys

    def _send_guard(self) -> None:
        assert self._guard is not None
        guard, self._guard = self._guard, None
        self._guard_cursor = self._raw.cursor()
        self._guard_cursor.execute(guard)

    def _cursor(self) -> Any:
        """A new cursor of the driver connection, after the key guard if it is still to be sent."""
        if self._guard is not None:
            self._send_guard()
        return self._raw.cursor()

    def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        if self.pg:
            if self._ahead:
                sent = self._ahead.pop((sql, tuple(params)), None)
                if sent is not None:
                    return sent  # sent before any write waiting now, as its caller asked
            if self._queued:
                self.flush()
            cursor = self._cursor()
            cursor.execute(_pg(sql), params)
            return cursor
        return self._raw.execute(sql, params)  # sqlite3 makes the cursor itself, in C

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        cursor = self._execute(sql, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def one(self, sql: str, *params: Any) -> tuple[Any, ...] | None:
        cursor = self._execute(sql, params)
        try:
            row = cursor.fetchone()
            return tuple(row) if row is not None else None
        finally:
            cursor.close()

    def run(self, sql: str, *params: Any) -> int:
        cursor = self._execute(sql, params)
        try:
            if self.pipeline is not None:
                self.pipeline.sync()  # the count is known once the answer is back
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def send(self, sql: str, *params: Any) -> None:
        """A write whose count nobody needs: in pipeline mode it waits, with the others after it, to
        go as one statement with the next read or the commit (flush())."""
        if self.pipeline is None:
            self.run(sql, *params)
            return
        self._queued.append((sql, params, False))

    def flush(self) -> None:
        """Send the writes waiting in pipeline mode as one statement: each a data-modifying CTE
        (they touch different rows, so that none needing to see another's effect is safe), the
        compare-and-set among them failing the statement when it found its row changed."""
        queued, self._queued = self._queued, []
        if not queued:
            return
        if len(queued) == 1 and not queued[0][2]:
            sql, params, _ = queued[0]
            self._cursor().execute(_pg(sql), params)  # its answer is read (and dropped) by psycopg
            return
        parts: list[str] = []
        values: list[Any] = []
        checks: list[str] = []
        for i, (sql, params, check) in enumerate(queued):
            parts.append(f"w{i} AS ({sql}{' RETURNING 1' if check else ''})")
            values.extend(params)
            if check:
                checks.append(f"1 / (SELECT count(*) FROM w{i})")
        self._cursor().execute(_pg(f"WITH {', '.join(parts)} SELECT {', '.join(checks) or '1'}"), values)

    def ahead(self, sql: str, *params: Any) -> None:
        """In pipeline mode, send a read whose answer the same statement asked later takes: reads
        that do not depend on each other then share one round trip. Elsewhere nothing."""
        if self.pipeline is None:
            return
        if self._queued:
            self.flush()  # a read sees the writes asked before it, sent ahead or not
        cursor = self._cursor()
        cursor.execute(_pg(sql), params)
        self._ahead[(sql, params)] = cursor

    def ahead_case(self, case_id: int) -> None:
        """Send ahead the case's row (see case_row); the key guard, when it goes first, as a column
        of that row rather than a statement of its own (one statement fewer to send and run)."""
        if self._guard is not None and self.pipeline is not None and not self._queued:
            guard, self._guard = self._guard, None
            sql = _case_row_guarded(guard)
            self.ahead(sql, case_id)
            self._guard_row = (case_id, guard)
            return
        self.ahead(_CASE_ROW + _LOCKED, case_id)

    def ahead_move(self, case_id: int, staff: int | str, today: date, names: Sequence[str]) -> None:
        """In pipeline mode, send in one statement what an advance reads after the case's row
        (``_move_reads``), for ``staff`` (an id, or a name), to travel with that row's read: roles,
        case_assigned, child_filled (of ``names``), records_present and audit_head then take their
        answers from it, the first time each is asked the same question. On SQLite, for a staff id,
        the same and the case's row but the roles, at once and in one statement
        (``_move_reads_sqlite``); elsewhere nothing. The caller has sent the case's locked read
        first (ahead_case) and writes nothing these answers describe before asking for them."""
        if self.pipeline is None:
            if not self.pg and isinstance(staff, int) and not self._known:
                self._sqlite_move(case_id, staff, today, tuple(names))
            return
        if self._queued:
            self.flush()
        names = tuple(names)
        cursor = self._cursor()
        cursor.execute(_move_reads(names, isinstance(staff, str)), {"case": case_id, "staff": staff, "day": today})
        self._move = (cursor, case_id, today, names, staff if isinstance(staff, str) else "")

    def ahead_advance(self, case_id: int, staff: int | str, today: date, names: Sequence[str]) -> None:
        """What cases.advance sends ahead, to travel in one round trip: the case's row, locked (the
        key guard in it), then what is read once that lock is held (ahead_move).

        Two statements, not one: a statement that waits for a lock reads as of when it began, and
        the case's lock is waited for by more than its movers (a record inserted for the case holds
        the foreign key's KEY SHARE on its row), so what is read after it must be asked after it.
        """
        self.ahead_case(case_id)
        self.ahead_move(case_id, staff, today, names)

    def _sqlite_move(self, case_id: int, staff: int, today: date, names: tuple[str, ...]) -> None:
        """ahead_move on SQLite: ``_move_reads_sqlite``'s answers, kept by question (none without the case)."""
        cursor = self._raw.execute(
            _move_reads_sqlite(names), {"case": case_id, "staff": staff, "day": self.d_in(today)}
        )
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return
        n = _CASE_COLUMNS.count(",") + 1
        case, (name, assigned, class_id, boarding, present_mask, maybe_mask, *rest) = row[:n], row[n:]
        present, head = rest[: len(RECORD_KINDS)], rest[len(RECORD_KINDS) :]
        school_id, child_id = case[1], case[2]
        known = self._known
        known["case", case_id] = case
        known["staff", staff] = None if name is None else (staff, str(name))
        known["assigned", case_id, staff, today] = bool(assigned)
        known["filled", child_id, names] = (class_id, boarding, present_mask, maybe_mask)
        known["present", case_id, child_id] = frozenset(
            kind for kind, there in zip(RECORD_KINDS, present, strict=True) if there
        )
        known["head", school_id] = None if head[0] is None else (int(head[0]), str(head[1]))

    def _known_answer(self, *question: Any) -> Any:
        """ahead_move's answer to ``question``, read when first needed; _UNKNOWN when it has none."""
        if self._move is not None:
            cursor, case_id, day, names, name = self._move
            self._move = None
            try:
                row = cursor.fetchone()
            finally:
                cursor.close()
            if row is not None:
                school_id, child_id, staff_id, staff, roles, assigned, class_id, boarding, lengths, *rest = row
                present, head = rest[: len(RECORD_KINDS)], rest[len(RECORD_KINDS) :]
                known = self._known
                if isinstance(staff, list):  # the ids of the name asked for
                    known["staff named", name] = [(int(i), name) for i in staff]
                elif staff_id is not None:
                    known["staff", staff_id] = None if staff is None else (int(staff_id), str(staff))
                if staff_id is not None:
                    known["roles", staff_id, school_id, day] = [str(r) for r in roles]
                    known["assigned", case_id, staff_id, day] = bool(assigned)
                known["filled", child_id, names] = (class_id, boarding, *_masks(names, lengths))
                known["present", case_id, child_id] = frozenset(
                    kind for kind, there in zip(RECORD_KINDS, present, strict=True) if there
                )
                known["head", school_id] = None if head[0] is None else (int(head[0]), str(head[1]))
        return self._known.pop(question, _UNKNOWN)

    def settled(self, failure: BaseException) -> BaseException:
        """What a pipeline's failure at the commit means: a compare-and-set that found its row
        changed is the caller's conflict; anything else is itself."""
        from psycopg import errors

        if isinstance(failure, errors.DivisionByZero) and self._checks:
            return self._checks[0]()
        return failure

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(r) for r in rows]
        if not batch:
            return
        if self.pipeline is not None:  # one statement of many rows, waiting with the other writes
            head, marks, tail = _VALUES.split(sql, maxsplit=1)
            rows_sql = ", ".join(f"({marks})" for _ in batch)
            self._queued.append((f"{head}VALUES {rows_sql}{tail}", [v for row in batch for v in row], False))
            return
        cursor = self._cursor()
        try:
            cursor.executemany(_pg(sql) if self.pg else sql, batch)
        finally:
            cursor.close()

    # -- values in and out, as SQLAlchemy's Date, DateTime, Boolean and JSON types store them --

    def d_in(self, value: date | None) -> Any:
        return value if self.pg or value is None else value.isoformat()

    def dt_in(self, value: datetime) -> Any:
        if self.pg:
            return value
        if self._last_dt is not None and self._last_dt[0] == value:
            return self._last_dt[1]
        text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")  # 2026-09-01 08:00:00.000000
        self._last_dt = (value, text)
        return text

    def json_in(self, value: Any) -> Any:
        if self.pg:
            from psycopg.types.json import Json

            return Json(value)
        return json.dumps(value)

    def b_in(self, value: bool) -> Any:
        return value if self.pg else int(value)

    @staticmethod
    def d_out(value: Any) -> date | None:
        if type(value) is str:  # SQLite's ISO text, the common case on the hot path
            return date.fromisoformat(value[:10])
        if value is None or isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, datetime):
            return value.date()
        return date.fromisoformat(str(value)[:10])

    @staticmethod
    def dt_out(value: Any) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)

    @staticmethod
    def json_out(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    # -- who acts --------------------------------------------------------------------------------

    def staff_by_id(self, staff_id: int) -> tuple[int, str] | None:
        if self._move is not None or self._known:
            known = self._known_answer("staff", staff_id)
            if known is not _UNKNOWN:
                return known  # type: ignore[no-any-return]
        row = self.one("SELECT id, name FROM staff WHERE id = ?", staff_id)
        return (int(row[0]), str(row[1])) if row else None

    def staff_by_name(self, name: str) -> list[tuple[int, str]]:
        if self._move is not None or self._known:
            known = self._known_answer("staff named", name)
            if known is not _UNKNOWN:
                return list(known)
        return [(int(i), str(n)) for i, n in self.rows("SELECT id, name FROM staff WHERE name = ?", name)]

    def roles(self, staff_id: int, school_id: int, today: date) -> list[str]:
        if self._known or self._move is not None:
            known = self._known_answer("roles", staff_id, school_id, today)
            if known is not _UNKNOWN:
                return list(known)
        day = self.d_in(today)
        return [str(r[0]) for r in self.rows(_ROLES, staff_id, school_id, day, day)]

    def case_assigned(self, case_id: int, staff_id: int, today: date) -> bool:
        """Whether the case is in an ASSIGNED scope of the staff member (casework.persistence.scope)."""
        if self._known or self._move is not None:
            known = self._known_answer("assigned", case_id, staff_id, today)
            if known is not _UNKNOWN:
                return bool(known)
        row = self.one(_ASSIGNED, *_assigned_params(case_id, staff_id, self.d_in(today)))
        return row is not None

    # -- the case and what rules know about it ---------------------------------------------------

    def case_row(self, case_id: int) -> CaseRow | None:
        """The case; in pipeline mode locked until the commit, so that the move's compare-and-set,
        sent without waiting, cannot find the row changed and the case's other writes collide."""
        if self._known and ("case", case_id) in self._known:  # read with the rest (SQLite's ahead_move)
            row = self._known.pop(("case", case_id))
        elif self._guard_row is not None and self._guard_row[0] == case_id:  # the key guard rode on it
            guard = self._guard_row[1]
            self._guard_row = None
            row = self.one(_case_row_guarded(guard), case_id)
            if row is None:  # no row, no answer: the guard on its own, before anything is written
                self._guard = guard
                self._send_guard()
            else:
                self._guard_keys = list(row[11])
        else:
            row = self.one(_CASE_ROW + (_LOCKED if self.pipeline is not None else ""), case_id)
        if row is None:
            return None
        return CaseRow(
            id=int(row[0]),
            school_id=int(row[1]),
            child_id=int(row[2]),
            state=str(row[3]),
            version=int(row[4]),
            definition_version=str(row[5]),
            opened_at=self.dt_out(row[6]),
            opened_by=int(row[7]),
            counsellor_id=None if row[10] is None else int(row[10]),
            state_since=self.dt_out(row[8]),
            stage_due_on=self.d_out(row[9]),
        )

    def child_fields(self, child_id: int, names: Sequence[str]) -> dict[str, Any]:
        columns = ", ".join(("class_id", *names))
        row = self.one(f"SELECT {columns} FROM child WHERE id = ?", child_id)
        assert row is not None  # a case's child always exists (foreign key)
        sealed = _SEALED_CHILD
        return {
            "class_id": row[0],
            **{
                n: (self.open("child", n, child_id, v) if n in sealed else v)
                for n, v in zip(names, row[1:], strict=True)
            },
        }

    def child_filled(self, child_id: int, names: Sequence[str]) -> CardFill:
        """The child's class, whether they board (the duties follow it), and which of the fields ``names``
        hold a value (``domain.child.filled`` of the values opened, for values that open), without
        reading the sealed values that cannot be empty: a sealed value that would not open (altered,
        moved, under an unknown key) counts as filled here unless it is that short, and is refused
        when read.

        Rules see which fields are filled, never their values, so the query answers with bit masks
        (``_filled_query``): of a sealed column only its length counts, and the value itself is read
        only when that length says it may be empty (also a value too short to be sealed, refused
        as reading it is).
        """
        names = tuple(names)
        row = _UNKNOWN
        if self._known or self._move is not None:
            row = self._known_answer("filled", child_id, names)
        if row is _UNKNOWN:
            row = self.one(_filled_query(names), child_id)
        assert row is not None  # a case's child always exists (foreign key)
        class_id, boarding, present, maybe_empty = row
        for i, name in enumerate(names):
            if maybe_empty >> i & 1:
                opened = self.child_fields(child_id, (name,))[name]
                present |= (1 << i) if filled({name: opened}) else 0
        return CardFill(class_id, _named(names, present), None if boarding is None else bool(boarding))

    def records_present(self, case_id: int, child_id: int) -> frozenset[str]:
        """Which kinds of record (``RECORD_KINDS``) the case, or its child's term results, has at all.

        One statement of index probes: a case has few kinds of record (none, when just opened),
        and the facts need not ask for the others one by one.
        """
        if self._known or self._move is not None:
            known = self._known_answer("present", case_id, child_id)
            if known is not _UNKNOWN:
                return frozenset(known)
        row = self.one(_PRESENT, *_present_params(case_id, child_id))
        assert row is not None
        return frozenset(kind for kind, present in zip(RECORD_KINDS, row, strict=True) if present)

    def round_versions(self, case_id: int, events: Sequence[str]) -> dict[str, int]:
        marks = ", ".join("?" for _ in events)
        rows = self.rows(
            f"SELECT event, MAX(version) FROM case_event WHERE case_id = ? AND event IN ({marks}) GROUP BY event",
            case_id,
            *events,
        )
        return {str(e): int(v) for e, v in rows}

    def assessment_categories(self, case_id: int, from_version: int) -> list[list[str]]:
        rows = self.rows(
            "SELECT categories FROM assessment WHERE case_id = ? AND case_version >= ? ORDER BY id",
            case_id,
            from_version,
        )
        return [list(self.json_out(r[0])) for r in rows]

    def plan_items(self, case_id: int, from_version: int) -> tuple[int | None, list[tuple[Any, ...]]]:
        """The current plan's id and items: (id, category, kind, subject, start, end, content?, target?)."""
        plan = self.one(
            "SELECT id FROM plan WHERE case_id = ? AND case_version >= ? ORDER BY id DESC LIMIT 1",
            case_id,
            from_version,
        )
        if plan is None:
            return None, []
        items = [
            (
                *r[:6],
                self.open("plan_item", "content", r[0], r[6]),
                self.open("plan_item", "stage_target", r[0], r[7]),
                r[8],
            )
            for r in self.rows(
                "SELECT id, category, kind, subject, start_on, end_on, content, stage_target, responsible_id "
                "FROM plan_item WHERE plan_id = ? ORDER BY id",
                plan[0],
            )
        ]
        return int(plan[0]), items

    def active_pairings(self, case_id: int, today: date) -> list[tuple[str, int | None]]:
        day = self.d_in(today)
        return [
            (str(kind), staff)
            for kind, staff in self.rows(
                "SELECT kind, staff_id FROM pairing WHERE case_id = ? AND from_on <= ? "
                "AND (to_on IS NULL OR to_on >= ?) ORDER BY id",
                case_id,
                day,
                day,
            )
        ]

    def review_items(self, case_id: int, case_version: int) -> set[int] | None:
        review = self.one(
            "SELECT id FROM review WHERE case_id = ? AND case_version = ? ORDER BY id DESC LIMIT 1",
            case_id,
            case_version,
        )
        if review is None:
            return None
        return {int(r[0]) for r in self.rows("SELECT plan_item_id FROM review_effect WHERE review_id = ?", review[0])}

    def flags(self, case_id: int) -> list[tuple[str, datetime, datetime | None]]:
        return [
            (str(code), self.dt_out(raised), self.dt_out(ack) if ack is not None else None)
            for code, raised, ack in self.rows(
                "SELECT code, raised_at, acknowledged_at FROM case_flag WHERE case_id = ?", case_id
            )
        ]

    def referral_agencies(self, case_id: int) -> list[str]:
        return [str(r[0]) for r in self.rows("SELECT agency FROM referral WHERE case_id = ? ORDER BY id", case_id)]

    def term_results(self, child_id: int) -> list[tuple[int, int, float, int, dict[str, float]]]:
        return [
            (int(y), int(t), float(total), int(rank), dict(self.json_out(subjects)))
            for y, t, total, rank, subjects in self.rows(
                "SELECT school_year, term, total_score, class_rank, subjects FROM term_result "
                "WHERE child_id = ? ORDER BY school_year, term",
                child_id,
            )
        ]

    def last_contacts(self, case_id: int, school_id: int) -> list[tuple[str, str | None, date]]:
        """The last date of each contact kind by each role its author holds at the school."""
        return [
            (str(kind), role, self.d_out(day) or date.min)
            for kind, role, day in self.rows(
                "SELECT c.kind, m.role, MAX(c.occurred_on) FROM contact_entry c "
                "LEFT JOIN membership m ON m.staff_id = c.by_id AND m.school_id = ? "
                "WHERE c.case_id = ? GROUP BY c.kind, m.role",
                school_id,
                case_id,
            )
        ]

    def extensions(self, case_id: int) -> dict[str, date]:
        """The latest extension of each duty code, by decision time."""
        found: dict[str, date] = {}
        for code, due in self.rows(
            "SELECT code, new_due FROM extension WHERE case_id = ? ORDER BY decided_at, id", case_id
        ):
            found[str(code)] = self.d_out(due) or date.min
        return found

    def last_refusal(self, case_id: int) -> tuple[str, int, str] | None:
        row = self.one(
            "SELECT event, case_version, fingerprint FROM refusal WHERE case_id = ? ORDER BY id DESC LIMIT 1",
            case_id,
        )
        return (str(row[0]), int(row[1]), str(row[2])) if row else None

    def insert_refusal(
        self,
        school_id: int,
        case_id: int,
        event: str,
        version: int,
        fingerprint: str,
        repeated: bool,
        at: datetime,
        actor_id: int,
    ) -> None:
        self.send(
            "INSERT INTO refusal (school_id, case_id, event, case_version, fingerprint, repeated, at, actor_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            school_id,
            case_id,
            event,
            version,
            fingerprint,
            self.b_in(repeated),
            self.dt_in(at),
            actor_id,
        )

    def class_teacher(self, class_id: int, today: date) -> int | None:
        row = self.one(
            "SELECT staff_id FROM membership WHERE class_id = ? AND role = 'class_teacher' "
            "AND (ended_on IS NULL OR ended_on >= ?) ORDER BY id LIMIT 1",
            class_id,
            self.d_in(today),
        )
        return int(row[0]) if row else None

    # -- writes ----------------------------------------------------------------------------------

    def move_case(
        self,
        case_id: int,
        from_state: str,
        version: int,
        to_state: str,
        at: datetime,
        stage_due: date | None,
        conflict: Callable[[], Exception],
    ) -> None:
        """Compare-and-set on (state, version): what ``conflict()`` makes is raised when someone else
        moved the case first (in pipeline mode by settle(), before the commit); made only then."""
        sql = (
            "UPDATE case_file SET state = ?, version = ?, state_since = ?, stage_due_on = ? "
            "WHERE id = ? AND state = ? AND version = ?"
        )
        params = (to_state, version + 1, self.dt_in(at), self.d_in(stage_due), case_id, from_state, version)
        if self.pipeline is not None:
            # No answer is awaited: a case not changed makes the statement fail (division by zero,
            # SQLSTATE 22012) and with it the transaction, which the commit then reports (settled()).
            self._queued.append((sql, params, True))
            self._checks.append(conflict)
            return
        if self.run(sql, *params) != 1:
            raise conflict()

    def insert_case_event(
        self,
        school_id: int,
        case_id: int,
        version: int,
        event: str,
        from_state: str,
        to_state: str,
        at: datetime,
        actor_id: int,
        reason: str | None,
        rule_set: str,
        reason_code: str | None = None,
    ) -> None:
        values = (school_id, case_id, version, event, from_state, to_state, self.dt_in(at), actor_id, rule_set)
        if reason is None:  # nothing to seal, so no id to seal it under first: the table numbers the row
            self.send(f"INSERT INTO case_event ({_CASE_EVENT}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", *values)
            return
        row_id = self.next_id("case_event")
        sealed = seal_value(self.ring, "case_event", "reason", row_id, reason)
        self.send(
            f"INSERT INTO case_event (id, reason, reason_code, {_CASE_EVENT}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row_id,
            sealed.blob if sealed is not None else None,
            reason_code,
            *values,
        )

    def rule_set_stored(self, version: str) -> bool:
        return self.one("SELECT 1 FROM rule_set WHERE version = ?", version) is not None

    def store_rule_set(self, version: str, content: dict[str, Any], at: datetime) -> None:
        self.send(
            "INSERT INTO rule_set (version, content, first_used_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            version,
            self.json_in(content),
            self.dt_in(at),
        )

    def audit_head(self, school_id: int) -> tuple[int, str] | None:
        """The school's last (seq, hash), locked until commit so appends in one school queue up."""
        if self._known or self._move is not None:
            known = self._known_answer("head", school_id)
            if known is not _UNKNOWN:
                return known  # type: ignore[no-any-return]
        row = self.one(_HEAD + (_LOCKED if self.pg else ""), school_id)
        return (int(row[0]), str(row[1])) if row else None

    def append_audit(self, event: dict[str, Any], body: str, new_head: bool) -> None:
        self.send(
            "INSERT INTO audit_event (school_id, seq, ts, actor_id, action, object_type, object_id, case_id, "
            "from_state, to_state, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            event["school_id"],
            event["seq"],
            event["ts"],
            event["actor_id"],
            event["action"],
            event["object_type"],
            event["object_id"],
            event["case_id"],
            event["from_state"],
            event["to_state"],
            body,
            event["prev_hash"],
            event["hash"],
        )
        if new_head:
            self.send(
                "INSERT INTO audit_head (school_id, seq, hash) VALUES (?, ?, ?)",
                event["school_id"],
                event["seq"],
                event["hash"],
            )
        else:
            self.send(
                "UPDATE audit_head SET seq = ?, hash = ? WHERE school_id = ?",
                event["seq"],
                event["hash"],
                event["school_id"],
            )

    def replace_duties(
        self,
        school_id: int,
        case_id: int,
        rows: Sequence[DutyRow],
        at: datetime,
    ) -> None:
        """Make the case's duties exactly ``rows``."""
        codes = [r.code for r in rows]
        if codes:
            marks = ", ".join("?" for _ in codes)
            self.send(f"DELETE FROM duty WHERE case_id = ? AND code NOT IN ({marks})", case_id, *codes)
        else:
            self.send("DELETE FROM duty WHERE case_id = ?", case_id)
        stamp = self.dt_in(at)
        self.run_many(
            "INSERT INTO duty (school_id, case_id, code, rule, responsible_role, responsible_id, rhythm_days, "
            "due_on, last_done_on, computed_at, grace_days, overdue_on, escalates, stand_in) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (case_id, code) DO UPDATE SET rule = excluded.rule, "
            "responsible_role = excluded.responsible_role, responsible_id = excluded.responsible_id, "
            "rhythm_days = excluded.rhythm_days, due_on = excluded.due_on, "
            "last_done_on = excluded.last_done_on, computed_at = excluded.computed_at, "
            "grace_days = excluded.grace_days, overdue_on = excluded.overdue_on, "
            "escalates = excluded.escalates, stand_in = excluded.stand_in",
            [
                (
                    school_id,
                    case_id,
                    r.code,
                    r.rule,
                    r.role,
                    r.responsible_id,
                    r.rhythm_days,
                    self.d_in(r.due),
                    self.d_in(r.last_done),
                    stamp,
                    r.grace_days,
                    self.d_in(r.overdue_on),
                    self.b_in(r.escalates),
                    self.b_in(r.stand_in),
                )
                for r in rows
            ],
        )

    def school_leader(self, school_id: int, today: date) -> int | None:
        """The school's leader (组长), else a deputy: who answers for the leadership group's duties."""
        row = self.one(
            "SELECT staff_id FROM membership WHERE school_id = ? AND role IN ('leader', 'deputy') "
            "AND started_on <= ? AND (ended_on IS NULL OR ended_on >= ?) "
            "ORDER BY CASE role WHEN 'leader' THEN 0 ELSE 1 END, id LIMIT 1",
            school_id,
            self.d_in(today),
            self.d_in(today),
        )
        return int(row[0]) if row else None

    def set_stage_due(self, case_id: int, due: date | None) -> None:
        self.send("UPDATE case_file SET stage_due_on = ? WHERE id = ?", self.d_in(due), case_id)
