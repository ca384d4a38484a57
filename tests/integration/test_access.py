"""Record scope and the access log through the real services: who sees which cases, what is logged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from casework.cli import app
from casework.domain.inputs import PairPartner, RecordContact
from casework.errors import PermissionDenied
from casework.persistence.tables import AuditEvent
from casework.services import cases, children, documents, mentoring, review, setup
from tests.helpers import unscoped


def _events(world: Any, action: str) -> list[dict[str, Any]]:
    with unscoped(world.ctx.db) as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        return [{"actor_id": r.actor_id, **json.loads(r.data)} for r in rows]


def _staff(world: Any, name: str, role: str, class_ref: str | None = None) -> str:
    return str(setup.add_staff(world.ctx, world.admin, name, [role], class_ref))


@pytest.fixture
def two_cases(world: Any) -> dict[str, Any]:
    """Case "own" of the counsellor, in 4/1班 with a mentor; case "other" of a second counsellor in 5/1班."""
    setup.add_class(world.ctx, world.admin, 5, "1班")
    other_counsellor = _staff(world, "林心语", "counsellor")
    own = world.case()
    world.drive(own, "individual_plan")
    mentoring.pairing(
        world.ctx,
        world.counsellor,
        PairPartner(case_id=own, kind="mentor", staff=world.mentor, partner_name=None, from_on=None, to_on=None),
    )
    child = children.add(world.ctx, world.leader, {"name": "外班儿童"}, "5/1班")
    other = cases.open_case(world.ctx, other_counsellor, child)
    return {
        "own": own,
        "other": other,
        "other_counsellor": other_counsellor,
        "auditor": _staff(world, "冯审之", "auditor"),
    }


def test_each_role_lists_only_its_cases(world: Any, two_cases: dict[str, Any]) -> None:
    own, other = two_cases["own"], two_cases["other"]
    seen = {
        "leader": world.leader,
        "counsellor": world.counsellor,
        "other_counsellor": two_cases["other_counsellor"],
        "mentor": world.mentor,
        "class_teacher": world.teacher,
        "auditor": two_cases["auditor"],
        "admin": world.admin,
    }
    listed = {who: {c.id for c in cases.list_cases(world.ctx, actor)} for who, actor in seen.items()}
    assert listed["leader"] == listed["auditor"] == listed["admin"] == {own, other}
    assert listed["counsellor"] == {own}
    assert listed["other_counsellor"] == {other}
    assert listed["mentor"] == {own}  # through the pairing
    assert listed["class_teacher"] == {own}  # through the class 4/1班
    # names only for roles that read contact data
    names = {c.id: c.child.name for c in cases.list_cases(world.ctx, two_cases["auditor"])}
    assert names == {own: None, other: None}
    assert all(c.child.name for c in cases.list_cases(world.ctx, world.admin))


def test_children_and_stalled_lists_obey_the_scope(world: Any, two_cases: dict[str, Any]) -> None:
    visible = {c.id for c in children.list_children(world.ctx, two_cases["other_counsellor"])}
    own_child = cases.show(world.ctx, world.leader, two_cases["own"]).child.id
    assert own_child not in visible
    world.clock.advance(120)  # everything is overdue by now
    everyone = {c.case_id for c in review.stalled(world.ctx, world.leader)}
    assert {two_cases["own"], two_cases["other"]} <= everyone
    assert {c.case_id for c in review.stalled(world.ctx, two_cases["other_counsellor"])} == {two_cases["other"]}


def test_out_of_scope_is_denied_and_a_missing_case_is_not_found(world: Any, two_cases: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied) as denied:
        cases.show(world.ctx, two_cases["other_counsellor"], two_cases["own"])
    assert denied.value.denial.what == f"case:{two_cases['own']}"
    with pytest.raises(PermissionDenied):
        mentoring.contact(
            world.ctx,
            world.mentor,
            RecordContact(
                case_id=two_cases["other"], kind="talk", occurred_on=None, by=None, summary="谈心", follow_up=None
            ),
        )
    with pytest.raises(PermissionDenied):
        cases.advance(world.ctx, two_cases["other_counsellor"], two_cases["own"], "mentor")
    with pytest.raises(PermissionDenied):
        documents.list_documents(world.ctx, two_cases["other_counsellor"], two_cases["own"])
    from casework.errors import NotFound

    with pytest.raises(NotFound):
        cases.show(world.ctx, world.counsellor, 9999)


def test_tiers_hide_fields_from_roles_that_may_not_read_them(world: Any, two_cases: dict[str, Any]) -> None:
    child = world.child(health="哮喘")
    shown = children.show(world.ctx, world.admin, child)
    assert shown.fields["name"] and shown.fields["health"] is None and "health" in shown.hidden
    audited = children.show(world.ctx, two_cases["auditor"], child)
    assert audited.fields["name"] is None and audited.fields["guardian_phone"] is None
    assert children.show(world.ctx, world.leader, child).fields["health"] == "哮喘"
    with pytest.raises(PermissionDenied):
        mentoring.contact(
            world.ctx,
            two_cases["auditor"],
            RecordContact(
                case_id=two_cases["own"], kind="talk", occurred_on=None, by=None, summary="x", follow_up=None
            ),
        )


def test_reads_of_contact_data_and_counselling_content_are_logged(world: Any, two_cases: dict[str, Any]) -> None:
    child = world.child()
    before = len(_events(world, "access.read"))
    children.show(world.ctx, world.leader, child)
    logged = _events(world, "access.read")[before:]
    assert {e["tier"] for e in logged} == {"T1"}
    assert all(e["child_ids"] == [child] and e["roles"] == ["leader"] and e["what"] == "child.show" for e in logged)
    # the auditor reads T0 only: nothing to log
    before = len(_events(world, "access.read"))
    cases.list_cases(world.ctx, two_cases["auditor"])
    assert len(_events(world, "access.read")) == before


def test_a_denial_from_the_command_line_exits_5_and_is_logged(world: Any, two_cases: dict[str, Any]) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app(), ["--db", world.url, "case", "show", str(two_cases["own"]), "--as", two_cases["other_counsellor"]]
    )
    assert result.exit_code == 5, result.output
    assert len(result.output.strip().splitlines()) == 1
    denied = _events(world, "access.denied")[-1]
    assert denied["actor_id"] == int(two_cases["other_counsellor"])
    assert denied["roles"] == ["counsellor"] and denied["what"] == f"case:{two_cases['own']}"
    # a role may not fire the leadership's events either
    reviewed = world.case()
    world.drive(reviewed, "reviewed")
    result = runner.invoke(
        app(), ["--db", world.url, "case", "advance", str(reviewed), "revise", "--as", world.counsellor]
    )
    assert result.exit_code == 5, result.output
    assert _events(world, "access.denied")[-1]["what"] == "event:revise"


def test_an_unscoped_session_may_not_read_case_data(world: Any) -> None:
    from casework.persistence.scope import UnscopedQuery
    from casework.persistence.tables import Case

    with pytest.raises(UnscopedQuery), world.ctx.db.read() as session:
        session.scalars(select(Case)).all()


def test_a_denial_through_the_service_layer_alone_is_logged_once(world: Any, two_cases: dict[str, Any]) -> None:
    """Whoever calls (the CLI, the web, a script), the layer that denies logs the denial."""
    before = len(_events(world, "access.denied"))
    with pytest.raises(PermissionDenied):
        cases.show(world.ctx, two_cases["other_counsellor"], two_cases["own"])
    with pytest.raises(PermissionDenied):  # the hot path's own transaction
        cases.advance(world.ctx, two_cases["other_counsellor"], two_cases["own"], "assess")
    logged = _events(world, "access.denied")[before:]
    assert [e["what"] for e in logged] == [f"case:{two_cases['own']}"] * 2
    assert all(e["actor_id"] == int(two_cases["other_counsellor"]) for e in logged)


def test_a_role_that_does_not_read_contact_data_may_not_search_it(world: Any) -> None:
    from casework.services import desk, keys

    auditor = _staff(world, "审计员", "auditor")
    world.child(name="曹小雨", guardian_phone="13077876804", id_number="520321201603081251")
    for search in ({"name": "曹"}, {"phone": "13077876804"}, {"id_number": "520321201603081251"}):
        before = len(_events(world, "access.denied"))
        with pytest.raises(PermissionDenied, match="may not search contact data"):
            keys.find_children(world.ctx, auditor, **search)
        logged = _events(world, "access.denied")
        assert len(logged) == before + 1
        assert logged[-1]["what"] == "search:child.find:T1" and logged[-1]["roles"] == ["auditor"]
    with pytest.raises(PermissionDenied):
        desk.find_children(world.ctx, auditor, "曹")
    # a role that reads contact data still finds the child, and the read is logged
    assert [c.name for c in keys.find_children(world.ctx, world.leader, name="曹")] == ["曹小雨"]
    result = CliRunner().invoke(app(), ["--db", world.url, "child", "find", "--phone", "13077876804", "--as", auditor])
    assert result.exit_code == 5, result.output
    assert "曹小雨" not in result.output
