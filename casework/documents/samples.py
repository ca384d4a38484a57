"""Made-up contexts for every template, in both languages: previews, golden files, the benchmark.

The names carry rare characters (生僻字: 䶮, 𠮷, 堃) on purpose: they must print in every format.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from casework.documents import contexts as c

_ZH = "zh_CN"


def _pick(lang: str, zh: str, en: str) -> str:
    return zh if lang == _ZH else en


def _picker(lang: str) -> Callable[[str, str], str]:
    return lambda zh, en: _pick(lang, zh, en)


def header(lang: str, stage: str, child: str = "王䶮", case_id: int = 7, version: int = 3) -> c.CaseHeader:
    return c.CaseHeader(
        school_name=_pick(lang, "白岩镇中心小学", "Baiyan Town Central Primary School"),
        case_id=case_id,
        case_version=version,
        child_name=child,
        class_name=_pick(lang, "四年级1班", "Grade 4 Class 1"),
        stage=stage,
        as_of=date(2026, 9, 14),
    )


def child_card(lang: str) -> c.ChildCardContext:
    p = _picker(lang)
    return c.ChildCardContext(
        header=header(lang, p("摸底建档", "identified")),
        sex=p("女", "female"),
        birth_date=date(2016, 3, 8),
        student_no="G520321201603080021",
        id_number="520321201603080021",
        boarding=p("否", "no"),
        health=p("良好", "good"),
        home_address="贵州省遵义市白岩镇新村12号",
        family_situation=p("父母均外出", "both parents away"),
        class_teacher="陈老师",
        parents=[
            c.ParentCard(
                p("父亲", "father"), "王建", "13987654321", None, "东莞市某电子厂", "东莞市长安镇", "0769-85551234"
            ),
            c.ParentCard(p("母亲", "mother"), "李芳", "13812345678", None, "深圳市某制衣厂", None, None),
        ],
        guardian=c.GuardianCard(
            "王大山",
            p("祖父", "grandfather"),
            p("务农", "farmer"),
            None,
            "13712345678",
            p("一般", "fair"),
            68,
            p("是", "yes"),
        ),
        opened_on=date(2026, 9, 1),
        teachers=[
            c.TeacherContact(p("班主任", "class teacher"), "陈老师", "13698765432"),
            c.TeacherContact(p("帮扶教师", "mentor"), "李帮扶", None),
        ],
    )


def assessment(lang: str) -> c.AssessmentContext:
    p = _picker(lang)
    return c.AssessmentContext(
        header=header(lang, p("评估分类", "assessed")),
        assessed_on=date(2026, 9, 10),
        assessor="郑心怡",
        summary=p(
            "想念父母，上课注意力不集中，数学成绩下滑。",
            "Misses the parents; attention drifts in class; maths marks falling.",
        ),
        risk_level=p("中", "medium"),
        categories=[
            c.CategoryEvidence(
                p("生活", "life"),
                "family_situation",
                p("中", "medium"),
                [(p("留守类型", "family situation"), p("父母均外出", "both parents away"))],
            ),
            c.CategoryEvidence(
                p("心理", "psychological"),
                "psychological",
                p("中", "medium"),
                [(p("情绪症状", "emotional symptoms"), p("异常", "abnormal"))],
            ),
            c.CategoryEvidence(p("学习", "learning"), p("心理辅导老师", "counsellor"), None, []),
        ],
        screenings=[
            c.ScreeningContext(
                date(2026, 9, 8),
                p("家长", "parent"),
                [
                    c.ScreeningRow(p("情绪症状", "emotional symptoms"), 6, p("异常", "abnormal")),
                    c.ScreeningRow(p("品行问题", "conduct problems"), 1, p("正常", "normal")),
                    c.ScreeningRow(p("困难总分", "total difficulties"), 14, p("临界", "borderline")),
                ],
            )
        ],
    )


def plan(lang: str, education: bool = False) -> c.PlanContext:
    p = _picker(lang)
    items = [
        c.PlanItemContext(
            1,
            p("学习", "learning"),
            p("学习辅导", "tutoring"),
            p("数学", "maths"),
            p("每周二、四课后辅导数学", "Maths tutoring after class on Tuesdays and Thursdays"),
            "陈老师",
            date(2026, 9, 15),
            date(2027, 1, 15),
            p("查漏补缺，订正作业", "Fill the gaps; correct homework together"),
            p("期末数学成绩达到70分", "70 or more in the maths final"),
        ),
        c.PlanItemContext(
            2,
            p("心理", "psychological"),
            p("心理帮扶计划", "psychological help plan"),
            None,
            p("每两周一次个别心理辅导", "A counselling session every two weeks"),
            "郑心怡",
            date(2026, 9, 15),
            None,
            None,
            p("情绪稳定，愿意与同学交往", "Calmer; plays with classmates"),
        ),
    ]
    if education:
        items = [
            c.PlanItemContext(
                1,
                p("品德行为偏差", "conduct"),
                p("个别教育管理方案", "individual education management plan"),
                None,
                p("每周谈心，建立行为契约", "A weekly talk and a behaviour contract"),
                "李帮扶",
                date(2026, 9, 15),
                date(2026, 12, 31),
                p("记录每周表现，及时表扬", "Weekly record of conduct; praise what goes well"),
                p("一学期内无打架行为", "No fighting for a term"),
            )
        ]
    return c.PlanContext(
        header=header(lang, p("个别帮扶计划", "individual plan")),
        created_on=date(2026, 9, 14),
        author="郑心怡",
        needs=[p("学习", "learning"), p("心理", "psychological")],
        risk_level=p("中", "medium"),
        items=items,
        pairings=[c.PairingContext(p("帮扶教师", "mentor"), "李帮扶", date(2026, 9, 15), None)],
        signatures=[
            c.Signatory(p("心理辅导老师", "psychological counsellor"), "郑心怡"),
            c.Signatory(p("班主任", "class teacher"), "陈老师"),
            c.Signatory(p("领导小组组长", "leader"), "周建国"),
        ],
    )


def _entry(lang: str, day: int, kind_zh: str, kind_en: str, summary_zh: str, summary_en: str) -> c.Entry:
    return c.Entry(
        date(2026, 10, day), _pick(lang, kind_zh, kind_en), "陈老师", _pick(lang, summary_zh, summary_en), None
    )


def talk_record(lang: str) -> c.TalkRecordContext:
    p = _picker(lang)
    return c.TalkRecordContext(
        header=header(lang, p("结对帮扶", "mentored")),
        month="2026-10",
        class_teacher="陈老师",
        mentor="李帮扶",
        talks=[
            _entry(lang, 9, "谈心", "talk", "谈国庆假期生活，想念妈妈", "The holiday; misses her mother"),
            _entry(lang, 23, "谈心", "talk", "数学单元测验进步，给予表扬", "Better maths test; praised"),
        ],
        blank_rows=2,
    )


def parent_feedback(lang: str) -> c.ParentFeedbackContext:
    p = _picker(lang)
    return c.ParentFeedbackContext(
        header=header(lang, p("结对帮扶", "mentored")),
        month="2026-10",
        to_names=["王建", "李芳"],
        guardian_name="王大山",
        sender="李帮扶",
        sender_role=p("帮扶教师", "mentor"),
        talks=2,
        home_visits=1,
        calls_home=4,
        letters=1,
        feedback=[
            _entry(
                lang,
                30,
                "家长反馈",
                "parent feedback",
                "电话告知孩子本月进步情况",
                "Phoned about this month's progress",
            )
        ],
        targets=[(p("学习", "learning"), p("期末数学成绩达到70分", "70 or more in the maths final"))],
        written_on=date(2026, 10, 31),
    )


def stage_review(lang: str) -> c.StageReviewContext:
    p = _picker(lang)
    return c.StageReviewContext(
        header=header(lang, p("阶段性评估", "reviewed")),
        reviewed_on=date(2027, 1, 12),
        reviewer="郑心怡",
        summary=p("学习和情绪均有进步", "Progress in learning and mood"),
        rows=[
            c.ReviewRow(
                1,
                p("学习", "learning"),
                p("每周二、四课后辅导数学", "Maths tutoring"),
                p("期末数学成绩达到70分", "70 in maths"),
                p("达成", "target met"),
                p("期末数学72分", "72 in the maths final"),
            ),
            c.ReviewRow(
                2,
                p("心理", "psychological"),
                p("每两周一次个别心理辅导", "Counselling"),
                p("情绪稳定", "Calmer"),
                p("部分达成", "target partly met"),
                p("偶有情绪低落", "Low moods now and then"),
            ),
        ],
        decision=p("继续帮扶", "continue"),
        decision_reason=p("巩固效果", "Keep the progress going"),
        decided_on=date(2027, 1, 14),
        decided_by="周建国",
    )


def closing_report(lang: str) -> c.ClosingContext:
    p = _picker(lang)
    return c.ClosingContext(
        header=header(lang, p("已结案", "closed")),
        opened_on=date(2026, 9, 1),
        closed_on=date(2027, 6, 30),
        closed_by="周建国",
        reason=p("父母返乡", "The parents came home"),
        needs=[p("学习", "learning"), p("心理", "psychological")],
        history=[
            c.StageSpan(p("摸底建档", "identified"), date(2026, 9, 1), date(2026, 9, 3)),
            c.StageSpan(p("评估分类", "assessed"), date(2026, 9, 3), date(2026, 9, 14)),
            c.StageSpan(p("结对帮扶", "mentored"), date(2026, 9, 15), date(2027, 6, 30)),
        ],
        counts=[(p("谈心", "talk"), 9), (p("家访", "home visit"), 2), (p("家长反馈", "parent feedback"), 9)],
        last_results=[(p("学习", "learning"), p("达成", "target met"))],
    )


def meeting(lang: str, minutes: bool = False) -> c.MeetingContext:
    p = _picker(lang)
    return c.MeetingContext(
        school_name=p("白岩镇中心小学", "Baiyan Town Central Primary School"),
        meeting_id=3,
        held_on=date(2026, 11, 5),
        title=p("十一月停滞个案研判", "November: stalled cases"),
        members=[c.Person("周建国", p("组长", "leader")), c.Person("吴秀兰", p("副组长", "deputy leader"))],
        items=[
            c.MeetingItemContext(
                7,
                "王䶮",
                p("四年级1班", "Grade 4 Class 1"),
                p("结对帮扶", "mentored"),
                [p("班主任谈心逾期12天", "The class teacher's monthly talk is 12 days overdue")],
                "陈老师",
                p("延期", "extend") if minutes else None,
                p("班主任病假", "The class teacher was on sick leave") if minutes else None,
                date(2026, 11, 20) if minutes else None,
            ),
            c.MeetingItemContext(
                12,
                "李𠮷",
                p("五年级2班", "Grade 5 Class 2"),
                p("评估分类", "assessed"),
                [p("评估逾期5天", "Assessment 5 days overdue")],
                None,
                None,
                None,
                None,
            ),
        ],
    )


_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="120" viewBox="0 0 320 120">'
    '<rect x="10" y="20" width="280" height="24" fill="#4a7"/><rect x="10" y="64" width="196" height="24" fill="#d84"/>'
    "</svg>"
)


def indicator_report(lang: str) -> c.IndicatorReportContext:
    p = _picker(lang)
    return c.IndicatorReportContext(
        school_name=p("白岩镇中心小学", "Baiyan Town Central Primary School"),
        period=p("2026年秋季学期", "autumn term 2026"),
        generated_on=date(2026, 11, 30),
        rows=[
            c.IndicatorRow(p("全校", "school"), p("建档率", "file rate"), 64, 64, 1.0, 1.0),
            c.IndicatorRow(p("全校", "school"), p("月谈心覆盖率", "monthly talk coverage"), 45, 64, 45 / 64, 1.0),
            c.IndicatorRow(p("四年级1班", "Grade 4 Class 1"), p("物质帮助率", "material-aid rate"), 0, 0, None, 1.0),
        ],
        charts=[c.Chart(p("各项指标完成率", "Indicator rates"), _SVG)],
        stalled_by_stage=[(p("结对帮扶", "mentored"), 3), (p("评估分类", "assessed"), 1)],
        stalled_by_responsible=[("陈老师", 2), ("郑心怡", 2)],
        survey=p(
            "建档率以2026-09-10的摸底为准：612名学生中留守儿童64名",
            "file rate against the survey of 2026-09-10: 64 left-behind children among 612 pupils",
        ),
        closures=[(p("父母返乡", "parents returned home"), 2), (p("转学", "transferred to another school"), 1)],
        family_situations=[
            (p("父母均外出", "both parents away"), 30),
            (p("一方外出", "one parent away"), 22),
            (p("离异单亲", "divorced single parent"), 8),
            (p("隔代监护", "grandparent care"), 4),
        ],
    )


def county_report(lang: str) -> c.CountyReportContext:
    p = _picker(lang)
    a, b = p("白岩镇中心小学", "Baiyan Town Central Primary School"), p("石桥乡小学", "Shiqiao Township Primary School")
    return c.CountyReportContext(
        period="2026-10",
        generated_on=date(2026, 11, 30),
        indicators=[p("建档率", "file rate"), p("谈心谈话覆盖率", "talk coverage")],
        schools=[
            c.CountySchoolRow(a, ["58/60 96.7% (1)", "40/52 76.9% (2)"], 52, 3, "1240.00"),
            c.CountySchoolRow(b, ["30/35 85.7% (2)", "33/34 97.1% (1)"], 34, 0, "—"),
        ],
        rankings=[(p("建档率", "file rate"), [a, b]), (p("谈心谈话覆盖率", "talk coverage"), [b, a])],
    )


def evaluation_report(lang: str) -> c.EvaluationReportContext:
    p = _picker(lang)
    return c.EvaluationReportContext(
        school_name=p("白岩镇中学", "Baiyan Town Middle School"),
        school_year=p("2026—2027学年", "2026–2027"),
        scope=p("七年级起、未满18岁的留守儿童", "left-behind children from grade 7 until they turn 18"),
        generated_on=date(2027, 7, 10),
        pupils=[
            c.EvaluationPupilRow(
                "王䶮",
                p("7年级1班", "7/1"),
                p("第一学期期末", "first term"),
                12,
                4,
                8,
                110,
                p("优秀奖、进步奖", "excellence, progress"),
                45,
            ),
            c.EvaluationPupilRow(
                "李想", p("7年级1班", "7/1"), p("无", "none"), None, 1, 0, 20, p("第一名", "first place"), 100
            ),
        ],
        staff=[
            c.EvaluationStaffRow("李帮扶", p("帮扶教师", "mentor"), None, 2, "130", "130"),
            c.EvaluationStaffRow("陈老师", p("班主任", "class teacher"), p("7年级1班", "7/1"), 2, "65.00", "65.00"),
        ],
        excluded=[("赵小兵", p("6年级2班", "6/2"), p("未到七年级", "below grade 7"))],
        pupils_yuan=145,
        staff_yuan="195.00",
        total_yuan="340.00",
        signatures=[
            c.Signatory(p("制表人", "Prepared by"), "周建国"),
            c.Signatory(p("领导小组组长", "Leader"), None),
            c.Signatory(p("财务室", "Finance office"), None),
        ],
    )


def term_summary(lang: str) -> c.TermSummaryContext:
    p = _picker(lang)
    return c.TermSummaryContext(
        school_name=p("白岩镇中心小学", "Baiyan Town Central Primary School"),
        term=p("2026—2027学年第1学期", "school year 2026–2027, term 1"),
        start=date(2026, 9, 1),
        end=date(2027, 1, 15),
        generated_on=date(2027, 1, 16),
        sections=[
            c.SummarySection(p("档案", "files"), [(p("已建档儿童", "children on file"), "64")]),
            c.SummarySection(
                p("学校关爱活动", "school-wide care"),
                [
                    (p("帮扶教师、留守儿童、监护人座谈会", "seminars"), p("1（计划要求1）", "1 (the plans ask 1)")),
                    (p("留守少儿之星评选", "selections of stars"), p("2（计划要求2）", "2 (the plans ask 2)")),
                ],
            ),
        ],
        indicators=[c.IndicatorRow(p("全校", "school"), p("建档率", "file rate"), 60, 64, 60 / 64, 1.0)],
        signatures=[c.Signatory(p("领导小组组长", "Leader"), None), c.Signatory(p("制表人", "Prepared by"), None)],
    )


def sample(template: str, lang: str) -> object:
    """A made-up context for ``template`` in ``lang``."""
    builders: dict[str, Callable[[str], object]] = {
        "child_card": child_card,
        "assessment": assessment,
        "individual_plan": plan,
        "education_plan": lambda lang: plan(lang, education=True),
        "talk_record": talk_record,
        "parent_feedback": parent_feedback,
        "stage_review": stage_review,
        "closing_report": closing_report,
        "meeting_agenda": meeting,
        "meeting_minutes": lambda lang: meeting(lang, minutes=True),
        "indicator_report": indicator_report,
        "evaluation_report": evaluation_report,
        "county_report": county_report,
        "term_summary": term_summary,
    }
    return builders[template](lang)
