"""The recording inputs: parsed from typed text or made directly, checked the same way, errors naming their field."""

from __future__ import annotations

from datetime import date

import pytest

from casework.domain.inputs import (
    AddPlanItem,
    PairPartner,
    RecordAssessment,
    RecordConsent,
    RecordContact,
    RecordEnrolment,
    RecordScreening,
    RecordTermResult,
    ReviewPlanItem,
)
from casework.errors import InvalidInput


def test_text_is_read_into_typed_values() -> None:
    item = AddPlanItem.parse(
        case_id=3,
        category="学习",
        measures="  每周辅导 ",
        start="2026年9月15日",
        end="2027/1/15",
        kind="学习辅导",
        subject="数学",
    )
    assert (item.category, item.kind, item.subject, item.measures) == ("learning", "tutoring", "数学", "每周辅导")
    assert (item.start, item.end) == (date(2026, 9, 15), date(2027, 1, 15))
    assert item.content is None and item.target is None  # blank text is "not given"


def test_a_value_made_directly_is_checked_as_a_parsed_one() -> None:
    with pytest.raises(InvalidInput) as made:
        AddPlanItem(case_id=1, category="learning", measures="x", start=date(2027, 1, 2), end=date(2027, 1, 1))
    with pytest.raises(InvalidInput) as parsed:
        AddPlanItem.parse(case_id=1, category="learning", measures="x", start="2027-01-02", end="2027-01-01")
    assert made.value.msg == parsed.value.msg and made.value.field == parsed.value.field == "end"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: AddPlanItem.parse(case_id=1, category="astrology", measures="x"), "category"),
        (lambda: AddPlanItem.parse(case_id=1, category="learning", measures="   "), "measures"),
        (lambda: AddPlanItem.parse(case_id=1, category="learning", measures="x", kind="tutoring"), "subject"),
        (lambda: AddPlanItem.parse(case_id=1, category="learning", measures="x", start="9/15"), "start"),
        (lambda: RecordContact.parse(case_id=1, kind="talk", summary="x" * 5001), "summary"),
        (lambda: RecordContact.parse(case_id=1, kind="gossip", summary="x"), "kind"),
        (lambda: PairPartner.parse(case_id=1, kind="学习帮手"), "partner_name"),
        (lambda: PairPartner.parse(case_id=1, kind="mentor"), "staff"),
        (
            lambda: PairPartner.parse(case_id=1, kind="mentor", staff="李", from_on="2026-09-02", to_on="2026-09-01"),
            "to_on",
        ),
        (lambda: RecordTermResult.parse(child_id=1, school_year="2026", term="3", total="400", rank="2"), "term"),
        (lambda: RecordTermResult.parse(child_id=1, school_year="2026", term="1", total="x", rank="2"), "total"),
        (lambda: RecordTermResult.parse(child_id=1, school_year=2026, term=1, total=400, rank=9, class_size=8), "rank"),
        (lambda: RecordEnrolment.parse(child_id=1, school_year="1999", term="1", status="在读"), "school_year"),
        (lambda: RecordScreening.parse(case_id=1, scores="0,1"), "scores"),
        (lambda: RecordScreening.parse(case_id=1, scores="0" * 25, informant="aunt"), "informant"),
        (lambda: ReviewPlanItem.parse(case_id=1, item_id="2", result="maybe", effect="x"), "result"),
        (lambda: RecordConsent.parse(child_id=1, guardian="王大山", relation="祖父", scope="everything"), "scope"),
    ],
)
def test_each_refusal_names_its_field(make, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        make()
    assert refused.value.field == field


def test_chinese_words_and_labels_become_codes() -> None:
    assert PairPartner.parse(case_id=1, kind="帮扶教师", staff="李帮扶").kind == "mentor"
    assert ReviewPlanItem.parse(case_id=1, item_id="4", result="部分达成", effect="有进步").result == "partly_met"
    assert RecordEnrolment.parse(child_id=1, school_year="2026", term="2", status="辍学").status == "dropped_out"
    assert RecordAssessment.parse(case_id=1, categories=["学习", "learning", "心理"], summary="x").categories == (
        "learning",
        "psychological",
    )
    assert RecordConsent.parse(child_id=1, guardian="王大山", relation="祖父", scope="全部").scope == "all"


def test_inputs_are_frozen_values() -> None:
    given = RecordContact.parse(case_id=1, kind="talk", summary="谈心", occurred_on="2026-09-01")
    assert given == RecordContact(case_id=1, kind="talk", summary="谈心", occurred_on=date(2026, 9, 1))
    with pytest.raises(AttributeError):
        given.summary = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        RecordContact.parse(case_id=1, kind="talk", summary="x", colour="red")
