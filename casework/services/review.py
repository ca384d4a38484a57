"""The leadership group's review: stalled cases, the daily sweep, mentor load, meetings and decisions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from casework import states
from casework.domain import access as policy
from casework.domain.validation import require_text
from casework.errors import InvalidInput, NotFound
from casework.formats.gcpause import without_cyclic_gc
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
    Stall,
)
from casework.rules.review import ReviewRules
from casework.services import access, cases, records, trail
from casework.services import facts as case_facts
from casework.services.actors import home_school, require_member, resolve_staff
from casework.services.context import Context

LEADERSHIP_ROLES = ("leader", "deputy")
EVENT_DECISIONS = {"continue": "continue", "revise": "revise", "reassess": "reassess", "close": "close"}
DECISIONS = (*EVENT_DECISIONS, "reassign", "extend")


def review_params(ctx: Context) -> dict[str, Any]:
    module = ctx.rule_set.module("review")
    return dict(module.params) if module else ReviewRules().params


new_tuple = tuple.__new__


class Reason(NamedTuple):
    """One reason a case is stalled: what, since when, how late, and who must act."""

    reason: str
    since: date
    days_overdue: int
    role: str | None
    responsible_id: int | None
    responsible_name: str | None

    def as_data(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "since": self.since.isoformat(),
            "days_overdue": self.days_overdue,
            "responsible": {"role": self.role, "id": self.responsible_id, "name": self.responsible_name},
        }


@dataclass
class StalledCase:
    case_id: int
    school_id: int
    state: str
    child_id: int
    child_name: str | None
    class_name: str | None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def days_overdue(self) -> int:
        return max(r.days_overdue for r in self.reasons)

    def as_data(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "school_id": self.school_id,
            "state": self.state,
            "child": {"id": self.child_id, "name": self.child_name},
            "class": self.class_name,
            "days_overdue": self.days_overdue,
            "reasons": [r.as_data() for r in self.reasons],
        }


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids))).all())


def _stalled(
    session: Session, today: date, school_id: int | None, class_id: int | None, responsible_id: int | None
) -> list[StalledCase]:
    with without_cyclic_gc():
        return _stalled_rows(session, today, school_id, class_id, responsible_id)


def _stalled_rows(
    session: Session, today: date, school_id: int | None, class_id: int | None, responsible_id: int | None
) -> list[StalledCase]:
    # One school at a time: each query then runs on the (school_id, due_on) index, as a shard would.
    schools = [school_id] if school_id is not None else list(session.scalars(select(School.id).order_by(School.id)))
    rows = [r for sid in schools for r in queries.stalled(session, today, sid, class_id, responsible_id)]
    staff = _names(session, {r.responsible_id for r in rows if r.responsible_id is not None})
    found: dict[int, StalledCase] = {}
    worst: dict[int, int] = {}
    today_ordinal = today.toordinal()
    overdue: dict[date, int] = {}
    for r in rows:
        entry = found.get(r.case_id)
        if entry is None:
            entry = found[r.case_id] = StalledCase(
                r.case_id, r.school_id, r.state, r.child_id, r.child_name, r.class_label
            )
        days = overdue.get(r.since, -1)
        if days < 0:
            days = overdue[r.since] = max(0, today_ordinal - r.since.toordinal())
        # tuple.__new__ directly: a NamedTuple's own constructor costs more than the row itself
        entry.reasons.append(
            new_tuple(
                Reason,
                (
                    r.reason,
                    r.since,
                    days,
                    r.responsible_role,
                    r.responsible_id,
                    staff.get(r.responsible_id) if r.responsible_id else None,
                ),
            )
        )
        if days >= worst.get(r.case_id, -1):
            worst[r.case_id] = days
    for entry in found.values():
        if len(entry.reasons) > 1:
            entry.reasons.sort(key=lambda x: (-x.days_overdue, x.reason))
    return sorted(found.values(), key=lambda c: (-worst[c.case_id], c.case_id))


def _school_filter(session: Session, school: str | None) -> int | None:
    if school is None:
        return None
    found = session.scalars(
        select(School.id).where(or_(School.name == school, School.id == (int(school) if school.isdigit() else -1)))
    ).first()
    if found is None:
        raise NotFound("no school '{school}'", school=school)
    return found


def stalled(
    ctx: Context,
    actor: str | None,
    school: str | None = None,
    class_ref: str | None = None,
    responsible: str | None = None,
) -> list[StalledCase]:
    """Stalled cases in the actor's record scope, most urgent first, with every reason, days overdue
    and who is responsible; the children's names only for roles that read contact data."""
    from casework.services.setup import resolve_class

    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        school_id = _school_filter(session, school)
        class_id = None
        if class_ref is not None:
            if school_id is None:
                schools = session.scalars(select(School.id)).all()
                if len(schools) != 1:
                    raise InvalidInput("--class needs --school when there are several schools")
                school_id = schools[0]
            class_id = resolve_class(session, school_id, class_ref).id
        responsible_id = resolve_staff(session, responsible).id if responsible else None
        # What the actor may see is decided per school, once, not per case.
        schools = [school_id] if school_id is not None else list(session.scalars(select(School.id)))
        held = {sid: roles for sid in schools if (roles := who.roles_at(sid))}
        narrow = {sid for sid, roles in held.items() if policy.widest_scope(roles) != policy.SCHOOL}
        found = [c for c in _stalled(session, today, school_id, class_id, responsible_id) if c.school_id in held]
        if narrow:
            # The stalled queries are plain SQL per school; where the actor sees only some cases,
            # keep the ones the session's scope reaches.
            ids = {c.case_id for c in found if c.school_id in narrow}
            visible = set(session.scalars(select(Case.id).where(Case.id.in_(ids))))
            found = [c for c in found if c.school_id not in narrow or c.case_id in visible]
        names_read = {sid for sid in held if who.may_read(sid, policy.T1)}
        shown: dict[int, list[int]] = {sid: [] for sid in names_read}
        for c in found:
            if c.school_id in names_read:
                shown[c.school_id].append(c.child_id)
            else:
                c.child_name = None
        reads = access.Reads(who)
        for sid, child_ids in shown.items():
            reads.add(sid, child_ids, policy.T1)
    access.log_reads(ctx, reads, "review.stalled")
    return found


