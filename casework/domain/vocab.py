"""Closed vocabularies: roles, need categories, record kinds, each with its school label."""

from __future__ import annotations

from collections.abc import Iterable

from casework.text import N_, Msg

ROLES: dict[str, str] = {
    "leader": N_("leader"),
    "deputy": N_("deputy leader"),
    "class_teacher": N_("class teacher"),
    "subject_teacher": N_("subject teacher"),
    "counsellor": N_("psychological counsellor"),
    "mentor": N_("mentor"),
    "caring_parent": N_("caring-parent volunteer"),
    "auditor": N_("auditor"),
    "admin": N_("administrator"),
    "bureau": N_("education bureau"),
}

NEED_CATEGORIES: dict[str, str] = {
    "learning": N_("learning"),
    "life": N_("life"),
    "psychological": N_("psychological"),
    "conduct": N_("conduct"),
    "academic_slide": N_("severe academic slide"),
    "personality": N_("unsound personality development"),
    "moral": N_("moral deviance"),
    "suspected_illegal": N_("suspected illegal behaviour"),
}

CONTACT_KINDS: dict[str, str] = {
    "talk": N_("talk"),
    "home_visit": N_("home visit"),
    "parent_feedback": N_("parent feedback"),
    "phone_call": N_("phone call"),
    "counselling": N_("counselling session"),
    "call_home": N_("the child's call home"),
    "letter": N_("the child's letter home"),
    "family_visit": N_("the child's visit home"),
    "growth_diary": N_("growth diary entry"),
}

PLAN_ITEM_KINDS: dict[str, str] = {
    "general": N_("help measure"),
    "tutoring": N_("tutoring"),
    "progress_record": N_("progress record"),
    "psych_help": N_("psychological help plan"),
    "correction": N_("individual education management plan"),
}

REFERRAL_AGENCIES: dict[str, str] = {
    "police": N_("police"),
    "civil_affairs": N_("civil affairs"),
    "womens_federation": N_("women's federation"),
    "procuratorate_minors": N_("procuratorate minors unit"),
}

RISK_LABELS: dict[str, str] = {
    "low": N_("low"),
    "medium": N_("medium"),
    "high": N_("high"),
    "critical": N_("critical"),
}

PAIRING_KINDS: dict[str, str] = {
    "mentor": N_("mentor"),
    "caring_parent": N_("caring parent"),
    "study_helper": N_("study helper"),
}

REVIEW_RESULTS: dict[str, str] = {
    "met": N_("target met"),
    "partly_met": N_("target partly met"),
    "not_met": N_("target not met"),
}

FAMILY_SITUATIONS: dict[str, str] = {
    "both_away": N_("both parents away"),
    "one_away": N_("one parent away"),
    "divorced_single": N_("divorced single parent"),
    "grandparent_care": N_("grandparent care"),
    "other": N_("other"),
}

SEXES: dict[str, str] = {"male": N_("male"), "female": N_("female")}

AUDIT_ACTIONS: dict[str, str] = {
    "school.created": N_("school created"),
    "staff.added": N_("staff member added"),
    "staff.changed": N_("staff record changed"),
    "class.added": N_("class added"),
    "child.added": N_("child file opened"),
    "child.changed": N_("contact card changed"),
    "case.opened": N_("case opened"),
    "case.moved": N_("case moved"),
    "case.refused": N_("move refused"),
    "assessment.recorded": N_("assessment recorded"),
    "plan_item.recorded": N_("plan item recorded"),
    "pairing.recorded": N_("pairing recorded"),
    "contact.recorded": N_("contact recorded"),
    "review.recorded": N_("review recorded"),
    "screening.recorded": N_("screening recorded"),
    "term_result.recorded": N_("exam result recorded"),
    "referral.recorded": N_("referral recorded"),
    "flag.raised": N_("flag raised"),
    "flag.acknowledged": N_("flag acknowledged"),
    "review.swept": N_("stalled cases swept"),
    "meeting.opened": N_("review meeting opened"),
    "meeting.item_added": N_("case added to a meeting's agenda"),
    "notify.address_set": N_("notification address set"),
    "meeting.decided": N_("meeting decision"),
    "pairing.ended": N_("pairing ended"),
    "deadline.extended": N_("deadline extended"),
    "enrolment.recorded": N_("enrolment recorded"),
    "aid.recorded": N_("material aid recorded"),
    "survey.recorded": N_("survey recorded"),
    "care_event.recorded": N_("care activity recorded"),
    "star.chosen": N_("star of left-behind children chosen"),
    "care_group.formed": N_("3+2+1+1 group formed"),
    "child.transferred_out": N_("child moved to another school"),
    "child.transferred_in": N_("child came from another school"),
    "roster.imported": N_("register imported"),
    "roster.exported": N_("register exported"),
    "year.rolled_over": N_("school year rolled over"),
    "document.registered": N_("document registered"),
    "document.failed": N_("document rendering failed"),
    "account.password_set": N_("one-time password issued"),
    "account.password_changed": N_("password changed"),
    "account.signed_in": N_("signed in"),
    "account.signed_out": N_("signed out"),
    "account.sign_in_failed": N_("sign-in failed"),
    "account.locked": N_("sign-in locked"),
    "account.disabled": N_("account disabled"),
    "account.enabled": N_("account enabled"),
    "access.read": N_("sealed fields read"),
    "access.denied": N_("access refused"),
    "audit.exported": N_("audit trail exported"),
    "job.started": N_("background job started"),
    "job.finished": N_("background job ended"),
}

