"""Commands that record what each stage needs: assessment, plan, pairing, contacts, review, and more."""

from __future__ import annotations

import click

from casework.commands.common import ID, WHOLE, State, Vocab, actor_option, school_year_option, state
from casework.commands.output import date_or_none, pairs
from casework.text import N_


@click.group("record")
def record_group() -> None:
    """Record what a stage needs. 记录各阶段材料。"""


case_argument = click.argument("case_id", type=ID, metavar="CASE")
# A term by its number (1 autumn, 2 spring) or its label in either language.
TERM = Vocab("casework.domain.vocab:TERMS", "casework.domain.vocab:TERM_ALIASES")


def _recorded(st: State, case_id: int, what: str, row: int) -> None:
    click.echo(st.t("case {case}: {what} recorded (id {id})", case=case_id, what=st.t(what), id=row))


@record_group.command("assessment")
@case_argument
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="CATEGORY",
    type=Vocab("casework.domain.vocab:NEED_CATEGORIES", "casework.domain.vocab:CATEGORY_ALIASES"),
    help="learning, life, psychological, conduct, academic_slide, personality, moral, suspected_illegal",
)
@click.option("--summary", required=True)
@click.option("--date", "day", metavar="DATE")
@actor_option
def record_assessment(
    case_id: int, categories: tuple[str, ...], summary: str, day: str | None, actor: str | None
) -> None:
    """Record the assessment; the rules classify too. 评估分类。"""
    from casework.domain.inputs import RecordAssessment
    from casework.services import assessments

    st = state()
    given = RecordAssessment.parse(case_id=case_id, categories=categories, summary=summary, assessed_on=day)
    row = assessments.assessment(st.ctx(), actor, given)
    _recorded(st, case_id, N_("assessment"), row)


@record_group.command("plan")
@case_argument
@click.option(
    "--category",
    required=True,
    metavar="CATEGORY",
    type=Vocab("casework.domain.vocab:NEED_CATEGORIES", "casework.domain.vocab:CATEGORY_ALIASES"),
)
@click.option("--measures", required=True)
@click.option("--responsible", metavar="STAFF", help="Defaults to the acting staff member. 默认为操作人。")
@click.option("--start", metavar="DATE")
@click.option("--end", metavar="DATE")
@click.option("--content")
@click.option("--target", help="Stage target. 阶段性目标。")
@click.option(
    "--kind",
    default="general",
    show_default=True,
    type=Vocab("casework.domain.vocab:PLAN_ITEM_KINDS", "casework.domain.vocab:PLAN_KIND_ALIASES"),
    help="general, tutoring, progress_record, psych_help, correction",
)
@click.option("--subject", help="Subject of a tutoring item. 辅导科目。")
@actor_option
def record_plan(
    case_id: int,
    category: str,
    measures: str,
    responsible: str | None,
    start: str | None,
    end: str | None,
    content: str | None,
    target: str | None,
    kind: str,
    subject: str | None,
    actor: str | None,
) -> None:
    """Add an item to the individual plan. 添加个别帮扶计划条目。"""
    from casework.domain.inputs import AddPlanItem
    from casework.services import plans

    st = state()
    given = AddPlanItem.parse(
        case_id=case_id,
        category=category,
        measures=measures,
        responsible=responsible,
        start=start,
        end=end,
        content=content,
        target=target,
        kind=kind,
        subject=subject,
    )
    row = plans.plan_item(st.ctx(), actor, given)
    _recorded(st, case_id, N_("plan item"), row)


