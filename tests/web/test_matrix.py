"""Every route of the route table × every role: the expected status, and no child of another school or
outside the person's scope in any answer. Generated from casework.web.routes.ROUTES: a new route
without a sample here fails the first test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from casework.domain.inputs import RecordConsent
from casework.web.routes import ACCOUNT, PUBLIC, ROUTES, Route
from tests.helpers import World
from tests.web.conftest import Browser, app_of, new_browser, sign_in

IN_SCHOOL = "矩阵甲童"  # in the school, in the scope of its counsellor, class teacher, mentor and the leadership
OTHER_SCHOOL = "矩阵乙童"  # another school's child: nobody here may ever see the name
ROLES = ["admin", "counsellor", "class_teacher", "mentor", "caring_parent", "leader", "auditor", "bureau", None]
IN_SCOPE = {"counsellor", "class_teacher", "mentor", "leader", "admin"}  # the administrator: names, school-wide


@dataclass
class Matrix:
    world: World
    app: Any
    ids: dict[str, int]
    browsers: dict[str | None, Browser] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """How to call a route: its path, form, the status for a role it is open to (in scope or not)."""

    path: str
    data: dict[str, str] | None = None
    ok: int = 200
    out_of_scope: int | None = None  # an object route: the same 404 as an unknown id
    signed_in: int | None = None  # a public route that answers a signed-in person differently


def samples(ids: dict[str, int]) -> dict[str, Sample]:
    case, child, other, doc = ids["case"], ids["child"], ids["other_case"], ids["document"]
    return {
        "home": Sample("/", ok=303),
        "ping": Sample("/ping"),
        "sign_in_form": Sample("/sign-in", signed_in=303),
        "sign_in": Sample("/sign-in", {"login": "nobody-here", "password": "wrong password"}, ok=401),
        "lang": Sample("/lang", {"lang": "zh_CN", "back": "/desk"}, ok=303),
        "sign_out": Sample("/sign-out", {}, ok=303),
        "password_form": Sample("/password"),
        "password": Sample("/password", {"current": "not it", "new": "x", "repeat": "y"}, ok=400),
        "desk": Sample("/desk"),
        "class_sheet": Sample("/class-sheet"),
        "class_sheet_save": Sample("/class-sheet", {}, ok=400),
        "search": Sample("/children?q=矩阵"),
        "child": Sample(f"/children/{child}", out_of_scope=404),
        "child_record_form": Sample(f"/children/{child}/record/result", out_of_scope=404),
        "child_record": Sample(
            f"/children/{child}/record/result",
            {"year": "2026", "term": "1", "total": "250", "rank": "3"},
            ok=303,
            out_of_scope=404,
        ),
        "case": Sample(f"/cases/{case}", out_of_scope=404),
        "case_move": Sample(f"/cases/{case}/move", {"event": "review", "version": "0"}, ok=409, out_of_scope=404),
        "case_record_form": Sample(f"/cases/{case}/record/talk", out_of_scope=404),
        "case_record": Sample(f"/cases/{case}/record/talk", {"summary": "谈心：一切安好"}, ok=303, out_of_scope=404),
        "documents": Sample(f"/cases/{case}/documents", out_of_scope=404),
        "documents_render": Sample(f"/cases/{case}/documents", {"format": "md"}, ok=303, out_of_scope=404),
        "document": Sample(f"/documents/{doc}", out_of_scope=404),
        "staff": Sample("/staff"),
        "staff_password": Sample(f"/staff/{ids['spare']}/password", {}),
        "staff_disable": Sample(f"/staff/{ids['spare']}/disable", {"disabled": "0"}, ok=303),
        "other_case": Sample(f"/cases/{other}"),
        "stalled": Sample("/stalled"),
        "mentor_load": Sample("/mentor-load"),
        "meetings": Sample("/meetings"),
        "meeting_new": Sample("/meetings", {"by_hand": "abc"}, ok=400),
        "meeting": Sample(f"/meetings/{ids['meeting']}"),
        "meeting_decide": Sample(
            f"/meetings/{ids['meeting']}/decide", {"case": "987654", "decision": "continue"}, ok=404
        ),
        "meeting_minutes": Sample(f"/meetings/{ids['meeting']}/minutes?format=docx"),
        "indicators": Sample("/indicators"),
        "indicators_xlsx": Sample("/indicators.xlsx"),
        "evaluation": Sample("/evaluation?year=2026"),
        "evaluation_download": Sample("/evaluation/download?year=2026&format=xlsx"),
        "county": Sample("/county"),
        "county_download": Sample("/county/download?format=xlsx"),
        "audit": Sample("/audit"),
        "audit_verify": Sample("/audit/verify", {}, ok=303),
        "audit_checkpoint": Sample("/audit/checkpoint", {}, ok=400),
        "audit_export": Sample("/audit/export?format=jsonl&case=987654"),
        "access_log": Sample("/access-log"),
        "job": Sample("/jobs/987654", ok=404),
        "staff_add": Sample("/staff/add", {"name": " "}, ok=400),
        "staff_roles": Sample(f"/staff/{ids['spare']}/roles", {}, ok=400),
        "rollover": Sample("/rollover"),
        "rollover_confirm": Sample("/rollover", {"year": "x"}, ok=400),
        "roster": Sample("/roster"),
        "roster_upload": Sample("/roster", {}, ok=400),
        "roster_confirm": Sample("/roster/987654/confirm", {}, ok=404),
        "roster_problems": Sample("/roster/987654/problems", ok=404),
        "privacy": Sample("/privacy"),
    }


def test_every_route_has_a_sample() -> None:
    names = set(samples({k: 1 for k in ("case", "child", "other_case", "document", "spare", "meeting")}))
    missing = sorted(r.name for r in ROUTES if r.name not in names)
    assert not missing, f"add a sample to tests/web/test_matrix.py for {missing}"


@pytest.fixture(scope="module")
def matrix(shared_world: World) -> Iterator[Matrix]:
    from casework.services import accounts, cases, documents, setup

    w = shared_world
    ctx = w.ctx
    child = w.child(name=IN_SCHOOL)
    case = cases.open_case(ctx, w.counsellor, child)
    w.drive(case, "mentored")
    doc = documents.render_case(ctx, w.counsellor, case, fmt="html")[0]
    parent = str(setup.add_staff(ctx, w.admin, "矩阵爱心家长", ["caring_parent"]))
    auditor = str(setup.add_staff(ctx, w.admin, "矩阵审计", ["auditor"]))
    bureau = str(setup.add_staff(ctx, w.admin, "矩阵教育局", ["bureau"]))  # the county's officer: no child
    spare = setup.add_staff(ctx, w.admin, "矩阵备用", ["subject_teacher"])
    accounts.issue_password(ctx, w.admin, str(spare), "matrix-spare")
    other = setup.init(ctx, admin="矩阵二校管理员", school="矩阵二小")
    assert other.admin_id is not None
    other_admin = str(other.admin_id)
    setup.add_class(ctx, other_admin, 3, "1班", "矩阵二小")
    other_counsellor = str(
        setup.add_staff(ctx, other_admin, "矩阵二校心理", ["counsellor", "leader"], None, "矩阵二小")
    )
    from casework.services import children, consent

    other_child = children.add(
        ctx, other_counsellor, {"name": OTHER_SCHOOL, "guardian_name": "乙监护", "guardian_phone": "13800000000"}
    )
    consent.record(
        ctx, other_counsellor, RecordConsent(child_id=other_child, guardian="乙监护", relation="祖母", scope="all")
    )
    other_case = cases.open_case(ctx, other_counsellor, other_child)
    from casework.services import meetings

    meeting = meetings.new_meeting(ctx, w.leader, [])
    ids = {
        "case": case,
        "child": child,
        "other_case": other_case,
        "document": doc.id,
        "spare": spare,
        "meeting": meeting,
    }
    app = app_of(w)
    m = Matrix(w, app, ids)
    staff = {
        "admin": w.admin,
        "counsellor": w.counsellor,
        "class_teacher": w.teacher,
        "mentor": w.mentor,
        "caring_parent": parent,
        "leader": w.leader,
        "auditor": auditor,
        "bureau": bureau,
    }
    for role, staff_id in staff.items():
        m.browsers[role] = sign_in(w, staff_id, f"matrix-{role}", app)
    m.browsers[None] = new_browser(w, app)
    m.browsers[None].get("/sign-in")  # a signed-out browser has the sign-in form's token
    yield m


def expected(route: Route, role: str | None, sample: Sample) -> int:
    roles = None if role is None else frozenset({role})
    if not route.open_to(roles):
        return 303 if role is None else 403
    if route.needs not in (PUBLIC, ACCOUNT) and sample.out_of_scope is not None and role not in IN_SCOPE:
        return sample.out_of_scope
    if role is not None and sample.signed_in is not None:
        return sample.signed_in
    return sample.ok


@pytest.mark.parametrize("role", [r for r in ROLES if r is not None])
def test_another_schools_case_is_the_same_404_as_no_case(matrix: Matrix, role: str) -> None:
    browser = matrix.browsers[role]
    other = browser.get(f"/cases/{matrix.ids['other_case']}")
    missing = browser.get("/cases/987654")
    assert other.status_code == missing.status_code
    assert other.text.split("<main")[1] == missing.text.split("<main")[1]
    assert OTHER_SCHOOL not in other.text


CASES = [(r, role) for r in ROUTES if r.name != "sign_out" for role in ROLES] + [
    (r, role) for r in ROUTES if r.name == "sign_out" for role in ROLES
]


@pytest.mark.parametrize(
    ("route", "role"), CASES, ids=[f"{r.method}-{r.name}-{role or 'signed_out'}" for r, role in CASES]
)
def test_route_by_role(matrix: Matrix, route: Route, role: str | None) -> None:
    browser = matrix.browsers[role]
    sample = samples(matrix.ids)[route.name]
    if route.method == "GET":
        response = browser.get(sample.path)
    else:
        browser.get("/sign-in" if role is None else "/desk")  # a fresh token, as from a page just shown
        response = browser.post(sample.path, sample.data)
    want = expected(route, role, sample)
    assert response.status_code == want, f"{route.method} {sample.path} as {role}: {response.text[:400]}"
    assert OTHER_SCHOOL not in response.text
    if role not in IN_SCOPE:
        assert IN_SCHOOL not in response.text
    assert "Traceback" not in response.text