STALL_REASONS: dict[str, str] = {
    "monthly_talk": N_("monthly talk overdue"),
    "family_phone": N_("weekly family phone call not arranged"),
    "added_by_hand": N_("added by a leader"),
    "parent_feedback": N_("feedback to the parents overdue"),
    "home_visit": N_("home visit overdue"),
    "boarder_talk": N_("talk with the boarding child overdue"),
    "guardian_visit": N_("visit to the day pupil's guardian overdue"),
    "counselling_session": N_("counselling session overdue"),
    "conduct_talk": N_("conduct talk overdue"),
    "call_home": N_("weekly call home overdue"),
    "letter_home": N_("monthly letter home overdue"),
    "subject_teacher_contact": N_("contact with a subject teacher overdue"),
    "visit_home": N_("yearly visit home overdue"),
    "study_helper": N_("no study helper paired"),
    "critical_acknowledgement": N_("critical flag not acknowledged in time"),
    "stage_deadline": N_("stage deadline passed"),
    "flag": N_("critical flag not acknowledged"),
    "repeated_refusal": N_("the same move refused again with nothing changed"),
}

DECISION_LABELS: dict[str, str] = {
    "continue": N_("continue mentoring"),
    "revise": N_("revise the plan"),
    "reassess": N_("reassess"),
    "close": N_("close the case"),
    "reassign": N_("reassign the mentor"),
    "extend": N_("extend the deadline"),
}

ENROLMENT_STATUSES: dict[str, str] = {
    "enrolled": N_("enrolled"),
    "dropped_out": N_("dropped out"),
    "transferred": N_("transferred"),
    "suspended": N_("suspended"),
}

AID_KINDS: dict[str, str] = {
    "clothing": N_("clothing"),
    "stationery": N_("stationery"),
    "meals": N_("meals"),
    "money": N_("money"),
    "other": N_("other aid"),
}

# What each list calls a reason (the stalled list's labels say what went wrong; a to-do says what to do).
DUTY_LABELS: dict[str, str] = {
    "monthly_talk": N_("talk with the child this month (record card)"),
    "boarder_talk": N_("talk with the boarding child"),
    "guardian_visit": N_("visit the day pupil's guardian"),
    "parent_feedback": N_("feedback to the parents this month"),
    "home_visit": N_("home visit this term"),
    "family_phone": N_("arrange the child's family phone call this week"),
    "counselling_session": N_("counselling session"),
    "conduct_talk": N_("talk about conduct"),
    "critical_acknowledgement": N_("acknowledge the critical flag"),
    "stage_deadline": N_("move the case on from its stage"),
    "repeated_refusal": N_("the same move refused again with nothing changed"),
}

CHANNEL_LABELS: dict[str, str] = {
    "email": N_("email"),
    "wecom": N_("WeCom group"),
    "sms": N_("SMS"),
}

LEVEL_LABELS: dict[str, str] = {
    "due": N_("due"),
    "overdue": N_("overdue"),
    "stalled": N_("stalled"),
    "escalated": N_("escalated to the leadership group"),
}

# School-wide care (篇2, 篇6): seminars and the activities the children in care are invited to.
CARE_EVENT_KINDS: dict[str, str] = {
    "seminar": N_("seminar of mentors, children and guardians"),
    "class_meeting": N_("theme class meeting"),
    "interest_group": N_("interest group"),
    "birthday_party": N_("birthday party"),
    "family_phone": N_("family-phone session"),
    "cultural": N_("exhibition, speech contest or performance"),
    "other": N_("other activity"),
}
CARE_EVENT_ALIASES = {
    "座谈会": "seminar",
    "主题班会": "class_meeting",
    "班会": "class_meeting",
    "团队活动": "class_meeting",
    "兴趣小组": "interest_group",
    "生日会": "birthday_party",
    "生日聚会": "birthday_party",
    "亲情电话": "family_phone",
    "亲情对对碰": "family_phone",
    "书画展": "cultural",
    "演讲比赛": "cultural",
    "文艺演出": "cultural",
    "其他": "other",
}

