"""Assessment stage records: the assessment and screening, referrals, critical flags and their acknowledgement."""

from __future__ import annotations

from sqlalchemy import select

from casework import states
from casework.domain import access as policy
from casework.domain import sdq
from casework.domain.inputs import RecordAssessment, RecordReferral, RecordScreening, field
from casework.domain.validation import parse_choice
from casework.domain.vocab import (
    NEED_CATEGORIES,
    REFERRAL_AGENCIES,
)
from casework.errors import InvalidInput, NotFound, TransitionRefused
from casework.persistence.store import Store
from casework.persistence.tables import (
    Assessment,
    CaseFlag,
    Referral,
    Screening,
)
from casework.rules import classify, risk_level
from casework.rules.engine import ModuleFailed
from casework.services import access
from casework.services import facts as case_facts
from casework.services.cases import ensure_rule_set
from casework.services.context import Context
from casework.services.recording import (
    CaseWrite,
    case_write,
)
from casework.text import N_, Msg


def assessment(ctx: Context, actor: str | None, given: RecordAssessment) -> int:
    """Record the counsellor's assessment; the rule modules classify too, each with its evidence.

    The counsellor's categories count as indicated; modules add what the facts show (family
    situation, exam ranks, screening). A category with a flag (suspected illegal: critical)
    raises it on the case at once.
    """
    indicated = frozenset(given.categories)
    with case_write(ctx, actor, given.case_id, (states.IDENTIFIED, states.ASSESSED), N_("an assessment")) as w:
        facts = case_facts.assessment_facts(w.session, w.case, indicated)
        try:
            found = classify(ctx.rules, facts)
        except ModuleFailed as failed:
            raise TransitionRefused(
                "the rules could not classify case {case}; nothing was recorded", [failed.verdict], case=w.case.id
            ) from None
        codes = sorted(indicated | {c.code for c in found})
        if not codes:
            raise InvalidInput(
                "no need category: give --category ({known}) or record what shows one (exam results, screening)",
                known=", ".join(NEED_CATEGORIES),
            )
        evidence = [{"category": c.code, "rule": c.rule, "risk": c.risk, "evidence": dict(c.evidence)} for c in found]
        evidence += [{"category": c, "rule": "counsellor", "risk": None, "evidence": {}} for c in sorted(indicated)]
        level = risk_level(found)
        row = Assessment(
            school_id=w.case.school_id,
            case_id=w.case.id,
            case_version=w.case.version,
            categories=codes,
            facts={"evidence": evidence, "risk_level": level},
            summary=given.summary,
            assessed_on=w.dated(given.assessed_on, "assessed_on"),
            by_id=w.actor.id,
            recorded_at=w.now,
            rule_set=ensure_rule_set(Store.of(w.session), ctx),
        )
        w.session.add(row)
        w.session.flush()
        if level is not None:
            w.case.risk_level = level
        w.audit("assessment.recorded", "assessment", row.id, categories=codes, risk_level=level)
        for flag in sorted({c.flag for c in found if c.flag}):
            _raise_flag(w, flag, next(c.rule for c in found if c.flag == flag))
        return row.id


def _raise_flag(w: CaseWrite, code: str, rule: str) -> None:
    exists = w.session.scalars(select(CaseFlag).where(CaseFlag.case_id == w.case.id, CaseFlag.code == code)).first()
    if exists is not None:
        return
    flag = CaseFlag(school_id=w.case.school_id, case_id=w.case.id, code=code, rule=rule, raised_at=w.now)
    w.session.add(flag)
    w.session.flush()
    w.audit("flag.raised", "case_flag", flag.id, code=code, rule=rule)


def screening(ctx: Context, actor: str | None, given: RecordScreening) -> tuple[int, sdq.SdqResult]:
    """An SDQ-style screening: 25 item scores in, five subscales, the total and their bands out."""
    result = sdq.score(given.items, given.informant)
    with case_write(ctx, actor, given.case_id, states.OPEN_STATES, N_("a screening")) as w:
        row = Screening(
            school_id=w.case.school_id,
            case_id=w.case.id,
            instrument="sdq",
            item_scores=[str(i) for i in given.items],
            result=result.as_data(),
            screened_on=w.dated(given.screened_on, "screened_on"),
            by_id=w.actor.id,
            recorded_at=w.now,
        )
        w.session.add(row)
        w.session.flush()
        w.audit("screening.recorded", "screening", row.id, instrument="sdq", informant=given.informant)
        return row.id, result


def referral(ctx: Context, actor: str | None, given: RecordReferral) -> int:
    """An external referral; the agencies a deployment accepts are the suspected_illegal module's."""
    module = ctx.rule_set.module("suspected_illegal")
    agencies = list(module.params["agencies"]) if module else list(REFERRAL_AGENCIES)
    with field("agency"):
        code = parse_choice(given.agency, "--agency", {a: REFERRAL_AGENCIES.get(a, a) for a in agencies}, {})
    with case_write(ctx, actor, given.case_id, states.OPEN_STATES, N_("a referral")) as w:
        row = Referral(
            school_id=w.case.school_id,
            case_id=w.case.id,
            agency=code,
            referred_on=w.dated(given.referred_on, "referred_on"),
            summary=given.summary,
            by_id=w.actor.id,
            recorded_at=w.now,
        )
        w.session.add(row)
        w.session.flush()
        w.audit("referral.recorded", "referral", row.id, agency=code)
        return row.id


def acknowledge(ctx: Context, actor: str | None, case_id: int, code: str = "critical") -> int:
    """The leadership group acknowledges a flag the rules raised."""
    with case_write(ctx, actor, case_id, states.STATES, N_("an acknowledgement"), policy.T0) as w:
        if not policy.may(w.roles, policy.FLAG_ACKNOWLEDGE):
            raise access.denied(
                w.case.school_id,
                w.actor.id,
                w.roles,
                policy.FLAG_ACKNOWLEDGE,
                N_("only the leader or deputy leader acknowledges a {flag} flag"),
                flag=_flag(code),
            )
        flag = w.session.scalars(select(CaseFlag).where(CaseFlag.case_id == w.case.id, CaseFlag.code == code)).first()
        if flag is None:
            raise NotFound("case {case} has no {flag} flag", case=w.case.id, flag=_flag(code))
        if flag.acknowledged_at is not None:
            raise InvalidInput(
                "the {flag} flag of case {case} is already acknowledged", flag=_flag(code), case=w.case.id
            )
        flag.acknowledged_at, flag.acknowledged_by = w.now, w.actor.id
        w.audit("flag.acknowledged", "case_flag", flag.id, code=code)
        return flag.id


def _flag(code: str) -> Msg:
    """A flag as a person reads it: its risk level's label (紧急 for critical)."""
    from casework.domain.vocab import RISK_LABELS

    return Msg(RISK_LABELS.get(code, code))
