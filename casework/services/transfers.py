"""A child who moves to another school of the database: the file and the case follow, each school records its side.

The school the child leaves keeps, read-only, the history it wrote: its case closes with the reason
转学 (code ``transferred``), the file is marked moved, the term's enrolment status becomes 转学. The
receiving school gets a new file (the card as it was) and, for an open case, a new case in the same
stage with the same need categories and risk level: its staff see the child from the move on, and
make their own plan and pairings. Each school's audit chain records its side of the move. A school
in another database is reached by a signed package (services.transfer_packages), with the same sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import i18n, states
from casework.domain import access as policy
from casework.domain import limits
from casework.domain.child import CHILD_FIELDS, check_on_file
from casework.domain.results import Named
from casework.domain.vocab import CLOSURE_REASONS
from casework.errors import Conflict, InvalidInput, NotFound, TransitionRefused
from casework.persistence import queries
from casework.persistence.store import Store
from casework.persistence.tables import (
    Assessment,
    Case,
    Child,
    Enrolment,
    School,
    Transfer,
)
from casework.rules.engine import ModuleFailed
from casework.services import access, trail
from casework.services import facts as case_facts
from casework.services.cases import ensure_rule_set, write_move
from casework.services.context import Context
from casework.text import N_

CARD = tuple(f.name for f in CHILD_FIELDS)


@dataclass(frozen=True)
class Moved:
    """What a move did: the child and case left behind (read-only) and those the other school now holds."""

    child: Named
    from_school: Named
    to_school: Named
    closed_case_id: int | None
    new_child_id: int | None  # in this database; None for a school elsewhere
    new_case_id: int | None
    state: str | None  # the stage the case continues in
    package: str | None = None  # the signed package written, for a school elsewhere
    sha256: str | None = None


@dataclass
class Leaving:
    """The sending side, read in the move's transaction."""

    child: Child
    case: Case | None
    categories: list[str]
    card: dict[str, Any]


def _school(session: Session, ref: str) -> School:
    found = session.scalars(
        select(School).where((School.name == ref) | (School.id == (limits.as_id(ref) or -1)))
    ).first()
    if found is None:
        raise NotFound("no school '{school}'", school=ref)
    return found


def leave(ctx: Context, session: Session, who: access.Principal, child_id: int) -> Leaving:
    """The child, their open case and its categories; the actor must hold ROSTER_IMPORT at the child's school."""
    child = access.child_in_scope(session, who, child_id)
    check_on_file(child.id, child.transferred_out_on)
    access.require(who, child.school_id, policy.ROSTER_IMPORT)
    case = session.scalars(select(Case).where(Case.child_id == child.id, Case.state != states.CLOSED)).first()
    categories: list[str] = []
    if case is not None:
        rounds = case_facts.rounds(Store.of(session), case)
        latest = session.scalars(
            select(Assessment.categories)
            .where(Assessment.case_id == case.id, Assessment.case_version >= rounds.assessment)
            .order_by(Assessment.id.desc())
            .limit(1)
        ).first()
        categories = list(latest or [])
    return Leaving(child, case, categories, {name: getattr(child, name) for name in CARD})


def close_here(ctx: Context, session: Session, leaving: Leaving, now: datetime, actor_id: int, to: str) -> int | None:
    """Close the case (reason 转学, no guards: a move is no decision about care), mark the file moved and
    the term's enrolment 转学, at the school the child leaves; the closing event's version. Audit
    events are the caller's."""
    child = leaving.child
    version = None
    if leaving.case is not None:
        store = Store.of(session)
        session.flush()
        row = store.case_row(leaving.case.id)
        assert row is not None
        dest = states.fire(row.definition_version, row.state, "close")
        assert dest is not None  # close is possible from every open stage
        reason = f"{i18n.render(CLOSURE_REASONS['transferred'], 'zh_CN')}：{to}"
        write_move(store, row, "close", dest, now, actor_id, reason, ensure_rule_set(store, ctx), {}, "transferred")
        session.expire(leaving.case)
        version = row.version + 1
    child.transferred_out_on = now.date()
    year, term = ctx.rule_set.calendar.term_number(now.date())
    enrolment = session.scalars(
        select(Enrolment).where(Enrolment.child_id == child.id, Enrolment.school_year == year, Enrolment.term == term)
    ).first()
    if enrolment is None:
        enrolment = Enrolment(school_id=child.school_id, child_id=child.id, school_year=year, term=term)
        session.add(enrolment)
    enrolment.status, enrolment.class_id, enrolment.recorded_at, enrolment.recorded_by = (
        "transferred",
        child.class_id,
        now,
        actor_id,
    )
    return version


