"""The demonstration: a realistic school whose cases go through every stage, on a fresh SQLite file."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from casework import i18n, states
from casework.domain.inputs import (
    AddPlanItem,
    PairPartner,
    RecordAid,
    RecordAssessment,
    RecordConsent,
    RecordContact,
    RecordEnrolment,
    RecordReferral,
    RecordScreening,
    RecordTermResult,
    ReviewPlanItem,
)
from casework.errors import PermissionDenied, TransitionRefused
from casework.persistence import crypto
from casework.persistence.db import Database
from casework.services import (
    accounts,
    assessments,
    cases,
    children,
    consent,
    ladder,
    mentoring,
    plans,
    pupil_records,
    review,
    rules_info,
    setup,
)
from casework.services.audit import chain
from casework.services.context import Context
from casework.text import Msg

SCHOOL = "白岩镇中心小学"
GRADES = {4: ("1班", "2班", "3班"), 5: ("1班", "2班", "3班")}
CONSENT_LATE = 4  # the child whose guardian's consent form comes back late
ASSESSMENT_SUMMARY = "父母长期在外务工，由祖辈照料；评估学习与心理需求。"


class StepClock:
    """A clock a little further at every reading, that jumps forward to a case's planned day."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now

    def jump(self, day: date) -> None:
        self.now = max(self.now, datetime.combine(day, time(8, 0), UTC))


# The story the leadership group finds on the demo's last day (today): most cases on track, some
# duties due, a few overdue, three stalled for a reason of their own, one of them critical.
CRITICAL = 10  # suspected illegal behaviour; the leader is away and the flag waits
STUCK = 3  # no mentor will take the child: the plan stage's deadline passes, the move refused twice
SILENT = 12  # the class teacher has not talked with the child since the mentoring began
SLIPPING = {"psychological": 1, "conduct": 1}  # the first such mentored case: its sessions lapse
# Days before the last day that each depth's case starts: the deep ones early, the new ones late.
START_DAYS = {7: 75, 6: 70, 4: 60, 5: 10, 3: 4, 2: 3, 1: 8, 0: 5}


@dataclass
class Refusal:
    code: str
    case_id: int
    event: str
    reasons: list[str]