@dataclass(frozen=True)
class SweepResult:
    new: int
    reminded: int
    escalated: int
    resolved: int

    @property
    def changed(self) -> bool:
        return bool(self.new or self.reminded or self.escalated or self.resolved)


def sweep(ctx: Context) -> SweepResult:
    """Record newly stalled reasons, remind, escalate after N days, resolve; twice a day changes nothing."""
    now = ctx.now()
    today = now.date()
    after = int(review_params(ctx)["escalate_after_days"])
    totals = {"new": 0, "reminded": 0, "escalated": 0, "resolved": 0}
    with ctx.db.write() as session:
        access.system(session)  # the daily job of the program itself, not of a person
        current = _stalled(session, today, None, None, None)
        wanted = {(c.case_id, r.reason, r.since): (c.school_id, r.responsible_id) for c in current for r in c.reasons}
        open_rows = session.scalars(select(Stall).where(Stall.resolved_on.is_(None))).all()
        known = {(s.case_id, s.reason, s.since): s for s in open_rows}
        per_school: dict[int, dict[str, int]] = defaultdict(
            lambda: {"new": 0, "reminded": 0, "escalated": 0, "resolved": 0}
        )
        for key, (school_id, who) in wanted.items():
            row = known.get(key)
            if row is None:
                row = Stall(
                    school_id=school_id,
                    case_id=key[0],
                    reason=key[1],
                    since=key[2],
                    responsible_id=who,
                    found_on=today,
                    reminded_on=today,
                )
                session.add(row)
                per_school[school_id]["new"] += 1
                per_school[school_id]["reminded"] += 1
            elif row.escalated_on is None and row.reminded_on is not None and (today - row.reminded_on).days >= after:
                row.escalated_on = today
                per_school[row.school_id]["escalated"] += 1
        for key, row in known.items():
            if key not in wanted:
                row.resolved_on = today
                per_school[row.school_id]["resolved"] += 1
        session.flush()
        for school_id, counts in sorted(per_school.items()):
            for k, v in counts.items():
                totals[k] += v
            trail.append(
                session,
                school_id=school_id,
                at=now,
                actor_id=None,
                action="review.swept",
                object_type="school",
                object_id=school_id,
                data=dict(counts),
            )
    return SweepResult(**totals)


