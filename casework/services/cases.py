"""Cases: open, look up, list, and move them through the workflow with guards and audit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit, i18n, states
from casework.domain import access as policy
from casework.domain import limits
from casework.domain.child import check_on_file
from casework.domain.inputs import closure_reason
from casework.domain.results import Named, omitted_when_none
from casework.domain.validation import require_text
from casework.domain.vocab import CLOSURE_REASONS, role_labels
from casework.errors import Conflict, InvalidInput, NotFound, TransitionRefused
from casework.memo import Kept
from casework.persistence.store import CaseRow, Store
from casework.persistence.tables import AuditEvent, Case, CaseEvent, Child, Staff
from casework.rules import Obligation, Verdict, evaluate, refusals
from casework.rules.engine import ModuleFailed
from casework.services import access, trail
from casework.services import facts as case_facts
from casework.services.actors import acting, pick_staff, staff_ref
from casework.services.context import Context
from casework.text import N_


def verdict_data(v: Verdict) -> dict[str, Any]:
    """A verdict as audit events and --json output keep it: both languages, facts used."""
    return {
        "rule": v.rule,
        "version": v.version,
        "code": v.code,
        "passed": v.passed,
        "message": i18n.both(v.message),
        "facts": dict(v.facts),
    }


_verdict_texts: Kept[str] = Kept()


def verdicts_body(shell: dict[str, Any], verdicts: list[Verdict]) -> str:
    """The canonical JSON of ``shell`` with the verdicts' data under "verdicts", for the audit event.

    Each distinct verdict's JSON is made once and kept (``Kept``): most of a move's event is the
    same verdicts, in both languages, as the move before.
    """
    texts = [
        _verdict_texts.get((v.rule, v.version, v.code, v.passed, v.message, dict(v.facts)), partial(_verdict_text, v))
        for v in verdicts
    ]
    return audit.embed(shell, "verdicts", "[" + ",".join(texts) + "]")


def _verdict_text(v: Verdict) -> str:
    return audit.dumps(verdict_data(v))


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; we store UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("no case with id {id}", id=case_id)
    return case


def open_case(ctx: Context, actor: str | None, child_id: int, counsellor: str | None = None) -> int:
    """Open a case for a child; its counsellor is ``counsellor``, else the opener if a counsellor."""
    now = ctx.now()
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        child = access.child_to_open(session, who, child_id)
        check_on_file(child.id, child.transferred_out_on)
        access.require_tier(who, child.school_id, policy.WRITE, policy.T0)
        in_charge = _counsellor(session, who, child.school_id, counsellor)
        already = session.scalars(select(Case.id).where(Case.child_id == child.id, Case.state != states.CLOSED)).first()
        if already is not None:
            raise Conflict("child {child} already has an open case ({case})", child=child.id, case=already)
        case = Case(
            school_id=child.school_id,
            child_id=child.id,
            class_id=child.class_id,
            state=states.CURRENT.initial,
            version=0,
            definition_version=states.CURRENT.version,
            opened_at=now,
            opened_by=who.staff_id,
            counsellor_id=in_charge,
            state_since=now,
        )
        session.add(case)
        session.flush()
        # Even a fresh case owes something: its stage deadline starts now.
        facts = case_facts.load(Store.of(session), case, now.date(), ctx.rule_set)
        case_facts.refresh_duties(session, case, facts, ctx.rule_set, now)
        trail.Scribe(session, case.school_id, now, who.staff_id).write(
            "case.opened",
            "case",
            case.id,
            case_id=case.id,
            to_state=case.state,
            data={"child_id": child.id, "definition_version": case.definition_version, "counsellor_id": in_charge},
        )
        return case.id


def _counsellor(session: Session, who: access.Principal, school_id: int, ref: str | None) -> int | None:
    if ref is None:
        return who.staff_id if "counsellor" in who.roles_at(school_id) else None
    staff = access.resolve_staff(session, ref)
    if "counsellor" not in access.principal_of(session, staff, who.today).roles_at(school_id):
        raise InvalidInput(
            "--counsellor: {name} (staff {id}) is not a counsellor at this school", name=staff.name, id=staff.id
        )
    return staff.id


@dataclass(frozen=True)
class CaseSummary:
    """A case as a list or the case page shows it: stage, version, child, what may happen next."""

    id: int
    school_id: int
    state: str
    version: int
    child: Named
    counsellor_id: int | None
    definition_version: str
    opened_at: str
    state_since: str
    events: tuple[str, ...]


def _summary(case: Case, child_name: str | None) -> CaseSummary:
    definition = states.definition(case.definition_version)
    return CaseSummary(
        id=case.id,
        school_id=case.school_id,
        state=case.state,
        version=case.version,
        child=Named(case.child_id, child_name),
        counsellor_id=case.counsellor_id,
        definition_version=case.definition_version,
        opened_at=_iso(case.opened_at),
        state_since=_iso(case.state_since),
        events=tuple(definition.events_from(case.state)),
    )


def show(ctx: Context, actor: str | None, case_id: int) -> CaseSummary:
    """A case's state and events; the child's name only for a role that reads contact data."""
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        case = access.case_in_scope(session, who, case_id)
        reads = access.Reads(who)
        name = None
        if who.may_read(case.school_id, policy.T1):
            name = session.scalar(select(Child.name).where(Child.id == case.child_id))
            reads.add(case.school_id, [case.child_id], policy.T1)
        summary = _summary(case, name)
    access.log_reads(ctx, reads, "case.show")
    return summary


def list_cases(
    ctx: Context, actor: str | None, state: str | None = None, school_id: int | None = None
) -> list[CaseSummary]:
    """The cases in the actor's record scope; names only where the role reads contact data."""
    if state is not None and state not in states.STATES:
        raise InvalidInput(
            "--state: '{state}' is not one of {states}",
            state=state,
            states=", ".join(states.STATES),
        )
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        query = select(Case, Child.name).join(Child, Child.id == Case.child_id).order_by(Case.id)
        if state is not None:
            query = query.where(Case.state == state)
        if school_id is not None:
            query = query.where(Case.school_id == school_id)
        reads = access.Reads(who)
        found = []
        for case, name in session.execute(query):
            named = who.may_read(case.school_id, policy.T1)
            if named:
                reads.add(case.school_id, [case.child_id], policy.T1)
            found.append(_summary(case, name if named else None))
    access.log_reads(ctx, reads, "case.list")
    return found


