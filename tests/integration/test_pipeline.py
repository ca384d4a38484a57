"""The hot path's store on PostgreSQL's pipeline (and the same calls on SQLite): answers, conflicts, rollbacks."""

from __future__ import annotations

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
        store.move_case(case_id, before.state, before.version + 7, "assessed", world.ctx.now(), None, changed)
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
        store.move_case(case_id, row.state, row.version, "assessed", world.ctx.now(), None, Conflict("x"))
        assert store.one("SELECT state, version FROM case_file WHERE id = ?", case_id) == ("assessed", row.version + 1)
