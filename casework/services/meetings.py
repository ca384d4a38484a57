"""The leadership group's meetings: the agenda, decisions on each case through the same guards, the minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from casework import states
from casework.domain import access as policy
from casework.domain import limits
from casework.domain.inputs import PairPartner
from casework.domain.listing import RISK_ORDER
from casework.domain.validation import require_text
from casework.errors import Conflict, InvalidInput, NotFound
from casework.persistence import queries
from casework.persistence.store import Store
from casework.persistence.tables import (
    Case,
    Child,
    Extension,
    Meeting,
    MeetingItem,
    Membership,
    Pairing,
    School,
    SchoolClass,
    Staff,
)
from casework.services import access, cases, mentoring, trail
from casework.services import facts as case_facts
from casework.services.actors import home_school, require_member, resolve_staff
from casework.services.context import Context
from casework.services.review import (
    LEADERSHIP_ROLES,
    leader,
    review_params,
    staff_names,
    stalled_cases,
)

EVENT_DECISIONS = {"continue": "continue", "revise": "revise", "reassess": "reassess", "close": "close"}
DECISIONS = (*EVENT_DECISIONS, "reassign", "extend")


def _acting(session: Session, actor: str | None, today: date) -> Staff:
    who = access.enter(session, actor, today)
    staff = access.staff_of(session, who)
    return staff


@dataclass(frozen=True)
class AgendaItem:
    """A case on a meeting's agenda: why it is there, and what the meeting decided."""

    case_id: int
    child: str | None
    class_name: str | None
    state: str
    risk_level: str | None
    reasons: tuple[str, ...]
    decision: str | None
    decision_reason: str | None
    new_due: date | None

    def as_data(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "child": self.child,
            "class": self.class_name,
            "state": self.state,
            "risk_level": self.risk_level,
            "reasons": list(self.reasons),
            "decision": self.decision,
            "decision_reason": self.decision_reason,
            "new_due": self.new_due.isoformat() if self.new_due else None,
        }


@dataclass(frozen=True)
class Member:
    id: int
    name: str | None


@dataclass(frozen=True)
class MeetingView:
    id: int
    school: str
    held_on: date
    title: str
    members: tuple[Member, ...]
    items: tuple[AgendaItem, ...]

    def as_data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "school": self.school,
            "held_on": self.held_on.isoformat(),
            "title": self.title,
            "members": [{"id": m.id, "name": m.name} for m in self.members],
            "items": [i.as_data() for i in self.items],
        }


BY_HAND = "added_by_hand"
CRITICAL = "flag:critical"


def proposed_agenda(session: Session, school_id: int, today: date, escalate_after: int) -> list[tuple[int, list[str]]]:
    """The escalated and critical cases only, riskiest first, then the most days overdue.

    Escalated: every case on the stalled list. Critical: an open case whose critical flag the
    leadership has not acknowledged yet, however recently raised.
    """
    stalled = stalled_cases(session, today, school_id, None, None, escalate_after)
    agenda = {c.case_id: [r.reason for r in c.reasons] for c in stalled}
    risk = {c.case_id: c.risk_level for c in stalled}
    late = {c.case_id: c.days_overdue for c in stalled}
    flagged = queries.unacknowledged_flags(session, school_id)
    if flagged:
        for case_id, level in session.execute(select(Case.id, Case.risk_level).where(Case.id.in_(list(flagged)))):
            reasons = agenda.setdefault(case_id, [])
            if CRITICAL not in reasons:
                reasons.insert(0, CRITICAL)
            risk[case_id] = level or "critical"
            late[case_id] = max(late.get(case_id, 0), (today - flagged[case_id]).days)
    order = sorted(agenda, key=lambda c: (RISK_ORDER.get(risk.get(c) or "", 4), -late.get(c, 0), c))
    return [(case_id, agenda[case_id]) for case_id in order]