def _check_event(definition_version: str, event: str) -> states.Definition:
    definition = states.definition(definition_version)
    if definition.transition(event) is None:
        raise InvalidInput(
            "'{event}' is not an event; events: {events}",
            event=event,
            events=", ".join(t.event for t in definition.transitions),
        )
    return definition


@dataclass(frozen=True)
class Moved:
    case_id: int
    event: str
    from_state: str
    to_state: str
    version: int
    verdicts: list[Verdict]


def ensure_rule_set(store: Store, ctx: Context) -> str:
    """Keep the rule set a decision is made under, once, so it can be read back a year later."""
    rule_set = ctx.rule_set
    if rule_set.version in ctx.stored_rule_sets:
        return rule_set.version
    if store.rule_set_stored(rule_set.version):
        # Rule sets are content-addressed and never deleted: once seen committed, always there.
        ctx.stored_rule_sets.add(rule_set.version)
    else:
        store.store_rule_set(rule_set.version, rule_set.as_data(), ctx.now())
    return rule_set.version


def _actor(store: Store, ref: str | None) -> tuple[int, str]:
    """The acting staff member (id, name) through the hot path's plain SQL."""
    return pick_staff(acting(ref), store.staff_by_id, store.staff_by_name, lambda s: s[0])


def write_move(
    store: Store,
    case: CaseRow,
    event: str,
    dest: str,
    now: datetime,
    actor_id: int,
    reason: str | None,
    rule_set: str,
    wanted: dict[str, Obligation],
    reason_code: str | None = None,
) -> None:
    """The rows of one move: compare-and-set the case, its duties and stage deadline, its history row.

    ``reason_code``: why a case closes, as the indicators count it. The audit event is the caller's,
    appended after these so that the audit head is locked last.
    """
    conflict = partial(Conflict, N_("case {case} changed meanwhile; look again and retry"), case=case.id)
    store.move_case(case.id, case.state, case.version, dest, now, case_facts.stage_due(wanted), conflict)
    moved = case._replace(state=dest, version=case.version + 1, state_since=now)
    case_facts.store_duties(store, moved, wanted, now.date(), now)
    store.insert_case_event(
        case.school_id, case.id, case.version + 1, event, case.state, dest, now, actor_id, reason, rule_set, reason_code
    )


def _record_refusal(
    store: Store, case: CaseRow, event: str, failing: list[Verdict], now: datetime, actor_id: int
) -> None:
    """Keep a fingerprint of what blocked the move: the same refusal again, nothing changed, means stuck."""
    fingerprint = hashlib.sha256(
        audit.dumps([event, [[v.rule, v.code, dict(v.facts)] for v in failing]]).encode()
    ).hexdigest()
    last = store.last_refusal(case.id)
    repeated = last == (event, case.version, fingerprint)
    store.insert_refusal(case.school_id, case.id, event, case.version, fingerprint, repeated, now, actor_id)


