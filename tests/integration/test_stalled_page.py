"""The leadership group's stalled page as the service gives it, on SQLite and PostgreSQL: one page of the
list, its counts over every case, only the page's children read and logged, a change seen at once."""

from __future__ import annotations

import json
import threading

from sqlalchemy import select

from casework.persistence.tables import AuditEvent, Case
from casework.services import leadership
from tests.helpers import World, unscoped


def _stalled_reads(world: World) -> list[list[int]]:
    with unscoped(world.ctx.db) as session:
        rows = session.scalars(
            select(AuditEvent.data).where(AuditEvent.action == "access.read").order_by(AuditEvent.seq)
        ).all()
    found = [json.loads(r) for r in rows]
    return [r["child_ids"] for r in found if r["what"] == "review.stalled"]


def _children(world: World, case_ids: list[int]) -> dict[int, int]:
    with unscoped(world.ctx.db) as session:
        return dict(session.execute(select(Case.id, Case.child_id).where(Case.id.in_(case_ids))).all())


def test_a_page_of_the_list_names_and_logs_only_its_own_children(world: World) -> None:
    late = [world.case() for _ in range(3)]
    world.clock.advance(16)  # every stage deadline passed: all three stalled
    child_of = _children(world, late)
    first = leadership.stalled_page(world.ctx, world.leader, per_page=2)
    assert (first.total, first.page, first.pages) == (3, 1, 2)
    assert [c.case_id for c in first.rows] == sorted(late)[:2]  # same risk and days: the oldest first
    assert all(c.child_name == "王小明" for c in first.rows)
    assert first.by_reason == (("stage_deadline", 3),) and sum(n for _, n in first.by_risk) == 3
    assert first.stages == ("identified",) and first.reasons == ("stage_deadline",)
    assert _stalled_reads(world) == [sorted(child_of[c] for c in sorted(late)[:2])]
    second = leadership.stalled_page(world.ctx, world.leader, page=2, per_page=2)
    assert [c.case_id for c in second.rows] == [max(late)] and second.total == 3
    assert _stalled_reads(world)[-1] == [child_of[max(late)]]
    beyond = leadership.stalled_page(world.ctx, world.leader, page=9, per_page=2)
    assert beyond.page == 2  # past the end: the last page


def test_filters_that_name_nothing_are_dropped_and_a_stage_filters_over_the_list(world: World) -> None:
    late = world.case()
    world.clock.advance(16)
    odd = leadership.stalled_page(world.ctx, world.leader, class_id=987654, responsible_id=987654, reason="nonsense")
    assert (odd.class_id, odd.responsible_id, odd.reason) == (None, None, "")
    assert [c.case_id for c in odd.rows] == [late]
    other = leadership.stalled_page(world.ctx, world.leader, stage="mentored")
    assert other.stage == "mentored" and other.rows == () and other.total == 0
    by_reason = leadership.stalled_page(world.ctx, world.leader, reason="monthly_talk")
    assert by_reason.reason == "monthly_talk" and by_reason.total == 0


def test_a_change_in_the_school_shows_on_the_next_view(world: World) -> None:
    late = [world.case() for _ in range(2)]
    world.clock.advance(16)
    before = leadership.stalled_page(world.ctx, world.leader)
    assert before.total == 2 and before.by_reason == (("stage_deadline", 2),)
    world.fire(late[0], "assess")  # out of the stage whose deadline passed
    after = leadership.stalled_page(world.ctx, world.leader)
    assert [c.case_id for c in after.rows] == [late[1]]
    assert after.by_reason == (("stage_deadline", 1),)


def test_leaders_opening_the_page_at_once_after_a_change_share_one_computed_list(world: World) -> None:
    late = [world.case() for _ in range(3)]
    world.clock.advance(16)
    leadership.stalled_page(world.ctx, world.leader)
    world.fire(late[0], "assess")  # a change: the next views compute the list anew
    start = threading.Barrier(4)
    pages: list[leadership.StalledPage] = []

    def view() -> None:
        start.wait()
        pages.append(leadership.stalled_page(world.ctx, world.leader))

    threads = [threading.Thread(target=view) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(pages) == 4 and all(p.total == 2 for p in pages)
    first = pages[0].rows[0]
    assert all(p.rows[0] is first for p in pages)  # the same objects: one computation, the others waited


def test_a_sign_in_or_a_password_does_not_compute_the_list_again(world: World) -> None:
    from casework.services import accounts

    world.case()
    world.clock.advance(16)
    before = leadership.stalled_page(world.ctx, world.leader)
    accounts.issue_password(world.ctx, world.admin, world.counsellor, "xinyi")  # an account.* event
    after = leadership.stalled_page(world.ctx, world.leader)
    assert after.rows[0] is before.rows[0]  # the kept list, not a new one
