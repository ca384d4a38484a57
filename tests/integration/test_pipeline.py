"""The hot path's store on PostgreSQL's pipeline (and the same calls on SQLite): answers, conflicts, rollbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from casework.errors import Conflict
from tests.helpers import World


def test_a_compare_and_set_that_finds_the_case_changed_is_the_callers_conflict(world: World) -> None:
    case_id = world.case()
    with world.ctx.db.raw_write() as store:
        before = store.case_row(case_id)
    assert before is not None
    changed = Conflict("case {case} changed meanwhile; look again and retry", case=case_id)
    with pytest.raises(Conflict) as raised, world.ctx.db.raw_write() as store:
        store.send("UPDATE case_file SET stage_due_on = NULL WHERE id = ?", case_id)  # waits, then rolls back
        store.move_case(case_id, before.state, before.version + 7, "assessed", world.ctx.now(), None, lambda: changed)
    assert raised.value is changed
    with world.ctx.db.raw_write() as store:
        after = store.case_row(case_id)
    assert after == before  # nothing of the transaction stayed


def test_reads_sent_ahead_and_writes_that_wait_see_each_other_in_order(world: World) -> None:
    case_id = world.case()
    with world.ctx.db.raw_write() as store:
        row = store.case_row(case_id)
        assert row is not None
        store.send("UPDATE case_file SET counsellor_id = NULL WHERE id = ?", case_id)
        store.ahead("SELECT counsellor_id FROM case_file WHERE id = ?", case_id)  # after the write: sees it
        assert store.one("SELECT counsellor_id FROM case_file WHERE id = ?", case_id) == (None,)
        store.move_case(case_id, row.state, row.version, "assessed", world.ctx.now(), None, lambda: Conflict("x"))
        assert store.one("SELECT state, version FROM case_file WHERE id = ?", case_id) == ("assessed", row.version + 1)


def test_an_advance_takes_its_actor_by_name_as_by_id(world: World) -> None:
    from casework.errors import InvalidInput, NotFound
    from casework.services import cases, setup

    first, second = world.case(), world.case()
    assert cases.advance(world.ctx, "郑心怡", first, "assess").to_state == "assessed"
    assert cases.advance(world.ctx, f" {world.counsellor} ", second, "assess").to_state == "assessed"
    with pytest.raises(NotFound):
        cases.advance(world.ctx, "无此人", world.case(), "assess")
    twin = setup.add_staff(world.ctx, world.admin, "郑心怡", ["counsellor"])
    with pytest.raises(InvalidInput) as ambiguous:
        cases.advance(world.ctx, "郑心怡", world.case(), "assess")
    assert f"ids {world.counsellor}, {twin}" in str(ambiguous.value)


def test_what_an_advance_reads_in_one_statement_is_what_the_reads_one_by_one_say(world: World) -> None:
    from datetime import date

    from casework.services.facts import FIELD_NAMES

    today = date(2026, 9, 1)
    for case_id, case_first in ((world.case(), True), (world.case(complete=False), True), (world.case(), False)):
        with world.ctx.db.raw_write() as store:
            if case_first:  # the case's row on its own first; else locked by the one statement
                store.ahead_case(case_id)
            store.ahead_move(case_id, int(world.counsellor), today, FIELD_NAMES)
            case = store.case_row(case_id)
            assert case is not None
            staff = int(world.counsellor)
            together = (
                case,
                store.staff_by_id(staff),
                store.roles(staff, case.school_id, today),
                store.case_assigned(case_id, staff, today),
                store.child_filled(case.child_id, FIELD_NAMES),
                store.records_present(case_id, case.child_id),
                store.audit_head(case.school_id),
            )
            one_by_one = (  # asked again: the answers sent together are taken once, so these are read anew
                store.case_row(case_id),
                store.staff_by_id(staff),
                store.roles(staff, case.school_id, today),
                store.case_assigned(case_id, staff, today),
                store.child_filled(case.child_id, FIELD_NAMES),
                store.records_present(case_id, case.child_id),
                store.audit_head(case.school_id),
            )
        assert together == one_by_one


def test_the_key_guard_riding_on_the_advances_read_still_refuses_a_stale_key_and_answers_without_a_case(
    world: World, tmp_path: Path
) -> None:
    from datetime import date

    from casework.persistence import crypto
    from casework.persistence.db import Database
    from casework.services import keys
    from casework.services.facts import FIELD_NAMES
    from tests.helpers import TEST_KEY

    case_id, staff, today = world.case(), int(world.counsellor), date(2026, 9, 1)
    with world.ctx.db.raw_write() as store:  # the read sent with the guard, never asked for
        store.ahead_move(case_id, staff, today, FIELD_NAMES)
    with world.ctx.db.raw_write() as store:  # no such case: the guard is sent on its own
        store.ahead_move(case_id + 1000, staff, today, FIELD_NAMES)
        assert store.case_row(case_id + 1000) is None
        store.send("UPDATE case_file SET stage_due_on = NULL WHERE id = ?", case_id)
    stale_db = Database(world.url, keyring=crypto.KeyRing(crypto.Key.decode(TEST_KEY, "test")))
    stale_db.check_key()
    keys.rotate(world.ctx, world.admin, out=str(tmp_path / "new.key"))
    for asked in (case_id, case_id + 1000):
        for case_first in (True, False):
            with pytest.raises(crypto.KeyProblem, match="was changed"), stale_db.raw_write() as store:
                if case_first:
                    store.ahead_case(asked)
                store.ahead_move(asked, staff, today, FIELD_NAMES)
                store.case_row(asked)
                store.send("UPDATE case_file SET stage_due_on = NULL WHERE id = ?", case_id)
    stale_db.dispose()


@pytest.mark.parametrize("changes_case", [True, False], ids=["case-and-card", "a-flag-only"])
def test_an_advance_that_waited_for_the_case_reads_what_the_case_holder_committed(
    world: World, changes_case: bool
) -> None:
    """Another writer holds the case (its row changed, or only a flag inserted: the foreign key's
    KEY SHARE lock) while an advance asks for it: the advance reads what that writer committed."""
    import threading
    import time
    from datetime import date

    import psycopg
    from sqlalchemy.engine import make_url

    from casework.services.facts import FIELD_NAMES

    if world.ctx.db.is_sqlite:
        pytest.skip("PostgreSQL only: a SQLite writer waits for the database, never inside a statement")
    case_id, staff, today = world.case(), int(world.counsellor), date(2026, 9, 1)
    url = make_url(world.url).set(drivername="postgresql").render_as_string(hide_password=False)
    seen: list[object] = []

    def advance_reads() -> None:  # what cases.advance asks, in its order
        with world.ctx.db.raw_write() as store:
            store.ahead_advance(case_id, staff, today, FIELD_NAMES)
            case = store.case_row(case_id)
            assert case is not None
            seen.extend(
                [
                    case.counsellor_id,
                    store.child_filled(case.child_id, FIELD_NAMES).boarding,
                    "flag" in store.records_present(case_id, case.child_id),
                ]
            )

    with psycopg.connect(url) as holder:
        if changes_case:
            holder.execute("UPDATE case_file SET counsellor_id = NULL WHERE id = %s", (case_id,))
            holder.execute(
                "UPDATE child SET boarding = true WHERE id = (SELECT child_id FROM case_file WHERE id = %s)", (case_id,)
            )
        else:
            holder.execute(
                "INSERT INTO case_flag (school_id, case_id, code, rule, raised_at) "
                "SELECT school_id, id, 'bench', 'test', now() FROM case_file WHERE id = %s",
                (case_id,),
            )
        waiting = threading.Thread(target=advance_reads)
        waiting.start()
        time.sleep(0.3)  # the advance waits for the case's lock
        assert not seen
        holder.commit()
    waiting.join(10)
    if changes_case:
        assert seen == [None, True, False]
    else:
        assert seen[2] is True  # the flag committed before the lock was granted
