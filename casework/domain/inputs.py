"""What each recording use case takes: frozen values checked when made; ``parse`` reads one from typed text.

A value made directly (by a test, a script or the web) is checked exactly as one parsed from the
command line: the checks live in ``__post_init__``, which also turns a Chinese alias or an English
label into its code. ``parse`` only turns text into typed values first (dates, numbers, flags).
An InvalidInput raised for one field carries its name in ``field``, so that a form can show the
message next to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from types import UnionType
from typing import Any, ClassVar, TypeVar, get_args, get_type_hints

from casework.domain import limits, sdq
from casework.domain.consent import CONSENT_SCOPES, SCOPE_ALIASES
from casework.domain.validation import parse_bool, parse_choice, parse_date, parse_int, parse_phone, require_text
from casework.domain.vocab import (
    AGENCY_ALIASES,
    AID_ALIASES,
    AID_KINDS,
    CARE_EVENT_ALIASES,
    CARE_EVENT_KINDS,
    CATEGORY_ALIASES,
    CLOSURE_ALIASES,
    CLOSURE_REASONS,
    CONTACT_KINDS,
    ENROLMENT_ALIASES,
    ENROLMENT_STATUSES,
    NEED_CATEGORIES,
    PAIRING_ALIASES,
    PAIRING_KINDS,
    PLAN_ITEM_KINDS,
    PLAN_KIND_ALIASES,
    REVIEW_RESULT_ALIASES,
    REVIEW_RESULTS,
)
from casework.errors import InvalidInput

In = TypeVar("In", bound="Input")

# The limits of each kind of field live in casework.domain.limits; these names are theirs.
LONG_TEXT = limits.TEXT  # summaries, measures, effects, reasons: what a person writes about a child
NAME = limits.NAME
LINE = limits.LINE


@contextmanager
def field(name: str) -> Iterator[None]:
    """Name the field an InvalidInput raised inside is about (the first name given stays)."""
    try:
        yield
    except InvalidInput as exc:
        if exc.field is None:
            exc.field = name
        raise


def optional_text(text: str | None, label: str, limit: int = LONG_TEXT) -> str | None:
    """Blank means not given; anything else is checked as ``require_text`` checks it."""
    if text is None or not text.strip():
        return None
    return require_text(text, label, limit)


def category(text: str) -> str:
    return parse_choice(text, "category", NEED_CATEGORIES, CATEGORY_ALIASES)


def _set(value: Any, name: str, new: Any) -> None:
    object.__setattr__(value, name, new)


class Input:
    """The shared ``parse``: each field's text turned into its declared type, then the value made."""

    # The command-line option a field comes from, where its name differs (occurred_on: --date).
    OPTIONS: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def option(cls, name: str) -> str:
        return cls.OPTIONS.get(name, "--" + name.replace("_", "-"))

    @classmethod
    def parse(cls: type[In], **raw: Any) -> In:
        """Make the value from text (or values already typed): blank text is "not given"."""
        hints = _hints(cls)
        values: dict[str, Any] = {}
        for name, given in raw.items():
            if name not in hints:
                raise TypeError(f"{cls.__name__} has no field {name!r}")
            with field(name):
                values[name] = _typed(given, hints[name], cls.option(name))
        return cls(**values)


_HINTS: dict[type, dict[str, type | None]] = {}


def _hints(cls: type) -> dict[str, type | None]:
    """Each field's type, with None taken out of an optional one: what its text is read as."""
    if cls in _HINTS:
        return _HINTS[cls]
    hints = get_type_hints(cls)
    found: dict[str, type | None] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = [a for a in get_args(hint) if a is not type(None)] if isinstance(hint, UnionType) else [hint]
        found[f.name] = args[0] if len(args) == 1 and isinstance(args[0], type) else None
    _HINTS[cls] = found
    return found


def _typed(given: Any, kind: type | None, option: str) -> Any:
    if not isinstance(given, str) or kind is str or kind is None:
        return given  # already typed (a number from click, a date, a list of texts), or text itself
    text = given.strip()
    if not text:
        return None
    if kind is date:
        return parse_date(text, option)
    if kind is bool:
        return parse_bool(text, option)
    if kind is int:
        return parse_int(text, option, -(2**31), 2**31 - 1)
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise InvalidInput("{field}: '{value}' is not a number", field=option, value=text) from None
    return given


