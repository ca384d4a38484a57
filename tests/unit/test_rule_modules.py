"""Each built-in rule module, table-driven on pure facts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from casework.domain.calendar import SchoolCalendar, Term, default_terms
from casework.domain.facts import AssessmentFacts, CaseFacts, PlanItemFacts, TermFacts
from casework.rules import classify, duties, evaluate, refusals, risk_level
from casework.rules.academic_slide import AcademicSlide
from casework.rules.conduct import Conduct
from casework.rules.deadlines import Deadlines
from casework.rules.engine import requirements, satisfied
from casework.rules.family_situation import FamilySituation
from casework.rules.obligations import Obligations
from casework.rules.psychological import Psychological
from casework.rules.suspected_illegal import SuspectedIllegal


def case(state: str = "mentored", **kw: object) -> CaseFacts:
    base: dict[str, object] = {
        "case_id": 1,
        "school_id": 1,
        "state": state,
        "version": 4,
        "today": date(2026, 10, 10),
        "opened_on": date(2026, 9, 2),
        "state_since": date(2026, 9, 20),
    }
    base.update(kw)
    return CaseFacts(**base)  # type: ignore[arg-type]


FAMILY = [
    ("both_away", None, None, None, "medium", []),
    ("grandparent_care", 70, None, None, "high", ["guardian_old"]),
    ("grandparent_care", 69, None, None, "medium", []),
    ("one_away", None, "体弱多病", None, "medium", ["guardian_poor_health"]),
    ("divorced_single", 75, "较差", False, "high", ["guardian_old", "guardian_poor_health", "guardian_cannot_read"]),
    ("both_away", 80, "差", False, "high", ["guardian_old", "guardian_poor_health", "guardian_cannot_read"]),
    ("other", 80, None, None, None, None),
    (None, None, None, None, None, None),
]


@pytest.mark.parametrize(("situation", "age", "health", "literate", "risk", "factors"), FAMILY)
def test_family_situation(situation, age, health, literate, risk, factors) -> None:
    facts = AssessmentFacts(
        family_situation=situation, guardian_age=age, guardian_health=health, guardian_literate=literate
    )
    found = FamilySituation().classify(facts)
    if risk is None:
        assert found == ()
    else:
        (category,) = found
        assert (category.code, category.risk, category.evidence["guardian_factors"]) == ("life", risk, factors)


def terms(*pairs: tuple[float, int], subjects: dict[str, float] | None = None) -> tuple[TermFacts, ...]:
    out = []
    for i, (total, rank) in enumerate(pairs):
        out.append(TermFacts(2025 + (i // 2), 1 + i % 2, total, rank, subjects or {}))
    return tuple(out)


SLIDES = [
    (terms((500, 5), (495, 15)), True),  # exactly 10 ranks lost
    (terms((500, 5), (495, 14)), False),  # 9 ranks
    (terms((500, 5), (425, 6)), True),  # exactly 15 percent
    (terms((500, 5), (426, 6)), False),  # 14.8 percent
    (terms((500, 20), (520, 3)), False),  # rising
    (terms((500, 5)), False),  # one term only
    (terms((400, 30), (500, 5), (495, 16)), True),  # only the last two terms count
]


@pytest.mark.parametrize(("results", "slides"), SLIDES)
def test_academic_slide_classification(results, slides: bool) -> None:
    found = AcademicSlide().classify(AssessmentFacts(term_results=results))
    assert bool(found) is slides


def test_academic_slide_parameters() -> None:
    results = terms((500, 5), (495, 10))
    assert AcademicSlide({"rank_drop": 5}).classify(AssessmentFacts(term_results=results))
    assert not AcademicSlide().classify(AssessmentFacts(term_results=results))


def test_academic_slide_plan_needs_a_tutor_per_weak_subject_a_helper_and_a_record() -> None:
    module = AcademicSlide()
    facts = case(
        "individual_plan",
        categories=("academic_slide",),
        term_results=terms((500, 5), (420, 20), subjects={"数学": 52, "语文": 75, "英语": 59.5}),
    )
    codes = [r.code for r in requirements(module, facts)]
    assert codes == ["tutoring:数学", "tutoring:英语", "study_helper", "progress_record"]
    item = PlanItemFacts(1, "academic_slide", True, True, True, True, kind="tutoring", subject="数学")
    ready = case(
        "individual_plan",
        categories=("academic_slide",),
        term_results=facts.term_results,
        plan_items=(item,),
        active_pairings=frozenset({"study_helper"}),
    )
    assert [r.code for r in requirements(module, ready) if not satisfied(r, ready)] == [
        "tutoring:英语",
        "progress_record",
    ]
    verdicts = evaluate([module], "mentor", ready)
    assert [v.code for v in refusals(verdicts)] == ["plan_requirements_missing"]


def test_academic_slide_review_compares_ranks() -> None:
    facts = case(
        "reviewed",
        categories=("academic_slide",),
        term_results=terms((500, 5), (420, 20), (470, 12)),
        reason_given=True,
    )
    (verdict,) = AcademicSlide().check("continue", facts)
    assert verdict.passed and verdict.facts["ranks"] == [20, 12]


def test_psychological_classifies_on_bands_or_counsellor() -> None:
    module = Psychological()
    screening = {"informant": "teacher", "bands": {"total": "abnormal", "peer": "normal"}}
    (found,) = module.classify(AssessmentFacts(screening=screening))
    assert found.code == "psychological" and found.risk == "high" and found.evidence["scales"] == ["total"]
    assert not module.classify(AssessmentFacts(screening={"bands": {"total": "borderline"}}))
    assert Psychological({"trigger_bands": ["borderline", "abnormal"]}).classify(
        AssessmentFacts(screening={"bands": {"total": "borderline"}})
    )
    assert module.classify(AssessmentFacts(indicated=frozenset({"psychological"})))


def test_psychological_session_every_14_days_while_mentored() -> None:
    module = Psychological()
    facts = case(categories=("psychological",), last_contacts={"counselling": date(2026, 10, 1)})
    (duty,) = module.obligations(facts)
    assert (duty.code, duty.due, duty.responsible_role) == ("counselling_session", date(2026, 10, 15), "counsellor")
    (first,) = module.obligations(case(categories=("psychological",)))
    assert first.due == date(2026, 10, 4)  # 14 days after entering mentored
    assert module.obligations(case("reviewed", categories=("psychological",))) == ()
    # a session due in the winter holiday moves into the next term
    (winter,) = module.obligations(
        case(categories=("psychological",), last_contacts={"counselling": date(2027, 1, 10)})
    )
    assert winter.due == date(2027, 3, 1)  # 15 February + 14 days


def test_conduct_needs_a_management_plan_and_fortnightly_talks() -> None:
    module = Conduct()
    found = module.classify(AssessmentFacts(indicated=frozenset({"moral", "conduct", "learning"})))
    assert sorted(c.code for c in found) == ["conduct", "moral"]
    facts = case("individual_plan", categories=("moral",))
    assert [r.item_kind for r in requirements(module, facts)] == ["correction"]
    (talk,) = module.obligations(case(categories=("conduct",), last_contacts={"talk": date(2026, 10, 5)}))
    assert talk.due == date(2026, 10, 19)


def test_suspected_illegal_flag_referral_and_leaders_close() -> None:
    module = SuspectedIllegal()
    (found,) = module.classify(AssessmentFacts(indicated=frozenset({"suspected_illegal"})))
    assert (found.risk, found.flag) == ("critical", "critical")
    plan = case("assessed", categories=("suspected_illegal",), assessments=1)
    assert [v.code for v in refusals(evaluate([module], "plan", plan))] == ["referral_missing"]
    referred = case("assessed", categories=("suspected_illegal",), referrals=("police",))
    assert not refusals(evaluate([module], "plan", referred))
    assert not refusals(evaluate([SuspectedIllegal({"agencies": ["police"]})], "plan", referred))
    assert refusals(evaluate([SuspectedIllegal({"agencies": ["civil_affairs"]})], "plan", referred))
    by_counsellor = case(categories=("suspected_illegal",), reason_given=True, actor_roles=frozenset({"counsellor"}))
    assert [v.code for v in refusals(evaluate([module], "close", by_counsellor))] == ["leader_decision_missing"]
    by_deputy = case(categories=("suspected_illegal",), reason_given=True, actor_roles=frozenset({"deputy"}))
    assert not refusals(evaluate([module], "close", by_deputy))


def test_suspected_illegal_acknowledgement_due_at_once_late_after_two_days() -> None:
    module = SuspectedIllegal()
    raised = case(flags={"critical": None}, flags_raised={"critical": date(2026, 10, 9)})
    (duty,) = module.obligations(raised)
    assert (duty.due, duty.responsible_role) == (date(2026, 10, 9), "leader")  # the leadership is told at once
    assert (duty.grace_days, duty.overdue_on, duty.escalates) == (2, date(2026, 10, 12), False)
    acked = case(flags={"critical": date(2026, 10, 10)}, flags_raised={"critical": date(2026, 10, 9)})
    assert module.obligations(acked) == ()


def test_obligations_by_calendar_month_term_and_week() -> None:
    module = Obligations()
    # in mentored since Sunday 20 September; a talk on 1 October, a home visit on 20 September
    facts = case(last_contacts={"talk@class_teacher": date(2026, 10, 1), "home_visit": date(2026, 9, 20)})
    by_code = {d.code: d for d in module.obligations(facts)}
    assert by_code["monthly_talk"].due == date(2026, 11, 30)  # talked in October: due by the end of November
    assert by_code["parent_feedback"].due == date(2026, 9, 30)  # never: by the end of the stage's first month
    assert by_code["home_visit"].due == date(2027, 7, 5)  # done this term: due by the end of the next
    assert by_code["family_phone"].due == date(2026, 9, 20)  # the Sunday of the week the stage began
    assert set(by_code) == {"monthly_talk", "parent_feedback", "home_visit", "family_phone"}
    grace = {code: d.grace_days for code, d in by_code.items()}
    assert grace == {"monthly_talk": 5, "parent_feedback": 5, "home_visit": 7, "family_phone": 2}
    assert by_code["monthly_talk"].overdue_on == date(2026, 12, 6) and by_code["monthly_talk"].escalates
    assert {d.code for d in Obligations({"family_phone": False}).obligations(facts)} == {
        "monthly_talk",
        "parent_feedback",
        "home_visit",
    }
    assert Obligations().obligations(case("identified")) == ()


def test_the_duties_follow_whether_the_child_boards() -> None:
    """篇4: boarders are talked with often, a day pupil's guardian is visited regularly."""
    seen = {"talk@class_teacher": date(2026, 10, 1), "home_visit": date(2026, 9, 20)}
    boarder = {d.code: d for d in Obligations().obligations(case(boarding=True, last_contacts=seen))}
    assert boarder["boarder_talk"].due == date(2026, 10, 15) and "monthly_talk" not in boarder
    assert boarder["home_visit"].due == date(2027, 7, 5)  # the termly visit stays
    day = {d.code: d for d in Obligations().obligations(case(boarding=False, last_contacts=seen))}
    assert day["monthly_talk"].due == date(2026, 11, 30) and "home_visit" not in day  # the calendar month
    assert (day["guardian_visit"].due, day["guardian_visit"].rhythm_days) == (date(2026, 11, 19), 60)
    unknown = {d.code for d in Obligations().obligations(case(last_contacts=seen))}
    assert {"monthly_talk", "home_visit"} <= unknown and not {"boarder_talk", "guardian_visit"} & unknown
    own = {d.code: d for d in Obligations({"boarder_talk_days": 7}).obligations(case(boarding=True))}
    assert own["boarder_talk"].rhythm_days == 7