@record_group.command("pairing")
@case_argument
@click.option(
    "--kind",
    required=True,
    type=Vocab("casework.domain.vocab:PAIRING_KINDS", "casework.domain.vocab:PAIRING_ALIASES"),
    help="mentor, caring_parent or study_helper",
)
@click.option("--staff", metavar="STAFF", help="The mentor or caring parent. 帮扶教师或爱心家长。")
@click.option("--pupil", metavar="NAME", help="The study helper (a pupil). 学习帮手（学生）。")
@click.option("--from", "from_on", metavar="DATE")
@click.option("--to", "to_on", metavar="DATE")
@actor_option
def record_pairing(
    case_id: int,
    kind: str,
    staff: str | None,
    pupil: str | None,
    from_on: str | None,
    to_on: str | None,
    actor: str | None,
) -> None:
    """Pair a mentor, caring parent or study helper. 结对。"""
    from casework.domain.inputs import PairPartner
    from casework.services import mentoring

    st = state()
    given = PairPartner.parse(case_id=case_id, kind=kind, staff=staff, partner_name=pupil, from_on=from_on, to_on=to_on)
    row = mentoring.pairing(st.ctx(), actor, given)
    _recorded(st, case_id, N_("pairing"), row)


def _contact_command(name: str, kind: str, label: str, help: str) -> click.Command:
    @record_group.command(name, help=help)
    @case_argument
    @click.option("--summary", required=True)
    @click.option("--date", "day", metavar="DATE", help="Defaults to today. 默认今天。")
    @click.option(
        "--by", metavar="STAFF", help="Who did it; defaults to the acting staff member. 由谁完成，默认为操作人。"
    )
    @click.option("--follow-up", help="What happens next. 后续跟进。")
    @actor_option
    def command(
        case_id: int, summary: str, day: str | None, by: str | None, follow_up: str | None, actor: str | None
    ) -> None:
        from casework.domain.inputs import RecordContact
        from casework.services import mentoring

        st = state()
        given = RecordContact.parse(
            case_id=case_id, kind=kind, occurred_on=day, by=by, summary=summary, follow_up=follow_up
        )
        row = mentoring.contact(st.ctx(), actor, given)
        _recorded(st, case_id, label, row)

    return command


_contact_command("talk", "talk", "talk", help="Record a talk with the child. 谈心记录。")
_contact_command("visit", "home_visit", "home visit", help="Record a home visit. 家访记录。")
_contact_command("feedback", "parent_feedback", "parent feedback", help="Record feedback to the parents. 家长反馈。")
_contact_command("call", "phone_call", "phone call", help="Record a phone call. 电话记录。")
_contact_command("counselling", "counselling", "counselling session", help="Record a counselling session. 心理辅导。")
_contact_command(
    "call-home", "call_home", "the child's call home", help="The child called home (five ones). 给父母打电话。"
)
_contact_command("letter", "letter", "the child's letter home", help="The child wrote home (five ones). 给父母写信。")
_contact_command(
    "family-visit",
    "family_visit",
    "the child's visit home",
    help="The child visited the parents (five ones). 与父母团聚。",
)
_contact_command(
    "diary", "growth_diary", "growth diary entry", help="An entry of the child's growth diary. 关爱留守儿童成长日记。"
)


@record_group.command("review")
@case_argument
@click.option("--item", "item_id", type=ID, required=True, help="Plan item id. 帮扶计划条目编号。")
@click.option(
    "--result",
    required=True,
    type=Vocab("casework.domain.vocab:REVIEW_RESULTS", "casework.domain.vocab:REVIEW_RESULT_ALIASES"),
    help="met, partly_met or not_met",
)
@click.option("--effect", required=True, help="Stage effect against the item's target. 阶段性效果。")
@click.option("--summary")
@click.option("--date", "day", metavar="DATE")
@actor_option
def record_review(
    case_id: int, item_id: int, result: str, effect: str, summary: str | None, day: str | None, actor: str | None
) -> None:
    """Record the stage effect of a plan item. 阶段性评估。"""
    from casework.domain.inputs import ReviewPlanItem
    from casework.services import plans

    st = state()
    given = ReviewPlanItem.parse(
        case_id=case_id, item_id=item_id, result=result, effect=effect, reviewed_on=day, summary=summary
    )
    row = plans.review(st.ctx(), actor, given)
    _recorded(st, case_id, N_("review"), row)