def advance(
    ctx: Context,
    actor: str | None,
    case_id: int,
    event: str,
    reason: str | None = None,
    expected_version: int | None = None,
    closure: str | None = None,
) -> Moved:
    """Fire ``event`` in one transaction: re-read, judge, compare-and-set, duties, audit, commit.

    A refusal is itself audited (and committed) before TransitionRefused is raised with
    every failing verdict. A case changed by someone else meanwhile raises Conflict.
    A close is counted under a reason code (``closure``, else what ``reason`` says: 父母返乡…);
    given a code other than ``other`` and no reason, the code's label is the reason.
    This is the hot path: it reads and writes through the store's plain SQL.
    """
    now = ctx.now()
    today = now.date()
    reason = require_text(reason, "--reason", limits.TEXT) if reason and reason.strip() else None
    reason_code = None
    if event == "close":
        reason_code = closure_reason(closure, reason)
        if reason is None and reason_code != "other":  # another reason needs its words: the workflow asks
            reason = i18n.render(CLOSURE_REASONS[reason_code], "zh_CN")
    elif closure is not None:
        raise InvalidInput("--closure is for close, not {event}", event=event)
    refused: TransitionRefused | None = None
    dest: str | None = None
    with ctx.db.raw_write() as store:
        # On PostgreSQL every read travels in one round trip (Store.ahead_advance): the case, locked
        # (the key guard in the same statement); then, in one statement, the actor, their roles and
        # scope, the card, the kinds of record and the school's audit head (locked after the case,
        # as every writer locks them). The writes then travel with the commit: two round trips in
        # all. On SQLite the same reads but the roles are one statement.
        ref = acting(actor)
        store.ahead_advance(case_id, staff_ref(ref), today, case_facts.FIELD_NAMES)
        actor_id, actor_name = _actor(store, ref)
        case = store.case_row(case_id)
        if case is None:
            raise NotFound("no case with id {id}", id=case_id)
        roles = store.roles(actor_id, case.school_id, today)
        definition = _check_event(case.definition_version, event)
        _may_move(store, case, event, actor_id, actor_name, roles, today)
        if event == "reopen":  # a case closed by the child's move stays with the school it moved from
            moved = store.one("SELECT transferred_out_on FROM child WHERE id = ?", case.child_id)
            check_on_file(case.child_id, store.d_out(moved[0]) if moved else None)
        if expected_version is not None and case.version != expected_version:
            raise Conflict(
                "case {case} changed meanwhile: version {expected} expected, {actual} found (now {state})",
                case=case.id,
                expected=expected_version,
                actual=case.version,
                state=states.state_label(case.state),
            )
        from_state, version = case.state, case.version
        facts = case_facts.load(
            store, case, today, ctx.rule_set, reason_given=reason is not None, actor_roles=frozenset(roles)
        )
        verdicts = evaluate(ctx.rules, event, facts, definition)
        wanted: dict[str, Obligation] = {}
        if not refusals(verdicts):
            dest = states.fire(case.definition_version, from_state, event)
            if dest is None:  # the table and the machine disagree: never expected
                raise InvalidInput("'{event}' is not possible from {state}", event=event, state=from_state)
            try:
                wanted = case_facts.plan_duties(case_facts.moved(facts, dest, today), ctx.rule_set)
            except ModuleFailed as failed:
                verdicts.append(failed.verdict)
        rule_set = ensure_rule_set(store, ctx)
        failing = refusals(verdicts)
        scribe = trail.Scribe(store, case.school_id, now, actor_id)
        if failing:
            scribe.write(
                "case.refused",
                "case",
                case.id,
                case_id=case.id,
                from_state=from_state,
                body=verdicts_body({"event": event, "version": version, "rule_set": rule_set}, verdicts),
            )
            _record_refusal(store, case, event, failing, now, actor_id)
            refused = TransitionRefused(
                "case {case}: {event} refused", failing, case=case.id, event=states.event_label(event)
            )
        else:
            assert dest is not None
            write_move(store, case, event, dest, now, actor_id, reason, rule_set, wanted, reason_code)
            shell = {"event": event, "version": version + 1, "reason_given": reason is not None, "rule_set": rule_set}
            if reason_code is not None:
                shell["closure_reason"] = reason_code
            scribe.write(
                "case.moved",
                "case",
                case.id,
                case_id=case.id,
                from_state=from_state,
                to_state=dest,
                body=verdicts_body(shell, verdicts),
            )
    if refused is not None:
        raise refused
    assert dest is not None
    done = Moved(case_id, event, from_state, dest, version + 1, verdicts)
    for action in ctx.after_move:  # after the commit: an action never undoes the move
        action(ctx, done, actor_id)
    return done


