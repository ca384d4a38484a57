"""Labels a page shows in place of codes: duties, card values, verdict marks; every one from the catalogue."""

from __future__ import annotations

from casework import i18n, states
from casework.domain import access as policy
from casework.domain.child import field_label
from casework.domain.consent import CONSENT_SCOPES
from casework.domain.vocab import (
    AUDIT_ACTIONS,
    CONTACT_KINDS,
    DECISION_LABELS,
    FAMILY_SITUATIONS,
    NEED_CATEGORIES,
    PLAN_ITEM_KINDS,
    RISK_LABELS,
    ROLES,
    SEXES,
    STALL_REASONS,
    duty_label,
    stall_reason_label,
)
from casework.text import N_, Msg

DOCUMENT_LABELS: dict[str, str] = {
    "child_card": N_("child file and contact card"),
    "assessment": N_("assessment record"),
    "individual_plan": N_("individual help plan"),
    "education_plan": N_("individual education management plan"),
    "talk_record": N_("talk record card"),
    "parent_feedback": N_("parent feedback record"),
    "stage_review": N_("stage review record"),
    "closing_report": N_("closing report"),
    "meeting_agenda": N_("meeting agenda"),
    "meeting_minutes": N_("meeting minutes"),
    "indicator_report": N_("indicator report"),
}
JOB_KINDS: dict[str, str] = {
    "verify": N_("Audit chain verification"),
    "import": N_("Roster import"),
    "rollover": N_("School-year rollover"),
}
JOB_STATES: dict[str, str] = {"running": N_("running"), "done": N_("done"), "failed": N_("failed")}
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}  # each language in its own words

VOCABULARIES: dict[str, dict[str, str]] = {
    "state": states.STATE_LABELS,
    "event": states.EVENT_LABELS,
    "contact": CONTACT_KINDS,
    "category": NEED_CATEGORIES,
    "plan_kind": PLAN_ITEM_KINDS,
    "risk": RISK_LABELS,
    "role": ROLES,
    "action": AUDIT_ACTIONS,
    "consent_scope": CONSENT_SCOPES,
    "tier": policy.TIER_LABELS,
    "stall": STALL_REASONS,
    "document": DOCUMENT_LABELS,
    "decision": DECISION_LABELS,
    "job": JOB_KINDS,
    "job_state": JOB_STATES,
}


class Labels:
    """Bound to one language: ``labels.of("state", "assessed")`` → 评估分类."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def of(self, vocabulary: str, code: str | None) -> str:
        if code is None:
            return ""
        known = VOCABULARIES[vocabulary].get(code)
        return i18n.render(known, self.lang) if known is not None else code

    def language(self, code: str) -> str:
        return LANGUAGE_NAMES.get(code, code)

    def duty(self, code: str) -> str:
        if code.startswith("stage_deadline:"):
            state = code.split(":", 1)[1]
            return i18n.render(N_("leave the stage {state}"), self.lang).format(state=self.of("state", state))
        return i18n.render(duty_label(code), self.lang)

    def stall(self, code: str) -> str:
        """A stall reason as stored ("stage_deadline:assessed", "flag:critical") or its head alone."""
        return i18n.render(stall_reason_label(code), self.lang)

    def purpose(self, what: str) -> str:
        """What an access event read or was refused, in words: "case.show" → 个案页面, "case:13" →
        个案 13, "event:assess" → 评估分类, "read:T2" → 查看辅导内容; an unknown code stays as written."""
        known = policy.PURPOSE_LABELS.get(what)
        if known is not None:
            return i18n.render(known, self.lang)
        if what in policy.CAPABILITY_LABELS:
            return i18n.render(policy.CAPABILITY_LABELS[what], self.lang)
        head, _, rest = what.partition(":")
        if head == "page" and rest:  # a page the role may not open: named by its address
            from casework.web.routes import BY_NAME

            route = BY_NAME.get(rest)
            return i18n.render(Msg(N_("the page {path}"), {"path": route.path if route else rest}), self.lang)
        if head == "event" and rest:
            return self.of("event", rest)
        if head in policy.ACTION_LABELS and rest:
            purpose, _, tier = rest.rpartition(":")  # "search:child.find:T1" names the search too
            action, tier_label = Msg(policy.ACTION_LABELS[head]), Msg(policy.TIER_LABELS.get(tier, tier))
            if purpose:
                words = {"action": action, "tier": tier_label, "purpose": self.purpose(purpose)}
                return i18n.render(Msg(N_("{action} {tier} ({purpose})"), words), self.lang)
            return i18n.render(Msg(N_("{action} {tier}"), {"action": action, "tier": tier_label}), self.lang)
        if head in policy.REFUSED_KINDS and rest.isdigit():
            return i18n.render(Msg(N_("{kind} {id}"), {"kind": Msg(policy.REFUSED_KINDS[head]), "id": rest}), self.lang)
        return what

    def field(self, name: str) -> str:
        return i18n.render(field_label(name), self.lang)

    def card_value(self, name: str, value: str | None) -> str:
        """A card field's stored text as a person reads it (a code or 1/0 becomes its label)."""
        if value is None:
            return ""
        if name == "sex":
            return i18n.render(SEXES[value], self.lang) if value in SEXES else value
        if name == "family_situation":
            return i18n.render(FAMILY_SITUATIONS[value], self.lang) if value in FAMILY_SITUATIONS else value
        if name in {"boarding", "guardian_literate"}:
            return i18n.render(N_("yes") if value == "1" else N_("no"), self.lang)
        return value
