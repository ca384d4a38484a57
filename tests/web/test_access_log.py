"""A page that reads sealed fields logs each read, and one page's reads go to the log in one transaction."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from casework.persistence.tables import AuditEvent
from tests.helpers import World, unscoped
from tests.web.conftest import sign_in


def _reads(world: World) -> list[dict[str, object]]:
    with unscoped(world.ctx.db) as session:
        rows = session.scalars(
            select(AuditEvent.data).where(AuditEvent.action == "access.read").order_by(AuditEvent.seq)
        )
        return [json.loads(r) for r in rows]


def test_the_case_page_logs_its_reads_together(world: World) -> None:
    case = world.case()
    world.fire(case, "assess", "电话里听到孩子想念父母")  # a reason: the history reads counselling content
    browser = sign_in(world, world.counsellor, "log-counsellor")
    before = len(_reads(world))
    with unscoped(world.ctx.db) as session:
        ts_before = session.scalar(select(func.count(func.distinct(AuditEvent.ts))))
    assert browser.get(f"/cases/{case}").status_code == 200
    logged = _reads(world)[before:]
    # the child's name (contact data) and the move's reason (counselling content), each logged
    assert {e["what"] for e in logged} >= {"case.show", "case.history"} and len(logged) >= 2
    with unscoped(world.ctx.db) as session:
        ts_after = session.scalar(select(func.count(func.distinct(AuditEvent.ts))))
    assert ts_after - ts_before == 1  # every read of the page in one transaction, at one moment


def test_a_page_closed_to_the_role_is_refused_and_logged(world: World) -> None:
    """The route table refuses before any use case runs: the refusal still goes to the access log."""
    browser = sign_in(world, world.mentor, "log-mentor")
    with unscoped(world.ctx.db) as session:
        before = session.scalar(select(func.count()).where(AuditEvent.action == "access.denied"))
    assert browser.get("/staff").status_code == 403
    with unscoped(world.ctx.db) as session:
        rows = session.scalars(
            select(AuditEvent.data).where(AuditEvent.action == "access.denied").order_by(AuditEvent.seq)
        ).all()
    assert len(rows) == before + 1 and json.loads(rows[-1])["what"] == "page:staff"


def test_a_class_sheet_row_refused_for_consent_is_logged_and_saves_nothing(world: World) -> None:
    """Found in review: the sheet turned the refusal into a row problem and the access log never saw it."""
    import pytest

    from casework.services import class_sheet

    case = world.case(consent=False)
    with unscoped(world.ctx.db) as session:
        before = session.scalar(select(func.count()).where(AuditEvent.action == "access.denied"))
    with pytest.raises(class_sheet.SheetRefused):
        class_sheet.save(world.ctx, world.teacher, [class_sheet.SheetEntry(case, "talk", None, "谈心")])
    with unscoped(world.ctx.db) as session:
        after = session.scalar(select(func.count()).where(AuditEvent.action == "access.denied"))
    assert after == before + 1