@pytest.mark.parametrize(
    ("talked", "due"),
    [
        (date(2026, 9, 30), date(2026, 10, 31)),  # the last day of September counts for September
        (date(2026, 10, 1), date(2026, 11, 30)),  # a rolling 30 days would say 31 October
        (date(2026, 10, 31), date(2026, 11, 30)),
        (date(2026, 11, 30), date(2026, 12, 31)),
    ],
)
def test_a_monthly_duty_is_due_by_the_end_of_the_next_calendar_month(talked: date, due: date) -> None:
    facts = case(today=talked, last_contacts={"talk@class_teacher": talked})
    (talk,) = [d for d in Obligations().obligations(facts) if d.code == "monthly_talk"]
    assert talk.due == due


def test_the_weekly_family_phone_runs_monday_to_sunday() -> None:
    called = case(today=date(2026, 10, 7), last_contacts={"call_home": date(2026, 10, 7)})  # a Wednesday
    (phone,) = [d for d in Obligations().obligations(called) if d.code == "family_phone"]
    assert phone.due == date(2026, 10, 18) and phone.overdue_on == date(2026, 10, 21)  # next week's Sunday + 2


def test_grace_per_duty_from_the_settings() -> None:
    from casework.errors import InvalidInput

    module = Obligations({"grace_days": {"family_phone": 0}})
    (phone,) = [d for d in module.obligations(case()) if d.code == "family_phone"]
    assert phone.grace_days == 0 and module.params["grace_days"]["monthly_talk"] == 5
    with pytest.raises(InvalidInput):
        Obligations({"grace_days": {"call_home": 3}})
    with pytest.raises(InvalidInput):
        Obligations({"grace_days": {"family_phone": -1}})