@record_group.command("screening")
@case_argument
@click.option("--scores", required=True, help="The 25 item scores, each 0–2, separated by commas (0,1,2,…). 25项得分。")
@click.option(
    "--informant",
    default="parent",
    show_default=True,
    type=Vocab("casework.domain.vocab:INFORMANTS", "casework.domain.vocab:INFORMANT_ALIASES"),
)
@click.option("--date", "day", metavar="DATE")
@actor_option
def record_screening(case_id: int, scores: str, informant: str, day: str | None, actor: str | None) -> None:
    """Record an SDQ-style screening; prints subscales and bands. 心理筛查。"""
    from casework.domain import sdq
    from casework.domain.inputs import RecordScreening
    from casework.services import assessments

    st = state()
    given = RecordScreening.parse(case_id=case_id, scores=scores, informant=informant, screened_on=day)
    row, result = assessments.screening(st.ctx(), actor, given)
    _recorded(st, case_id, N_("screening"), row)
    for scale, value in result.scores.items():
        click.echo(f"  {st.t(sdq.LABELS[scale])}: {value} ({st.t(sdq.LABELS[result.bands[scale]])})")


@record_group.command("referral")
@case_argument
@click.option(
    "--agency",
    required=True,
    type=Vocab("casework.domain.vocab:REFERRAL_AGENCIES", "casework.domain.vocab:AGENCY_ALIASES"),
    help="police, civil_affairs, womens_federation, procuratorate_minors",
)
@click.option("--summary", required=True)
@click.option("--date", "day", metavar="DATE")
@actor_option
def record_referral(case_id: int, agency: str, summary: str, day: str | None, actor: str | None) -> None:
    """Record an external referral. 转介。"""
    from casework.domain.inputs import RecordReferral
    from casework.services import assessments

    st = state()
    given = RecordReferral.parse(case_id=case_id, agency=agency, summary=summary, referred_on=day)
    row = assessments.referral(st.ctx(), actor, given)
    _recorded(st, case_id, N_("referral"), row)


@record_group.command("result")
@click.argument("child_id", type=ID, metavar="CHILD")
@school_year_option
@click.option("--term", type=TERM, required=True)
@click.option("--total", type=float, required=True, metavar="SCORE", help="Final exam total. 期末总分。")
@click.option("--rank", type=WHOLE, required=True, help="Class rank. 班级名次。")
@click.option("--class-size", type=WHOLE)
@click.option(
    "--subject",
    "subjects",
    multiple=True,
    metavar="SUBJECT=SCORE",
    help="A subject's score, e.g. 数学=58 (repeat for each subject). 单科成绩。",
)
@click.option("--three-good", is_flag=True, help="Named a three-good student. 三好学生。")
@click.option("--violation", is_flag=True, help="A serious disciplinary or legal violation. 严重违纪违法。")
@actor_option
def record_result(
    child_id: int,
    school_year: int,
    term: str,
    total: float,
    rank: int,
    class_size: int | None,
    subjects: tuple[str, ...],
    three_good: bool,
    violation: bool,
    actor: str | None,
) -> None:
    """Record a child's final exam of a term. 期末成绩。"""
    from casework.domain.inputs import RecordTermResult
    from casework.services import pupil_records

    st = state()
    given = RecordTermResult.parse(
        child_id=child_id,
        school_year=school_year,
        term=int(term),
        total=total,
        rank=rank,
        class_size=class_size,
        subjects={k: _score(k, v) for k, v in pairs(subjects, "--subject").items()},
        three_good=three_good,
        serious_violation=violation,
    )
    row = pupil_records.term_result(st.ctx(), actor, given)
    click.echo(st.t("child {id}: exam result recorded (id {row})", id=child_id, row=row))


