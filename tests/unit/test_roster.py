"""Registers as schools keep them: headers recognised, mapping files, every cell checked and named."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from casework import i18n
from casework.domain.roster import (
    ALIASES,
    CLASS,
    FIELD_LIMITS,
    GRADE,
    IGNORE,
    RowParser,
    all_headers,
    col_letter,
    excel_date,
    export_header,
    export_targets,
    export_value,
    find_header_row,
    normalise_header,
    parse_mapping,
    parse_roster_date,
    plan_columns,
    split_work,
)
from casework.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
ID = "110105201503080027"  # born 2015-03-08, female (the 17th digit, 2, is even)
HEADERS = [
    "序号",
    "学生姓名",
    "性别",
    "出生日期",
    "年级",
    "班级",
    "学籍号",
    "身份证号",
    "监护人电话",
    "父亲务工单位/地址",
]


def parser(headers: list[str] = HEADERS, mapping: dict[str, str] | None = None) -> RowParser:
    plan = plan_columns(headers, 1, mapping)
    assert not plan.problems, [i18n.render(p.problem, "en") for p in plan.problems]
    return RowParser(plan)


def row(**cells: object) -> list[object]:
    base: dict[str, object] = {
        "序号": 1,
        "学生姓名": "王小红",
        "性别": "女",
        "出生日期": "2015年3月8日",
        "年级": "三年级",
        "班级": "(1)班",
        "学籍号": f"G{ID}",
        "身份证号": ID,
        "监护人电话": "138 1234 5678",
        "父亲务工单位/地址": "东莞某电子厂/广东省东莞市长安镇",
    }
    base.update(cells)
    return [base.get(h) for h in HEADERS]


def problems(parsed: object) -> list[str]:
    return [i18n.render(p.problem, "en") for p in parsed.problems]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("学生姓名", "name"),
        ("姓名", "name"),
        ("\ufeff学生姓名", "name"),
        ("*学生姓名", "name"),
        ("学生 姓名", "name"),
        ("学生\n姓名", "name"),
        ("身份证号码（必填）", "id_number"),
        ("Father Phone", "father_phone"),
        ("father_phone", "father_phone"),
        ("guardian relation", "guardian_relation"),
        ("与儿童关系", "guardian_relation"),
        ("留守类型", "family_situation"),
        ("父亲务工单位/地址", "father_workplace+address"),
        ("父亲务工单位／地址", "father_workplace+address"),
        ("年级", GRADE),
        ("班级", CLASS),
        ("序号", IGNORE),
    ],
)
def test_headers_schools_use_are_recognised(header: str, target: str) -> None:
    assert ALIASES[normalise_header(header)] == target


def test_every_field_of_the_card_can_be_imported_and_exported() -> None:
    from casework.domain.child import CHILD_FIELDS

    targets = set(export_targets())
    assert {f.name for f in CHILD_FIELDS} | {GRADE, CLASS} == targets
    for target in targets:
        assert ALIASES[normalise_header(export_header(target, "zh_CN"))] == target
        assert ALIASES[normalise_header(export_header(target, "en"))] == target


def test_docs_list_every_recognised_header() -> None:
    doc = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    for _, words in all_headers():
        for word in words:
            assert f"`{word}`" in doc, f"docs/import.md does not list the header {word}"


def test_the_header_row_may_sit_below_a_title() -> None:
    rows = [["白岩小学留守儿童花名册"], [], ["学生姓名", "学籍号", "性别"], ["王小红", "G1", "女"]]
    assert find_header_row(rows, {}) == 2
    assert find_header_row([["a", "b"], ["c"]], {}) is None


def test_unknown_and_duplicate_columns_are_reported_never_dropped() -> None:
    plan = plan_columns(["学生姓名", "姓名", "学籍号", "鞋码", "", "备注"], 3)
    texts = [i18n.render(p.problem, "en") for p in plan.problems]
    assert any("columns A (学生姓名) and B (姓名) both give name" in t for t in texts), texts
    assert any("unknown column '鞋码'" in t for t in texts)
    assert any("unknown column '备注'" in t for t in texts)
    assert all(p.row == 3 for p in plan.problems)
    assert plan.blank == {4}


def test_a_register_needs_a_name_and_a_number_column() -> None:
    texts = [i18n.render(p.problem, "en") for p in plan_columns(["性别", "出生日期"], 1).problems]
    assert any("name" in t for t in texts) and any("学籍号" in t for t in texts)


def test_ten_thousand_columns_are_refused() -> None:
    plan = plan_columns(["学生姓名", "学籍号", *[f"列{i}" for i in range(10_000)]], 1)
    assert len(plan.problems) == 1
    assert "10002 columns" in i18n.render(plan.problems[0].problem, "en")


def test_a_mapping_file_names_other_headers() -> None:
    mapping = parse_mapping("# 本校花名册\n学号 = student_no\n备注 = ignore\n 家长电话＝监护人电话 \n乡镇 = 忽略\n")
    assert mapping == {"学号": "student_no", "备注": IGNORE, "家长电话": "guardian_phone", "乡镇": IGNORE}
    plan = plan_columns(["姓名", "学号", "家长电话", "备注"], 1, mapping)
    assert not plan.problems
    assert plan.ignored == ["备注"]
    assert plan.fields == ["guardian_phone", "name", "student_no"]


@pytest.mark.parametrize("text", ["学号", "学号 = shoe_size", "= name"])
def test_a_bad_mapping_line_is_named(text: str) -> None:
    with pytest.raises(InvalidInput, match="line 1"):
        parse_mapping(text)


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2015-03-08", date(2015, 3, 8)),
        ("2015/3/8", date(2015, 3, 8)),
        ("2015.3.8", date(2015, 3, 8)),
        ("2015年3月8日", date(2015, 3, 8)),
        ("20150308", date(2015, 3, 8)),
        ("2015-03-08 00:00:00", date(2015, 3, 8)),
        ("42071", date(2015, 3, 8)),
        (42071, date(2015, 3, 8)),
        (42071.0, date(2015, 3, 8)),
        (datetime(2015, 3, 8), date(2015, 3, 8)),
        (61, date(1900, 3, 1)),
        (59, date(1900, 2, 28)),
        (1, date(1900, 1, 1)),
    ],
)
def test_dates_as_schools_type_them_and_excel_serials(value: object, expected: date) -> None:
    assert parse_roster_date(value, "出生日期") == expected


@pytest.mark.parametrize("value", ["2015-02-30", "2015-3", "昨天", 60, 0, 3_000_000])
def test_bad_dates(value: object) -> None:
    with pytest.raises(InvalidInput, match="出生日期"):
        parse_roster_date(value, "出生日期")


def test_excel_serial_epoch() -> None:
    assert excel_date(45658, "d") == date(2025, 1, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("东莞某电子厂/广东省东莞市", ("东莞某电子厂", "广东省东莞市")),
        ("东莞某电子厂，广东省东莞市", ("东莞某电子厂", "广东省东莞市")),
        ("东莞某电子厂", ("东莞某电子厂", None)),
    ],
)
def test_workplace_and_address_in_one_column(text: str, expected: tuple[str, str | None]) -> None:
    assert split_work(text) == expected


def test_col_letters() -> None:
    assert [col_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_export_writes_what_a_register_says() -> None:
    assert export_value("sex", "female", "zh_CN") == "女"
    assert export_value("boarding", True, "zh_CN") == "是"
    assert export_value("family_situation", "grandparent_care", "zh_CN") == "隔代监护"
    assert export_value("family_situation", "grandparent_care", "en") == "grandparent_care"


# ---------------------------------------------------------------------------- rows


def test_a_good_row() -> None:
    parsed = parser().parse(2, row())
    assert parsed is not None and parsed.ok, problems(parsed)
    assert parsed.values["name"] == "王小红"
    assert parsed.values["sex"] == "female"
    assert parsed.values["birth_date"] == date(2015, 3, 8)
    assert parsed.values["guardian_phone"] == "13812345678"
    assert parsed.values["father_workplace"] == "东莞某电子厂"
    assert parsed.values["father_workplace_address"] == "广东省东莞市长安镇"
    assert (parsed.grade, parsed.class_name) == (3, "1班")


def test_birth_date_and_sex_come_from_the_id_number_when_missing() -> None:
    parsed = parser().parse(2, row(出生日期=None, 性别=""))
    assert parsed is not None and parsed.ok
    assert parsed.values["birth_date"] == date(2015, 3, 8) and parsed.values["sex"] == "female"


def test_an_empty_row_is_skipped_even_with_a_row_number() -> None:
    assert parser().parse(9, [7, None, "", " "]) is None


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        ({"出生日期": "2015-03-09"}, "出生日期", "differs from the birth date in the ID number (2015-03-08)"),
        ({"性别": "男"}, "性别", "differs from the sex the ID number encodes"),
        ({"性别": "未知"}, "性别", "neither 男 nor 女"),
        ({"身份证号": ID[:-1] + "1"}, "身份证号", "wrong check digit"),
        ({"身份证号": 1.10105201503081e17}, "身份证号", "Excel rounded"),
        ({"监护人电话": "12345"}, "监护人电话", "not a phone number"),
        ({"学生姓名": '=HYPERLINK("http://x")'}, "学生姓名", "formula"),
        ({"学生姓名": None}, "学生姓名", "name is empty"),
        ({"学籍号": None, "身份证号": None}, "学籍号", "neither a student number"),
        ({"年级": "十五年级"}, "年级", "not a grade"),
        ({"年级": "四年级", "班级": "三年级1班"}, "班级", "names grade 3, the grade column says 4"),
        ({"年级": None, "班级": "1班"}, "班级", "names no grade"),
        ({"学生姓名": "王" * 101}, "学生姓名", "longer than 100 characters"),
    ],
)
def test_every_problem_names_row_and_column(cells: dict[str, object], column: str, fragment: str) -> None:
    parsed = parser().parse(7, row(**cells))
    assert parsed is not None
    texts = problems(parsed)
    assert any(fragment in t for t in texts), texts
    found = next(p for p in parsed.problems if fragment in i18n.render(p.problem, "en"))
    assert found.row == 7 and found.column == column
    assert found.where == col_letter(HEADERS.index(column))


def test_a_one_megabyte_cell_is_refused_and_shown_short() -> None:
    parsed = parser().parse(3, row(学生姓名="王" * 1_000_000))
    assert parsed is not None and not parsed.ok
    assert len(parsed.problems[0].value) <= 101


def test_placeholders_mean_empty_in_formatted_fields_only() -> None:
    headers = [*HEADERS, "母亲电话", "身体状况"]
    values = [*row(), "无", "无"]
    parsed = parser(headers).parse(2, values)
    assert parsed is not None and parsed.ok, problems(parsed)
    assert "mother_phone" not in parsed.values
    assert parsed.values["health"] == "无"


def test_numbers_from_xlsx_cells() -> None:
    headers = ["姓名", "学籍号", "监护人电话", "监护人年龄", "年级", "班级"]
    parsed = parser(headers).parse(2, ["王小红", 2015030801, 13812345678, 70.0, 3, 1])
    assert parsed is not None and parsed.ok, problems(parsed)
    assert parsed.values["student_no"] == "2015030801"
    assert parsed.values["guardian_phone"] == "13812345678"
    assert parsed.values["guardian_age"] == 70
    assert (parsed.grade, parsed.class_name) == (3, "1班")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("双留守", "both_away"),
        ("父亲外出务工", "one_away"),
        ("隔代监护", "grandparent_care"),
        ("离异", "divorced_single"),
    ],
)
def test_family_situation_as_registers_write_it(text: str, code: str) -> None:
    parsed = parser(["姓名", "学籍号", "留守类型"]).parse(2, ["王小红", "G1", text])
    assert parsed is not None and parsed.values["family_situation"] == code


def test_values_in_columns_without_a_header() -> None:
    parsed = parser(["姓名", "学籍号", ""]).parse(2, ["王小红", "G1", "多余", "更多"])
    assert parsed is not None
    assert [p.where for p in parsed.problems] == ["C", "D"]


def test_our_own_formula_guard_is_undone() -> None:
    parsed = parser(["姓名", "学籍号", "身体状况"]).parse(2, ["王小红", "G1", "'-无明显异常"])
    assert parsed is not None and parsed.values["health"] == "-无明显异常"


def test_limits_match_the_schema() -> None:
    from casework.persistence.tables import Child

    for name, limit in FIELD_LIMITS.items():
        assert getattr(Child, name).type.length == limit, name
