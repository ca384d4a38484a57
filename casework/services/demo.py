"""The demonstration: a realistic school whose cases go through every stage, on a fresh SQLite file."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from casework import i18n, states
from casework.errors import PermissionDenied, TransitionRefused
from casework.persistence import crypto
from casework.persistence.db import Database
from casework.services import (
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
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
CONSENT_LATE = 4  # the child whose guardian's consent form comes back late
ASSESSMENT_SUMMARY = "父母长期在外务工，由祖辈照料；评估学习与心理需求。"


class StepClock:
    """A clock that walks through the autumn term, a little further at every reading."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


@dataclass
class Refusal:
    code: str
    case_id: int
    event: str
    reasons: list[str]


LEADER, COUNSELLOR = "周建国", "郑心怡"


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
    as_of: str = ""  # the demo clock's day when the stalled cases were counted
    leader: str = ""  # names to try the read commands with (--as): they see the whole school
    counsellor: str = ""
    consent_refusal: str | None = None  # the counselling record refused while a consent form was out


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
) -> DemoReport:
    from faker import Faker

    ring = _fresh(path)
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    clock = StepClock(START, timedelta(minutes=100))
    ctx = Context(db=Database(path, keyring=ring), clock=clock, lang=lang)
    say = progress or (lambda _text: None)
    try:
        return _build(ctx, path, children, rng, fake, say)
    finally:
        ctx.db.dispose()


def _address(fake: Any) -> str:
    return re.sub(r"\s*\d{6}$", "", fake.address())