@dataclasses.dataclass(frozen=True)
class RecordAssessment(Input):
    """The counsellor's assessment: the need categories they see and what they found."""

    case_id: int
    categories: Sequence[str]
    summary: str
    assessed_on: date | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"categories": "--category", "assessed_on": "--date"}

    def __post_init__(self) -> None:
        with field("categories"):
            _set(self, "categories", tuple(dict.fromkeys(category(c) for c in self.categories)))
        with field("summary"):
            _set(self, "summary", require_text(self.summary, "--summary", LONG_TEXT))


@dataclasses.dataclass(frozen=True)
class RecordScreening(Input):
    """An SDQ-style screening: 25 item scores of 0–2 and who answered."""

    case_id: int
    scores: str
    informant: str = "parent"
    screened_on: date | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"screened_on": "--date"}

    def __post_init__(self) -> None:
        with field("scores"):
            sdq.parse_items(self.scores)
        with field("informant"):
            if self.informant not in sdq.CUTOFFS:
                raise InvalidInput("--informant: '{value}' is not one of parent, teacher, self", value=self.informant)

    @property
    def items(self) -> list[int]:
        return sdq.parse_items(self.scores)


@dataclasses.dataclass(frozen=True)
class RecordReferral(Input):
    """An external referral (police, civil affairs, …); which agencies a deployment takes is its rule module's."""

    case_id: int
    agency: str
    summary: str
    referred_on: date | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"referred_on": "--date"}

    def __post_init__(self) -> None:
        with field("agency"):
            agency = require_text(self.agency, "--agency", NAME)
            _set(self, "agency", AGENCY_ALIASES.get(agency, agency))
        with field("summary"):
            _set(self, "summary", require_text(self.summary, "--summary", LONG_TEXT))


@dataclasses.dataclass(frozen=True)
class AddPlanItem(Input):
    """One item of the individual plan: the need, the measures, who is responsible, time, content, target."""

    case_id: int
    category: str
    measures: str
    responsible: str | None = None
    start: date | None = None
    end: date | None = None
    content: str | None = None
    target: str | None = None
    kind: str = "general"
    subject: str | None = None

    def __post_init__(self) -> None:
        with field("category"):
            _set(self, "category", category(self.category))
        with field("kind"):
            _set(self, "kind", parse_choice(self.kind, "--kind", PLAN_ITEM_KINDS, PLAN_KIND_ALIASES))
        with field("subject"):
            _set(self, "subject", optional_text(self.subject, "--subject", NAME))
            if self.kind == "tutoring" and self.subject is None:
                raise InvalidInput("a tutoring item needs --subject")
        with field("measures"):
            _set(self, "measures", require_text(self.measures, "--measures", LONG_TEXT))
        with field("end"):
            if self.start and self.end and self.end < self.start:
                raise InvalidInput(
                    "--end {end} is before --start {start}", end=self.end.isoformat(), start=self.start.isoformat()
                )
        with field("content"):
            _set(self, "content", optional_text(self.content, "--content"))
        with field("target"):
            _set(self, "target", optional_text(self.target, "--target"))


@dataclasses.dataclass(frozen=True)
class ReviewPlanItem(Input):
    """The stage effect of one plan item against its target, in this stage's review."""

    case_id: int
    item_id: int
    result: str
    effect: str
    reviewed_on: date | None = None
    summary: str | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"item_id": "--item", "reviewed_on": "--date"}

    def __post_init__(self) -> None:
        with field("result"):
            _set(self, "result", parse_choice(self.result, "--result", REVIEW_RESULTS, REVIEW_RESULT_ALIASES))
        with field("effect"):
            _set(self, "effect", require_text(self.effect, "--effect", LONG_TEXT))
        with field("summary"):
            _set(self, "summary", optional_text(self.summary, "--summary"))


@dataclasses.dataclass(frozen=True)
class PairPartner(Input):
    """A mentor or caring parent (staff), or a study helper (a pupil, by name), paired with the child."""

    case_id: int
    kind: str
    staff: str | None = None
    partner_name: str | None = None
    from_on: date | None = None
    to_on: date | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"partner_name": "--pupil", "from_on": "--from", "to_on": "--to"}

    def __post_init__(self) -> None:
        with field("kind"):
            _set(self, "kind", parse_choice(self.kind, "--kind", PAIRING_KINDS, PAIRING_ALIASES))
        if self.kind == "study_helper":
            with field("partner_name"):
                if not self.partner_name or not self.partner_name.strip():
                    raise InvalidInput("a study helper is a pupil: give --pupil NAME")
                _set(self, "partner_name", require_text(self.partner_name, "--pupil", NAME))
        else:
            with field("staff"):
                if not self.staff or not self.staff.strip():
                    raise InvalidInput("a {kind} pairing needs --staff", kind=PAIRING_KINDS[self.kind])
        with field("to_on"):
            if self.from_on and self.to_on and self.to_on < self.from_on:
                raise InvalidInput(
                    "--to {to} is before --from {start}", to=self.to_on.isoformat(), start=self.from_on.isoformat()
                )