def test_no_monthly_duty_falls_due_in_a_holiday() -> None:
    facts = case(last_contacts={"talk@class_teacher": date(2026, 12, 20)})
    (talk,) = [d for d in Obligations().obligations(facts) if d.code == "monthly_talk"]
    assert talk.due == date(2027, 3, 1)  # 31 January is in the winter holiday: 15 February + 14 days
    calendar = SchoolCalendar(
        (Term("秋", date(2026, 9, 1), date(2027, 1, 20)), Term("春", date(2027, 2, 20), date(2027, 7, 1)))
    )
    (talk,) = [
        d
        for d in Obligations().obligations(
            case(last_contacts={"talk@class_teacher": date(2026, 12, 20)}, calendar=calendar)
        )
        if d.code == "monthly_talk"
    ]
    assert talk.due == date(2027, 3, 6)


@pytest.mark.parametrize(
    ("state", "since", "due"),
    [
        ("identified", date(2026, 9, 1), date(2026, 9, 15)),
        ("assessed", date(2026, 9, 1), date(2026, 9, 15)),
        ("individual_plan", date(2026, 9, 1), date(2026, 9, 8)),
        ("mentored", date(2026, 9, 1), date(2026, 12, 30)),  # 120 days
        ("mentored", date(2026, 10, 1), date(2027, 1, 15)),  # the term's end comes first
        ("reviewed", date(2026, 9, 1), date(2026, 9, 15)),
        ("closed", date(2026, 9, 1), None),
    ],
)
def test_stage_deadlines(state: str, since: date, due: date | None) -> None:
    deadline = Deadlines().deadline(case(state, state_since=since))
    assert (deadline.due if deadline else None) == due
    if deadline is not None:  # a passed stage deadline is for the leadership at once, not the ladder
        assert not deadline.escalates and deadline.overdue_on == due + timedelta(days=1)


