"""The indicators' counts, each read in few passes, against a recount of the same random rows in Python."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text

from casework.domain.child import FILE_REQUIRED
from casework.domain.inputs import RecordContact
from casework.persistence import queries
from casework.persistence.contact_months import recount_sql
from casework.persistence.tables import Aid, Case, Child, ContactEntry, ContactMonth, Membership, Pairing, SchoolClass
from casework.services import access, mentoring
from tests.helpers import unscoped

KINDS = ("talk", "parent_feedback", "letter", "call_home", "family_visit", "home_visit")
STATES = ("identified", "assessed", "mentored", "reviewed", "closed")
MONTHS = ((date(2026, 9, 1), date(2026, 9, 30)), (date(2026, 10, 1), date(2026, 10, 31)))


def _day(rng: random.Random) -> date:
    return date(2026, 9, 1) + timedelta(days=rng.randint(0, 75))


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, rng.choice((0, 9, 23)), tzinfo=UTC)


def _populate(world, seed: int) -> tuple[int, dict[str, list]]:
    """Random children, cases, contacts, pairings and aid in the world's school: some files
    incomplete, some children moved away or without a class, cases closed on the last moment of a
    month or opened after it, contacts by staff of several roles."""
    rng = random.Random(seed)
    made: dict[str, list] = {"child": [], "case": [], "contact": [], "pairing": [], "aid": []}
    with world.ctx.db.write() as s:
        access.system(s)
        school_id = s.query(SchoolClass.school_id).limit(1).scalar()
        classes = [SchoolClass(school_id=school_id, grade=g, name=f"{k}班") for g in (2, 3) for k in (1, 2)]
        s.add_all(classes)
        s.flush()
        class_ids = [c.id for c in classes] + [None]
        staff = [int(world.admin), int(world.counsellor), int(world.mentor), int(world.teacher)]
        s.add(
            Membership(
                staff_id=int(world.mentor), school_id=school_id, role="subject_teacher", started_on=date(2026, 9, 1)
            )
        )
        now = datetime(2026, 9, 1, tzinfo=UTC)
        for _ in range(40):
            card = {name: "有" for name in FILE_REQUIRED if name not in ("birth_date", "sex", "family_situation")}
            card.update(
                sex="男", birth_date=date(2016, 1, 1), family_situation=rng.choice(("both_away", "one_away", None))
            )
            for name in FILE_REQUIRED:
                if rng.random() < 0.08 and name != "name":
                    card[name] = None
            child = Child(
                school_id=school_id,
                class_id=rng.choice(class_ids),
                created_at=now,
                created_by=staff[0],
                transferred_out_on=date(2026, 10, 9) if rng.random() < 0.1 else None,
                **card,
            )
            s.add(child)
            s.flush()
            made["child"].append(child)
            if rng.random() < 0.15:
                continue  # a child without a case
            opened = _day(rng)
            state = rng.choice(STATES)
            since = opened + timedelta(days=rng.randint(0, 40))
            if rng.random() < 0.2:
                since = rng.choice([end for _, end in MONTHS])  # closed on a month's last day
            case = Case(
                school_id=school_id,
                child_id=child.id,
                class_id=child.class_id if rng.random() < 0.9 else rng.choice(class_ids),
                state=state,
                version=1,
                definition_version="test",
                opened_at=_moment(opened, rng),
                opened_by=staff[1],
                state_since=_moment(since, rng),
            )
            s.add(case)
            s.flush()
            made["case"].append(case)
            for _ in range(rng.randint(0, 9)):
                s.add(
                    entry := ContactEntry(
                        school_id=school_id,
                        case_id=case.id,
                        kind=rng.choice(KINDS),
                        occurred_on=_day(rng) - timedelta(days=rng.randint(0, 5)),
                        by_id=rng.choice(staff),
                        summary="记录",
                        recorded_at=now,
                        recorded_by=staff[0],
                    )
                )
                made["contact"].append(entry)
            if rng.random() < 0.3:  # a child who calls home most weeks (Monday to Sunday) of September and October
                for sunday in (date(2026, 9, 6) + timedelta(days=7 * w) for w in range(9)):
                    if rng.random() < 0.9:
                        s.add(
                            entry := ContactEntry(
                                school_id=school_id,
                                case_id=case.id,
                                kind="call_home",
                                occurred_on=sunday - timedelta(days=rng.randint(0, 6)),
                                by_id=staff[3],
                                summary="电话",
                                recorded_at=now,
                                recorded_by=staff[0],
                            )
                        )
                        made["contact"].append(entry)
            if rng.random() < 0.5:
                start = _day(rng)
                s.add(
                    pairing := Pairing(
                        school_id=school_id,
                        case_id=case.id,
                        kind=rng.choice(("mentor", "mentor", "study_helper")),
                        staff_id=staff[2],
                        from_on=start,
                        to_on=start + timedelta(days=rng.randint(0, 40)) if rng.random() < 0.4 else None,
                        recorded_at=now,
                        recorded_by=staff[0],
                    )
                )
                made["pairing"].append(pairing)
            for _ in range(rng.choice((0, 0, 1, 2))):
                s.add(
                    aid := Aid(
                        school_id=school_id,
                        child_id=child.id,
                        kind="stationery",
                        given_on=_day(rng),
                        description="文具",
                        recorded_at=now,
                        recorded_by=staff[0],
                    )
                )
                made["aid"].append(aid)
        s.flush()
        made["holders"] = [
            (m.staff_id, m.role) for m in s.query(Membership).filter(Membership.school_id == school_id).all()
        ]
        for key in ("child", "case", "contact", "pairing", "aid"):
            made[key] = [{c.key: getattr(row, c.key) for c in row.__table__.columns} for row in made[key]]
    return school_id, made


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo else moment


def _open_at(case: dict, end: date) -> bool:
    last = datetime.combine(end, datetime.max.time())
    return _naive(case["opened_at"]) <= last and (case["state"] != "closed" or _naive(case["state_since"]) > last)


def _per_class(cases: list[dict], ids: set[int], end: date) -> dict[int | None, int]:
    return dict(Counter(c["class_id"] for c in cases if c["id"] in ids and _open_at(c, end)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_match_a_recount(world, seed: int) -> None:
    school_id, made = _populate(world, seed)
    children, cases, contacts = made["child"], made["case"], made["contact"]
    on_file = [c for c in children if c["transferred_out_on"] is None]
    with unscoped(world.ctx.db) as s:
        complete = [c for c in on_file if c["class_id"] is not None and all(c[f] is not None for f in FILE_REQUIRED)]
        per_class_situation = Counter((c["class_id"], c["family_situation"]) for c in on_file)
        complete_per = Counter((c["class_id"], c["family_situation"]) for c in complete)
        assert queries.children_per_class(s, school_id, FILE_REQUIRED) == {
            k: (n, complete_per.get(k, 0)) for k, n in per_class_situation.items()
        }
        some_class = next(c["class_id"] for c in on_file if c["class_id"])
        assert queries.children_per_class(s, school_id, FILE_REQUIRED, {some_class, 0}) == {
            k: (n, complete_per.get(k, 0)) for k, n in per_class_situation.items() if k[0] in (some_class, None)
        }
        assert 0 < len(complete) < len(on_file) < len(children)  # the random rows exercise every condition
        assert queries.cases_per_state(s, school_id) == dict(Counter(c["state"] for c in cases))
        # a class and the cases without one, as a class's kept months are counted
        some = {next(c["class_id"] for c in cases if c["class_id"]), 0}

        def among(counted: dict[int | None, int]) -> dict[int | None, int]:
            return {k: n for k, n in counted.items() if (k or 0) in some}

        teachers_talks = 0
        for start, end in MONTHS:
            everyone = _per_class(cases, {c["id"] for c in cases}, end)
            assert queries.open_cases_per_class(s, school_id, end) == everyone
            assert queries.open_cases_per_class(s, school_id, end, some) == among(everyone)
            for kind in KINDS:
                ids = {e["case_id"] for e in contacts if e["kind"] == kind and start <= e["occurred_on"] <= end}
                assert queries.contacted_per_class(s, school_id, kind, start, end) == _per_class(cases, ids, end)
            weeks = [(start + timedelta(days=d), start + timedelta(days=d + 6)) for d in (0, 7)]
            ids = {
                c["id"]
                for c in cases
                if all(
                    any(
                        e["case_id"] == c["id"] and e["kind"] == "call_home" and mon <= e["occurred_on"] <= sun
                        for e in contacts
                    )
                    for mon, sun in weeks
                )
            }
            assert queries.weekly_per_class(s, school_id, "call_home", weeks, end) == _per_class(cases, ids, end)
            # the same counts from the months kept with each contact: the calendar's weeks (Monday to
            # Sunday, each in the month of its Sunday), and the kinds of the month
            sundays = [d for d in (start + timedelta(days=n) for n in range(31)) if d <= end and d.weekday() == 6]
            marks = queries.month_marks_per_class(s, school_id, start, end, len(sundays))
            marked = queries.month_marks_per_class(s, school_id, start, end, len(sundays), some)
            for kind in ("talk", "parent_feedback", "letter"):
                ids = {e["case_id"] for e in contacts if e["kind"] == kind and start <= e["occurred_on"] <= end}
                assert marks.per_kind[kind] == _per_class(cases, ids, end)
                assert marked.per_kind[kind] == among(_per_class(cases, ids, end))
            # the teachers' talks: by whoever held the role at the school when the talk was kept
            # (the roles here were given before any contact)
            for role in ("class_teacher", "subject_teacher"):
                holders = {who for who, held in made["holders"] if held == role}
                ids = {
                    e["case_id"]
                    for e in contacts
                    if e["kind"] == "talk" and start <= e["occurred_on"] <= end and e["by_id"] in holders
                }
                teachers_talks += len(ids)
                assert marks.by_role[role] == _per_class(cases, ids, end)
                assert marked.by_role[role] == among(_per_class(cases, ids, end))
            ids = {
                c["id"]
                for c in cases
                if all(
                    any(
                        e["case_id"] == c["id"]
                        and e["kind"] == "call_home"
                        and sunday - timedelta(days=6) <= e["occurred_on"] <= sunday
                        for e in contacts
                    )
                    for sunday in sundays
                )
            }
            assert ids  # the random rows include cases that called home every week
            assert marks.every_week == _per_class(cases, ids, end)
            assert marked.every_week == among(_per_class(cases, ids, end))
            for kind in ("mentor", "study_helper"):
                ids = {
                    p["case_id"]
                    for p in made["pairing"]
                    if p["kind"] == kind and p["from_on"] <= end and (p["to_on"] is None or p["to_on"] >= end)
                }
                assert queries.paired_per_class(s, school_id, end, kind) == _per_class(cases, ids, end)
                assert queries.paired_per_class(s, school_id, end, kind, some) == among(_per_class(cases, ids, end))
            aided = {a["child_id"] for a in made["aid"] if start <= a["given_on"] <= end}
            assert queries.aided_per_class(s, school_id, start, end) == dict(
                Counter(c["class_id"] for c in children if c["id"] in aided)
            )
            assert queries.aided_per_class(s, school_id, start, end, some) == among(
                dict(Counter(c["class_id"] for c in children if c["id"] in aided))
            )
        assert teachers_talks  # the random rows include talks by teachers of the roles


def _kept(session) -> list[tuple]:
    return [tuple(r) for r in session.execute(select(ContactMonth.__table__).order_by("case_id", "month"))]


def test_the_kept_months_are_what_a_recount_of_the_contacts_makes(world) -> None:
    """Contacts recorded through the service and in bulk keep their case's months in their own
    transaction: the rows are those a recount of every contact entry makes."""
    _populate(world, 4)
    case_id = world.case()
    world.clock.now = datetime(2026, 10, 12, 9, tzinfo=UTC)  # a Monday: its call home is in the week of 18 October
    for kind, day in (("talk", None), ("call_home", None), ("letter", date(2026, 9, 30)), ("home_visit", None)):
        mentoring.contact(
            world.ctx,
            world.counsellor,
            RecordContact(case_id=case_id, kind=kind, occurred_on=day, by=None, summary="记录", follow_up=None),
        )
    with unscoped(world.ctx.db) as s:
        mine = {(month, kinds, weeks) for c, month, _, kinds, weeks in _kept(s) if c == case_id}
        # October: a talk (bit 0) and the call home in the third week (the 18th is its third Sunday);
        # September: the letter (bit 2); the home visit is not kept
        assert mine == {(202610, 1, 4), (202609, 4, 0)}
    with world.ctx.db.write() as s:
        access.system(s)
        kept = _kept(s)
        s.execute(delete(ContactMonth))
        s.execute(text(recount_sql(s.connection().dialect.name)))
        assert _kept(s) == kept
        assert len(kept) > 40


def test_the_revision_fills_the_months_of_the_contacts_recorded_before_it(world) -> None:
    """Revision 0072 makes, from the contacts already recorded, the rows the program keeps."""
    from alembic import command

    from casework.persistence import migrate

    _populate(world, 5)
    with unscoped(world.ctx.db) as s:
        kept = _kept(s)
    engine = world.ctx.db.engine
    command.downgrade(migrate.config(engine), "0071")  # the contacts as the release before stored them
    migrate.upgrade(engine)
    with unscoped(world.ctx.db) as s:
        assert _kept(s) == kept and len(kept) > 40


def test_the_months_are_kept_at_the_commit_from_the_contacts_still_there(world) -> None:
    """The months are kept at the commit, from the contacts the transaction still has: none for a
    contact rolled back with its savepoint."""
    case_id = world.case()
    with world.ctx.db.write() as s:
        access.system(s)
        school_id = s.get(Case, case_id).school_id

        def contact(kind: str, day: date) -> ContactEntry:
            return ContactEntry(
                school_id=school_id,
                case_id=case_id,
                kind=kind,
                occurred_on=day,
                by_id=int(world.teacher),
                summary="记录",
                recorded_at=datetime(2026, 10, 20, tzinfo=UTC),
                recorded_by=int(world.teacher),
            )

        savepoint = s.begin_nested()
        s.add(contact("talk", date(2026, 10, 5)))
        s.flush()
        savepoint.rollback()
        s.add(contact("letter", date(2026, 10, 6)))
        s.add(contact("call_home", date(2026, 10, 6)))  # a Tuesday: the week of the 11th, the second Sunday
        s.flush()
        # nothing kept before the commit: the month rows are locked after the audit chain's head
        assert not [row for row in _kept(s) if row[0] == case_id]
    with unscoped(world.ctx.db) as s:
        assert [(m, k, w) for c, m, _, k, w in _kept(s) if c == case_id] == [(202610, 4, 2)]