LEADER, COUNSELLOR = "周建国", "郑心怡"


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in for the web application: its one-time password is printed once, with the demo."""

    login: str
    password: str
    name: str
    role: str


@dataclass
class DemoReport:
    path: str
    school: str
    children: int
    staff: int
    by_state: list[tuple[str, int]]
    audit_events: int
    refusals: list[Refusal] = field(default_factory=list)
    stalled: int = 0
    due: int = 0
    overdue: int = 0
    open_cases: int = 0
    stalled_reasons: list[tuple[int, list[str]]] = field(default_factory=list)  # case, reason codes
    as_of: str = ""  # the demo's last day, today
    leader: str = ""  # names to try the read commands with (--as): they see the whole school
    counsellor: str = ""
    consent_refusal: str | None = None  # the counselling record refused while a consent form was out
    accounts: list[DemoAccount] = field(default_factory=list)


def _fresh(path: str) -> crypto.KeyRing:
    """Remove an earlier demo database and its key; a new key file beside the new one (mode 0600)."""
    for suffix in ("", "-wal", "-shm", "-journal", ".key"):
        Path(path + suffix).unlink(missing_ok=True)
    key = crypto.Key.generate()
    crypto.write_key_file(Path(path + ".key"), key)
    return crypto.KeyRing(key, source=path + ".key")


def run(
    path: str,
    children: int = 64,
    seed: int = 2026,
    lang: str = "zh_CN",
    progress: Callable[[str], None] | None = None,
    today: date | None = None,
) -> DemoReport:
    """The demo school, built so that its last day is ``today`` (the system's date by default): the
    lists asked for afterwards tell the story the demo was built to tell."""
    from faker import Faker

    ring = _fresh(path)
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    end = today or datetime.now(UTC).date()
    clock = StepClock(datetime.combine(end - timedelta(days=80), time(8, 0), UTC), timedelta(seconds=3))
    ctx = Context(db=Database(path, keyring=ring), clock=clock, lang=lang)
    say = progress or (lambda _text: None)
    try:
        return _build(ctx, path, children, rng, fake, say, clock, end)
    finally:
        ctx.db.dispose()


def _address(fake: Any) -> str:
    return re.sub(r"\s*\d{6}$", "", fake.address())


def plan_day(i: int, end: date) -> date:
    """The day child ``i``'s case starts: by its depth, with the stuck case a week and more late."""
    days = 12 if i == STUCK else 6 if i == CRITICAL else START_DAYS[i % 8] + (i // 8) % 3
    return end - timedelta(days=days)


def _build(
    ctx: Context,
    path: str,
    n_children: int,
    rng: random.Random,
    f: Any,
    say: Callable[[str], None],
    clock: StepClock,
    end: date,
) -> DemoReport:
    init = setup.init(ctx, admin="赵校务", school=SCHOOL)
    admin = str(init.admin_id)
    say(i18n.render(Msg("creating classes and staff"), ctx.lang))
    class_refs = []
    for grade, names in GRADES.items():
        for name in names:
            setup.add_class(ctx, admin, grade, name)
            class_refs.append(f"{grade}/{name}")
    staff = {
        "leader": setup.add_staff(ctx, admin, LEADER, ["leader"]),
        "deputy": setup.add_staff(ctx, admin, "吴秀兰", ["deputy"]),
        "counsellor": setup.add_staff(ctx, admin, COUNSELLOR, ["counsellor"]),
        "auditor": setup.add_staff(ctx, admin, "冯审之", ["auditor"]),
        "bureau": setup.add_staff(ctx, admin, "王立新", ["bureau"]),  # sees the school's counts, no child
    }
    class_teachers = {
        ref: setup.add_staff(ctx, admin, f.name(), ["class_teacher", "subject_teacher"], ref) for ref in class_refs
    }
    mentors = [setup.add_staff(ctx, admin, f.name(), ["mentor"]) for _ in range(8)]
    for _ in range(3):
        setup.add_staff(ctx, admin, f.name(), ["subject_teacher"])
    caring_parents = [setup.add_staff(ctx, admin, f.name(), ["caring_parent"]) for _ in range(4)]
    counsellor = str(staff["counsellor"])
    leader = str(staff["leader"])

    say(i18n.render(Msg("adding children and their contact cards"), ctx.lang))
    situations = ["both_away", "both_away", "one_away", "grandparent_care", "divorced_single"]
    child_ids = []
    guardians: dict[int, tuple[str, str]] = {}
    boarders: set[int] = set()
    for i in range(n_children):
        ref = class_refs[i % len(class_refs)]
        grade = int(ref.split("/")[0])
        birth = date(2026 - grade - 6, rng.randint(1, 12), rng.randint(1, 28))
        surname = f.last_name()
        card = {
            "sex": rng.choice(["男", "女"]),
            "birth_date": birth.isoformat(),
            "student_no": f"G{birth.year}{i + 1:05d}",
            "boarding": rng.choice(["是", "否", "否"]),
            "health": rng.choice(["健康", "健康", "健康", "过敏性鼻炎", "体弱"]),
            "home_address": _address(f),
            "family_situation": rng.choice(situations),
            "father_name": surname + f.first_name_male(),
            "father_phone": f.phone_number(),
            "father_workplace": f.company(),
            "father_workplace_address": _address(f),
            "mother_name": f.name_female(),
            "mother_phone": f.phone_number(),
            "guardian_name": surname + f.first_name(),
            "guardian_relation": rng.choice(["祖父", "祖母", "外祖母", "外祖父", "姑姑"]),
            "guardian_occupation": "务农",
            "guardian_address": _address(f),
            "guardian_phone": f.phone_number(),
            "guardian_health": rng.choice(["良好", "一般", "较差"]),
            "guardian_age": str(rng.randint(52, 78)),
        }
        if i % 11 == 5:  # some cards arrive incomplete from the survey
            del card["guardian_phone"], card["home_address"]
        name = surname + f.first_name()
        child_id = children.add(ctx, str(class_teachers[ref]), {"name": name, **card}, ref)
        guardians[child_id] = (card["guardian_name"], card["guardian_relation"])
        # The guardian's consent, collected with the survey: no counselling record is written without it.
        # One form comes back late, and the counsellor's first assessment is refused meanwhile.
        if i != CONSENT_LATE:
            _consent(ctx, str(class_teachers[ref]), child_id, guardians[child_id])
        child_ids.append(child_id)
        if card["boarding"] == "是":
            boarders.add(i)

    say(i18n.render(Msg("taking cases through the stages"), ctx.lang))
    report_refusals: list[Refusal] = []

    def attempt(case_id: int, event: str, actor: str, reason: str | None = None) -> bool:
        try:
            cases.advance(ctx, actor, case_id, event, reason)
            return True
        except TransitionRefused as exc:
            first = exc.verdicts[0].code if exc.verdicts else ""
            if first not in {r.code for r in report_refusals} and len(report_refusals) < 4:
                report_refusals.append(
                    Refusal(
                        first,
                        case_id,
                        i18n.render(states.EVENT_LABELS[event], ctx.lang),
                        [i18n.render(v.message, ctx.lang) for v in exc.verdicts],
                    )
                )
            return False

    indications = ["learning", "life", "psychological", "conduct"]
    consent_refusal: str | None = None
    case_ids: dict[int, int] = {}
    mentor_of: dict[int, str] = {}

    def take(i: int, child_id: int) -> None:
        """One child's case, taken as far as its depth on its planned day (most end on track)."""
        nonlocal consent_refusal
        ref = class_refs[i % len(class_refs)]
        teacher = str(class_teachers[ref])
        # Last school year's final exams: some children slid badly, which the rules will find.
        rank1 = rng.randint(1, 40)
        rank2 = min(45, rank1 + (rng.randint(10, 20) if i % 5 == 2 else rng.randint(-6, 4)))
        for term, rank in ((1, rank1), (2, max(1, rank2))):
            maths = rng.randint(45, 98)
            pupil_records.term_result(
                ctx,
                teacher,
                RecordTermResult(
                    child_id=child_id,
                    school_year=2025,
                    term=term,
                    total=float(300 - rank * 3),
                    rank=rank,
                    class_size=45,
                    subjects={"语文": float(rng.randint(60, 98)), "数学": float(maths)},
                    three_good=term == 2 and rank <= 3,
                    serious_violation=False,
                ),
            )
        # This year's enrolment (one child left school) and some material help, for the indicators.
        pupil_records.enrolment(
            ctx,
            teacher,
            RecordEnrolment(
                child_id=child_id, school_year=2026, term=1, status="dropped_out" if i == 7 else "enrolled"
            ),
        )
        if i % 3 == 0:
            pupil_records.aid(
                ctx,
                teacher,
                RecordAid(
                    child_id=child_id, kind=rng.choice(["clothing", "stationery", "meals"]), description="冬衣与文具"
                ),
            )
        case_id = cases.open_case(ctx, counsellor, child_id)
        case_ids[i] = case_id
        # How far this case gets: a spread over every stage, closed ones included.
        depth = i % 8
        if depth == 0 and i % 11 != 5:
            return  # surveyed and filed; the counsellor has not assessed yet
        if not attempt(case_id, "assess", counsellor):
            children.edit(ctx, teacher, child_id, {"guardian_phone": f.phone_number(), "home_address": _address(f)})
            if depth == 0:
                return
            attempt(case_id, "assess", counsellor)
        if depth == 0:
            return
        if i % 4 == 1:  # a screening; some children score in the abnormal band
            high = i % 8 == 1
            scores = ",".join(str(rng.choice([1, 2] if high else [0, 0, 1])) for _ in range(25))
            assessments.screening(ctx, counsellor, RecordScreening(case_id=case_id, scores=scores, informant="teacher"))
        cats = rng.sample(indications, rng.randint(1, 2))
        if i == CRITICAL:  # one child whose case the leadership must see at once
            cats = ["conduct", "suspected_illegal"]
        if i == CONSENT_LATE:
            try:
                assessments.assessment(
                    ctx,
                    counsellor,
                    RecordAssessment(
                        case_id=case_id, categories=cats, summary="父母长期在外务工，由祖辈照料；评估学习与心理需求。"
                    ),
                )
            except PermissionDenied as refused:
                consent_refusal = i18n.render(refused.msg, ctx.lang)
            _consent(ctx, teacher, child_id, guardians[child_id])
        assessments.assessment(
            ctx, counsellor, RecordAssessment(case_id=case_id, categories=cats, summary=ASSESSMENT_SUMMARY)
        )
        if i == CRITICAL:  # the leader is away: nobody acknowledges the flag in time
            attempt(case_id, "plan", counsellor)  # refused: no referral yet
            assessments.referral(
                ctx, counsellor, RecordReferral(case_id=case_id, agency="police", summary="已与派出所沟通，共同帮教")
            )
        if depth == 1:
            return
        attempt(case_id, "plan", counsellor)
        items = [
            plans.plan_item(
                ctx,
                counsellor,
                AddPlanItem(
                    case_id=case_id,
                    category="learning",
                    measures="每周两次课后辅导，安排学习帮手",
                    responsible=teacher,
                    start=date(2026, 9, 15),
                    end=date(2027, 1, 15),
                    content="优先辅导语文、数学；每月谈心一次",
                    target="期末成绩提高、按时完成作业",
                ),
            )
        ]
        # What the rule modules require for this child's categories (as `rules explain` lists them).
        for need in rules_info.explain(ctx, counsellor, case_id)["plan_requirements"]:
            if need["item_kind"] is None or need["satisfied"]:
                continue
            items.append(
                plans.plan_item(
                    ctx,
                    counsellor,
                    AddPlanItem(
                        case_id=case_id,
                        category=need["category"],
                        kind=need["item_kind"],
                        subject=need["subject"],
                        measures=need["description"]["zh_CN"],
                        responsible=teacher,
                        start=date(2026, 9, 15),
                        end=date(2027, 1, 15),
                        content="每两周一次，记录在册",
                        target="阶段目标：明显改善",
                    ),
                )
            )
        if depth == 2:
            return
        if depth == 3:  # shows the guard: no mentor paired yet
            attempt(case_id, "mentor", counsellor)
            if i == STUCK:  # tried again with nothing changed: no mentor will take the child
                attempt(case_id, "mentor", counsellor)
            return
        mentoring.pairing(
            ctx,
            counsellor,
            PairPartner(
                case_id=case_id,
                kind="mentor",
                staff=(mentor := mentor_of.setdefault(i, str(rng.choice(mentors)))),
                partner_name=None,
                from_on=None,
                to_on=None,
            ),
        )
        if rng.random() < 0.5:
            mentoring.pairing(
                ctx,
                counsellor,
                PairPartner(
                    case_id=case_id,
                    kind="caring_parent",
                    staff=str(rng.choice(caring_parents)),
                    partner_name=None,
                    from_on=None,
                    to_on=None,
                ),
            )
        mentoring.pairing(
            ctx,
            counsellor,
            PairPartner(
                case_id=case_id, kind="study_helper", staff=None, partner_name=f.name(), from_on=None, to_on=None
            ),
        )
        attempt(case_id, "mentor", counsellor)
        mentoring.contact(
            ctx,
            teacher if i != SILENT else mentor,
            RecordContact(
                case_id=case_id,
                kind="talk",
                occurred_on=None,
                by=None,
                summary="谈心：适应良好，想念父母",
                follow_up="下月继续关注",
            ),
        )
        mentoring.contact(
            ctx,
            teacher,
            RecordContact(
                case_id=case_id,
                kind="parent_feedback",
                occurred_on=None,
                by=None,
                summary="向在外务工父母反馈本月学习生活情况",
                follow_up=None,
            ),
        )
        mentoring.contact(
            ctx,
            mentor,
            RecordContact(
                case_id=case_id,
                kind="home_visit",
                occurred_on=None,
                by=None,
                summary="家访：与祖辈交流监护情况",
                follow_up=None,
            ),
        )
        if depth == 4:
            return
        attempt(case_id, "review", counsellor)
        if depth == 5:  # shows the guard: review without effects
            attempt(case_id, "continue", leader)
            return
        for item in items:
            plans.review(
                ctx,
                counsellor,
                ReviewPlanItem(
                    case_id=case_id,
                    item_id=item,
                    result=rng.choice(["met", "partly_met"]),
                    effect="按时完成作业，成绩有所提高",
                ),
            )
        if depth == 6:
            attempt(case_id, "continue", leader)
            return
        attempt(case_id, "close", leader, rng.choice(["父母返乡，监护到位", "转学", "阶段目标达成"]))

    # Each case starts on its planned day, the deepest first: the clock only moves forward.
    for i in sorted(range(len(child_ids)), key=lambda k: (plan_day(k, end), k)):
        clock.jump(plan_day(i, end))
        take(i, child_ids[i])
    clock.jump(end)
    say(i18n.render(Msg("keeping the records up to date"), ctx.lang))
    _keep_up(ctx, end, case_ids, mentor_of, class_refs, class_teachers, leader, counsellor, boarders)

    # One sign-in per role for the web application, each with a one-time password.
    first_teacher = class_teachers[class_refs[0]]
    demo_accounts = []
    for login, staff_id, role in (
        ("admin", init.admin_id, "admin"),
        ("leader", staff["leader"], "leader"),
        ("counsellor", staff["counsellor"], "counsellor"),
        ("teacher", first_teacher, "class_teacher"),
        ("mentor", mentors[0], "mentor"),
        ("parent", caring_parents[0], "caring_parent"),
        ("auditor", staff["auditor"], "auditor"),
        ("bureau", staff["bureau"], "bureau"),
    ):
        issued = accounts.issue_password(ctx, admin, str(staff_id), login)
        demo_accounts.append(DemoAccount(issued.login, issued.password, issued.name, role))

    # The leadership group's daily sweep finds what has stalled meanwhile.
    ladder.sweep(ctx)
    stalled = review.stalled(ctx, leader)
    due = review.listing(ctx, leader, "due")  # the whole school's to-do, as the leader sees it
    overdue = review.overdue(ctx, leader)
    as_of = ctx.now().date().isoformat()
    result = chain.verify(ctx)
    counts = Counter(c.state for c in cases.list_cases(ctx, leader))
    return DemoReport(
        path=path,
        school=SCHOOL,
        children=len(child_ids),
        staff=len(setup.list_staff(ctx)),
        by_state=[(states.STATE_LABELS[s], counts.get(s, 0)) for s in states.STATES],
        audit_events=result.events if result.ok else -1,
        refusals=report_refusals,
        stalled=len(stalled),
        due=len(due),
        overdue=len(overdue),
        open_cases=sum(n for s, n in counts.items() if s != states.CLOSED),
        stalled_reasons=[(c.case_id, [r.reason for r in c.reasons]) for c in stalled],
        as_of=as_of,
        leader=LEADER,
        counsellor=COUNSELLOR,
        consent_refusal=consent_refusal,
        accounts=demo_accounts,
    )


def _consent(ctx: Context, actor: str, child_id: int, guardian: tuple[str, str]) -> None:
    consent.record(
        ctx, actor, RecordConsent(child_id=child_id, guardian=guardian[0], relation=guardian[1], scope="all")
    )


def _weeks(start: date, end: date) -> list[date]:
    """The Wednesday (or the start, if later) of each week from the week of ``start`` to the one before ``end``'s."""
    monday = start - timedelta(days=start.weekday())
    this_week = end - timedelta(days=end.weekday())
    found = []
    while monday < this_week:
        found.append(max(start, monday + timedelta(days=2)))
        monday += timedelta(days=7)
    return found


def _every(start: date, end: date, days: int) -> list[date]:
    """Every ``days`` days from ``start``, before ``end``."""
    return [start + timedelta(days=n) for n in range(0, max(0, (end - start).days), days)]


def _months(start: date, end: date, day: int) -> list[date]:
    """``day`` of each month from ``start``'s to ``end``'s, on or after ``start`` and before ``end``."""
    found, month = [], start.replace(day=1)
    while month <= end:
        when = max(start, month.replace(day=min(day, 28)))
        if when < end and when.month == month.month:
            found.append(when)
        month = (month + timedelta(days=32)).replace(day=1)
    return found


def _keep_up(
    ctx: Context,
    end: date,
    case_ids: dict[int, int],
    mentor_of: dict[int, str],
    class_refs: list[str],
    class_teachers: dict[str, int],
    leader: str,
    counsellor: str,
    boarders: set[int],
) -> None:
    """What the staff recorded as the weeks went by: the family phone each week, a talk each month
    (every twelve days with a boarder, 篇4) and the parents' feedback each month, sessions every ten
    days, a visit to the guardian every forty; the child's letters and visits home.

    Three cases keep their reason to stall (SILENT, STUCK, CRITICAL); two lapse into overdue.
    """
    slipping = dict(SLIPPING)
    child_of = {case_id: i for i, case_id in case_ids.items()}
    for case in sorted(cases.list_cases(ctx, leader), key=lambda c: c.id):
        if case.state not in ("individual_plan", "mentored", "reviewed"):
            continue
        i = child_of[case.id]
        teacher = str(class_teachers[class_refs[i % len(class_refs)]])
        since = date.fromisoformat(str(case.state_since)[:10])
        mentor = mentor_of.get(i)

        def record(kind: str, day: date, actor: str, summary: str, case_id: int = case.id) -> None:
            mentoring.contact(
                ctx,
                actor,
                RecordContact(case_id=case_id, kind=kind, occurred_on=day, by=None, summary=summary, follow_up=None),
            )

        for day in _weeks(since, end):
            record("call_home", day, teacher, "亲情电话：与在外务工的父母通话")
        this_monday = end - timedelta(days=end.weekday())
        if i % 4 != 1 and since <= this_monday < end:
            record("call_home", this_monday, teacher, "亲情电话：与在外务工的父母通话")
        categories: set[str] = set()
        if case.state == "mentored":
            categories = set(rules_info.explain(ctx, counsellor, case.id)["categories"])
        lapsed = {c for c in ("psychological", "conduct") if c in categories and slipping.get(c)}
        for category in lapsed:
            slipping[category] -= 1
        lapse_day = end - timedelta(days=19)  # the sessions lapsed: overdue today, not yet escalated
        talks = (
            []
            if i == SILENT
            else _every(since + timedelta(days=3), end, 12)
            if i in boarders
            else _months(since, end, 10)
        )
        if "conduct" in lapsed:  # a conduct talk is any talk: the monthly one lapsed with them
            talks = [day for day in talks if day <= lapse_day]
        if i % 4 == 1 and i not in boarders and talks and talks[-1].month == end.month:
            talks.pop()  # this month's talk is still to come: a to-do
        for day in talks:
            record("talk", day, teacher, "谈心：学习生活情况，填写谈心记录卡")
        for day in _months(since, end, 12):
            record("parent_feedback", day, mentor or counsellor, "向在外务工父母反馈学习生活情况")
        for day in _months(since, end, 20)[-2:]:
            if i % 3:
                record("letter", day, teacher, "给父母写信")
        visit = since + timedelta(days=20)  # the class teacher calls on the guardian (篇4: regularly, a day pupil's)
        while visit <= end:
            record("home_visit", visit, teacher, "家访：与临时监护人交流监护情况")
            visit += timedelta(days=40)
        if i % 4 == 0:
            record("family_visit", max(since, end - timedelta(days=30)), teacher, "回家探望父母")
        for category, kind, actor in (
            ("psychological", "counselling", counsellor),
            ("conduct", "talk", mentor or teacher),
        ):
            if category not in categories:
                continue
            last = lapse_day if category in lapsed else end - timedelta(days=3)
            day = since + timedelta(days=10)
            while day <= last:
                record(kind, day, actor, "辅导记录")
                day += timedelta(days=10)
            if since < last:
                record(kind, last, actor, "辅导记录")