def new_meeting(
    ctx: Context,
    actor: str | None,
    members: list[str],
    held_on: date | None = None,
    title: str | None = None,
    school: str | None = None,
    cases_by_hand: list[int] | None = None,
    another: bool = False,
    picked: list[int] | None = None,
) -> int:
    """A meeting whose proposed agenda holds the escalated and critical cases; a leader adds others by hand.

    ``picked`` (the web's agenda form): only these of the proposed cases go on the agenda, with the
    cases by hand. A second meeting of the school on the same date is refused, naming the first,
    unless ``another``.
    """
    now = ctx.now()
    today = now.date()
    day = held_on or today
    with ctx.db.write() as session:
        who = leader(session, actor, None, today, school)
        school_id = home_school(session, who, today, school)
        present = sorted({who.id, *(resolve_staff(session, m).id for m in members)})
        for member in present:
            require_member(session, session.get(Staff, member), school_id, today)  # type: ignore[arg-type]
        same_day = session.scalars(
            select(Meeting.id).where(Meeting.school_id == school_id, Meeting.held_on == day).order_by(Meeting.id)
        ).first()
        if same_day is not None and not another:
            raise Conflict(
                "meeting {id} is already set for {day}: add cases to it with "
                "'casework review meeting add {id} CASE', "
                "or open a second meeting with --another",
                id=same_day,
                day=day.isoformat(),
            )
        meeting = Meeting(
            school_id=school_id,
            held_on=day,
            title=require_text(title or "关爱留守儿童领导小组会议", "--title"),
            members=[str(m) for m in present],
            created_at=now,
            created_by=who.id,
        )
        session.add(meeting)
        session.flush()
        agenda = proposed_agenda(session, school_id, today, int(review_params(ctx)["escalate_after_days"]))
        if picked is not None:
            agenda = [(case_id, reasons) for case_id, reasons in agenda if case_id in set(picked)]
        listed = {case_id for case_id, _ in agenda}
        for case_id in cases_by_hand or []:
            if case_id not in listed:
                _case_of_school(session, case_id, school_id)
                agenda.append((case_id, [BY_HAND]))
                listed.add(case_id)
        for case_id, reasons in agenda:
            session.add(MeetingItem(school_id=school_id, meeting_id=meeting.id, case_id=case_id, reasons=reasons))
        trail.Scribe(session, school_id, now, who.id).write(
            "meeting.opened",
            "meeting",
            meeting.id,
            data={"members": present, "items": len(agenda), "by_hand": len(cases_by_hand or [])},
        )
        return meeting.id