def arrive(
    ctx: Context,
    session: Session,
    school_id: int,
    card: dict[str, Any],
    state: str | None,
    definition: str,
    categories: list[str],
    risk: str | None,
    now: datetime,
    actor_id: int,
) -> tuple[Child, Case | None]:
    """The file (the card as it was, no class yet) and, for an open case, a case in the same stage with the
    same categories and risk, at the receiving school; its duties follow from the rules in force."""
    for name in ("student_no", "id_number"):
        value = card.get(name)
        clash = queries.child_with(session, school_id, name, value, None) if value else None
        if clash is not None:
            raise Conflict(
                "the receiving school already has child {id} with this {field}: merge the files there first",
                id=clash,
                field=name,
            )
    child = Child(school_id=school_id, class_id=None, created_at=now, created_by=actor_id, **card)
    session.add(child)
    session.flush()
    if state is None:
        return child, None
    case = Case(
        school_id=school_id,
        child_id=child.id,
        class_id=None,
        state=state,
        version=0,
        definition_version=definition,
        opened_at=now,
        opened_by=actor_id,
        counsellor_id=None,
        state_since=now,
        risk_level=risk,
    )
    session.add(case)
    session.flush()
    if categories and state != states.IDENTIFIED:
        session.add(
            Assessment(
                school_id=school_id,
                case_id=case.id,
                case_version=0,
                categories=categories,
                facts={"evidence": [], "risk_level": risk, "transferred": True},
                summary=i18n.render(N_("need categories of the school the child came from"), "zh_CN"),
                assessed_on=now.date(),
                by_id=actor_id,
                recorded_at=now,
                rule_set=ensure_rule_set(Store.of(session), ctx),
            )
        )
        session.flush()
    facts = case_facts.load(Store.of(session), case, now.date(), ctx.rule_set)
    try:
        case_facts.refresh_duties(session, case, facts, ctx.rule_set, now)
    except ModuleFailed as failed:
        raise TransitionRefused(
            "the rules could not be applied to case {case}; nothing was recorded", [failed.verdict], case=case.id
        ) from None
    return child, case


def move(ctx: Context, actor: str | None, child_id: int, to_school: str) -> Moved:
    """Move a child to another school of this database, in one transaction, audited in both chains."""
    now = ctx.now()
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        leaving = leave(ctx, session, who, child_id)
        child, case = leaving.child, leaving.case
        target = _school(session, to_school)
        source = session.get(School, child.school_id)
        assert source is not None
        if target.id == child.school_id:
            raise InvalidInput("child {child} is at {school} already", child=child.id, school=target.name)
        state = case.state if case else None
        new_child, new_case = arrive(
            ctx,
            session,
            target.id,
            leaving.card,
            state,
            case.definition_version if case else states.CURRENT.version,
            leaving.categories,
            case.risk_level if case else None,
            now,
            who.staff_id,
        )
        closed = case.id if case else None
        version = close_here(ctx, session, leaving, now, who.staff_id, target.name)
        new_case_id = new_case.id if new_case else None
        out = Side(child.school_id, child.id, closed, target.id, new_child.id, new_case_id)
        into = Side(target.id, new_child.id, new_case_id, source.id, child.id, closed)
        record(session, out, "out", target.name, None, now, who.staff_id)
        record(session, into, "in", source.name, None, now, who.staff_id)
        # Each chain in the order of the schools' ids: two moves the other way never wait on each other.
        for school_id in sorted({out.school_id, into.school_id}):
            if school_id == out.school_id:
                audit_out(session, out, state, version, None, now, who.staff_id)
            else:
                audit_in(session, into, new_child, new_case, None, now, who.staff_id)
        return Moved(
            Named(child.id, child.name),
            Named(source.id, source.name),
            Named(target.id, target.name),
            closed,
            new_child.id,
            new_case_id,
            state,
        )


@dataclass(frozen=True)
class Side:
    """One school's side of a move: its child and case, and the other school's (None: a school elsewhere)."""

    school_id: int
    child_id: int
    case_id: int | None
    other_school_id: int | None
    other_child_id: int | None
    other_case_id: int | None


def record(
    session: Session, side: Side, direction: str, other: str, sha: str | None, now: datetime, actor_id: int
) -> None:
    session.add(
        Transfer(
            school_id=side.school_id,
            direction=direction,
            child_id=side.child_id,
            case_id=side.case_id,
            other_school_id=side.other_school_id,
            other_school=other,
            other_child_id=side.other_child_id,
            other_case_id=side.other_case_id,
            package_sha256=sha,
            moved_on=now.date(),
            recorded_at=now,
            recorded_by=actor_id,
        )
    )


def audit_out(
    session: Session,
    side: Side,
    state: str | None,
    version: int | None,
    sha: str | None,
    now: datetime,
    actor_id: int,
) -> None:
    scribe = trail.Scribe(session, side.school_id, now, actor_id)
    if side.case_id is not None:
        scribe.write(
            "case.moved",
            "case",
            side.case_id,
            case_id=side.case_id,
            from_state=state,
            to_state=states.CLOSED,
            data={
                "event": "close",
                "version": version,
                "reason_given": True,
                "closure_reason": "transferred",
                "verdicts": [],
            },
        )
    scribe.write(
        "child.transferred_out",
        "child",
        side.child_id,
        data={
            "to_school_id": side.other_school_id,
            "to_child_id": side.other_child_id,
            "to_case_id": side.other_case_id,
            "closed_case_id": side.case_id,
            "package_sha256": sha,
        },
    )


def audit_in(
    session: Session, side: Side, child: Child, case: Case | None, sha: str | None, now: datetime, actor_id: int
) -> None:
    scribe = trail.Scribe(session, side.school_id, now, actor_id)
    scribe.write(
        "child.transferred_in",
        "child",
        side.child_id,
        data={
            "from_school_id": side.other_school_id,
            "from_child_id": side.other_child_id,
            "from_case_id": side.other_case_id,
            "fields": sorted(k for k in CARD if getattr(child, k) is not None),
            "package_sha256": sha,
        },
    )
    if case is not None:
        scribe.write(
            "case.opened",
            "case",
            case.id,
            case_id=case.id,
            to_state=case.state,
            data={"child_id": child.id, "definition_version": case.definition_version, "transferred": True},
        )
