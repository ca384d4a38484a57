"""The child file and contact card (档案与联络卡): its fields, how each is parsed, what is required."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from casework.domain import limits
from casework.domain import validation as v
from casework.domain.idcard import parse_id_number
from casework.domain.vocab import FAMILY_SITUATIONS, SEXES
from casework.errors import InvalidInput
from casework.text import N_, Msg

SEX_ALIASES = {"男": "male", "女": "female", "m": "male", "f": "female", "M": "male", "F": "female"}
FAMILY_ALIASES = {
    "双亲外出": "both_away",
    "父母均外出": "both_away",
    "单亲外出": "one_away",
    "一方外出": "one_away",
    "离异单亲": "divorced_single",
    "隔代监护": "grandparent_care",
    "其他": "other",
    # as registers write the 留守类型 column
    "双留守": "both_away",
    "父母双方外出": "both_away",
    "父母均外出务工": "both_away",
    "父母双方外出务工": "both_away",
    "父母外出": "both_away",
    "单留守": "one_away",
    "父母一方外出务工": "one_away",
    "父亲外出": "one_away",
    "母亲外出": "one_away",
    "父亲外出务工": "one_away",
    "母亲外出务工": "one_away",
    "父外出": "one_away",
    "母外出": "one_away",
    "离异": "divorced_single",
    "单亲": "divorced_single",
    "单亲家庭": "divorced_single",
    "离异家庭": "divorced_single",
    "隔代": "grandparent_care",
    "隔代抚养": "grandparent_care",
    "祖辈监护": "grandparent_care",
    "祖父母监护": "grandparent_care",
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str  # msgid
    parse: Callable[[str, Any], Any]


def _text(text: str, field: Any) -> str:
    return v.require_text(text, field, limits.LINE)


def _name(text: str, field: Any) -> str:
    return v.require_text(text, field, limits.NAME)


def _sex(text: str, field: Any) -> str:
    return v.parse_choice(text, field, SEXES, SEX_ALIASES)


def _family(text: str, field: Any) -> str:
    return v.parse_choice(text, field, FAMILY_SITUATIONS, FAMILY_ALIASES)


def _id_number(text: str, field: Any) -> str:
    """Checked as the register import checks it (shape, check digit, birth date), kept upper-case."""
    return parse_id_number(text, field).number


def _age(text: str, field: Any) -> int:
    return v.parse_int(text, field, 10, 120)


LITERACY_WORDS = {"识字": "是", "能": "是", "会": "是", "不识字": "否", "文盲": "否", "不能": "否", "不会": "否"}


def _literate(text: str, field: Any) -> bool:
    return v.parse_bool(LITERACY_WORDS.get(text.strip(), text), field)


CHILD_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", N_("name"), _name),
    FieldSpec("sex", N_("sex"), _sex),
    FieldSpec("birth_date", N_("date of birth"), v.parse_date),
    FieldSpec("student_no", N_("student number"), _text),
    FieldSpec("id_number", N_("ID number"), _id_number),
    FieldSpec("boarding", N_("boarding"), v.parse_bool),
    FieldSpec("health", N_("health"), _text),
    FieldSpec("home_address", N_("home address"), _text),
    FieldSpec("family_situation", N_("family situation"), _family),
    FieldSpec("father_name", N_("father name"), _name),
    FieldSpec("father_phone", N_("father phone"), v.parse_phone),
    FieldSpec("father_address", N_("father home address"), _text),
    FieldSpec("father_workplace", N_("father workplace"), _text),
    FieldSpec("father_workplace_address", N_("father workplace address"), _text),
    FieldSpec("father_workplace_phone", N_("father workplace phone"), v.parse_phone),
    FieldSpec("mother_name", N_("mother name"), _name),
    FieldSpec("mother_phone", N_("mother phone"), v.parse_phone),
    FieldSpec("mother_address", N_("mother home address"), _text),
    FieldSpec("mother_workplace", N_("mother workplace"), _text),
    FieldSpec("mother_workplace_address", N_("mother workplace address"), _text),
    FieldSpec("mother_workplace_phone", N_("mother workplace phone"), v.parse_phone),
    FieldSpec("guardian_name", N_("guardian name"), _name),
    FieldSpec("guardian_relation", N_("guardian relation"), _name),
    FieldSpec("guardian_occupation", N_("guardian occupation"), _text),
    FieldSpec("guardian_address", N_("guardian address"), _text),
    FieldSpec("guardian_phone", N_("guardian phone"), v.parse_phone),
    FieldSpec("guardian_health", N_("guardian health"), _text),
    FieldSpec("guardian_age", N_("guardian age"), _age),
    # The family_situation module raises the risk when the guardian cannot read (篇5: 「文化水平较低，
    # 无法担负起教育辅导孩子的责任」).
    FieldSpec("guardian_literate", N_("guardian can read"), _literate),
)
FIELDS_BY_NAME: dict[str, FieldSpec] = {f.name: f for f in CHILD_FIELDS}
CONTACT_CARD_FIELDS: tuple[str, ...] = tuple(f.name for f in CHILD_FIELDS if f.name != "name")

# What "complete enough for the file" means by default (the core guard's parameter).
FILE_REQUIRED: tuple[str, ...] = (
    "name",
    "sex",
    "birth_date",
    "home_address",
    "family_situation",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
)


def field_label(name: str) -> str:
    if name in {"class", "class_id"}:
        return N_("class")
    spec = FIELDS_BY_NAME.get(name)
    return spec.label if spec else name


def check_id_number_agrees(card: Mapping[str, Any]) -> None:
    """Refuse a card whose birth date or sex differs from what its ID number encodes, as the
    register import does (so that a school's own export imports again)."""
    number = card.get("id_number")
    if not number:
        return
    holder = parse_id_number(str(number), Msg(FIELDS_BY_NAME["id_number"].label))
    born, sex = card.get("birth_date"), card.get("sex")
    if born is not None and born != holder.birth_date:
        raise InvalidInput(
            "{field}: {given} differs from the birth date in the ID number ({born})",
            field=Msg(FIELDS_BY_NAME["birth_date"].label),
            given=born,
            born=holder.birth_date,
        )
    if sex is not None and sex != holder.sex:
        raise InvalidInput(
            "{field}: '{given}' differs from the sex the ID number encodes ({sex})",
            field=Msg(FIELDS_BY_NAME["sex"].label),
            given=Msg(SEXES.get(sex, sex)),
            sex=Msg(SEXES[holder.sex]),
        )


def check_plausible(card: Mapping[str, Any], today: date) -> None:
    """Refuse a card whose birth date no pupil of a school could have (a 2099 or 1850 typed by mistake)."""
    born = card.get("birth_date")
    if born is not None:
        limits.check_birth_date(born, today, Msg(FIELDS_BY_NAME["birth_date"].label))


def parse_fields(raw: Mapping[str, str]) -> dict[str, Any]:
    """Parse ``field=value`` pairs; an empty value clears the field. Names are checked."""
    parsed: dict[str, Any] = {}
    for name, text in raw.items():
        spec = FIELDS_BY_NAME.get(name)
        if spec is None:
            raise InvalidInput(
                "unknown field '{field}'; known fields: {known}",
                field=name,
                known=[Msg(spec.label) for spec in CHILD_FIELDS],
            )
        parsed[name] = None if text.strip() == "" else spec.parse(text, Msg(spec.label))
    if parsed.get("name", "") is None:
        raise InvalidInput("{field} must not be empty", field="name")
    return parsed


def filled(values: Mapping[str, Any]) -> frozenset[str]:
    """The names of the fields that hold a value: what rules may see, never the values."""
    return frozenset(k for k, val in values.items() if val is not None and val != "")


def as_text(value: Any) -> str | None:
    """The stored text form of a parsed value (history rows keep text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def check_on_file(child_id: int, transferred_out_on: date | None) -> None:
    """Refuse a change to the file of a child who moved to another school: the school that wrote it
    keeps it, read-only, as it was on the day of the move."""
    if transferred_out_on is not None:
        raise InvalidInput(
            "child {child} moved to another school on {day}: this school keeps the file read-only",
            child=child_id,
            day=transferred_out_on.isoformat(),
        )
