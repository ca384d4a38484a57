"""Reading a case into its documents' typed contexts, within the caller's read transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework import i18n, states
from casework.documents import contexts as c
from casework.documents.catalog import EDUCATION_PLAN_CATEGORIES, STAGE_TEMPLATES
from casework.domain import sdq
from casework.domain.vocab import (
    CONTACT_KINDS,
    FAMILY_SITUATIONS,
    NEED_CATEGORIES,
    PAIRING_KINDS,
    PLAN_ITEM_KINDS,
    REVIEW_RESULTS,
    RISK_LABELS,
    ROLES,
    SEXES,
)
from casework.errors import InvalidInput, NotFound
from casework.persistence.tables import (
    Assessment,
    Case,
    CaseEvent,
    Child,
    ContactEntry,
    Membership,
    Pairing,
    Plan,
    PlanItem,
    Review,
    ReviewEffect,
    School,
    SchoolClass,
    Screening,
    Staff,
)
from casework.text import N_

if TYPE_CHECKING:
    pass


T = TypeVar("T")


MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


MONTHLY = frozenset({"talk_record", "parent_feedback"})


TALK_KINDS = ("talk", "counselling")


BLANK_TALK_ROWS = 4


WORDS = {
    "father": N_("father"),
    "mother": N_("mother"),
    "yes": N_("yes"),
    "no": N_("no"),
    "counsellor": N_("the counsellor"),
    "parent": N_("parent"),
    "teacher": N_("teacher"),
    "self": N_("self"),
}


@dataclass(frozen=True)
class Job:
    """One document to make: which template, for which stage and month, with what context."""

    case_id: int
    school_id: int
    case_version: int
    stage: str
    template: str
    period: str | None
    context: object


class ContextReader:
    """The case's rows a document needs, read once per case within one read transaction."""

    def __init__(self, session: Session, case: Case, lang: str, redact: bool) -> None:
        self.session, self.case, self.lang, self.redact = session, case, lang, redact
        self.child = session.get(Child, case.child_id)
        if self.child is None:
            raise NotFound("no child with id {id}", id=case.child_id)
        self._staff: dict[int, str] = {}

    def t(self, msgid: str | None) -> str | None:
        return i18n.render(msgid, self.lang) if msgid else None

    def label(self, vocab: dict[str, str], code: str | None) -> str | None:
        if code is None:
            return None
        return i18n.render(vocab[code], self.lang) if code in vocab else code

    def staff(self, staff_id: int | None) -> str | None:
        if staff_id is None:
            return None
        if staff_id not in self._staff:
            found = self.session.get(Staff, staff_id)
            self._staff[staff_id] = found.name if found else str(staff_id)
        return self._staff[staff_id]

    def class_name(self) -> str:
        if self.child is None or self.child.class_id is None:
            return "—"
        cls = self.session.get(SchoolClass, self.child.class_id)
        if cls is None:
            return "—"
        return f"{cls.grade}年级{cls.name}" if self.lang == "zh_CN" else f"{cls.grade}/{cls.name}"

    def class_teacher(self) -> str | None:
        if self.child is None or self.child.class_id is None:
            return None
        staff_id = self.session.scalars(
            select(Membership.staff_id)
            .where(Membership.class_id == self.child.class_id, Membership.role == "class_teacher")
            .order_by(Membership.ended_on.is_not(None), Membership.id)
            .limit(1)
        ).first()
        return self.staff(staff_id)

    def entered(self, stage: str) -> date:
        """The day the case last entered ``stage`` (opened, for identified)."""
        if stage == states.IDENTIFIED:
            return self.case.opened_at.date()
        at = self.session.scalars(
            select(CaseEvent.at)
            .where(CaseEvent.case_id == self.case.id, CaseEvent.to_state == stage)
            .order_by(CaseEvent.version.desc())
            .limit(1)
        ).first()
        return at.date() if at is not None else self.case.state_since.date()

    def header(self, stage: str) -> c.CaseHeader:
        assert self.child is not None
        school = self.session.get(School, self.case.school_id)
        return c.CaseHeader(
            school_name=school.name if school else str(self.case.school_id),
            case_id=self.case.id,
            case_version=self.case.version,
            child_name=self.child.name,
            class_name=self.class_name(),
            stage=i18n.render(states.STATE_LABELS[stage], self.lang),
            as_of=self.entered(stage),
        )

    def done(self, value: T) -> T:
        return c.redact(value) if self.redact else value

    # -- per template --------------------------------------------------------------------------

    def child_card(self) -> c.ChildCardContext:
        k = self.child
        assert k is not None
        parents = [
            c.ParentCard(
                role=self.t(WORDS[who]) or who,
                name=getattr(k, f"{who}_name"),
                phone=getattr(k, f"{who}_phone"),
                address=getattr(k, f"{who}_address"),
                workplace=getattr(k, f"{who}_workplace"),
                workplace_address=getattr(k, f"{who}_workplace_address"),
                workplace_phone=getattr(k, f"{who}_workplace_phone"),
            )
            for who in ("father", "mother")
        ]
        yes_no = {True: self.t(WORDS["yes"]), False: self.t(WORDS["no"]), None: None}
        return self.done(
            c.ChildCardContext(
                header=self.header(states.IDENTIFIED),
                sex=self.label(SEXES, k.sex),
                birth_date=k.birth_date,
                student_no=k.student_no,
                id_number=k.id_number,
                boarding=yes_no[k.boarding],
                health=k.health,
                home_address=k.home_address,
                family_situation=self.label(FAMILY_SITUATIONS, k.family_situation),
                class_teacher=self.class_teacher(),
                parents=parents,
                guardian=c.GuardianCard(
                    name=k.guardian_name,
                    relation=k.guardian_relation,
                    occupation=k.guardian_occupation,
                    address=k.guardian_address,
                    phone=k.guardian_phone,
                    health=k.guardian_health,
                    age=k.guardian_age,
                    literate=yes_no[k.guardian_literate],
                ),
                opened_on=self.case.opened_at.date(),
                teachers=self._teachers(),
            )
        )

    def _teachers(self) -> list[c.TeacherContact]:
        """The class teacher and the mentors whose pairing has not ended, with the numbers they gave the family."""
        found: list[tuple[str, int]] = []
        if self.child is not None and self.child.class_id is not None:
            teacher = self.session.scalars(
                select(Membership.staff_id)
                .where(Membership.class_id == self.child.class_id, Membership.role == "class_teacher")
                .order_by(Membership.ended_on.is_not(None), Membership.id)
                .limit(1)
            ).first()
            if teacher is not None:
                found.append(("class_teacher", teacher))
        for staff_id in self.session.scalars(
            select(Pairing.staff_id)
            .where(Pairing.case_id == self.case.id, Pairing.kind == "mentor", Pairing.to_on.is_(None))
            .order_by(Pairing.id)
        ):
            if staff_id is not None and ("mentor", staff_id) not in found:
                found.append(("mentor", staff_id))
        people = {s.id: s for s in self.session.scalars(select(Staff).where(Staff.id.in_([i for _, i in found])))}
        return [
            c.TeacherContact(self.label(ROLES, role) or role, people[i].name, people[i].phone)
            for role, i in found
            if i in people
        ]

    def _assessment(self) -> Assessment:
        row = self.session.scalars(
            select(Assessment).where(Assessment.case_id == self.case.id).order_by(Assessment.id.desc()).limit(1)
        ).first()
        if row is None:
            raise InvalidInput("case {case} has no assessment recorded: nothing to print", case=self.case.id)
        return row

    def _evidence(self, found: dict[str, Any]) -> list[tuple[str, str]]:
        pairs = []
        for key, value in sorted(found.items()):
            if isinstance(value, list | tuple):
                value = "、".join(map(str, value)) if self.lang == "zh_CN" else ", ".join(map(str, value))
            pairs.append((key, str(value)))
        return pairs

    def assessment(self) -> c.AssessmentContext:
        row = self._assessment()
        categories = [
            c.CategoryEvidence(
                category=self.label(NEED_CATEGORIES, e["category"]) or e["category"],
                source=(self.t(WORDS["counsellor"]) or "") if e["rule"] == "counsellor" else str(e["rule"]),
                risk=self.label(RISK_LABELS, e.get("risk")),
                evidence=self._evidence(e.get("evidence") or {}),
            )
            for e in row.facts.get("evidence", [])
        ]
        screenings = [
            c.ScreeningContext(
                screened_on=s.screened_on,
                informant=self.t(WORDS.get(s.result.get("informant", ""), "")) or str(s.result.get("informant")),
                rows=[
                    c.ScreeningRow(
                        scale=i18n.render(sdq.LABELS[scale], self.lang),
                        score=int(s.result["scores"][scale]),
                        band=i18n.render(sdq.LABELS[s.result["bands"][scale]], self.lang),
                    )
                    for scale in (*sdq.SUBSCALES, "total")
                    if scale in s.result.get("scores", {})
                ],
            )
            for s in self.session.scalars(
                select(Screening).where(Screening.case_id == self.case.id).order_by(Screening.id)
            )
        ]
        return self.done(
            c.AssessmentContext(
                header=self.header(states.ASSESSED),
                assessed_on=row.assessed_on,
                assessor=self.staff(row.by_id) or "",
                summary=row.summary,
                risk_level=self.label(RISK_LABELS, row.facts.get("risk_level")),
                categories=categories,
                screenings=screenings,
            )
        )

    def _plan(self) -> tuple[Plan, list[PlanItem]]:
        plan = self.session.scalars(
            select(Plan).where(Plan.case_id == self.case.id).order_by(Plan.id.desc()).limit(1)
        ).first()
        if plan is None:
            raise InvalidInput("case {case} has no plan recorded: nothing to print", case=self.case.id)
        items = list(self.session.scalars(select(PlanItem).where(PlanItem.plan_id == plan.id).order_by(PlanItem.id)))
        return plan, items

    def needs_education_plan(self) -> bool:
        latest = self.session.scalars(
            select(Assessment.categories)
            .where(Assessment.case_id == self.case.id)
            .order_by(Assessment.id.desc())
            .limit(1)
        ).first()
        if latest and EDUCATION_PLAN_CATEGORIES & set(latest):
            return True
        plan = self.session.scalars(
            select(Plan.id).where(Plan.case_id == self.case.id).order_by(Plan.id.desc()).limit(1)
        ).first()
        return (
            plan is not None
            and (
                self.session.scalar(
                    select(func.count())
                    .select_from(PlanItem)
                    .where(PlanItem.plan_id == plan, PlanItem.kind == "correction")
                )
                or 0
            )
            > 0
        )

    def plan(self, education: bool) -> c.PlanContext:
        plan, items = self._plan()
        if education:
            items = [i for i in items if i.kind == "correction" or i.category in EDUCATION_PLAN_CATEGORIES]
        needs = self.session.scalars(
            select(Assessment.categories)
            .where(Assessment.case_id == self.case.id)
            .order_by(Assessment.id.desc())
            .limit(1)
        ).first()
        pairings = self.session.scalars(
            select(Pairing).where(Pairing.case_id == self.case.id).order_by(Pairing.from_on, Pairing.id)
        ).all()
        leader = self.session.scalars(
            select(Membership.staff_id)
            .where(Membership.school_id == self.case.school_id, Membership.role == "leader")
            .order_by(Membership.ended_on.is_not(None), Membership.id)
            .limit(1)
        ).first()
        return self.done(
            c.PlanContext(
                header=self.header(states.INDIVIDUAL_PLAN),
                created_on=plan.created_at.date(),
                author=self.staff(plan.by_id) or "",
                needs=[self.label(NEED_CATEGORIES, n) or n for n in (needs or [])],
                risk_level=self.label(RISK_LABELS, self.case.risk_level),
                items=[
                    c.PlanItemContext(
                        number=n,
                        need=self.label(NEED_CATEGORIES, i.category) or i.category,
                        kind=self.label(PLAN_ITEM_KINDS, i.kind) or i.kind,
                        subject=i.subject,
                        measures=i.measures,
                        responsible=self.staff(i.responsible_id) or "",
                        start_on=i.start_on,
                        end_on=i.end_on,
                        content=i.content,
                        stage_target=i.stage_target,
                    )
                    for n, i in enumerate(items, start=1)
                ],
                pairings=[
                    c.PairingContext(
                        kind=self.label(PAIRING_KINDS, p.kind) or p.kind,
                        name=self.staff(p.staff_id) or p.partner_name or "",
                        from_on=p.from_on,
                        to_on=p.to_on,
                    )
                    for p in pairings
                ],
                signatures=[
                    c.Signatory(self.label(ROLES, "counsellor") or "", self.staff(plan.by_id)),
                    c.Signatory(self.label(ROLES, "class_teacher") or "", self.class_teacher()),
                    c.Signatory(self.label(ROLES, "leader") or "", self.staff(leader)),
                ],
            )
        )

    def _entries(self, kinds: Sequence[str], month: str) -> list[ContactEntry]:
        year, mon = map(int, month.split("-"))
        first = date(year, mon, 1)
        after = date(year + (mon == 12), mon % 12 + 1, 1)
        return list(
            self.session.scalars(
                select(ContactEntry)
                .where(
                    ContactEntry.case_id == self.case.id,
                    ContactEntry.kind.in_(list(kinds)),
                    ContactEntry.occurred_on >= first,
                    ContactEntry.occurred_on < after,
                )
                .order_by(ContactEntry.occurred_on, ContactEntry.id)
            )
        )

    def _entry(self, e: ContactEntry) -> c.Entry:
        return c.Entry(
            occurred_on=e.occurred_on,
            kind=self.label(CONTACT_KINDS, e.kind) or e.kind,
            by=self.staff(e.by_id) or "",
            summary=e.summary,
            follow_up=e.follow_up,
        )

    def _mentor(self) -> str | None:
        staff_id = self.session.scalars(
            select(Pairing.staff_id)
            .where(Pairing.case_id == self.case.id, Pairing.kind == "mentor")
            .order_by(Pairing.id.desc())
            .limit(1)
        ).first()
        return self.staff(staff_id)

    def talk_record(self, month: str) -> c.TalkRecordContext:
        talks = [self._entry(e) for e in self._entries(TALK_KINDS, month)]
        return self.done(
            c.TalkRecordContext(
                header=self.header(states.MENTORED),
                month=month,
                class_teacher=self.class_teacher(),
                mentor=self._mentor(),
                talks=talks,
                blank_rows=max(1, BLANK_TALK_ROWS - len(talks)),
            )
        )

    def parent_feedback(self, month: str) -> c.ParentFeedbackContext:
        k = self.child
        assert k is not None
        kinds = ("talk", "counselling", "home_visit", "call_home", "letter", "parent_feedback")
        entries = self._entries(kinds, month)
        count = {kind: sum(1 for e in entries if e.kind == kind) for kind in kinds}
        mentor = self._mentor()
        teacher = self.class_teacher()
        targets: list[tuple[str, str]] = []
        try:
            _, items = self._plan()
            targets = [
                (self.label(NEED_CATEGORIES, i.category) or i.category, i.stage_target) for i in items if i.stage_target
            ]
        except InvalidInput:
            targets = []
        year, mon = map(int, month.split("-"))
        last = date(year + (mon == 12), mon % 12 + 1, 1).toordinal() - 1
        return self.done(
            c.ParentFeedbackContext(
                header=self.header(states.MENTORED),
                month=month,
                to_names=[n for n in (k.father_name, k.mother_name) if n] or [k.guardian_name or ""],
                guardian_name=k.guardian_name,
                sender=mentor or teacher or "",
                sender_role=self.label(ROLES, "mentor" if mentor else "class_teacher") or "",
                talks=count["talk"] + count["counselling"],
                home_visits=count["home_visit"],
                calls_home=count["call_home"],
                letters=count["letter"],
                feedback=[self._entry(e) for e in entries if e.kind == "parent_feedback"],
                targets=targets,
                written_on=date.fromordinal(last),
            )
        )

    def stage_review(self) -> c.StageReviewContext:
        review = self.session.scalars(
            select(Review).where(Review.case_id == self.case.id).order_by(Review.id.desc()).limit(1)
        ).first()
        plan_id = review.plan_id if review else None
        if plan_id is None:
            plan, items = self._plan()
        else:
            items = list(
                self.session.scalars(select(PlanItem).where(PlanItem.plan_id == plan_id).order_by(PlanItem.id))
            )
        effects = {}
        if review is not None:
            effects = {
                e.plan_item_id: e
                for e in self.session.scalars(select(ReviewEffect).where(ReviewEffect.review_id == review.id))
            }
        decision = None
        if review is not None:
            decision = self.session.scalars(
                select(CaseEvent)
                .where(
                    CaseEvent.case_id == self.case.id,
                    CaseEvent.from_state == states.REVIEWED,
                    CaseEvent.version == review.case_version + 1,
                )
                .limit(1)
            ).first()
        return self.done(
            c.StageReviewContext(
                header=self.header(states.REVIEWED),
                reviewed_on=review.reviewed_on if review else None,
                reviewer=self.staff(review.by_id) if review else None,
                summary=review.summary if review else None,
                rows=[
                    c.ReviewRow(
                        number=n,
                        need=self.label(NEED_CATEGORIES, i.category) or i.category,
                        measures=i.measures,
                        stage_target=i.stage_target,
                        result=self.label(REVIEW_RESULTS, effects[i.id].result) if i.id in effects else None,
                        effect=effects[i.id].effect if i.id in effects else None,
                    )
                    for n, i in enumerate(items, start=1)
                ],
                decision=self.t(states.EVENT_LABELS.get(decision.event)) if decision else None,
                decision_reason=decision.reason if decision else None,
                decided_on=decision.at.date() if decision else None,
                decided_by=self.staff(decision.actor_id) if decision else None,
            )
        )

    def closing_report(self) -> c.ClosingContext:
        events = list(
            self.session.scalars(select(CaseEvent).where(CaseEvent.case_id == self.case.id).order_by(CaseEvent.version))
        )
        closing = next((e for e in reversed(events) if e.to_state == states.CLOSED), None)
        if closing is None:
            raise InvalidInput("case {case} is not closed: no closing report", case=self.case.id)
        spans = []
        start, stage = self.case.opened_at.date(), states.IDENTIFIED
        for e in events:
            if e.version > closing.version:
                break
            spans.append(c.StageSpan(i18n.render(states.STATE_LABELS[stage], self.lang), start, e.at.date()))
            start, stage = e.at.date(), e.to_state
        counts = dict(
            self.session.execute(
                select(ContactEntry.kind, func.count())
                .where(ContactEntry.case_id == self.case.id)
                .group_by(ContactEntry.kind)
            ).all()
        )
        needs = self.session.scalars(
            select(Assessment.categories)
            .where(Assessment.case_id == self.case.id)
            .order_by(Assessment.id.desc())
            .limit(1)
        ).first()
        review = self.session.scalars(
            select(Review).where(Review.case_id == self.case.id).order_by(Review.id.desc()).limit(1)
        ).first()
        results: list[tuple[str, str]] = []
        if review is not None:
            for category, result in self.session.execute(
                select(PlanItem.category, ReviewEffect.result)
                .join(PlanItem, PlanItem.id == ReviewEffect.plan_item_id)
                .where(ReviewEffect.review_id == review.id)
                .order_by(PlanItem.id)
            ):
                results.append(
                    (self.label(NEED_CATEGORIES, category) or category, self.label(REVIEW_RESULTS, result) or result)
                )
        return self.done(
            c.ClosingContext(
                header=self.header(states.CLOSED),
                opened_on=self.case.opened_at.date(),
                closed_on=closing.at.date(),
                closed_by=self.staff(closing.actor_id) or "",
                reason=closing.reason or "—",
                needs=[self.label(NEED_CATEGORIES, n) or n for n in (needs or [])],
                history=spans,
                counts=[
                    (self.label(CONTACT_KINDS, kind) or kind, int(counts.get(kind, 0)))
                    for kind in CONTACT_KINDS
                    if counts.get(kind)
                ],
                last_results=results,
            )
        )

    def context(self, template: str, month: str | None) -> object:
        if template == "child_card":
            return self.child_card()
        if template == "assessment":
            return self.assessment()
        if template in {"individual_plan", "education_plan"}:
            return self.plan(education=template == "education_plan")
        if template == "talk_record":
            assert month is not None
            return self.talk_record(month)
        if template == "parent_feedback":
            assert month is not None
            return self.parent_feedback(month)
        if template == "stage_review":
            return self.stage_review()
        if template == "closing_report":
            return self.closing_report()
        raise InvalidInput("template {name} is not a case document", name=template)


def month_of(text: str | None, default: date) -> str:
    if text is None:
        return f"{default.year:04d}-{default.month:02d}"
    if not MONTH.match(text.strip()):
        raise InvalidInput("--month: '{value}' is not a month such as 2026-10", value=text)
    return text.strip()


def stage_templates(reader: ContextReader, stage: str) -> list[str]:
    names = list(STAGE_TEMPLATES[stage])
    if "education_plan" in names and not reader.needs_education_plan():
        names.remove("education_plan")
    return names


def jobs_for(
    session: Session,
    case: Case,
    lang: str,
    redact: bool,
    stage: str,
    templates: Sequence[str] | None,
    month: str | None,
    today: date,
) -> list[Job]:
    reader = ContextReader(session, case, lang, redact)
    names = list(templates) if templates else stage_templates(reader, stage)
    jobs = []
    for name in names:
        period = month_of(month, today) if name in MONTHLY else None
        jobs.append(Job(case.id, case.school_id, case.version, stage, name, period, reader.context(name, period)))
    return jobs
