"""Each class's monthly counts kept as they are written: after every step of a journey through the
services (contacts, a case closed and reopened on the hot path, a child moving class, pairings, a
new case), what the report reads is what a count of the rows makes now, and the kept rows of the
classes not marked stale are that count too; a transaction holding the school's audit head leaves
no class stale behind it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from casework.domain.inputs import PairPartner, RecordAid, RecordContact
from casework.persistence import class_months
from casework.persistence.tables import (
    Case,
    ClassChildren,
    ClassChildrenStale,
    ClassMonth,
    ClassMonthStale,
    Membership,
    SchoolClass,
)
from casework.services import access, children, mentoring, pupil_records, setup
from tests.helpers import unscoped

MONTHS = (202609, 202610, 202611)


def _school(world) -> int:
    with unscoped(world.ctx.db) as s:
        return int(s.scalar(select(SchoolClass.school_id).limit(1)))


def _kept(s, school_id: int, month: int) -> dict[int, tuple[int, ...]]:
    table = ClassMonth.__table__
    rows = s.execute(
        select(table.c.class_key, *(table.c[n] for n in class_months.COUNTS)).where(
            table.c.school_id == school_id, table.c.month == month
        )
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def _stale(s, school_id: int) -> dict[int, int]:
    rows = s.execute(
        select(ClassMonthStale.class_key, func.min(ClassMonthStale.month))
        .where(ClassMonthStale.school_id == school_id)
        .group_by(ClassMonthStale.class_key)
    )
    return {k: m for k, m in rows}


def _check(world, school_id: int) -> dict[int, int]:
    """The report's reading and every kept row not marked stale against a count made now."""
    with unscoped(world.ctx.db) as s:
        stale = _stale(s, school_id)
        for month in MONTHS:
            now = class_months.count(s, school_id, month, None)
            read, _ = class_months.read(s, school_id, month)
            assert {k: v for k, v in read.items() if any(v)} == {k: v for k, v in now.items() if any(v)}, month
            for key, values in _kept(s, school_id, month).items():
                if key in stale and stale[key] <= month:
                    continue
                assert values == now.get(key, class_months.ZERO), (month, key)
        children = class_months.count_children(s, school_id, None)
        assert class_months.read_children(s, school_id)[0] == children
        marked = set(s.scalars(select(ClassChildrenStale.class_key).where(ClassChildrenStale.school_id == school_id)))
        kept = s.execute(
            select(
                ClassChildren.class_key, ClassChildren.situation, ClassChildren.on_file, ClassChildren.complete
            ).where(ClassChildren.school_id == school_id)
        )
        for key, situation, on_file, complete in kept:
            if key not in marked:
                assert children[(key, situation)] == (on_file, complete), (key, situation)
        if marked:
            stale[-1] = 0  # the children's marks, for the caller
    return stale


def _contact(world, case_id: int, kind: str, day: date, by: str) -> None:
    mentoring.contact(
        world.ctx,
        world.counsellor,
        RecordContact(case_id=case_id, kind=kind, occurred_on=day, by=by, summary="记录", follow_up=None),
    )