def _may_move(store: Store, case: CaseRow, event: str, actor_id: int, name: str, roles: list[str], today: date) -> None:
    """The policy table on the hot path: the case in the actor's scope, the event theirs to fire."""
    scope = policy.widest_scope(roles)
    if scope == policy.NONE or (scope == policy.ASSIGNED and not store.case_assigned(case.id, actor_id, today)):
        raise access.denied(
            case.school_id,
            actor_id,
            roles,
            f"case:{case.id}",
            N_("case {row} is outside the record scope of {name} (staff {id})"),
            row=case.id,
            name=name,
            id=actor_id,
        )
    if not policy.may_fire(roles, event, case.state):
        raise access.denied(
            case.school_id,
            actor_id,
            roles,
            f"event:{event}",
            N_("{name} (staff {id}, {roles}) may not fire '{event}' from {state}"),
            name=name,
            id=actor_id,
            roles=role_labels(roles),
            event=states.event_label(event),
            state=states.state_label(case.state),
        )


@dataclass(frozen=True)
class Why:
    case_id: int
    event: str
    state: str
    version: int
    allowed: bool
    to_state: str | None
    verdicts: list[Verdict]


def why(ctx: Context, case_id: int, event: str, actor: str | None) -> Why:
    """What the rules would say now about ``event`` if ``actor`` fired it, without moving or recording anything."""
    return why_each(ctx, case_id, [event], actor)[0]


def why_each(ctx: Context, case_id: int, events: Sequence[str], actor: str | None) -> list[Why]:
    """``why`` for each of ``events`` on one case, as of one moment: the case's facts are read once
    (they do not depend on the event), in one read transaction, and each event judged on them."""
    moment = ctx.now()
    with ctx.db.read() as session:
        who = access.enter(session, actor, moment.date())
        case = access.case_in_scope(session, who, case_id)
        definitions = [_check_event(case.definition_version, event) for event in events]
        roles = access.require_school(who, case.school_id)
        if not events:
            return []
        facts = case_facts.load(
            Store.of(session), case, moment.date(), ctx.rule_set, reason_given=True, actor_roles=roles
        )
        found = []
        for event, definition in zip(events, definitions, strict=True):
            verdicts = evaluate(ctx.rules, event, facts, definition)
            allowed = not refusals(verdicts)
            dest = states.fire(case.definition_version, case.state, event) if allowed else None
            found.append(Why(case.id, event, case.state, case.version, allowed, dest, verdicts))
        return found


@dataclass(frozen=True)
class ObjectRef:
    type: str | None
    id: int | None


@dataclass(frozen=True)
class HistoryEntry:
    """One audit event of a case, as its history shows it; a move's reason only to roles that read it."""

    seq: int
    at: str
    action: str
    actor: Named
    object: ObjectRef
    from_state: str | None
    to_state: str | None
    event: str | None
    reason: str | None = None  # a move's, when there was one and the reader may read it
    refusals: tuple[Mapping[str, Any], ...] | None = omitted_when_none()
    fields: tuple[str, ...] | None = omitted_when_none()

    def json_left_out(self) -> tuple[str, ...]:
        """A move's entry always has its reason (null when none, or not the reader's to read)."""
        return () if self.action == "case.moved" else ("reason",)


def history(ctx: Context, actor: str | None, case_id: int) -> list[HistoryEntry]:
    """Everything that happened to the case, from its audit events, oldest first.

    The reasons given for moves are counselling content: shown only to roles that read it.
    """
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        case = access.case_in_scope(session, who, case_id)
        reads = access.Reads(who)
        reasons: dict[int, str | None] = {}
        if who.may_read(case.school_id, policy.T2):
            reasons = dict(
                session.execute(select(CaseEvent.version, CaseEvent.reason).where(CaseEvent.case_id == case.id)).all()
            )
            if any(reasons.values()):
                reads.add(case.school_id, [case.child_id], policy.T2)
        rows = session.execute(
            select(AuditEvent, Staff.name)
            .outerjoin(Staff, Staff.id == AuditEvent.actor_id)
            .where(AuditEvent.school_id == case.school_id, AuditEvent.case_id == case.id)
            .order_by(AuditEvent.seq)
        )
        entries = []
        for event, actor_name in rows:
            data = json.loads(event.data)
            entries.append(
                HistoryEntry(
                    seq=event.seq,
                    at=event.ts,
                    action=event.action,
                    actor=Named(event.actor_id, actor_name),
                    object=ObjectRef(event.object_type, event.object_id),
                    from_state=event.from_state,
                    to_state=event.to_state,
                    event=data.get("event"),
                    reason=reasons.get(data.get("version")) if event.action == "case.moved" else None,
                    refusals=tuple(v for v in data.get("verdicts", []) if not v["passed"])
                    if event.action == "case.refused"
                    else None,
                    fields=tuple(data["fields"]) if "fields" in data else None,
                )
            )
    access.log_reads(ctx, reads, "case.history")
    return entries