@record_group.command("enrolment")
@click.argument("child_id", type=ID, metavar="CHILD")
@school_year_option
@click.option("--term", type=TERM, required=True)
@click.option(
    "--status",
    required=True,
    type=Vocab("casework.domain.vocab:ENROLMENT_STATUSES", "casework.domain.vocab:ENROLMENT_ALIASES"),
    help="enrolled 在读, dropped_out 辍学, transferred 转学, suspended 休学",
)
@actor_option
def record_enrolment(child_id: int, school_year: int, term: str, status: str, actor: str | None) -> None:
    """Record whether a child is enrolled in a term (入学率, 巩固率). 在读状态。"""
    from casework.domain.inputs import RecordEnrolment
    from casework.services import pupil_records

    st = state()
    given = RecordEnrolment.parse(child_id=child_id, school_year=school_year, term=int(term), status=status)
    row = pupil_records.enrolment(st.ctx(), actor, given)
    click.echo(st.t("child {id}: enrolment recorded (id {row})", id=child_id, row=row))


@record_group.command("aid")
@click.argument("child_id", type=ID, metavar="CHILD")
@click.option(
    "--kind",
    required=True,
    type=Vocab("casework.domain.vocab:AID_KINDS", "casework.domain.vocab:AID_ALIASES"),
    help="clothing 衣物, stationery 学习用品, meals 餐食, money 助学金, other 其他",
)
@click.option("--description", required=True, help="What was given. 帮助内容。")
@click.option("--date", "day", metavar="DATE", help="Defaults to today. 默认今天。")
@actor_option
def record_aid(child_id: int, kind: str, description: str, day: str | None, actor: str | None) -> None:
    """Record material help given to a child (物质帮助率). 物质帮助。"""
    from casework.domain.inputs import RecordAid
    from casework.services import pupil_records

    st = state()
    given = RecordAid.parse(child_id=child_id, kind=kind, description=description, given_on=day)
    row = pupil_records.aid(st.ctx(), actor, given)
    click.echo(st.t("child {id}: material aid recorded (id {row})", id=child_id, row=row))


@record_group.command("consent")
@click.argument("child_id", type=ID, metavar="CHILD")
@click.option("--guardian", metavar="NAME", help="Who consents (contact data). 监护人姓名。")
@click.option("--relation", metavar="RELATION", help="e.g. 祖父, 母亲. 与儿童关系。")
@click.option("--scope", type=Vocab("casework.domain.consent:CONSENT_SCOPES", "casework.domain.consent:SCOPE_ALIASES"))
@click.option(
    "--on",
    "day",
    metavar="DATE",
    help="When it was given (or withdrawn); defaults to today. 同意（或撤回）的日期，默认今天。",
)
@click.option("--withdraw", is_flag=True, help="Withdraw the consents in force instead. 撤回同意。")
@actor_option
def record_consent(
    child_id: int,
    guardian: str | None,
    relation: str | None,
    scope: str | None,
    day: str | None,
    withdraw: bool,
    actor: str | None,
) -> None:
    """Record (or withdraw) a guardian's consent: counselling records need one. 监护人同意。"""
    from casework.domain.inputs import RecordConsent
    from casework.errors import InvalidInput
    from casework.services import consent

    st = state()
    if withdraw and (guardian or relation):
        raise InvalidInput("--withdraw takes no --guardian or --relation: it withdraws the consents in force")
    if withdraw:
        ids = consent.withdraw(st.ctx(), actor, child_id, withdrawn_on=date_or_none(day, "--on"), scope=scope)
        click.echo(st.t("child {id}: consent withdrawn ({ids})", id=child_id, ids=", ".join(map(str, ids))))
        return
    if not guardian or not relation:
        raise InvalidInput("a consent needs --guardian NAME and --relation (or --withdraw)")
    given = RecordConsent.parse(
        child_id=child_id, guardian=guardian, relation=relation, scope=scope or "all", given_on=day
    )
    row = consent.record(st.ctx(), actor, given)
    click.echo(st.t("child {id}: consent recorded (id {row})", id=child_id, row=row))


def _score(subject: str, text: str) -> float:
    from casework.errors import InvalidInput

    try:
        return float(text)
    except ValueError:
        raise InvalidInput("--subject {subject}: '{value}' is not a score", subject=subject, value=text) from None


COMMANDS = [record_group]