@dataclasses.dataclass(frozen=True)
class RecordContact(Input):
    """A talk, visit, call, counselling session or parent feedback (and the child's own five ones)."""

    case_id: int
    kind: str
    summary: str
    occurred_on: date | None = None
    by: str | None = None
    follow_up: str | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"occurred_on": "--date"}

    def __post_init__(self) -> None:
        with field("kind"):
            if self.kind not in CONTACT_KINDS:
                raise InvalidInput(
                    "contact kind '{kind}' is not one of {known}", kind=self.kind, known=", ".join(CONTACT_KINDS)
                )
        with field("summary"):
            _set(self, "summary", require_text(self.summary, "--summary", LONG_TEXT))
        with field("follow_up"):
            _set(self, "follow_up", optional_text(self.follow_up, "--follow-up"))


def parse_term(text: str) -> tuple[int, int]:
    """2026-1 (autumn) or 2026-2 (spring): a school year and its term."""
    year, _, number = text.strip().partition("-")
    with field("term"):
        if not year.isdecimal() or number not in ("1", "2"):
            raise InvalidInput("--term: '{value}' is not a term such as 2026-1 (autumn) or 2026-2 (spring)", value=text)
    check_term(int(year), int(number))
    return int(year), int(number)


def check_term(school_year: int, term: int) -> None:
    with field("school_year"):
        parse_int(str(school_year), "--year", 2000, 2100)
    with field("term"):
        if term not in (1, 2):
            raise InvalidInput("--term: {term} is not 1 (autumn) or 2 (spring)", term=term)


@dataclasses.dataclass(frozen=True)
class RecordTermResult(Input):
    """A child's final exam of one term: total, class rank, subjects, and the evaluation's two flags."""

    child_id: int
    school_year: int
    term: int
    total: float
    rank: int
    class_size: int | None = None
    subjects: Mapping[str, float] = dataclasses.field(default_factory=dict)
    three_good: bool = False
    serious_violation: bool = False
    OPTIONS: ClassVar[Mapping[str, str]] = {"school_year": "--year", "subjects": "--subject"}

    def __post_init__(self) -> None:
        check_term(self.school_year, self.term)
        with field("rank"):
            if self.rank < 1 or (self.class_size is not None and self.rank > self.class_size):
                raise InvalidInput("--rank: {rank} is not a place in the class", rank=self.rank)
        with field("total"):
            if self.total < 0 or any(v < 0 for v in self.subjects.values()):
                raise InvalidInput("scores must not be negative")
        _set(self, "subjects", dict(self.subjects))


@dataclasses.dataclass(frozen=True)
class RecordEnrolment(Input):
    """A child's enrolment status in one term."""

    child_id: int
    school_year: int
    term: int
    status: str
    OPTIONS: ClassVar[Mapping[str, str]] = {"school_year": "--year"}

    def __post_init__(self) -> None:
        check_term(self.school_year, self.term)
        with field("status"):
            _set(self, "status", parse_choice(self.status, "--status", ENROLMENT_STATUSES, ENROLMENT_ALIASES))


@dataclasses.dataclass(frozen=True)
class RecordAid(Input):
    """Material help given to a child (物质帮助)."""

    child_id: int
    kind: str
    description: str
    given_on: date | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"given_on": "--date"}

    def __post_init__(self) -> None:
        with field("kind"):
            _set(self, "kind", parse_choice(self.kind, "--kind", AID_KINDS, AID_ALIASES))
        with field("description"):
            _set(self, "description", require_text(self.description, "--description", LONG_TEXT))


@dataclasses.dataclass(frozen=True)
class RecordConsent(Input):
    """A guardian's consent for the child's counselling records, in force from a day."""

    child_id: int
    guardian: str
    relation: str
    scope: str = "all"
    given_on: date | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"given_on": "--on"}

    def __post_init__(self) -> None:
        with field("guardian"):
            _set(self, "guardian", require_text(self.guardian, "--guardian", NAME))
        with field("relation"):
            _set(self, "relation", require_text(self.relation, "--relation", NAME))
        with field("scope"):
            _set(self, "scope", parse_choice(self.scope, "--scope", CONSENT_SCOPES, SCOPE_ALIASES))


