"""Children and their contact cards: add, show, edit with dated and attributed history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.domain import access as policy
from casework.domain.child import (
    CHILD_FIELDS,
    as_text,
    check_id_number_agrees,
    check_on_file,
    check_plausible,
    field_label,
    parse_fields,
)
from casework.domain.results import Named, key
from casework.errors import Conflict, InvalidInput, NotFound, TransitionRefused
from casework.persistence import queries
from casework.persistence.tables import Case, Child, ChildChange, SchoolClass, Staff
from casework.rules.engine import ModuleFailed
from casework.services import access, consent, trail
from casework.services import facts as case_facts
from casework.services.actors import home_school
from casework.services.consent import ConsentStatus
from casework.services.context import Context
from casework.services.setup import resolve_class
from casework.text import Msg

_ID_FIELDS = frozenset({"id_number", "birth_date", "sex"})


def _check_unique(session: Session, school_id: int, values: Mapping[str, Any], child_id: int | None) -> None:
    for name in ("student_no", "id_number"):
        value = values.get(name)
        if not value:
            continue
        # Beyond the actor's scope too: a duplicate is a duplicate even on a card they cannot read.
        clash = queries.child_with(session, school_id, name, value, child_id)
        if clash is not None:
            raise Conflict("{field} is already on the card of child {id}", field=Msg(field_label(name)), id=clash)


def add(
    ctx: Context,
    actor: str | None,
    raw: Mapping[str, str],
    class_ref: str | None = None,
    school: str | None = None,
) -> int:
    values = parse_fields(raw)
    if not values.get("name"):
        raise InvalidInput("name is required")
    check_id_number_agrees(values)
    now = ctx.now()
    check_plausible(values, now.date())
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        staff = access.staff_of(session, who)
        school_id = home_school(session, staff, now.date(), school)
        access.require_tier(who, school_id, policy.WRITE, _tier_of(values))
        class_id = resolve_class(session, school_id, class_ref).id if class_ref else None
        _check_unique(session, school_id, values, None)
        child = Child(school_id=school_id, class_id=class_id, created_at=now, created_by=who.staff_id, **values)
        session.add(child)
        session.flush()
        trail.Scribe(session, school_id, now, who.staff_id).write(
            "child.added",
            "child",
            child.id,
            data={"fields": sorted(k for k, v in values.items() if v is not None) + (["class"] if class_id else [])},
        )
        return child.id


def _tier_of(values: Mapping[str, Any]) -> str:
    """The highest tier among the fields given: writing a health note needs T2."""
    tiers = {policy.column_tier("child", name) for name in values}
    return policy.T2 if policy.T2 in tiers else policy.T1


def get_child(session: Session, child_id: int) -> Child:
    child = session.get(Child, child_id)
    if child is None:
        raise NotFound("no child with id {id}", id=child_id)
    return child


def edit(
    ctx: Context,
    actor: str | None,
    child_id: int,
    raw: Mapping[str, str],
    class_ref: str | None = None,
) -> list[str]:
    """Change fields; every changed field keeps its old value in history. Returns what changed."""
    values = parse_fields(raw)
    if not values and class_ref is None:
        raise InvalidInput("nothing to change: give --set FIELD=VALUE or --class")
    now = ctx.now()
    check_plausible(values, now.date())
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        child = access.child_in_scope(session, who, child_id)
        check_on_file(child.id, child.transferred_out_on)
        access.require_tier(who, child.school_id, policy.WRITE, _tier_of(values))
        _check_unique(session, child.school_id, values, child.id)
        if values.keys() & _ID_FIELDS:  # the card as it would be: its ID number agrees with it
            check_id_number_agrees({f: values[f] if f in values else getattr(child, f) for f in _ID_FIELDS})
        if class_ref is not None:
            values["class_id"] = resolve_class(session, child.school_id, class_ref).id
        changed = []
        for field, new in values.items():
            old = getattr(child, field)
            if old == new:
                continue
            session.add(
                ChildChange(
                    school_id=child.school_id,
                    child_id=child.id,
                    field=field,
                    old_value=as_text(old),
                    new_value=as_text(new),
                    changed_at=now,
                    changed_by=who.staff_id,
                )
            )
            setattr(child, field, new)
            changed.append(field)
        if "class_id" in changed:
            session.flush()
            queries.follow_child_class(session, [child.id])
        if changed:
            trail.Scribe(session, child.school_id, now, who.staff_id).write(
                "child.changed", "child", child.id, data={"fields": sorted(changed)}
            )
        if DUTY_FIELDS & set(changed):
            follow_duties(ctx, session, [child.id], now)
        return changed


# Fields of the card the duties follow (the obligations module: boarders and day pupils).
DUTY_FIELDS = frozenset({"boarding"})


def follow_duties(ctx: Context, session: Session, child_ids: list[int], now: datetime) -> None:
    """Recompute the duties of the children's open cases in the caller's transaction; a rule module
    that fails refuses the whole change."""
    try:
        case_facts.refresh_children(session, child_ids, ctx.rule_set, now)
    except ModuleFailed as failed:
        raise TransitionRefused(
            "the rules could not be applied to the cases of child {child}; nothing was changed",
            [failed.verdict],
            child=child_ids[0],
        ) from None


@dataclass(frozen=True)
class ClassRef:
    id: int
    grade: int
    name: str


@dataclass(frozen=True)
class CaseRef:
    id: int
    state: str
    version: int


@dataclass(frozen=True)
class CardChange:
    """One dated, attributed change of the card; values only where the reader may read the field."""

    field: str
    old: str | None
    new: str | None
    changed_at: str
    changed_by: Named


@dataclass(frozen=True)
class ChildView:
    """The child's file as the reader may see it: the card by tier, cases, consent, the card's history."""

    id: int
    school_id: int
    class_: ClassRef | None = field(metadata=key("class"))
    fields: Mapping[str, str | None] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()
    cases: tuple[CaseRef, ...] = ()
    consent: ConsentStatus | None = None
    history: tuple[CardChange, ...] = ()


def show(ctx: Context, actor: str | None, child_id: int) -> ChildView:
    """A child's card and its history, each field only if the actor's role reads its tier."""
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        child = access.child_in_scope(session, who, child_id)
        school_id = child.school_id

        def visible(field: str) -> bool:
            return field == "class_id" or who.may_read(school_id, policy.column_tier("child", field))

        cls = session.get(SchoolClass, child.class_id) if child.class_id else None
        cases = session.scalars(select(Case).where(Case.child_id == child.id).order_by(Case.id)).all()
        history = session.execute(
            select(ChildChange, Staff.name)
            .join(Staff, Staff.id == ChildChange.changed_by)
            .where(ChildChange.child_id == child.id)
            .order_by(ChildChange.id)
        ).all()
        fields = {f.name: as_text(getattr(child, f.name)) if visible(f.name) else None for f in CHILD_FIELDS}
        reads = access.Reads(who)
        shown = {policy.column_tier("child", f) for f, v in fields.items() if v is not None}
        shown |= {policy.column_tier("child", c.field) for c, _ in history if visible(c.field)}
        names = who.may_read(school_id, policy.T1)
        consents = consent.status(session, child, ctx.now().date(), names)
        if names and consents.consents:
            shown.add(policy.T1)
        reads.add(school_id, [child.id], *shown)
        doc = ChildView(
            id=child.id,
            school_id=school_id,
            class_=ClassRef(cls.id, cls.grade, cls.name) if cls else None,
            fields=fields,
            hidden=tuple(sorted(f.name for f in CHILD_FIELDS if not visible(f.name))),
            cases=tuple(CaseRef(c.id, c.state, c.version) for c in cases),
            consent=consents,
            history=tuple(
                CardChange(
                    field=change.field,
                    old=change.old_value if visible(change.field) else None,
                    new=change.new_value if visible(change.field) else None,
                    changed_at=change.changed_at.isoformat(),
                    changed_by=Named(change.changed_by, name),
                )
                for change, name in history
            ),
        )
    access.log_reads(ctx, reads, "child.show")
    return doc


def list_children(ctx: Context, actor: str | None) -> list[access.ChildSummary]:
    """The children in the actor's record scope; names only for roles that read contact data."""
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        found, reads = access.child_summaries(session, who)
    access.log_reads(ctx, reads, "child.list")
    return found
