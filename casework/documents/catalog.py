"""Which templates exist, the context type each takes, and which stage produces which document."""

from __future__ import annotations

from dataclasses import dataclass

from casework.documents import contexts as c

FORMATS: tuple[str, ...] = ("html", "md", "docx", "pdf")
# json: a transfer package kept as a document of the case it opened (services.transfers), never rendered.
EXTENSIONS: dict[str, str] = {"html": "html", "md": "md", "docx": "docx", "pdf": "pdf", "json": "json"}
MEDIA_TYPES: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "json": "application/json",
}


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    context: type
    stage: str | None  # the stage whose document it is; None for the leadership group's


TEMPLATES: dict[str, TemplateSpec] = {
    spec.name: spec
    for spec in (
        TemplateSpec("child_card", c.ChildCardContext, "identified"),
        TemplateSpec("assessment", c.AssessmentContext, "assessed"),
        TemplateSpec("individual_plan", c.PlanContext, "individual_plan"),
        TemplateSpec("education_plan", c.PlanContext, "individual_plan"),
        TemplateSpec("talk_record", c.TalkRecordContext, "mentored"),
        TemplateSpec("parent_feedback", c.ParentFeedbackContext, "mentored"),
        TemplateSpec("stage_review", c.StageReviewContext, "reviewed"),
        TemplateSpec("closing_report", c.ClosingContext, "closed"),
        TemplateSpec("meeting_agenda", c.MeetingContext, None),
        TemplateSpec("meeting_minutes", c.MeetingContext, None),
        TemplateSpec("indicator_report", c.IndicatorReportContext, None),
        TemplateSpec("evaluation_report", c.EvaluationReportContext, None),
        TemplateSpec("county_report", c.CountyReportContext, None),
        TemplateSpec("term_summary", c.TermSummaryContext, None),
    )
}

# The documents each stage produces, in the order they are listed.
STAGE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "identified": ("child_card",),
    "assessed": ("assessment",),
    "individual_plan": ("individual_plan", "education_plan"),
    "mentored": ("talk_record", "parent_feedback"),
    "reviewed": ("stage_review",),
    "closed": ("closing_report",),
}

# Need categories whose plan is also an individual education management plan (个别教育管理方案).
EDUCATION_PLAN_CATEGORIES = frozenset({"conduct", "personality", "moral", "suspected_illegal"})