def mentor_load(ctx: Context, actor: str | None, school: str | None = None) -> dict[str, Any]:
    """Mentors over the limit, and key children without a caring-parent pairing: for the leadership group."""
    params = review_params(ctx)
    today = ctx.now().date()
    active = (Pairing.from_on <= today, or_(Pairing.to_on.is_(None), Pairing.to_on >= today))
    with ctx.db.read() as session:
        staff = _leader(session, actor, None, today, school)
        school_id = _school_filter(session, school) or home_school(session, staff, today)
        load_q = (
            select(Pairing.staff_id, func.count(func.distinct(Pairing.case_id)))
            .join(Case, Case.id == Pairing.case_id)
            .where(Pairing.kind == "mentor", Case.state != "closed", *active)
            .group_by(Pairing.staff_id)
            .having(func.count(func.distinct(Pairing.case_id)) > int(params["mentor_max_children"]))
        )
        caring = select(Pairing.case_id).where(Pairing.kind == "caring_parent", *active)
        key_q = (
            select(Case.id, Child.name, Case.risk_level)
            .join(Child, Child.id == Case.child_id)
            .where(Case.state != "closed", Case.risk_level.in_(list(params["key_risk_levels"])), Case.id.not_in(caring))
            .order_by(Case.id)
        )
        load_q = load_q.where(Case.school_id == school_id)
        key_q = key_q.where(Case.school_id == school_id)
        overloaded = session.execute(load_q).all()
        names = _names(session, {s for s, _ in overloaded if s is not None})
        return {
            "limit": int(params["mentor_max_children"]),
            "overloaded_mentors": [
                {"id": s, "name": names.get(s) if s is not None else None, "children": n} for s, n in overloaded
            ],
            "key_children_without_caring_parent": [
                {"case_id": cid, "child": name, "risk_level": risk} for cid, name, risk in session.execute(key_q)
            ],
        }


# -- meetings -------------------------------------------------------------------------------------


def _leader(
    session: Session, actor: str | None, school_id: int | None, today: date, school: str | None = None
) -> Staff:
    """Bind the actor's scope; they must be of the leadership group of the school (or of --school)."""
    who = access.enter(session, actor, today)
    staff = access.staff_of(session, who)
    if school_id is None:
        school_id = home_school(session, staff, today, school)
    access.require(who, school_id, policy.REVIEW_MEETING)
    return staff


def _acting(session: Session, actor: str | None, today: date) -> Staff:
    who = access.enter(session, actor, today)
    staff = access.staff_of(session, who)
    return staff


def new_meeting(
    ctx: Context,
    actor: str | None,
    members: list[str],
    held_on: date | None = None,
    title: str | None = None,
    school: str | None = None,
) -> int:
    """A meeting whose agenda is the school's stalled list of the day."""
    now = ctx.now()
    today = now.date()
    with ctx.db.write() as session:
        who = _leader(session, actor, None, today, school)
        school_id = home_school(session, who, today, school)
        present = sorted({who.id, *(resolve_staff(session, m).id for m in members)})
        for member in present:
            require_member(session, session.get(Staff, member), school_id, today)  # type: ignore[arg-type]
        meeting = Meeting(
            school_id=school_id,
            held_on=held_on or today,
            title=require_text(title or "关爱留守儿童领导小组会议", "--title"),
            members=[str(m) for m in present],
            created_at=now,
            created_by=who.id,
        )
        session.add(meeting)
        session.flush()
        agenda = _stalled(session, today, school_id, None, None)
        for item in agenda:
            session.add(
                MeetingItem(
                    school_id=school_id,
                    meeting_id=meeting.id,
                    case_id=item.case_id,
                    reasons=[r.reason for r in item.reasons],
                )
            )
        trail.append(
            session,
            school_id=school_id,
            at=now,
            actor_id=who.id,
            action="meeting.opened",
            object_type="meeting",
            object_id=meeting.id,
            data={"members": present, "items": len(agenda)},
        )
        return meeting.id