# Why a case was closed (DOMAIN: "closed with a reason (parents returned, graduated, transferred…)").
CLOSURE_REASONS: dict[str, str] = {
    "transferred": N_("transferred to another school"),
    "parents_returned": N_("parents returned home"),
    "graduated": N_("graduated"),
    "turned_18": N_("turned 18"),
    "other": N_("other reason"),
}
CLOSURE_ALIASES = {
    "转学": "transferred",
    "转校": "transferred",
    "父母返乡": "parents_returned",
    "父母回家": "parents_returned",
    "返乡": "parents_returned",
    "毕业": "graduated",
    "年满18岁": "turned_18",
    "满18岁": "turned_18",
    "成年": "turned_18",
    "其他": "other",
}

INDICATOR_LABELS: dict[str, str] = {
    "file_rate": N_("file rate"),
    "enrolment_rate": N_("enrolment rate"),
    "retention_rate": N_("retention rate"),
    "aid_rate": N_("material-aid rate"),
    "talk_coverage": N_("monthly-talk coverage"),
    "mentor_coverage": N_("mentor coverage"),
    "feedback_coverage": N_("parent-feedback coverage"),
    "five_call_home": N_("five ones: a call home every week"),
    "five_letter": N_("five ones: a letter home this month"),
    "five_class_teacher": N_("five ones: contact with the class teacher this month"),
    "five_subject_teacher": N_("five ones: contact with a subject teacher this month"),
    "five_visit_home": N_("five ones: a visit home this school year"),
}


def stall_reason_label(reason: str) -> str:
    """The label of a stored stall reason: a duty code, "flag:critical", "repeated_refusal:plan"."""
    head = reason.split(":", 1)[0]
    return STALL_REASONS.get(reason, STALL_REASONS.get(head, reason))


# Chinese words schools type for a code, beside its label.
CATEGORY_ALIASES = {
    "学习": "learning",
    "生活": "life",
    "心理": "psychological",
    "品德行为偏差": "conduct",
    "行为": "conduct",
    "学习严重滑坡": "academic_slide",
    "人格发展不健全": "personality",
    "道德发展失范": "moral",
    "涉嫌违法": "suspected_illegal",
}
AGENCY_ALIASES = {
    "公安": "police",
    "派出所": "police",
    "民政": "civil_affairs",
    "妇联": "womens_federation",
    "检察院未检部门": "procuratorate_minors",
    "检察院": "procuratorate_minors",
}
PLAN_KIND_ALIASES = {
    "帮扶措施": "general",
    "学习辅导": "tutoring",
    "辅导": "tutoring",
    "成长记录": "progress_record",
    "进步记录": "progress_record",
    "心理帮扶计划": "psych_help",
    "心理辅导计划": "psych_help",
    "个别教育管理方案": "correction",
    "矫治": "correction",
}
PAIRING_ALIASES = {"帮扶教师": "mentor", "爱心家长": "caring_parent", "学习帮手": "study_helper"}
# Who filled in a screening questionnaire (the SDQ's three forms).
INFORMANTS: dict[str, str] = {"parent": N_("parent"), "teacher": N_("teacher"), "self": N_("self")}
INFORMANT_ALIASES = {"教师": "teacher", "老师": "teacher", "班主任": "teacher", "学生": "self", "儿童": "self"}

# The two terms of a school year, by their number.
TERMS: dict[str, str] = {"1": N_("autumn term"), "2": N_("spring term")}
TERM_ALIASES = {"秋季": "1", "春季": "2", "autumn": "1", "spring": "2"}

REVIEW_RESULT_ALIASES = {"达成": "met", "部分达成": "partly_met", "未达成": "not_met"}
ENROLMENT_ALIASES = {
    "在读": "enrolled",
    "在校": "enrolled",
    "辍学": "dropped_out",
    "转学": "transferred",
    "休学": "suspended",
}
AID_ALIASES = {
    "衣物": "clothing",
    "学习用品": "stationery",
    "文具": "stationery",
    "餐食": "meals",
    "助学金": "money",
    "现金": "money",
    "其他": "other",
}


def duty_label(reason: str) -> str:
    """What a to-do list says to do for a duty code or list reason."""
    head = reason.split(":", 1)[0]
    return DUTY_LABELS.get(reason, DUTY_LABELS.get(head, stall_reason_label(reason)))


def role_labels(roles: Iterable[str]) -> list[Msg]:
    """Roles as the labels a person reads (a list: rendered with the language's separator)."""
    return [Msg(ROLES.get(r, r)) for r in sorted(roles)]
