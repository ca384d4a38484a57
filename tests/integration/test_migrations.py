"""Alembic owns the schema: init reaches head, is idempotent, upgrades older databases, matches the tables."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from casework.persistence import migrate
from casework.persistence.db import Database
from casework.persistence.tables import Base
from casework.services import Context, setup
from tests.helpers import BACKENDS, new_url


@pytest.fixture(params=BACKENDS)
def empty_db(request, tmp_path_factory):
    db = Database(new_url(request.param, tmp_path_factory))
    yield db
    db.dispose()


def test_init_reaches_head_and_is_idempotent(empty_db) -> None:
    ctx = Context(db=empty_db)
    first = setup.init(ctx, admin="管理员", school="测试小学")
    again = setup.init(ctx, admin="管理员", school="测试小学")
    assert first.revision == migrate.head_revision()
    assert first.created and not again.created and first.admin_id == again.admin_id


def test_tables_match_the_migrations(empty_db) -> None:
    migrate.upgrade(empty_db.engine)
    with empty_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], "the tables changed without an Alembic revision"


@pytest.mark.parametrize("start", range(len(migrate.revisions())))
def test_every_older_revision_upgrades_in_place(empty_db, start: int) -> None:
    revisions = migrate.revisions()
    migrate.upgrade(empty_db.engine, revisions[start])
    assert migrate.current_revision(empty_db.engine) == revisions[start]
    setup.init(Context(db=empty_db), admin="管理员", school="测试小学")
    assert migrate.current_revision(empty_db.engine) == migrate.head_revision()


def test_duties_of_a_case_opened_for_someone_else_come_to_its_counsellor(world) -> None:
    import sqlalchemy as sa

    from casework.services import cases

    case_id = cases.open_case(world.ctx, world.leader, world.child(), counsellor=world.counsellor)
    other = world.case()
    engine = world.ctx.db.engine
    from alembic import command

    command.downgrade(migrate.config(engine), "0011")  # the later revisions change the schema: undo them first
    with engine.begin() as conn:  # as the code before 0011 stored them: the opener's name
        conn.execute(
            sa.text(
                "UPDATE duty SET responsible_id = :leader WHERE case_id = :case AND responsible_role = 'counsellor'"
            ),
            {"leader": int(world.leader), "case": case_id},
        )
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0010'"))
    migrate.upgrade(engine, "0011")  # only 0011 again: the later revisions' tables are there already
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT case_id, responsible_id FROM duty WHERE responsible_role = 'counsellor' ORDER BY case_id")
        ).all()
    assert {case for case, _ in rows} == {case_id, other}
    assert {who for _, who in rows} == {int(world.counsellor)}
    assert migrate.current_revision(engine) == "0011"


def test_0013_gives_existing_duties_their_overdue_day_and_ladder(world) -> None:
    import sqlalchemy as sa
    from alembic import command

    case_id = world.case()
    world.drive(case_id, "mentored")
    engine = world.ctx.db.engine
    command.downgrade(migrate.config(engine), "0011")  # duties as an older release stored them
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT code, due_on, overdue_on, grace_days, escalates, stand_in FROM duty WHERE case_id = :c"),
            {"c": case_id},
        ).all()
    from casework.persistence.store import Store

    by_code = {
        code: (Store.d_out(due), Store.d_out(over), grace, bool(up), bool(stand))
        for code, due, over, grace, up, stand in rows
    }
    from datetime import timedelta

    assert all(over == due + timedelta(days=1) and grace == 0 for due, over, grace, _, _ in by_code.values())
    assert by_code["stage_deadline:mentored"][3] is False and by_code["monthly_talk"][3] is True