def test_the_kept_counts_follow_every_change(world) -> None:
    ctx = world.ctx
    school_id = _school(world)
    setup.add_class(ctx, world.admin, 4, "2班")
    subject = str(setup.add_staff(ctx, world.admin, "孙老师", ["subject_teacher"], None))
    cases = [world.case() for _ in range(5)]
    world.drive(cases[0], "mentored")  # a mentor paired from 1 September
    world.drive(cases[1], "assessed")
    with world.ctx.db.write() as s:  # the months kept, as the sweep keeps them
        access.system(s)
        class_months.keep(s, [school_id], MONTHS)
    with unscoped(world.ctx.db) as s:
        assert set(_kept(s, school_id, 202609)) >= {0, *(c for c in _stale(s, school_id))}
        assert not _stale(s, school_id)
        assert class_months.read(s, school_id, 202609)[1] == 0  # all of it kept
    world.clock.now = datetime(2026, 11, 20, 9, tzinfo=UTC)

    # contacts through the service: the class teacher's, a subject teacher's and the mentor's talks,
    # a parent feedback, a letter and weekly calls home; each keeps its month in its transaction
    for case_id, kind, day, by in (
        (cases[0], "talk", date(2026, 9, 14), world.teacher),
        (cases[1], "talk", date(2026, 10, 8), subject),
        (cases[2], "talk", date(2026, 10, 9), world.mentor),
        (cases[2], "parent_feedback", date(2026, 10, 30), world.teacher),
        (cases[3], "letter", date(2026, 11, 2), world.teacher),
        *((cases[4], "call_home", date(2026, 10, d), world.teacher) for d in (3, 10, 17, 24, 31)),
    ):
        _contact(world, case_id, kind, day, by)
        assert not _check(world, school_id)  # nothing left stale
    with unscoped(world.ctx.db) as s:
        october = _kept(s, school_id, 202610)
    names = class_months.COUNTS
    key = next(k for k in october if k)
    counts = dict(zip(names, october[key], strict=True))
    assert counts["talk"] == 2 and counts["talk_subject_teacher"] == 1 and counts["talk_class_teacher"] == 0
    assert counts["call_home_weekly"] == 1 and counts["parent_feedback"] == 1 and counts["mentored"] == 1

    # closed on the hot path: the database marks the class, the report counts it afresh until a
    # transaction in the school counts it again
    world.fire(cases[2], "close", "父母返乡")
    stale = _check(world, school_id)
    assert stale == {key: 202611}  # from the closing's month (the day before's: a time zone's margin)
    with unscoped(world.ctx.db) as s:
        assert class_months.read(s, school_id, 202611)[1] == 1  # that class alone counted now
        assert class_months.read(s, school_id, 202610)[1] == 0  # October's counts are not the closing's
    world.fire(cases[2], "reopen", "重新评估")
    _contact(world, cases[3], "talk", date(2026, 11, 3), world.teacher)
    assert not _check(world, school_id)

    # a child moving class (its case follows): both classes, every month
    with unscoped(world.ctx.db) as s:
        child_id = s.get(Case, cases[0]).child_id
    children.edit(ctx, world.leader, child_id, {}, class_ref="4/2班")
    assert not _check(world, school_id)
    with unscoped(world.ctx.db) as s:
        september = _kept(s, school_id, 202609)
        moved = next(k for k in september if k and k != key)
        assert dict(zip(names, september[moved], strict=True))["talk"] == 1  # the talk went with the case

    # aid given, a file made incomplete, a new child: kept in their transactions
    pupil_records.aid(
        ctx,
        world.leader,
        RecordAid(child_id=child_id, kind="stationery", description="文具", given_on=date(2026, 10, 9)),
    )
    children.edit(ctx, world.leader, child_id, {"home_address": ""})
    world.child()
    assert not _check(world, school_id)
    with unscoped(world.ctx.db) as s:
        got = class_months.columns(class_months.read(s, school_id, 202610)[0])
        assert sum(got["aided"].values()) == 1
        kept = class_months.read_children(s, school_id)[0]
        assert sum(n for n, _ in kept.values()) == 6 and sum(c for _, c in kept.values()) == 5

    # a pairing ended and another begun, a new case: kept in their transactions
    mentoring.pairing(
        ctx,
        world.counsellor,
        PairPartner(
            case_id=cases[1],
            kind="mentor",
            staff=world.mentor,
            partner_name=None,
            from_on=date(2026, 10, 1),
            to_on=None,
        ),
    )
    world.case()
    assert not _check(world, school_id)


def test_a_talk_keeps_the_roles_its_teacher_held_when_it_was_recorded(world) -> None:
    school_id = _school(world)
    first, second, third = world.case(), world.case(), world.case()
    world.clock.now = datetime(2026, 10, 20, 9, tzinfo=UTC)
    _contact(world, first, "talk", date(2026, 10, 5), world.mentor)  # a mentor's talk
    with world.ctx.db.write() as s:  # the mentor becomes a class teacher afterwards
        access.system(s)
        s.add(
            Membership(
                staff_id=int(world.mentor), school_id=school_id, role="class_teacher", started_on=date(2026, 10, 6)
            )
        )
    _contact(world, second, "talk", date(2026, 10, 7), world.mentor)  # a class teacher's talk
    # and gives it up on 10 October: a talk of theirs after it is no class teacher's
    with world.ctx.db.write() as s:
        access.system(s)
        held = s.scalars(
            select(Membership).where(Membership.staff_id == int(world.mentor), Membership.role == "class_teacher")
        ).one()
        held.ended_on = date(2026, 10, 10)
    _contact(world, third, "talk", date(2026, 10, 12), world.mentor)
    with unscoped(world.ctx.db) as s:
        counted = class_months.columns(class_months.read(s, school_id, 202610)[0])
    assert sum(counted["talk"].values()) == 3
    # the role taken up later changes no earlier talk, the role given up no later one
    assert sum(counted["talk_class_teacher"].values()) == 1
    # each child's five ones say the same
    from casework.services import indicators

    five = indicators.five_ones(world.ctx, world.leader, month="2026-10")
    assert {r.case_id for r in five.children if r.class_teacher} == {second}


