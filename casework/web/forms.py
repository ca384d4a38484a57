"""The record forms: their fields, how the typed text is checked field by field, and the one service call each makes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from casework import i18n
from casework.domain import inputs
from casework.domain.consent import CONSENT_SCOPES
from casework.domain.validation import parse_date, parse_int, require_text
from casework.domain.vocab import (
    CONTACT_KINDS,
    INFORMANTS,
    NEED_CATEGORIES,
    PAIRING_KINDS,
    PLAN_ITEM_KINDS,
    REFERRAL_AGENCIES,
    REVIEW_RESULTS,
    TERMS,
)
from casework.errors import CaseworkError, InvalidInput
from casework.text import N_, Msg
from casework.web.core import Req


@dataclass(frozen=True)
class Field:
    """One input: ``kind`` is text, area, date, select, checks, staff, number, decimal or flag."""

    name: str
    label: str  # msgid
    kind: str = "text"
    required: bool = False
    choices: Mapping[str, str] = field(default_factory=dict)
    options: tuple[str, ...] = ()  # the CLI options the services name this field by in their messages
    hint: str | None = None
    limit: int = 5000


Values = dict[str, Any]


@dataclass(frozen=True)
class RecordForm:
    kind: str
    title: str  # msgid
    target: str  # "case" or "child"
    fields: tuple[Field, ...]
    submit: Callable[[Req, int, Values], object]  # the one service call; returns what it recorded


def _date(name: str = "date", label: str = N_("date"), options: tuple[str, ...] = ("--date", "--on")) -> Field:
    return Field(name, label, "date", options=options, hint=N_("leave empty for today"))


def _contact(kind: str) -> RecordForm:
    def submit(req: Req, case_id: int, v: Values) -> object:
        from casework.services import mentoring

        given = inputs.RecordContact(
            case_id, kind, v["summary"], occurred_on=v["date"], by=v["by"], follow_up=v["follow_up"]
        )
        return mentoring.contact(req.ctx, req.actor, given)

    return RecordForm(
        kind,
        CONTACT_KINDS[kind],
        "case",
        (
            Field("summary", N_("summary"), "area", True, options=("--summary",)),
            _date(),
            Field("by", N_("done by"), "staff", options=("--by",), hint=N_("leave empty if you did it yourself")),
            Field("follow_up", N_("follow-up"), "area", options=("--follow-up",)),
        ),
        submit,
    )


def _assessment(req: Req, case_id: int, v: Values) -> object:
    from casework.services import assessments

    given = inputs.RecordAssessment(case_id, v["categories"], v["summary"], assessed_on=v["date"])
    return assessments.assessment(req.ctx, req.actor, given)


def _screening(req: Req, case_id: int, v: Values) -> object:
    from casework.services import assessments

    given = inputs.RecordScreening(case_id, v["scores"], v["informant"] or "parent", screened_on=v["date"])
    row, _result = assessments.screening(req.ctx, req.actor, given)
    return row


def _plan(req: Req, case_id: int, v: Values) -> object:
    from casework.services import plans

    given = inputs.AddPlanItem(
        case_id=case_id,
        category=v["category"],
        measures=v["measures"],
        responsible=v["responsible"],
        start=v["start"],
        end=v["end"],
        content=v["content"],
        target=v["target"],
        kind=v["plan_kind"] or "general",
        subject=v["subject"],
    )
    return plans.plan_item(req.ctx, req.actor, given)


def _pairing(req: Req, case_id: int, v: Values) -> object:
    from casework.services import mentoring

    given = inputs.PairPartner(
        case_id, v["pairing_kind"], staff=v["staff"], partner_name=v["pupil"], from_on=v["from"], to_on=v["to"]
    )
    return mentoring.pairing(req.ctx, req.actor, given)


def _review(req: Req, case_id: int, v: Values) -> object:
    from casework.services import plans

    given = inputs.ReviewPlanItem(
        case_id, v["item"], v["result"], v["effect"], reviewed_on=v["date"], summary=v["summary"]
    )
    return plans.review(req.ctx, req.actor, given)


def _referral(req: Req, case_id: int, v: Values) -> object:
    from casework.services import assessments

    given = inputs.RecordReferral(case_id, v["agency"], v["summary"], referred_on=v["date"])
    return assessments.referral(req.ctx, req.actor, given)


def _result(req: Req, child_id: int, v: Values) -> object:
    from casework.services import pupil_records

    given = inputs.RecordTermResult(
        child_id=child_id,
        school_year=v["year"],
        term=int(v["term"]),
        total=v["total"],
        rank=v["rank"],
        class_size=v["class_size"],
        subjects=v["subjects"] or {},
        three_good=v["three_good"],
        serious_violation=v["violation"],
    )
    return pupil_records.term_result(req.ctx, req.actor, given)


def _consent(req: Req, child_id: int, v: Values) -> object:
    from casework.services import consent

    given = inputs.RecordConsent(child_id, v["guardian"], v["relation"], v["scope"] or "all", given_on=v["date"])
    return consent.record(req.ctx, req.actor, given)


def _withdraw(req: Req, child_id: int, v: Values) -> object:
    from casework.services import consent

    return consent.withdraw(req.ctx, req.actor, child_id, withdrawn_on=v["date"], scope=v["scope"] or None)


CASE_FORMS: dict[str, RecordForm] = {
    "assessment": RecordForm(
        "assessment",
        N_("assessment"),
        "case",
        (
            Field("categories", N_("need categories"), "checks", choices=NEED_CATEGORIES, options=("category",)),
            Field("summary", N_("summary"), "area", True, options=("--summary",)),
            _date(),
        ),
        _assessment,
    ),
    "screening": RecordForm(
        "screening",
        N_("screening"),
        "case",
        (
            Field(
                "scores",
                N_("item scores"),
                "text",
                True,
                options=("--scores",),
                hint=N_("25 scores of 0, 1 or 2, separated by commas"),
            ),
            Field("informant", N_("informant"), "select", choices=INFORMANTS, options=("--informant",)),
            _date(),
        ),
        _screening,
    ),
    "plan": RecordForm(
        "plan",
        N_("plan item"),
        "case",
        (
            Field("category", N_("need category"), "select", True, NEED_CATEGORIES, ("category", "--category")),
            Field("plan_kind", N_("kind of item"), "select", choices=PLAN_ITEM_KINDS, options=("--kind",)),
            Field("subject", N_("subject"), options=("--subject",), hint=N_("for tutoring"), limit=30),
            Field("measures", N_("measures"), "area", True, options=("--measures",)),
            Field("responsible", N_("responsible"), "staff", options=("--responsible",)),
            Field("start", N_("from"), "date", options=("--start",)),
            Field("end", N_("until"), "date", options=("--end",)),
            Field("content", N_("content"), "area", options=("--content",)),
            Field("target", N_("stage target"), "area", options=("--target",)),
        ),
        _plan,
    ),
    "pairing": RecordForm(
        "pairing",
        N_("pairing"),
        "case",
        (
            Field("pairing_kind", N_("partner"), "select", True, PAIRING_KINDS, ("--kind",)),
            Field("staff", N_("staff member"), "staff", options=("--staff",), hint=N_("a mentor or caring parent")),
            Field("pupil", N_("study helper"), options=("--pupil",), hint=N_("a pupil's name"), limit=100),
            Field("from", N_("from"), "date", options=("--from",)),
            Field("to", N_("until"), "date", options=("--to",)),
        ),
        _pairing,
    ),
    **{kind: _contact(kind) for kind in CONTACT_KINDS},
    "review": RecordForm(
        "review",
        N_("stage review"),
        "case",
        (
            Field("item", N_("plan item"), "item", True, options=("--item",)),
            Field("result", N_("result"), "select", True, REVIEW_RESULTS, ("--result",)),
            Field("effect", N_("stage effect"), "area", True, options=("--effect",)),
            Field("summary", N_("summary"), "area", options=("--summary",)),
            _date(),
        ),
        _review,
    ),
    "referral": RecordForm(
        "referral",
        N_("referral"),
        "case",
        (
            Field("agency", N_("agency"), "select", True, REFERRAL_AGENCIES, ("--agency",)),
            Field("summary", N_("summary"), "area", True, options=("--summary",)),
            _date(),
        ),
        _referral,
    ),
}

CHILD_FORMS: dict[str, RecordForm] = {
    "result": RecordForm(
        "result",
        N_("final exam result"),
        "child",
        (
            Field("year", N_("school year"), "number", True, options=("--year",), hint=N_("2026 for 2026–2027")),
            Field("term", N_("term"), "select", True, TERMS, ("--term",)),
            Field("total", N_("total score"), "decimal", True, options=("--total",)),
            Field("rank", N_("class rank"), "number", True, options=("--rank",)),
            Field("class_size", N_("class size"), "number", options=("--class-size",)),
            Field("subjects", N_("subject scores"), options=("--subject",), hint=N_("such as 语文=88, 数学=70")),
            Field("three_good", N_("named a three-good student"), "flag"),
            Field("violation", N_("a serious disciplinary or legal violation"), "flag"),
        ),
        _result,
    ),
    "consent": RecordForm(
        "consent",
        N_("guardian's consent"),
        "child",
        (
            Field("guardian", N_("guardian"), "text", True, options=("--guardian",), limit=100),
            Field("relation", N_("relation to the child"), "text", True, options=("--relation",), limit=50),
            Field("scope", N_("consent covers"), "select", choices=CONSENT_SCOPES, options=("--scope",)),
            _date(),
        ),
        _consent,
    ),
    "withdraw": RecordForm(
        "withdraw",
        N_("withdraw consent"),
        "child",
        (
            Field("scope", N_("consent covers"), "select", choices=CONSENT_SCOPES, options=("--scope",)),
            _date(),
        ),
        _withdraw,
    ),
}


def _subjects(text: str, label: Msg) -> dict[str, float]:
    found: dict[str, float] = {}
    for part in text.replace("，", ",").replace("；", ",").split(","):
        if not part.strip():
            continue
        name, sep, score = part.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            found[name.strip()] = float(score)
        except ValueError:
            raise InvalidInput("{field}: '{value}' is not SUBJECT=SCORE", field=label, value=part.strip()) from None
    return found


def parse(form: RecordForm, typed: Mapping[str, list[str]]) -> tuple[Values, dict[str, str | Msg]]:
    """Each field's value from what was typed, and a message per field that is wrong (nothing is recorded then)."""
    values: Values = {}
    errors: dict[str, str | Msg] = {}
    for f in form.fields:
        raw = typed.get(f.name, [])
        text = raw[0].strip() if raw else ""
        label = Msg(f.label)
        try:
            if f.kind == "checks":
                picked = [c for c in raw if c]
                unknown = [c for c in picked if c not in f.choices]
                if unknown:
                    raise InvalidInput("{field}: '{value}' is not one of the choices", field=label, value=unknown[0])
                values[f.name] = picked
                continue
            if f.kind == "flag":
                values[f.name] = text in {"1", "on", "yes"}
                continue
            if not text:
                if f.required:
                    raise InvalidInput("{field} must not be empty", field=label)
                values[f.name] = None
                continue
            if f.kind == "date":
                values[f.name] = parse_date(text, label)
            elif f.kind == "number" or f.kind == "item":
                values[f.name] = parse_int(text, label, 0 if f.kind == "number" else 1, 10**9)
            elif f.kind == "decimal":
                try:
                    values[f.name] = float(text)
                except ValueError:
                    raise InvalidInput("{field}: '{value}' is not a number", field=label, value=text) from None
            elif f.kind == "select":
                if text not in f.choices:
                    raise InvalidInput("{field}: '{value}' is not one of the choices", field=label, value=text)
                values[f.name] = text
            elif f.name == "subjects":
                values[f.name] = _subjects(text, label)
            else:  # text, area, staff: the services check names and lengths again
                values[f.name] = require_text(text, label, f.limit)
        except InvalidInput as exc:
            errors[f.name] = exc.msg
    return values, errors