def test_duties_name_their_rule_and_a_failing_module_refuses() -> None:
    from casework.rules import RuleModule
    from casework.rules.engine import ModuleFailed
    from casework.text import Msg

    found = duties([Deadlines(), Psychological()], case(categories=("psychological",)))
    assert {(d.rule, d.code) for d in found} == {
        ("deadlines", "stage_deadline:mentored"),
        ("psychological", "counselling_session"),
    }

    class Broken(RuleModule):
        name, version, description = "broken", "1", Msg("x")

        def obligations(self, facts):
            raise KeyError

    with pytest.raises(ModuleFailed) as failed:
        duties([Broken()], case())
    assert failed.value.verdict.rule == "broken"


def test_risk_is_the_highest_found() -> None:
    found = classify(
        [FamilySituation(), SuspectedIllegal()],
        AssessmentFacts(family_situation="one_away", indicated=frozenset({"suspected_illegal"})),
    )
    assert risk_level(found) == "critical" and {c.rule for c in found} == {"family_situation", "suspected_illegal"}


def test_default_calendar() -> None:
    autumn, spring = default_terms(2026)
    calendar = SchoolCalendar()
    assert calendar.term_of(date(2026, 12, 1)) == autumn and calendar.term_of(date(2027, 3, 1)) == spring
    assert calendar.in_holiday(date(2027, 2, 1)) and calendar.in_holiday(date(2027, 8, 1))
    assert calendar.school_year(date(2027, 3, 1)) == 2026