def show_meeting(ctx: Context, actor: str | None, meeting_id: int) -> dict[str, Any]:
    """A meeting with its agenda and decisions, for the leadership group."""
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        meeting = session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFound("no meeting with id {id}", id=meeting_id)
        access.require(who, meeting.school_id, policy.REVIEW_MEETING)
        school = session.get(School, meeting.school_id)
        members = _names(session, {int(m) for m in meeting.members})
        rows = session.execute(
            select(MeetingItem, Case.state, Child.name, SchoolClass.grade, SchoolClass.name, Case.child_id)
            .join(Case, Case.id == MeetingItem.case_id)
            .join(Child, Child.id == Case.child_id)
            .outerjoin(SchoolClass, SchoolClass.id == Child.class_id)
            .where(MeetingItem.meeting_id == meeting.id)
            .order_by(MeetingItem.id)
        ).all()
        reads = access.Reads(who)
        reads.add(meeting.school_id, [row[-1] for row in rows], policy.T1, policy.T2)
        doc = {
            "id": meeting.id,
            "school": school.name if school else "",
            "held_on": meeting.held_on.isoformat(),
            "title": meeting.title,
            "members": [{"id": int(m), "name": members.get(int(m))} for m in meeting.members],
            "items": [
                {
                    "case_id": item.case_id,
                    "child": name,
                    "class": f"{grade}/{cname}" if grade is not None else None,
                    "state": state,
                    "reasons": list(item.reasons),
                    "decision": item.decision,
                    "decision_reason": item.decision_reason,
                    "new_due": item.new_due.isoformat() if item.new_due else None,
                }
                for item, state, name, grade, cname, _ in rows
            ],
        }
    access.log_reads(ctx, reads, "meeting.show")
    return doc


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
        _leader(session, actor, item.school_id, today)
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
        who = _leader(session, actor, item.school_id, now.date())
        # Through the ORM, not update().values(): decision_reason is sealed (casework.persistence.crypto).
        row = session.scalars(
            select(MeetingItem).where(MeetingItem.meeting_id == meeting_id, MeetingItem.case_id == case_id)
        ).one()
        row.decision, row.decision_reason, row.new_due = decision, reason, until
        row.decided_at, row.decided_by = now, who.id
        session.flush()
        school_id = session.scalars(select(Meeting.school_id).where(Meeting.id == meeting_id)).one()
        trail.append(
            session,
            school_id=school_id,
            at=now,
            actor_id=who.id,
            action="meeting.decided",
            object_type="meeting",
            object_id=meeting_id,
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
            trail.append(
                session,
                school_id=case.school_id,
                at=now,
                actor_id=who.id,
                action="pairing.ended",
                object_type="pairing",
                object_id=pairing_id,
                case_id=case_id,
            )
    records.pairing(ctx, actor, case_id, kind="mentor", staff=mentor, partner_name=None, from_on=today, to_on=None)


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
            reason=require_text(reason, "--reason", 2000),
            decided_at=now,
            decided_by=who.id,
        )
        session.add(row)
        session.flush()
        trail.append(
            session,
            school_id=case.school_id,
            at=now,
            actor_id=who.id,
            action="deadline.extended",
            object_type="extension",
            object_id=row.id,
            case_id=case_id,
            data={"code": code, "new_due": until.isoformat()},
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
                    Membership.staff_id.in_([m["id"] for m in doc["members"]]),
                    Membership.role.in_(list(LEADERSHIP_ROLES)),
                )
            )
        }
        stalled = {c.case_id: c for c in _stalled(session, today, None, None, None)}

    def t(msgid: str) -> str:
        return i18n.render(msgid, lang)

    context = MeetingContext(
        school_name=doc["school"],
        meeting_id=doc["id"],
        held_on=date.fromisoformat(doc["held_on"]),
        title=doc["title"],
        members=[Person(m["name"] or "", t(ROLES.get(roles.get(m["id"], ""), "member"))) for m in doc["members"]],
        items=[
            MeetingItemContext(
                case_id=i["case_id"],
                child_name=i["child"],
                class_name=i["class"] or "",
                stage=t(states.STATE_LABELS[i["state"]]),
                reasons=[t(stall_reason_label(r)) for r in i["reasons"]],
                responsible="、".join(
                    sorted({r.responsible_name for r in stalled[i["case_id"]].reasons if r.responsible_name})
                )
                if i["case_id"] in stalled
                else None,
                decision=None if agenda or not i["decision"] else t(DECISION_LABELS[i["decision"]]),
                decision_reason=None if agenda else i["decision_reason"],
                new_due=None if agenda or not i["new_due"] else date.fromisoformat(i["new_due"]),
            )
            for i in doc["items"]
        ],
    )
    return render("meeting_agenda" if agenda else "meeting_minutes", context, fmt, lang)
