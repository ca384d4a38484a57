"""Stage documents of a case: build their contexts in a read transaction, render, register and audit.

Rendering never happens inside a transaction: contexts are read, the bytes made outside, and the
registration (with the SHA-256 of the bytes, the template and case versions) written in one write
transaction with its audit events. After a move, ``after_move`` renders the documents the move
completed; a failure there is recorded, never raised, and ``render_case`` retries it.
"""

from __future__ import annotations

import hashlib
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework import i18n, states
from casework.documents import contexts as c
from casework.documents.catalog import EDUCATION_PLAN_CATEGORIES, EXTENSIONS, FORMATS, STAGE_TEMPLATES, TEMPLATES
from casework.domain import access as policy
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
    Document,
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
from casework.services import access, trail
from casework.services.context import Context
from casework.text import N_

if TYPE_CHECKING:
    from casework.documents.render import Rendered
    from casework.services.cases import Moved

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


@dataclass(frozen=True)
class Generated:
    id: int
    case_id: int
    template: str
    template_version: str
    fmt: str
    lang: str
    period: str | None
    sha256: str
    data: bytes

    def filename(self) -> str:
        month = f"-{self.period}" if self.period else ""
        return f"case{self.case_id}-{self.template}{month}.{self.lang}.{EXTENSIONS[self.fmt]}"


# ---- reading a case into contexts ------------------------------------------------------------


class _Reader:
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
            )
        )

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


def _month(text: str | None, default: date) -> str:
    if text is None:
        return f"{default.year:04d}-{default.month:02d}"
    if not MONTH.match(text.strip()):
        raise InvalidInput("--month: '{value}' is not a month such as 2026-10", value=text)
    return text.strip()


def _stage_templates(reader: _Reader, stage: str) -> list[str]:
    names = list(STAGE_TEMPLATES[stage])
    if "education_plan" in names and not reader.needs_education_plan():
        names.remove("education_plan")
    return names


def _jobs(
    session: Session,
    case: Case,
    lang: str,
    redact: bool,
    stage: str,
    templates: Sequence[str] | None,
    month: str | None,
    today: date,
) -> list[Job]:
    reader = _Reader(session, case, lang, redact)
    names = list(templates) if templates else _stage_templates(reader, stage)
    jobs = []
    for name in names:
        period = _month(month, today) if name in MONTHLY else None
        jobs.append(Job(case.id, case.school_id, case.version, stage, name, period, reader.context(name, period)))
    return jobs


# ---- rendering and the register ---------------------------------------------------------------


def _check_stage(stage: str | None) -> None:
    if stage is not None and stage not in STAGE_TEMPLATES:
        raise InvalidInput("--stage: '{stage}' is not one of {states}", stage=stage, states=", ".join(STAGE_TEMPLATES))


def _check_template(template: str | None, stage: str | None) -> None:
    if template is None:
        return
    spec = TEMPLATES.get(template)
    if spec is None or spec.stage is None:
        raise InvalidInput(
            "--template: '{name}' is not a case document; case documents: {known}",
            name=template,
            known=", ".join(n for n, s in TEMPLATES.items() if s.stage),
        )
    if stage is not None and spec.stage != stage:
        raise InvalidInput("--template {name} belongs to the {stage} stage", name=template, stage=spec.stage)


def _render(
    ctx: Context, jobs: Sequence[Job], fmt: str, lang: str, progress: Callable[[int], None] | None
) -> list[Rendered]:
    from casework.documents import render

    options = ctx.settings.documents
    return render.render_batch(
        [(job.template, job.context) for job in jobs], fmt, lang, options.templates, options.font, progress
    )