def test_the_sweep_keeps_the_months_counts_and_what_the_hot_path_left_stale(world) -> None:
    from casework.services import ladder

    school_id = _school(world)
    case_id = world.case()
    world.clock.now = datetime(2026, 10, 20, 9, tzinfo=UTC)
    world.fire(case_id, "assess")  # a move on the hot path that changes no count marks nothing
    with unscoped(world.ctx.db) as s:
        assert not _stale(s, school_id) and not _kept(s, school_id, 202610)
    world.fire(case_id, "close", "父母返乡")
    with unscoped(world.ctx.db) as s:
        assert _stale(s, school_id)
    ladder.sweep(world.ctx)
    with unscoped(world.ctx.db) as s:
        assert not _stale(s, school_id)
        assert set(_kept(s, school_id, 202610)) == class_months.school_keys(s, school_id)
        assert class_months.read(s, school_id, 202610)[1] == 0
        assert class_months.read_children(s, school_id)[1] == 0  # the children kept too
    _check(world, school_id)
    ladder.sweep(world.ctx)  # twice a day: nothing more


def test_every_field_of_a_complete_file_marks_the_class_when_it_changes(world) -> None:
    """The trigger on child watches the fields the complete file needs (a revision's own copy of
    casework.domain.child.FILE_REQUIRED): emptying any of them, however written, marks the class."""
    from sqlalchemy import delete, text

    from casework.domain.child import FILE_REQUIRED

    school_id = _school(world)
    child_id = world.child()
    for name in FILE_REQUIRED:
        with world.ctx.db.write() as s:
            access.system(s)
            s.execute(delete(ClassChildrenStale))
            value = "name || name" if name == "name" else "NULL"  # the name may not be empty: changed instead
            s.execute(text(f"UPDATE child SET {name} = {value} WHERE id = :id"), {"id": child_id})
            assert s.scalar(select(func.count(ClassChildrenStale.class_key.distinct()))) == 1, name
            s.rollback()
    with unscoped(world.ctx.db) as s:
        assert class_months.read_children(s, school_id)[0] == class_months.count_children(s, school_id, None)


def test_a_change_beside_a_count_under_way_leaves_its_mark(world) -> None:
    """A child changed while another transaction takes the school's marks to count them: the change
    marks its class whatever it sees, so its mark outlives the count (on PostgreSQL, where the two
    run at once, skipping a mark already there would lose it)."""
    from sqlalchemy import delete, text

    school_id = _school(world)
    child_id = world.child()
    engine = world.ctx.db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: SQLite's writers take turns")
    with engine.begin() as setup_:
        setup_.execute(text("INSERT INTO class_children_stale (school_id, class_key) VALUES (:s, 0)"), {"s": school_id})
        setup_.execute(
            text(
                "INSERT INTO class_children_stale (school_id, class_key) "
                "SELECT school_id, class_id FROM child WHERE id = :c"
            ),
            {"c": child_id},
        )
    counting = engine.connect()
    keeper = counting.begin()
    counting.execute(
        delete(ClassChildrenStale).where(ClassChildrenStale.school_id == school_id)
    )  # taken, not committed
    with engine.begin() as other:  # the change, committed while the count is under way
        other.execute(text("UPDATE child SET family_situation = 'one_away' WHERE id = :c"), {"c": child_id})
    keeper.commit()
    counting.close()
    with unscoped(world.ctx.db) as s:
        assert s.scalar(select(func.count()).select_from(ClassChildrenStale)) >= 1
        assert class_months.read_children(s, school_id)[0] == class_months.count_children(s, school_id, None)