# The input values' field names (casework.domain.inputs) where the forms name a field otherwise.
_FORM_NAMES: dict[str, tuple[str, ...]] = {
    "occurred_on": ("date",),
    "assessed_on": ("date",),
    "screened_on": ("date",),
    "referred_on": ("date",),
    "reviewed_on": ("date",),
    "given_on": ("date",),
    "kind": ("plan_kind", "pairing_kind"),
    "partner_name": ("pupil",),
    "from_on": ("from",),
    "to_on": ("to",),
    "item_id": ("item",),
    "school_year": ("year",),
    "serious_violation": ("violation",),
}


def place(form: RecordForm, exc: CaseworkError, lang: str) -> tuple[str | None, str]:
    """Which field a refusal is about, and its text with every command-line option it names replaced
    by that field's label: a person never reads '--summary'.

    The field is the one the input value named (InvalidInput.field), else the one whose option the
    message names."""
    msg = exc.msg
    named = msg.params.get("field")
    if isinstance(named, str):  # "{field}: ... " naming an option: the field's label in its place
        for f in form.fields:
            if named in f.options:
                msg = Msg(msg.msgid, {**msg.params, "field": Msg(f.label)}, msg.translations)
    text = i18n.render(msg, lang)
    for f in form.fields:
        for option in f.options:
            if option.startswith("--"):
                text = text.replace(option, i18n.render(Msg(f.label), lang))
    names = {f.name for f in form.fields}
    given = getattr(exc, "field", None)
    if isinstance(given, str):
        for candidate in (given, *_FORM_NAMES.get(given, ())):
            if candidate in names:
                return candidate, text
    for f in form.fields:
        if (isinstance(named, str) and named in f.options) or any(
            o.startswith("--") and o in exc.msg.msgid for o in f.options
        ):
            return f.name, text
    return None, text