def _register(
    session: Session, jobs: Sequence[Job], made: Sequence[Rendered], actor_id: int, now: datetime, auto: bool
) -> list[Generated]:
    rows = []
    for job, done in zip(jobs, made, strict=True):
        row = Document(
            school_id=job.school_id,
            case_id=job.case_id,
            stage=job.stage,
            template=job.template,
            template_version=done.version,
            case_version=job.case_version,
            period=job.period,
            lang=done.lang,
            format=done.fmt,
            status="ok",
            sha256=done.sha256,
            size=len(done.data),
            content=done.data,
            error=None,
            auto=auto,
            created_at=now,
            actor_id=actor_id,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    generated = []
    for job, done, row in zip(jobs, made, rows, strict=True):
        trail.append(
            session,
            school_id=job.school_id,
            at=now,
            actor_id=actor_id,
            action="document.registered",
            object_type="document",
            object_id=row.id,
            case_id=job.case_id,
            data={
                "template": job.template,
                "template_version": done.version,
                "stage": job.stage,
                "case_version": job.case_version,
                "period": job.period,
                "format": done.fmt,
                "lang": done.lang,
                "sha256": done.sha256,
                "auto": auto,
            },
        )
        generated.append(
            Generated(
                row.id, job.case_id, job.template, done.version, done.fmt, done.lang, job.period, done.sha256, done.data
            )
        )
    return generated


def render_case(
    ctx: Context,
    actor: str | None,
    case_id: int,
    *,
    stage: str | None = None,
    template: str | None = None,
    fmt: str = "html",
    lang: str | None = None,
    month: str | None = None,
    redact: bool = False,
) -> list[Generated]:
    """Render the documents of a stage (default: the case's current stage) and register them.

    This is also the retry of a failed automatic rendering: the same stage renders again.
    """
    if fmt not in FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of {known}", fmt=fmt, known=", ".join(FORMATS))
    _check_stage(stage)
    _check_template(template, stage)
    language = i18n.normalise(lang) if lang else ctx.lang
    today = ctx.now().date()
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        case = access.case_in_scope(session, who, case_id)
        access.require_tier(who, case.school_id, policy.READ, policy.T2)
        chosen = stage or (TEMPLATES[template].stage if template else None) or case.state
        jobs = _jobs(session, case, language, redact, chosen, [template] if template else None, month, today)
        reads = _reads(who, [case], redact)
    made = _render(ctx, jobs, fmt, language, None)
    with ctx.db.write() as session:
        access.bind(session, who)
        registered = _register(session, jobs, made, who.staff_id, ctx.now(), auto=False)
    access.log_reads(ctx, reads, "document.render")
    return registered


def _reads(who: access.Principal, cases: Sequence[Case], redact: bool) -> access.Reads:
    """A rendered document shows counselling content, and contact data unless redacted."""
    reads = access.Reads(who)
    tiers = (policy.T2,) if redact else (policy.T1, policy.T2)
    for case in cases:
        reads.add(case.school_id, [case.child_id], *tiers)
    return reads


def render_many(
    ctx: Context,
    actor: str | None,
    template: str,
    *,
    state: str | None = None,
    case_ids: Sequence[int] | None = None,
    fmt: str = "pdf",
    lang: str | None = None,
    month: str | None = None,
    redact: bool = False,
    batch_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> list[Generated]:
    """One template for many cases (month-end talk cards, say), in batches that share a PDF font.

    ``progress`` gets (documents done, documents in all). Each batch is registered as it is done.
    """
    _check_template(template, None)
    if fmt not in FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of {known}", fmt=fmt, known=", ".join(FORMATS))
    language = i18n.normalise(lang) if lang else ctx.lang
    today = ctx.now().date()
    stage = TEMPLATES[template].stage
    assert stage is not None
    with ctx.db.read() as session:
        who = access.enter(session, actor, today)
        query = select(Case.id).order_by(Case.id)
        if case_ids is not None:
            query = query.where(Case.id.in_(list(case_ids)))
        else:
            query = query.where(Case.state == (state or stage))
        ids = list(session.scalars(query))
    if case_ids is not None:
        for missing in sorted(set(case_ids) - set(ids)):
            with ctx.db.read() as session:
                access.bind(session, who)
                access.case_in_scope(session, who, missing)  # outside the scope: denied; else: no such case
    total, done, out = len(ids), 0, []
    for start in range(0, total, batch_size):
        with ctx.db.read() as session:
            access.bind(session, who)
            jobs, batch = [], []
            for case_id in ids[start : start + batch_size]:
                case = _case(session, case_id)
                access.require_tier(who, case.school_id, policy.READ, policy.T2)
                batch.append(case)
                jobs.extend(_jobs(session, case, language, redact, stage, [template], month, today))
        made = _render(ctx, jobs, fmt, language, _offset(progress, done, total))
        with ctx.db.write() as session:
            access.bind(session, who)
            out.extend(_register(session, jobs, made, who.staff_id, ctx.now(), auto=False))
        access.log_reads(ctx, _reads(who, batch, redact), "document.batch")
        done += len(jobs)
    return out


def _offset(progress: Callable[[int, int], None] | None, base: int, total: int) -> Callable[[int], None] | None:
    if progress is None:
        return None
    report = progress
    return lambda n: report(base + n, total)


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("no case with id {id}", id=case_id)
    return case


def documents_for_move(from_state: str, to_state: str) -> list[str]:
    """The stages whose documents a move completes: the stage left, and closed when closing."""
    stages = [] if from_state == states.CLOSED else [from_state]
    if to_state == states.CLOSED:
        stages.append(states.CLOSED)
    return stages


def render_after_moves(ctx: Context) -> None:
    """Render and file each move's stage documents once it commits (``after_move``)."""
    if after_move not in ctx.after_move:
        ctx.after_move.append(after_move)


def after_move(ctx: Context, moved: Moved, actor_id: int) -> None:
    """Render and register the documents a committed move completed; never raises.

    A failure is registered as a failed document (and audited) so that ``casework doc list``
    shows it and ``casework doc render`` retries it; the move itself stays done.
    """
    options = ctx.settings.documents
    stages = documents_for_move(moved.from_state, moved.to_state)
    for stage in stages:
        try:
            today = ctx.now().date()
            # The program files the documents a move completed; nobody reads them here.
            with ctx.db.read() as session:
                access.system(session)
                case = _case(session, moved.case_id)
                jobs = _jobs(session, case, ctx.lang, options.redact, stage, None, None, today)
            made = {fmt: _render(ctx, jobs, fmt, ctx.lang, None) for fmt in options.formats}
            with ctx.db.write() as session:
                access.system(session)
                for fmt in options.formats:
                    _register(session, jobs, made[fmt], actor_id, ctx.now(), auto=True)
        except Exception as exc:  # noqa: BLE001 - a document must never undo or fail a committed move
            _record_failure(ctx, moved, stage, actor_id, exc)


def _record_failure(ctx: Context, moved: Moved, stage: str, actor_id: int, exc: Exception) -> None:
    message = exc.msg.msgid if hasattr(exc, "msg") else str(exc)
    detail = f"{type(exc).__name__}: {message}\n" + "".join(traceback.format_exception_only(exc))[-2000:]
    try:
        now = ctx.now()
        with ctx.db.write() as session:
            access.system(session)
            case = _case(session, moved.case_id)
            for fmt in ctx.settings.documents.formats:
                row = Document(
                    school_id=case.school_id,
                    case_id=case.id,
                    stage=stage,
                    template=",".join(STAGE_TEMPLATES[stage]),
                    template_version="",
                    case_version=moved.version,
                    period=None,
                    lang=ctx.lang,
                    format=fmt,
                    status="failed",
                    sha256=None,
                    size=None,
                    content=None,
                    error=detail,
                    auto=True,
                    created_at=now,
                    actor_id=actor_id,
                )
                session.add(row)
                session.flush()
                trail.append(
                    session,
                    school_id=case.school_id,
                    at=now,
                    actor_id=actor_id,
                    action="document.failed",
                    object_type="document",
                    object_id=row.id,
                    case_id=case.id,
                    data={"stage": stage, "case_version": moved.version, "format": fmt, "error": type(exc).__name__},
                )
    except Exception:  # noqa: BLE001, S110 - the database itself failing: the move is committed, nothing more to do
        pass


def list_documents(ctx: Context, actor: str | None, case_id: int) -> list[dict[str, Any]]:
    """The case's register: every document and failed attempt, oldest first; a failure later
    rendered for the same stage shows as retried."""
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        access.case_in_scope(session, who, case_id)
        rows = session.execute(
            select(
                Document.id,
                Document.stage,
                Document.template,
                Document.template_version,
                Document.case_version,
                Document.period,
                Document.lang,
                Document.format,
                Document.status,
                Document.sha256,
                Document.size,
                Document.error,
                Document.auto,
                Document.created_at,
                Staff.name,
            )
            .outerjoin(Staff, Staff.id == Document.actor_id)
            .where(Document.case_id == case_id)
            .order_by(Document.id)
        ).all()
    out = []
    for r in rows:
        retried = r.status == "failed" and any(
            later.status == "ok" and later.stage == r.stage and later.id > r.id for later in rows
        )
        out.append(
            {
                "id": r.id,
                "stage": r.stage,
                "template": r.template,
                "template_version": r.template_version,
                "case_version": r.case_version,
                "period": r.period,
                "lang": r.lang,
                "format": r.format,
                "status": "retried" if retried else r.status,
                "sha256": r.sha256,
                "size": r.size,
                "error": r.error.splitlines()[0] if r.error else None,
                "auto": r.auto,
                "created_at": r.created_at.isoformat(),
                "actor": r.name,
            }
        )
    return out


def document_bytes(ctx: Context, actor: str | None, document_id: int) -> tuple[str, bytes]:
    """A registered document's file name and bytes, checked against its registered hash."""
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        row = session.get(Document, document_id)
        if row is None:
            access.case_in_scope(session, who, access.case_of_document(session, document_id))
        if row is None or row.content is None:
            raise NotFound("no stored document with id {id}", id=document_id)
        access.require_tier(who, row.school_id, policy.READ, policy.T2)
        if hashlib.sha256(row.content).hexdigest() != row.sha256:
            raise InvalidInput("document {id} does not match its registered hash", id=document_id)
        month = f"-{row.period}" if row.period else ""
        name = f"case{row.case_id}-{row.template}{month}.{row.lang}.{EXTENSIONS[row.format]}"
        case = session.get(Case, row.case_id)
        assert case is not None
        reads = _reads(who, [case], redact=False)
        content = bytes(row.content)
    access.log_reads(ctx, reads, "document.get")
    return name, content


def sample(template: str, fmt: str, lang: str, overrides: Path | None, font: Path | None) -> bytes:
    """A template rendered with made-up data: to preview an override without a database."""
    from casework.documents import render, samples

    if template not in TEMPLATES:
        raise InvalidInput(
            "no document template '{name}'; templates: {known}", name=template, known=", ".join(TEMPLATES)
        )
    language = i18n.normalise(lang)
    return render.render(template, samples.sample(template, language), fmt, language, overrides, font)
