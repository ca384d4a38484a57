"""The typed context objects of the document templates: one frozen dataclass per template, no I/O.

Every value a template prints is already a display string (labels translated by whoever builds
the context) or a date, which the template formats for its language. Contact data (phones, ID
numbers, addresses, workplaces) can be masked with ``redacted()``; names are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date
from typing import Any, TypeVar

T = TypeVar("T")


def mask_phone(value: str | None) -> str | None:
    """138****5678: the first three and last four digits stay, so a number can still be told apart."""
    if not value:
        return value
    digits = value.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id(value: str | None) -> str | None:
    """An ID number keeps its first and last two characters."""
    if not value:
        return value
    text = value.strip()
    if len(text) <= 4:
        return "*" * len(text)
    return text[:2] + "*" * (len(text) - 4) + text[-2:]


def mask_text(value: str | None) -> str | None:
    """An address or workplace keeps its first four characters (the county or town)."""
    if not value:
        return value
    text = value.strip()
    return text[:4] + "****" if len(text) > 4 else "****"


# Which fields hold contact data, by how they are masked; every context type uses these names.
_MASKS = {
    "phone": mask_phone,
    "workplace_phone": mask_phone,
    "id_number": mask_id,
    "address": mask_text,
    "home_address": mask_text,
    "workplace": mask_text,
    "workplace_address": mask_text,
}


def redact(value: T) -> T:
    """A copy of a context with every contact field masked, recursively; other values unchanged."""
    if is_dataclass(value) and not isinstance(value, type):
        changes: dict[str, Any] = {}
        for f in fields(value):
            current = getattr(value, f.name)
            if f.name in _MASKS and (current is None or isinstance(current, str)):
                changes[f.name] = _MASKS[f.name](current)
            elif f.name == "redacted":
                changes[f.name] = True
            else:
                changes[f.name] = redact(current)
        return replace(value, **changes)
    if isinstance(value, list):
        return [redact(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(redact(v) for v in value)  # type: ignore[return-value]
    return value


# ---- shared parts -------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseHeader:
    """Who and what a case document is about: printed at the top of every case document."""

    school_name: str
    case_id: int
    case_version: int
    child_name: str
    class_name: str
    stage: str  # translated label
    as_of: date  # the day the case entered the stage the document records (not the render day)
    redacted: bool = False


@dataclass(frozen=True)
class Signatory:
    role: str  # translated label
    name: str | None


@dataclass(frozen=True)
class Entry:
    """A talk, visit, feedback or call, as the record cards list them."""

    occurred_on: date
    kind: str  # translated label
    by: str
    summary: str
    follow_up: str | None


# ---- identified: 留守儿童档案与联络卡 -------------------------------------------------------


@dataclass(frozen=True)
class ParentCard:
    role: str  # 父亲 / 母亲, translated
    name: str | None
    phone: str | None
    address: str | None
    workplace: str | None
    workplace_address: str | None
    workplace_phone: str | None


@dataclass(frozen=True)
class GuardianCard:
    name: str | None
    relation: str | None
    occupation: str | None
    address: str | None
    phone: str | None
    health: str | None
    age: int | None
    literate: str | None  # translated yes / no


@dataclass(frozen=True)
class TeacherContact:
    """A teacher the child and the guardian may call (篇3: 「把自己的电话号码告诉学生及其监护人」)."""

    role: str  # translated
    name: str
    phone: str | None


@dataclass(frozen=True)
class ChildCardContext:
    header: CaseHeader
    sex: str | None
    birth_date: date | None
    student_no: str | None
    id_number: str | None
    boarding: str | None
    health: str | None
    home_address: str | None
    family_situation: str | None
    class_teacher: str | None
    parents: list[ParentCard]
    guardian: GuardianCard
    opened_on: date
    teachers: list[TeacherContact]


# ---- assessed: 评估分类表 ---------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryEvidence:
    category: str  # translated label
    source: str  # the rule module's name, or the counsellor (translated)
    risk: str | None  # translated label
    evidence: list[tuple[str, str]]  # (fact, value) as printable text


@dataclass(frozen=True)
class ScreeningRow:
    scale: str  # translated label
    score: int
    band: str  # translated label


@dataclass(frozen=True)
class ScreeningContext:
    screened_on: date
    informant: str
    rows: list[ScreeningRow]


@dataclass(frozen=True)
class AssessmentContext:
    header: CaseHeader
    assessed_on: date
    assessor: str
    summary: str
    risk_level: str | None
    categories: list[CategoryEvidence]
    screenings: list[ScreeningContext]


# ---- individual_plan: 个别帮扶计划 / 个别教育管理方案 ----------------------------------------


@dataclass(frozen=True)
class PlanItemContext:
    number: int
    need: str  # translated category label
    kind: str  # translated kind label
    subject: str | None
    measures: str
    responsible: str
    start_on: date | None
    end_on: date | None
    content: str | None
    stage_target: str | None


@dataclass(frozen=True)
class PairingContext:
    kind: str  # translated label
    name: str
    from_on: date
    to_on: date | None


@dataclass(frozen=True)
class PlanContext:
    """The individual help plan; the individual education management plan uses it too."""

    header: CaseHeader
    created_on: date
    author: str
    needs: list[str]  # translated category labels of the assessment
    risk_level: str | None
    items: list[PlanItemContext]
    pairings: list[PairingContext]
    signatures: list[Signatory]


# ---- mentored: 谈心记录卡, 家长月度反馈 --------------------------------------------------------


@dataclass(frozen=True)
class TalkRecordContext:
    header: CaseHeader
    month: str  # 2026-10
    class_teacher: str | None
    mentor: str | None
    talks: list[Entry]
    blank_rows: int  # empty rows printed for handwriting after the recorded talks


@dataclass(frozen=True)
class ParentFeedbackContext:
    header: CaseHeader
    month: str
    to_names: list[str]  # the parents written to
    guardian_name: str | None
    sender: str
    sender_role: str  # translated
    talks: int
    home_visits: int
    calls_home: int
    letters: int
    feedback: list[Entry]  # this month's feedback entries
    targets: list[tuple[str, str]]  # (need, stage target) of the current plan
    written_on: date


# ---- reviewed: 阶段性效果评估 -----------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    number: int
    need: str
    measures: str
    stage_target: str | None
    result: str | None  # translated label; None when not reviewed yet
    effect: str | None


@dataclass(frozen=True)
class StageReviewContext:
    header: CaseHeader
    reviewed_on: date | None
    reviewer: str | None
    summary: str | None
    rows: list[ReviewRow]
    decision: str | None  # translated event label (continue, revise, reassess, close)
    decision_reason: str | None
    decided_on: date | None
    decided_by: str | None


# ---- closed: 结案报告 -------------------------------------------------------------------------


@dataclass(frozen=True)
class StageSpan:
    stage: str
    from_on: date
    to_on: date | None


@dataclass(frozen=True)
class ClosingContext:
    header: CaseHeader
    opened_on: date
    closed_on: date
    closed_by: str
    reason: str
    needs: list[str]
    history: list[StageSpan]
    counts: list[tuple[str, int]]  # (translated record kind, how many)
    last_results: list[tuple[str, str]]  # (need, translated result) of the last review


# ---- leadership group (filled by the review service) -----------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    role: str  # already translated


@dataclass(frozen=True)
class MeetingItemContext:
    case_id: int
    child_name: str
    class_name: str
    stage: str  # translated label
    reasons: list[str]  # translated sentences
    responsible: str | None
    decision: str | None  # translated label; None on the agenda
    decision_reason: str | None
    new_due: date | None


@dataclass(frozen=True)
class MeetingContext:
    """The meeting agenda and the minutes."""

    school_name: str
    meeting_id: int
    held_on: date
    title: str
    members: list[Person]
    items: list[MeetingItemContext]


@dataclass(frozen=True)
class IndicatorRow:
    scope: str
    indicator: str
    numerator: int
    denominator: int
    rate: float | None
    target: float


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str  # inline SVG markup (matplotlib), embedded as-is in HTML and PDF


@dataclass(frozen=True)
class IndicatorReportContext:
    school_name: str
    period: str
    generated_on: date
    rows: list[IndicatorRow]
    charts: list[Chart] = field(default_factory=list)
    stalled_by_stage: list[tuple[str, int]] = field(default_factory=list)
    stalled_by_responsible: list[tuple[str, int]] = field(default_factory=list)
    survey: str | None = None  # translated: the survey the file rate is measured against, or that none was
    closures: list[tuple[str, int]] = field(default_factory=list)  # (translated reason, cases closed)
    family_situations: list[tuple[str, int]] = field(default_factory=list)  # (translated situation, children)


# ---- the county (教育局): every school's counts side by side, no child in them ---------------


@dataclass(frozen=True)
class CountySchoolRow:
    school: str
    cells: list[str]  # per indicator: "numerator/denominator rate (rank)"
    open_cases: int
    stalled: int
    evaluation: str  # the year's awards in yuan, or "—"


@dataclass(frozen=True)
class CountyReportContext:
    period: str
    generated_on: date
    indicators: list[str]  # translated indicator names, the columns
    schools: list[CountySchoolRow]
    rankings: list[tuple[str, list[str]]]  # (translated indicator, school names best first)


# ---- the yearly evaluation (考核及奖励表), for the finance office ----------------------------


@dataclass(frozen=True)
class EvaluationPupilRow:
    name: str
    class_name: str
    baseline: str  # translated: where the baseline rank comes from
    baseline_rank: int | None
    rank_term2: int
    ranks_risen: int
    points: int
    awards: str  # translated award names, or "—"
    yuan: int


@dataclass(frozen=True)
class EvaluationStaffRow:
    name: str  # the staff member, or a translated "no class teacher recorded"
    role: str  # translated
    class_name: str | None
    children: int
    points: str  # printed as the finance office pays it: whole points, or an average to the fen
    yuan: str


@dataclass(frozen=True)
class EvaluationReportContext:
    school_name: str
    school_year: str  # 2026—2027学年
    scope: str  # translated sentence: which children the scheme covers
    generated_on: date
    pupils: list[EvaluationPupilRow]
    staff: list[EvaluationStaffRow]
    excluded: list[tuple[str, str, str]]  # (name, class, translated reason)
    pupils_yuan: int
    staff_yuan: str
    total_yuan: str
    signatures: list[Signatory]


# ---- the term summary (学期工作总结), for the leadership group ---------------------------------


@dataclass(frozen=True)
class SummarySection:
    title: str
    rows: list[tuple[str, str]]  # (translated label, printed value)


@dataclass(frozen=True)
class TermSummaryContext:
    school_name: str
    term: str  # translated: 2026—2027学年第1学期
    start: date
    end: date
    generated_on: date
    sections: list[SummarySection]
    indicators: list[IndicatorRow]
    signatures: list[Signatory]