def _case_of_school(session: Session, case_id: int, school_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or case.school_id != school_id:
        raise NotFound("no case with id {id}", id=case_id)
    if case.state == states.CLOSED:
        raise InvalidInput("case {case} is closed", case=case_id)
    return case


def add_item(ctx: Context, actor: str | None, meeting_id: int, case_id: int) -> None:
    """A leader puts a case on a meeting's agenda by hand."""
    now = ctx.now()
    with ctx.db.write() as session:
        access.enter(session, actor, now.date())
        meeting = session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFound("no meeting with id {id}", id=meeting_id)
        who = leader(session, actor, meeting.school_id, now.date())
        _case_of_school(session, case_id, meeting.school_id)
        there = session.scalars(
            select(MeetingItem.id).where(MeetingItem.meeting_id == meeting_id, MeetingItem.case_id == case_id)
        ).first()
        if there is not None:
            raise Conflict(
                "case {case} is already on the agenda of meeting {meeting}", case=case_id, meeting=meeting_id
            )
        session.add(MeetingItem(school_id=meeting.school_id, meeting_id=meeting_id, case_id=case_id, reasons=[BY_HAND]))
        session.flush()
        trail.Scribe(session, meeting.school_id, now, who.id).write(
            "meeting.item_added", "meeting", meeting_id, case_id=case_id
        )


def show_meeting(ctx: Context, actor: str | None, meeting_id: int) -> MeetingView:
    """A meeting with its agenda and decisions, for the leadership group."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        meeting = session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFound("no meeting with id {id}", id=meeting_id)
        access.require(who, meeting.school_id, policy.REVIEW_MEETING)
        school = session.get(School, meeting.school_id)
        members = staff_names(session, {int(m) for m in meeting.members})
        rows = session.execute(
            select(
                MeetingItem, Case.state, Case.risk_level, Child.name, SchoolClass.grade, SchoolClass.name, Case.child_id
            )
            .join(Case, Case.id == MeetingItem.case_id)
            .join(Child, Child.id == Case.child_id)
            .outerjoin(SchoolClass, SchoolClass.id == Child.class_id)
            .where(MeetingItem.meeting_id == meeting.id)
            .order_by(MeetingItem.id)
        ).all()
        reads = access.Reads(who)
        reads.add(meeting.school_id, [row[-1] for row in rows], policy.T1, policy.T2)
        view = MeetingView(
            id=meeting.id,
            school=school.name if school else "",
            held_on=meeting.held_on,
            title=meeting.title,
            members=tuple(Member(int(m), members.get(int(m))) for m in meeting.members),
            items=tuple(
                AgendaItem(
                    case_id=item.case_id,
                    child=name,
                    class_name=f"{grade}/{cname}" if grade is not None else None,
                    state=state,
                    risk_level=risk,
                    reasons=tuple(item.reasons),
                    decision=item.decision,
                    decision_reason=item.decision_reason,
                    new_due=item.new_due,
                )
                for item, state, risk, name, grade, cname, _ in rows
            ),
        )
    access.log_reads(ctx, reads, "meeting.show")
    return view


def decide(
    ctx: Context,
    actor: str | None,
    meeting_id: int,
    case_id: int,
    decision: str,
    reason: str | None = None,
    mentor: str | None = None,
    until: date | None = None,
    duty: str | None = None,
) -> dict[str, Any]:
    """Record the meeting's decision on one case; decisions that are events go through the engine."""
    if decision not in DECISIONS:
        raise InvalidInput(
            "--decision: '{value}' is not one of {choices}", value=decision, choices=", ".join(DECISIONS)
        )
    today = ctx.now().date()
    with ctx.db.read() as session:
        access.enter(session, actor, today)
        item = session.scalars(
            select(MeetingItem).where(MeetingItem.meeting_id == meeting_id, MeetingItem.case_id == case_id)
        ).first()
        if item is None:
            raise NotFound("case {case} is not on the agenda of meeting {meeting}", case=case_id, meeting=meeting_id)
        leader(session, actor, item.school_id, today)
        if item.decision is not None:
            raise InvalidInput(
                "case {case} already has a decision in meeting {meeting}", case=case_id, meeting=meeting_id
            )
    if decision in EVENT_DECISIONS:
        cases.advance(ctx, actor, case_id, EVENT_DECISIONS[decision], reason)
    elif decision == "reassign":
        if not mentor:
            raise InvalidInput("reassigning needs --mentor STAFF")
        _reassign(ctx, actor, case_id, mentor)
    else:
        if until is None or not reason:
            raise InvalidInput("extending a deadline needs --until DATE and --reason TEXT")
        _extend(ctx, actor, case_id, until, reason, duty)
    now = ctx.now()
    with ctx.db.write() as session:
        who = leader(session, actor, item.school_id, now.date())
        # Through the ORM, not update().values(): decision_reason is sealed (casework.persistence.crypto).
        row = session.scalars(
            select(MeetingItem).where(MeetingItem.meeting_id == meeting_id, MeetingItem.case_id == case_id)
        ).one()
        row.decision, row.decision_reason, row.new_due = decision, reason, until
        row.decided_at, row.decided_by = now, who.id
        session.flush()
        school_id = session.scalars(select(Meeting.school_id).where(Meeting.id == meeting_id)).one()
        trail.Scribe(session, school_id, now, who.id).write(
            "meeting.decided",
            "meeting",
            meeting_id,
            case_id=case_id,
            data={"decision": decision, "reason_given": bool(reason)},
        )
    return {"meeting": meeting_id, "case_id": case_id, "decision": decision}


def _reassign(ctx: Context, actor: str | None, case_id: int, mentor: str) -> None:
    now = ctx.now()
    today = now.date()
    with ctx.db.write() as session:
        who = _acting(session, actor, today)
        case = cases.get_case(session, case_id)
        if case.state == states.CLOSED:
            raise InvalidInput("case {case} is closed", case=case_id)
        # The old mentor's pairing ends yesterday and the new one starts today, so they never overlap.
        ended = (
            session.execute(
                update(Pairing)
                .where(
                    Pairing.case_id == case_id,
                    Pairing.kind == "mentor",
                    or_(Pairing.to_on.is_(None), Pairing.to_on >= today),
                )
                .values(to_on=today - timedelta(days=1))
                .returning(Pairing.id)
            )
            .scalars()
            .all()
        )
        for pairing_id in ended:
            trail.Scribe(session, case.school_id, now, who.id).write(
                "pairing.ended", "pairing", pairing_id, case_id=case_id
            )
    mentoring.pairing(
        ctx,
        actor,
        PairPartner(case_id=case_id, kind="mentor", staff=mentor, partner_name=None, from_on=today, to_on=None),
    )


def _extend(ctx: Context, actor: str | None, case_id: int, until: date, reason: str, duty: str | None) -> None:
    now = ctx.now()
    with ctx.db.write() as session:
        who = _acting(session, actor, now.date())
        case = cases.get_case(session, case_id)
        code = duty or f"stage_deadline:{case.state}"
        if until <= now.date():
            raise InvalidInput("--until {day} is not in the future", day=until.isoformat())
        row = Extension(
            school_id=case.school_id,
            case_id=case_id,
            code=code,
            new_due=until,
            reason=require_text(reason, "--reason", limits.TEXT),
            decided_at=now,
            decided_by=who.id,
        )
        session.add(row)
        session.flush()
        trail.Scribe(session, case.school_id, now, who.id).write(
            "deadline.extended", "extension", row.id, case_id=case_id, data={"code": code, "new_due": until.isoformat()}
        )
        store = Store.of(session)
        facts = case_facts.load(store, case, now.date(), ctx.rule_set)
        case_facts.refresh_duties(session, case, facts, ctx.rule_set, now)


def minutes(ctx: Context, actor: str | None, meeting_id: int, fmt: str, lang: str, agenda: bool = False) -> bytes:
    """The meeting's agenda or minutes, rendered through the documents machinery."""
    from casework import i18n
    from casework.documents.contexts import MeetingContext, MeetingItemContext, Person
    from casework.documents.render import render
    from casework.domain.vocab import DECISION_LABELS, ROLES, stall_reason_label

    doc = show_meeting(ctx, actor, meeting_id)
    today = ctx.now().date()
    with ctx.db.read() as session:
        access.enter(session, actor, today)
        roles = {
            int(staff): role
            for staff, role in session.execute(
                select(Membership.staff_id, Membership.role).where(
                    Membership.staff_id.in_([m.id for m in doc.members]),
                    Membership.role.in_(list(LEADERSHIP_ROLES)),
                )
            )
        }
        after = int(review_params(ctx)["escalate_after_days"])
        stalled = {c.case_id: c for c in stalled_cases(session, today, None, None, None, after)}

    def t(msgid: str) -> str:
        return i18n.render(msgid, lang)

    context = MeetingContext(
        school_name=doc.school,
        meeting_id=doc.id,
        held_on=doc.held_on,
        title=doc.title,
        members=[Person(m.name or "", t(ROLES.get(roles.get(m.id, ""), "member"))) for m in doc.members],
        items=[
            MeetingItemContext(
                case_id=i.case_id,
                child_name=i.child or "",
                class_name=i.class_name or "",
                stage=t(states.STATE_LABELS[i.state]),
                reasons=[t(stall_reason_label(r)) for r in i.reasons],
                responsible=i18n.join(
                    sorted({r.responsible_name for r in stalled[i.case_id].reasons if r.responsible_name}), lang
                )
                if i.case_id in stalled
                else None,
                decision=None if agenda or not i.decision else t(DECISION_LABELS[i.decision]),
                decision_reason=None if agenda else i.decision_reason,
                new_due=None if agenda else i.new_due,
            )
            for i in doc.items
        ],
    )
    return render("meeting_agenda" if agenda else "meeting_minutes", context, fmt, lang)
