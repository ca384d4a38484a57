"""Stage documents from real cases on SQLite and PostgreSQL: automatic after moves, registered, audited."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from casework.domain.inputs import RecordAssessment, RecordContact
from casework.services import assessments, documents, mentoring
from casework.services.audit import chain


def _ok(rows: list[Any]) -> list[tuple[str, str]]:
    return [(r.stage, r.template) for r in rows if r.status == "ok"]


def test_every_move_renders_the_stage_it_completed(world) -> None:
    documents.render_after_moves(world.ctx)
    case = world.case()
    world.drive(case, "reviewed")
    world.review_all(case)
    world.fire(case, "close", "父母返乡")
    rows = documents.list_documents(world.ctx, world.leader, case)
    assert _ok(rows) == [
        ("identified", "child_card"),
        ("assessed", "assessment"),
        ("individual_plan", "individual_plan"),
        ("mentored", "talk_record"),
        ("mentored", "parent_feedback"),
        ("reviewed", "stage_review"),
        ("closed", "closing_report"),
    ]
    assert {r.format for r in rows} == {"html"} and all(r.auto for r in rows)
    assert all(r.sha256 for r in rows)
    assert {r.template: r.template_version for r in rows if r.template_version != "1"} == {
        "child_card": "2",
        "parent_feedback": "2",
    }
    assert chain.verify(world.ctx).ok
    name, data = documents.document_bytes(world.ctx, world.leader, rows[-1].id)
    assert name == f"case{case}-closing_report.zh_CN.html"
    assert "父母返乡" in data.decode() and "王小明" in data.decode()
    review = documents.document_bytes(world.ctx, world.leader, rows[-2].id)[1].decode()
    assert "进步明显" in review and "结案" in review  # the effect and the leadership group's decision


def test_auto_render_is_off_unless_asked(world) -> None:
    case = world.case()
    world.fire(case, "assess")
    assert documents.list_documents(world.ctx, world.leader, case) == []


@pytest.mark.parametrize("stage", ["identified", "assessed", "individual_plan", "mentored", "reviewed"])
def test_each_stage_renders_in_every_text_format_and_language(shared_world, stage: str) -> None:
    case = shared_world.case()
    # A stage's record is complete when the case has left it (the assessment before plan, ...).
    after = {"assessed": "individual_plan", "individual_plan": "mentored"}
    shared_world.drive(case, after.get(stage, stage))
    for lang in ("zh_CN", "en"):
        for fmt in ("html", "md", "docx"):
            made = documents.render_case(
                shared_world.ctx, shared_world.counsellor, case, stage=stage, fmt=fmt, lang=lang
            )
            assert made and all(hashlib.sha256(d.data).hexdigest() == d.sha256 for d in made)
            if fmt != "docx":
                assert "王小明" in made[0].data.decode()


def test_same_case_version_same_bytes(shared_world) -> None:
    case = shared_world.case()
    shared_world.drive(case, "individual_plan")
    first = documents.render_case(shared_world.ctx, shared_world.counsellor, case, stage="assessed", fmt="html")
    again = documents.render_case(shared_world.ctx, shared_world.counsellor, case, stage="assessed", fmt="html")
    assert first[0].sha256 == again[0].sha256 and first[0].id != again[0].id


def test_a_conduct_case_gets_an_education_management_plan(shared_world) -> None:
    case = shared_world.case()
    shared_world.drive(case, "assessed")
    assessments.assessment(
        shared_world.ctx,
        shared_world.counsellor,
        RecordAssessment(case_id=case, categories=["品德行为偏差"], summary="课堂上多次打架"),
    )
    shared_world.fire(case, "plan")
    shared_world.plan_item(case, category="conduct", kind="correction", target="一学期内无打架行为")
    made = documents.render_case(shared_world.ctx, shared_world.counsellor, case, fmt="md")
    assert [d.template for d in made] == ["individual_plan", "education_plan"]
    assert "一学期内无打架行为" in made[1].data.decode()


def test_a_failed_rendering_never_undoes_the_move_and_is_retried(world, monkeypatch) -> None:
    documents.render_after_moves(world.ctx)
    case = world.case()

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(documents, "_render", broken)
    moved = world.fire(case, "assess")
    assert moved.to_state == "assessed"
    rows = documents.list_documents(world.ctx, world.leader, case)
    assert [(r.status, r.stage) for r in rows] == [("failed", "identified")]
    assert "disk full" in rows[0].error
    monkeypatch.undo()
    documents.render_case(world.ctx, world.counsellor, case, stage="identified")
    assert [r.status for r in documents.list_documents(world.ctx, world.leader, case)] == ["retried", "ok"]
    assert chain.verify(world.ctx).ok


def test_monthly_cards_for_every_mentored_case(shared_world) -> None:
    cases = [shared_world.case() for _ in range(3)]
    for case in cases:
        shared_world.drive(case, "mentored")
    mentoring.contact(
        shared_world.ctx,
        shared_world.teacher,
        RecordContact(
            case_id=cases[0],
            kind="talk",
            occurred_on=shared_world.clock.now.date(),
            by=None,
            summary="谈开学适应情况",
            follow_up=None,
        ),
    )
    seen = []
    made = documents.render_many(
        shared_world.ctx,
        shared_world.counsellor,
        "talk_record",
        case_ids=cases,
        fmt="md",
        month=shared_world.clock.now.strftime("%Y-%m"),
        batch_size=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert [d.case_id for d in made] == cases
    assert "谈开学适应情况" in made[0].data.decode()
    assert seen[-1] == (3, 3)


def test_redacted_documents_mask_the_card(shared_world) -> None:
    case = shared_world.case()
    (doc,) = documents.render_case(shared_world.ctx, shared_world.counsellor, case, fmt="md", redact=True)
    text = doc.data.decode()
    assert "13812345678" not in text and "138****5678" in text and "王大山" in text