def _build(
    ctx: Context, path: str, n_children: int, rng: random.Random, f: Any, say: Callable[[str], None]
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
    for i, child_id in enumerate(child_ids):
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
                child_id,
                school_year=2025,
                term=term,
                total=float(300 - rank * 3),
                rank=rank,
                class_size=45,
                subjects={"语文": float(rng.randint(60, 98)), "数学": float(maths)},
                three_good=term == 2 and rank <= 3,
                serious_violation=False,
            )
        # This year's enrolment (one child left school) and some material help, for the indicators.
        pupil_records.enrolment(
            ctx, teacher, child_id, school_year=2026, term=1, status="dropped_out" if i == 7 else "enrolled"
        )
        if i % 3 == 0:
            pupil_records.aid(
                ctx, teacher, child_id, kind=rng.choice(["clothing", "stationery", "meals"]), description="冬衣与文具"
            )
        case_id = cases.open_case(ctx, counsellor, child_id)
        # How far this case gets: a spread over every stage, closed ones included.
        depth = i % 8
        if depth == 0 and i % 11 != 5:
            continue  # surveyed and filed; the counsellor has not assessed yet
        if not attempt(case_id, "assess", counsellor):
            children.edit(ctx, teacher, child_id, {"guardian_phone": f.phone_number(), "home_address": _address(f)})
            if depth == 0:
                continue
            attempt(case_id, "assess", counsellor)
        if depth == 0:
            continue
        if i % 4 == 1:  # a screening; some children score in the abnormal band
            high = i % 8 == 1
            scores = ",".join(str(rng.choice([1, 2] if high else [0, 0, 1])) for _ in range(25))
            assessments.screening(ctx, counsellor, case_id, scores=scores, informant="teacher")
        cats = rng.sample(indications, rng.randint(1, 2))
        if i == 10:  # one child whose case the leadership must see at once
            cats = ["conduct", "suspected_illegal"]
        if i == CONSENT_LATE:
            try:
                assessments.assessment(
                    ctx, counsellor, case_id, cats, "父母长期在外务工，由祖辈照料；评估学习与心理需求。"
                )
            except PermissionDenied as refused:
                consent_refusal = i18n.render(refused.msg, ctx.lang)
            _consent(ctx, teacher, child_id, guardians[child_id])
        assessments.assessment(ctx, counsellor, case_id, cats, ASSESSMENT_SUMMARY)
        if i == 10:
            assessments.acknowledge(ctx, leader, case_id)
            attempt(case_id, "plan", counsellor)  # refused: no referral yet
            assessments.referral(ctx, counsellor, case_id, agency="police", summary="已与派出所沟通，共同帮教")
        if depth == 1:
            continue
        attempt(case_id, "plan", counsellor)
        items = [
            plans.plan_item(
                ctx,
                counsellor,
                case_id,
                category="learning",
                measures="每周两次课后辅导，安排学习帮手",
                responsible=teacher,
                start=date(2026, 9, 15),
                end=date(2027, 1, 15),
                content="优先辅导语文、数学；每月谈心一次",
                target="期末成绩提高、按时完成作业",
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
                    case_id,
                    category=need["category"],
                    kind=need["item_kind"],
                    subject=need["subject"],
                    measures=need["description"]["zh_CN"],
                    responsible=teacher,
                    start=date(2026, 9, 15),
                    end=date(2027, 1, 15),
                    content="每两周一次，记录在册",
                    target="阶段目标：明显改善",
                )
            )
        if depth == 2:
            continue
        if depth == 3:  # shows the guard: no mentor paired yet
            attempt(case_id, "mentor", counsellor)
            continue
        mentoring.pairing(
            ctx,
            counsellor,
            case_id,
            kind="mentor",
            staff=(mentor := str(rng.choice(mentors))),
            partner_name=None,
            from_on=None,
            to_on=None,
        )
        if rng.random() < 0.5:
            mentoring.pairing(
                ctx,
                counsellor,
                case_id,
                kind="caring_parent",
                staff=str(rng.choice(caring_parents)),
                partner_name=None,
                from_on=None,
                to_on=None,
            )
        mentoring.pairing(
            ctx,
            counsellor,
            case_id,
            kind="study_helper",
            staff=None,
            partner_name=f.name(),
            from_on=None,
            to_on=None,
        )
        attempt(case_id, "mentor", counsellor)
        mentoring.contact(
            ctx,
            teacher,
            case_id,
            kind="talk",
            occurred_on=None,
            by=None,
            summary="谈心：适应良好，想念父母",
            follow_up="下月继续关注",
        )
        mentoring.contact(
            ctx,
            teacher,
            case_id,
            kind="parent_feedback",
            occurred_on=None,
            by=None,
            summary="向在外务工父母反馈本月学习生活情况",
            follow_up=None,
        )
        mentoring.contact(
            ctx,
            mentor,  # the paired mentor visits: the case is in their record scope
            case_id,
            kind="home_visit",
            occurred_on=None,
            by=None,
            summary="家访：与祖辈交流监护情况",
            follow_up=None,
        )
        if depth == 4:
            continue
        attempt(case_id, "review", counsellor)
        if depth == 5:  # shows the guard: review without effects
            attempt(case_id, "continue", leader)
            continue
        for item in items:
            plans.review(
                ctx,
                counsellor,
                case_id,
                item_id=item,
                result=rng.choice(["met", "partly_met"]),
                effect="按时完成作业，成绩有所提高",
            )
        if depth == 6:
            attempt(case_id, "continue", leader)
            continue
        attempt(case_id, "close", leader, rng.choice(["父母返乡，监护到位", "转学", "阶段目标达成"]))

    # The leadership group's daily sweep finds what has stalled meanwhile.
    ladder.sweep(ctx)
    stalled = len(review.stalled(ctx, leader))
    as_of = ctx.now().date().isoformat()
    result = chain.verify(ctx)
    counts = Counter(c["state"] for c in cases.list_cases(ctx, leader))
    return DemoReport(
        path=path,
        school=SCHOOL,
        children=len(child_ids),
        staff=len(setup.list_staff(ctx)),
        by_state=[(states.STATE_LABELS[s], counts.get(s, 0)) for s in states.STATES],
        audit_events=result.events if result.ok else -1,
        refusals=report_refusals,
        stalled=stalled,
        as_of=as_of,
        leader=LEADER,
        counsellor=COUNSELLOR,
        consent_refusal=consent_refusal,
    )


def _consent(ctx: Context, actor: str, child_id: int, guardian: tuple[str, str]) -> None:
    consent.record(ctx, actor, child_id, guardian=guardian[0], relation=guardian[1], scope="all")