@dataclasses.dataclass(frozen=True)
class SetStaffPhone(Input):
    """A staff member's phone number, the one given to the children and their guardians (篇3); none clears it."""

    staff: str
    phone: str | None = None

    def __post_init__(self) -> None:
        with field("phone"):
            _set(self, "phone", parse_phone(self.phone, "--phone") if self.phone and self.phone.strip() else None)


@dataclasses.dataclass(frozen=True)
class RecordCareEvent(Input):
    """A seminar (座谈会) or an activity for the children in care: when, what, who led or came, which
    children in care came; for a seminar the guardians who came and the minutes."""

    kind: str
    title: str
    held_on: date | None = None
    class_ref: str | None = None
    staff: Sequence[str] = ()
    children: Sequence[int] = ()
    guardians: str | None = None
    minutes: str | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"held_on": "--date", "class_ref": "--class", "children": "--child"}

    def __post_init__(self) -> None:
        with field("kind"):
            _set(self, "kind", parse_choice(self.kind, "--kind", CARE_EVENT_KINDS, CARE_EVENT_ALIASES))
        with field("title"):
            _set(self, "title", require_text(self.title, "--title", LINE))
        with field("staff"):
            _set(self, "staff", tuple(dict.fromkeys(require_text(s, "--staff", NAME) for s in self.staff)))
        _set(self, "children", tuple(dict.fromkeys(self.children)))
        with field("guardians"):
            _set(self, "guardians", optional_text(self.guardians, "--guardians", LONG_TEXT))
        with field("minutes"):
            _set(self, "minutes", optional_text(self.minutes, "--minutes"))
            if self.kind == "seminar" and self.minutes is None:
                raise InvalidInput("a seminar needs --minutes: what was said and decided")
        if self.kind == "seminar" and not self.staff:
            with field("staff"):
                raise InvalidInput("a seminar needs the mentors or teachers who came (--staff)")


@dataclasses.dataclass(frozen=True)
class ChooseStar(Input):
    """A child chosen 留守少儿之星 in one of the term's selections, with the reason."""

    child_id: int
    round: int
    reason: str
    chosen_on: date | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"chosen_on": "--date"}

    def __post_init__(self) -> None:
        with field("round"):
            if self.round < 1:
                raise InvalidInput("--round: {round} is not a selection of the term (1, 2…)", round=self.round)
        with field("reason"):
            _set(self, "reason", require_text(self.reason, "--reason", LONG_TEXT))


@dataclasses.dataclass(frozen=True)
class FormGroup(Input):
    """A 3+2+1+1 group (篇6): ordinary pupils by name, left-behind children on file, a caring parent, a teacher."""

    name: str
    teacher: str
    parent: str
    children: Sequence[int] = ()
    pupils: Sequence[str] = ()
    formed_on: date | None = None
    OPTIONS: ClassVar[Mapping[str, str]] = {"children": "--child", "pupils": "--pupil", "formed_on": "--date"}

    def __post_init__(self) -> None:
        with field("name"):
            _set(self, "name", require_text(self.name, "NAME", NAME))
        with field("teacher"):
            _set(self, "teacher", require_text(self.teacher, "--teacher", NAME))
        with field("parent"):
            _set(self, "parent", require_text(self.parent, "--parent", NAME))
        with field("children"):
            if len(set(self.children)) != len(self.children):
                raise InvalidInput("--child: a child is named twice")
            _set(self, "children", tuple(self.children))
        with field("pupils"):
            _set(self, "pupils", tuple(require_text(p, "--pupil", NAME) for p in self.pupils))


def closure_reason(code: str | None, reason: str | None) -> str:
    """The code a close is counted under: as given (``--closure``), else what the reason's words say
    (父母返乡, 转学, 毕业, 年满18岁), else ``other`` (whose text the workflow's reason requirement asks for)."""
    if code is not None and code.strip():
        with field("closure"):
            return parse_choice(code, "--closure", CLOSURE_REASONS, CLOSURE_ALIASES)
    return CLOSURE_ALIASES.get((reason or "").strip(), "other")


def texts(values: Sequence[str] | str | None) -> tuple[str, ...]:
    """Repeated options or a comma-separated text, as a tuple of texts."""
    if values is None:
        return ()
    if isinstance(values, str):
        return tuple(v.strip() for v in values.replace("，", ",").split(",") if v.strip())
    return tuple(values)
