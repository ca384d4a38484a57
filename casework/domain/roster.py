"""Registers of children as schools keep them: recognised headers, mapping files, row validation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from casework.domain import limits
from casework.domain import validation as v
from casework.domain.child import FIELDS_BY_NAME
from casework.domain.classes import chinese_number, parse_grade, split_grade_and_class
from casework.domain.idcard import IdNumber, parse_id_number
from casework.domain.vocab import AID_ALIASES, AID_KINDS, ENROLMENT_ALIASES, ENROLMENT_STATUSES, SEXES
from casework.errors import InvalidInput
from casework.text import N_, Msg

GRADE, CLASS, IGNORE = "grade", "class", "ignore"
# Columns that are not on the card but record something of the child: the survey's left-behind flag
# (摸底, for 建档率), the enrolment status of the term (入学率, 巩固率) and material aid (物质帮助率).
LEFT_BEHIND, ENROLMENT, AID, AID_DATE = "left_behind", "enrolment", "aid", "aid_date"
RECORD_TARGETS = (LEFT_BEHIND, ENROLMENT, AID, AID_DATE)
# One column holding both the place of work and its address (父亲务工单位/地址).
FATHER_WORK, MOTHER_WORK = "father_workplace+address", "mother_workplace+address"
WORK_PAIRS = {
    FATHER_WORK: ("father_workplace", "father_workplace_address"),
    MOTHER_WORK: ("mother_workplace", "mother_workplace_address"),
}

MAX_COLUMNS = 200
HEADER_SEARCH_ROWS = 10
VALUE_SHOWN = 100  # characters of a bad value repeated in an error

# Every recognised header, by the field it fills. The first is what an export writes; the
# field's name and its English label are recognised too (see ``english_headers``).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("学生姓名", "姓名", "儿童姓名", "学生", "留守儿童姓名", "student name", "child name"),
    "sex": ("性别", "gender"),
    "birth_date": ("出生日期", "出生年月日", "出生年月", "生日", "birth date", "dob"),
    GRADE: ("年级", "就读年级"),
    CLASS: ("班级", "班别", "所在班级"),
    "student_no": ("学籍号", "全国学籍号", "学生学籍号", "学籍号码", "student no"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "学生身份证号",
        "公民身份号码",
        "身份证件号",
        "身份证件号码",
        "id no",
        "resident id",
    ),
    "boarding": ("是否寄宿", "寄宿", "是否寄宿生", "是否住校", "住校"),
    "health": ("身体状况", "健康状况", "身体健康状况"),
    "home_address": ("家庭住址", "家庭地址", "住址", "家庭详细住址", "家庭详细地址", "address"),
    "family_situation": ("留守类型", "留守情况", "家庭情况", "家庭类型", "留守儿童类型"),
    "father_name": ("父亲姓名",),
    "father_phone": ("父亲电话", "父亲联系电话", "父亲手机", "父亲手机号", "父亲电话号码"),
    "father_address": ("父亲住址", "父亲家庭住址", "父亲地址"),
    "father_workplace": ("父亲务工单位", "父亲工作单位", "父亲打工单位"),
    "father_workplace_address": ("父亲务工地址", "父亲务工地点", "父亲务工地", "父亲工作地址"),
    "father_workplace_phone": ("父亲单位电话", "父亲务工单位电话", "父亲工作单位电话"),
    FATHER_WORK: (
        "父亲务工单位/地址",
        "父亲务工单位及地址",
        "父亲务工单位和地址",
        "父亲务工单位、地址",
        "父亲务工单位地址",
        "父亲工作单位及地址",
    ),
    "mother_name": ("母亲姓名",),
    "mother_phone": ("母亲电话", "母亲联系电话", "母亲手机", "母亲手机号", "母亲电话号码"),
    "mother_address": ("母亲住址", "母亲家庭住址", "母亲地址"),
    "mother_workplace": ("母亲务工单位", "母亲工作单位", "母亲打工单位"),
    "mother_workplace_address": ("母亲务工地址", "母亲务工地点", "母亲务工地", "母亲工作地址"),
    "mother_workplace_phone": ("母亲单位电话", "母亲务工单位电话", "母亲工作单位电话"),
    MOTHER_WORK: (
        "母亲务工单位/地址",
        "母亲务工单位及地址",
        "母亲务工单位和地址",
        "母亲务工单位、地址",
        "母亲务工单位地址",
        "母亲工作单位及地址",
    ),
    "guardian_name": ("监护人姓名", "监护人", "委托监护人", "委托监护人姓名", "临时监护人", "临时监护人姓名"),
    "guardian_relation": (
        "与儿童关系",
        "与学生关系",
        "监护人与儿童关系",
        "与留守儿童关系",
        "监护人关系",
        "与本人关系",
        "relation",
    ),
    "guardian_occupation": ("监护人职业",),
    "guardian_address": ("监护人住址", "监护人地址", "监护人家庭住址"),
    "guardian_phone": ("监护人电话", "监护人联系电话", "监护人手机", "监护人手机号"),
    "guardian_health": ("监护人身体状况", "监护人健康状况"),
    "guardian_age": ("监护人年龄",),
    "guardian_literate": ("监护人是否识字", "监护人识字", "监护人识字情况", "监护人能否读写"),
    LEFT_BEHIND: ("是否留守儿童", "留守儿童", "是否留守", "是否为留守儿童"),
    ENROLMENT: ("在读状态", "就读状态", "学籍状态", "在校状态"),
    AID: ("物质帮助", "受助情况", "资助情况", "物质帮助情况"),
    AID_DATE: ("受助日期", "资助日期", "帮助日期"),
    IGNORE: ("序号", "序", "no.", "#"),
}
# What a column may be mapped to besides a field, in a mapping file.
IGNORE_WORDS = ("ignore", "忽略")

# Labels of the columns that are not contact-card fields.
TARGET_LABELS = {
    GRADE: N_("grade"),
    CLASS: N_("class"),
    LEFT_BEHIND: N_("left-behind child"),
    ENROLMENT: N_("enrolment status"),
    AID: N_("material aid"),
    AID_DATE: N_("date of the aid"),
    FATHER_WORK: N_("father workplace and address"),
    MOTHER_WORK: N_("mother workplace and address"),
}

# Column lengths of the child table that are shorter than require_text's default of 500.
FIELD_LIMITS = {
    "name": 100,
    "student_no": 40,
    "id_number": 40,
    "father_name": 100,
    "mother_name": 100,
    "guardian_name": 100,
    "guardian_relation": 50,
    "guardian_occupation": 100,
}
TEXT_LIMIT = 500

# How an export writes coded values, so that the file reads naturally and imports again.
SEX_WORDS = {"zh_CN": {"male": "男", "female": "女"}}
FAMILY_WORDS = {
    "zh_CN": {
        "both_away": "双亲外出",
        "one_away": "单亲外出",
        "divorced_single": "离异单亲",
        "grandparent_care": "隔代监护",
        "other": "其他",
    }
}
BOOL_WORDS = {"zh_CN": ("是", "否"), "en": ("yes", "no")}

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_WORK_SEPARATORS = re.compile(r"\s*[/／|｜;；，,]\s*")
_SERIAL_TEXT = re.compile(r"^\d{5}$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_SUFFIX = re.compile(r"[ T]0{1,2}:00(:00(\.0+)?)?$")
_STRIP_MARKERS = re.compile(r"^[*＊]+|[*＊:：]+$|[(（](必填|选填)[)）]")
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31


def english_headers(name: str) -> tuple[str, ...]:
    spec = FIELDS_BY_NAME.get(name)
    words = {name, name.replace("_", " ")}
    if spec is not None:
        words.add(spec.label)
    elif name in TARGET_LABELS:
        words.add(TARGET_LABELS[name])
    return tuple(sorted(words))


def normalise_header(text: str) -> str:
    """The comparable form of a header: no BOM, spaces, line breaks, *required marks, case."""
    cleaned = unicodedata.normalize("NFKC", text.replace("\ufeff", ""))
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    cleaned = _STRIP_MARKERS.sub("", cleaned).strip()
    if re.search(r"[^\x00-\x7f]", cleaned):
        cleaned = cleaned.replace(" ", "")  # 学生 姓名 -> 学生姓名, but keep "father phone"
    return cleaned.lower()


def _build_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for target, words in HEADERS.items():
        for word in (*words, *(() if target == IGNORE else english_headers(target))):
            key = normalise_header(word)
            assert aliases.get(key, target) == target, f"header {word} is ambiguous"
            aliases[key] = target
    return aliases


ALIASES: dict[str, str] = _build_aliases()


def export_header(target: str, lang: str) -> str:
    if lang == "zh_CN":
        return HEADERS[target][0]
    spec = FIELDS_BY_NAME.get(target)
    return spec.label if spec is not None else TARGET_LABELS.get(target, target)


def col_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column as the spreadsheet names it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class RowError:
    """One problem: the row as the spreadsheet numbers it (header = 1), the column, what is wrong."""

    row: int
    column: str  # the header as the file writes it, or "" for the whole row
    col: int | None  # zero-based index; None for the whole row
    value: str
    problem: Msg

    @property
    def where(self) -> str:
        return col_letter(self.col) if self.col is not None else ""


class RosterRejected(InvalidInput):
    """A register with problems: nothing was imported; every problem is kept, in row order."""

    def __init__(self, path: str, problems: Sequence[RowError]) -> None:
        super().__init__(
            N_("{path}: {count} problem(s) found, nothing was imported"),
            path=path,
            count=len(problems),
        )
        self.problems = sorted(problems, key=lambda p: (p.row, -1 if p.col is None else p.col))


def shown(value: object) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= VALUE_SHOWN else text[:VALUE_SHOWN] + "…"


# ---------------------------------------------------------------------------- mapping files


def parse_mapping(text: str) -> dict[str, str]:
    """A mapping file: one ``header = target`` a line, ``#`` starts a comment.

    The target is a field name (``student_no``), a recognised header (``学籍号``),
    ``grade``, ``class`` or ``ignore``. Returns normalised header -> target.
    """
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        parts = re.split(r"\s*[=＝]\s*", body, maxsplit=1)
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise InvalidInput("--mapping line {line}: '{text}' is not HEADER = FIELD", line=number, text=line.strip())
        header, target_text = parts
        target = resolve_target(target_text)
        if target is None:
            raise InvalidInput(
                "--mapping line {line}: '{target}' is neither a field (see 'casework child fields'), "
                "a recognised header, grade, class nor ignore",
                line=number,
                target=target_text,
            )
        mapping[normalise_header(header)] = target
    return mapping


def resolve_target(text: str) -> str | None:
    word = text.strip()
    if word.lower() in IGNORE_WORDS:
        return IGNORE
    if word in FIELDS_BY_NAME or word in (GRADE, CLASS, *RECORD_TARGETS):
        return word
    return ALIASES.get(normalise_header(word))


# ---------------------------------------------------------------------------- header row


def header_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\ufeff", "").strip()


def _recognised(value: object, mapping: Mapping[str, str]) -> bool:
    key = normalise_header(header_text(value))
    return bool(key) and (key in mapping or ALIASES.get(key, IGNORE) != IGNORE)


def find_header_row(rows: Sequence[Sequence[object]], mapping: Mapping[str, str]) -> int | None:
    """The first of the top rows that holds two or more recognised headers.

    Registers often carry a title row (白岩小学留守儿童花名册) above the headers.
    """
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for value in row if _recognised(value, mapping)) >= 2:
            return index
    return None


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    target: str


@dataclass
class ColumnPlan:
    """Which column fills which field; problems with the header row itself."""

    header_row: int
    columns: list[Column]
    ignored: list[str]
    blank: set[int]
    width: int
    problems: list[RowError] = field(default_factory=list)

    @property
    def fields(self) -> list[str]:
        """The contact-card fields the file holds, for the audit event."""
        names: set[str] = set()
        for column in self.columns:
            if column.target in RECORD_TARGETS:
                continue
            target = "class" if column.target == GRADE else column.target
            names.update(WORK_PAIRS.get(target, (target,)))
        return sorted(names)

    def has(self, target: str) -> bool:
        return any(c.target == target for c in self.columns)


def plan_columns(values: Sequence[object], header_row: int, mapping: Mapping[str, str] | None = None) -> ColumnPlan:
    """Match each header to a field: the mapping file first, then the recognised headers."""
    mapping = mapping or {}
    headers = [header_text(v) for v in values]
    while headers and not headers[-1]:
        headers.pop()
    plan = ColumnPlan(header_row, [], [], set(), len(headers))

    def problem(msg: str, col: int | None = None, value: str = "", **params: Any) -> None:
        column = headers[col] if col is not None else ""
        plan.problems.append(RowError(header_row, column, col, shown(value), Msg(msg, params)))

    if len(headers) > MAX_COLUMNS:
        problem(
            N_("the header row has {count} columns; a register has at most {limit}"),
            count=len(headers),
            limit=MAX_COLUMNS,
        )
        return plan
    seen: dict[str, Column] = {}
    unknown: list[int] = []
    for index, header in enumerate(headers):
        if not header:
            plan.blank.add(index)
            continue
        key = normalise_header(header)
        target = mapping.get(key) or ALIASES.get(key)
        if target is None:
            unknown.append(index)
            continue
        if target == IGNORE:
            plan.ignored.append(header)
            continue
        for name in WORK_PAIRS.get(target, (target,)):
            other = seen.get(name)
            if other is not None:
                problem(
                    N_("columns {first} ({first_header}) and {second} ({second_header}) both give {field}"),
                    index,
                    header,
                    first=col_letter(other.index),
                    first_header=other.header,
                    second=col_letter(index),
                    second_header=header,
                    field=Msg(label_of(name)),
                )
        column = Column(index, header, target)
        for name in WORK_PAIRS.get(target, (target,)):
            seen.setdefault(name, column)
        plan.columns.append(column)
    for index in unknown:
        problem(
            N_(
                "unknown column '{header}': rename it to a recognised header (docs/import.md), "
                "or map it in a --mapping file ('{header} = FIELD' or '{header} = ignore')"
            ),
            index,
            headers[index],
            header=headers[index],
        )
    if "name" not in seen:
        problem(N_("no column gives the child's name (学生姓名 or 姓名)"))
    if "student_no" not in seen and "id_number" not in seen:
        problem(
            N_(
                "no column gives a student number (学籍号) or an ID number (身份证号): "
                "without one a later import cannot find the child again"
            )
        )
    return plan


def label_of(target: str) -> str:
    spec = FIELDS_BY_NAME.get(target)
    return spec.label if spec is not None else TARGET_LABELS.get(target, target)


# ---------------------------------------------------------------------------- values


def excel_date(serial: float, field: str) -> date:
    """An Excel serial day number (1900 date system, as Excel and WPS write) as a date."""
    whole = int(serial)
    if not 1 <= whole <= EXCEL_MAX_SERIAL or whole == 60:  # 60 is Excel's 1900-02-29
        raise InvalidInput("{field}: {value} is not a date", field=field, value=serial)
    return EXCEL_EPOCH + timedelta(days=whole + (1 if whole < 60 else 0))


def parse_roster_date(value: object, field: str) -> date:
    """A date cell: a real date, an Excel serial number, or text as schools type it."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return excel_date(value, field)
    text = _TIME_SUFFIX.sub("", str(value).strip())
    if _SERIAL_TEXT.match(text):
        return excel_date(int(text), field)
    compact = _COMPACT_DATE.match(text)
    if compact:
        text = "-".join(compact.groups())
    return v.parse_date(text, field)


def cell_text(value: object) -> str | None:
    """The text of a cell; numbers lose Excel's trailing .0; an empty cell is None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in _DANGEROUS_START:  # our own export's formula guard
        text = text[1:]
    return text or None


_SEX_WORDS = {"男": "male", "女": "female", "男性": "male", "女性": "female", "男生": "male", "女生": "female"}
_BOOL_EXTRA = {"住校": "是", "非寄宿": "否", "√": "是", "✓": "是", "×": "否"}
# What registers write for "nothing here" in a field with a format; free text keeps them (无 is a health).
PLACEHOLDERS = frozenset({"无", "/", "／", "-", "—", "－", "暂无", "不详"})
_MOBILE = re.compile(r"1[3-9]\d{9}")
_FAST_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_SPACE = re.compile(r"\s")

Handler = Callable[[str, str], Any]


def _text(name: str) -> Callable[[str, str], str]:
    limit = FIELD_LIMITS.get(name, TEXT_LIMIT)

    def parse(text: str, label: str) -> str:
        if len(text) > limit:
            raise InvalidInput("{field} is longer than {limit} characters", field=label, limit=limit)
        return text

    return parse


def _phone(text: str, label: str) -> str:
    return text if _MOBILE.fullmatch(text) else v.parse_phone(text, label)


def _date(text: str, label: str) -> date:
    m = _FAST_DATE.fullmatch(text)
    if m is not None:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    return parse_roster_date(text, label)


def _id_number(text: str, label: str) -> str:
    checked: IdNumber = parse_id_number(text, label)
    return checked.number


_student_no_text = _text("student_no")


def _student_no(text: str, label: str) -> str:
    return _student_no_text(_SPACE.sub("", text) if _SPACE.search(text) else text, label)


def _sex(text: str, label: str) -> str:
    code = _SEX_WORDS.get(text)
    if code is not None:
        return code
    try:
        return str(FIELDS_BY_NAME["sex"].parse(text, label))
    except InvalidInput:
        raise InvalidInput("{field}: '{value}' is neither 男 nor 女", field=label, value=text) from None


def _family(text: str, label: str) -> str:
    try:
        return str(FIELDS_BY_NAME["family_situation"].parse(text, label))
    except InvalidInput:
        raise InvalidInput(
            "{field}: '{value}' is not a family situation casework knows; write one of {choices}",
            field=label,
            value=text,
            choices="、".join(FAMILY_WORDS["zh_CN"].values()),
        ) from None


def _boolean(text: str, label: str) -> bool:
    return bool(FIELDS_BY_NAME["boarding"].parse(_BOOL_EXTRA.get(text, text), label))


def _literate(text: str, label: str) -> bool:
    return bool(FIELDS_BY_NAME["guardian_literate"].parse(_BOOL_EXTRA.get(text, text), label))


def _flag(text: str, label: str) -> bool:
    return v.parse_bool(_BOOL_EXTRA.get(text, text), label)


def _enrolment(text: str, label: str) -> str:
    return v.parse_choice(text, label, ENROLMENT_STATUSES, ENROLMENT_ALIASES)


_AID_SPLIT = re.compile(r"\s*[:：、/／]\s*")


def _aid(text: str, label: str) -> tuple[str, str]:
    """衣物：冬季棉衣一件 -> (clothing, 衣物：冬季棉衣一件); a kind alone (助学金) is its own description;
    text that names no kind is "other aid"."""
    head = _AID_SPLIT.split(text, maxsplit=1)[0]
    try:
        kind = v.parse_choice(head, label, AID_KINDS, AID_ALIASES)
    except InvalidInput:
        kind = "other"
    return kind, v.require_text(text, label, limits.TEXT)


def _age(text: str, label: str) -> int:
    if text.isdecimal() and len(text) <= 3:
        number = int(text)
        if 10 <= number <= 120:
            return number
    bare = re.sub(r"周?岁$", "", text)
    spelled = chinese_number(bare)  # 七十
    return int(FIELDS_BY_NAME["guardian_age"].parse(str(spelled) if spelled is not None else bare, label))


def _grade(text: str, label: str) -> int:
    return parse_grade(text, label)


def _class(text: str, label: str) -> tuple[int | None, str]:
    return split_grade_and_class(text)


def _work(place: str, address: str) -> Handler:
    place_text, address_text = _text(place), _text(address)

    def parse(text: str, label: str) -> tuple[str, str | None]:
        where, at = split_work(text)
        return place_text(where, label), address_text(at, label) if at is not None else None

    return parse


def _memo(handler: Handler, size: int = 4096) -> Handler:
    """Choices repeat down a column (男, 三年级, 1班): parse each distinct text once."""
    cache: dict[str, Any] = {}

    def parse(text: str, label: str) -> Any:
        hit = cache.get(text, cache)
        if hit is cache:
            try:
                hit = handler(text, label)
            except InvalidInput as exc:
                hit = exc
            if len(cache) < size:
                cache[text] = hit
        if isinstance(hit, InvalidInput):
            raise InvalidInput(hit.msg)
        return hit

    return parse


_SPECIAL = frozenset({GRADE, CLASS, *WORK_PAIRS, *RECORD_TARGETS})
FORMATTED = frozenset(
    {
        "sex",
        "birth_date",
        "student_no",
        "id_number",
        "boarding",
        "family_situation",
        "guardian_age",
        "guardian_literate",
        LEFT_BEHIND,
        ENROLMENT,
        AID_DATE,
        GRADE,
        CLASS,
        *(name for name in FIELDS_BY_NAME if name.endswith("_phone")),
    }
)


def handler_for(target: str) -> Handler:
    """The parser of one column's text (stripped and not empty)."""
    if target in WORK_PAIRS:
        return _work(*WORK_PAIRS[target])
    special: dict[str, Handler] = {
        "birth_date": _date,
        "id_number": _id_number,
        "student_no": _student_no,
        "sex": _memo(_sex),
        "family_situation": _memo(_family),
        "boarding": _memo(_boolean),
        "guardian_age": _memo(_age),
        "guardian_literate": _memo(_literate),
        LEFT_BEHIND: _memo(_flag),
        ENROLMENT: _memo(_enrolment),
        AID: _aid,
        AID_DATE: _date,
        "guardian_relation": _memo(_text("guardian_relation")),
        GRADE: _memo(_grade),
        CLASS: _memo(_class),
    }
    if target in special:
        return special[target]
    if target.endswith("_phone"):
        return _phone
    return _text(target)


@dataclass
class ParsedRow:
    """One data row, validated: the card's values, the class it names, or its problems."""

    row: int
    values: dict[str, Any]
    grade: int | None = None
    class_name: str | None = None
    problems: list[RowError] = field(default_factory=list)
    # What the row records besides the card (RECORD_TARGETS), by target.
    records: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def class_ref(self) -> str | None:
        return f"{self.grade}/{self.class_name}" if self.grade is not None and self.class_name else None


def split_work(text: str) -> tuple[str, str | None]:
    """父亲务工单位/地址: 'company / address' splits on the first separator; else all is the place."""
    parts = _WORK_SEPARATORS.split(text, maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[0], parts[1]
    return text, None


_FORMULA = N_("{field}: holds a formula; paste the values only (选择性粘贴 → 数值)")
_ROUNDED = N_(
    "{field}: '{value}' was stored as a number and Excel rounded it: format the column as text (文本) "
    "and type the number again"
)


class RowParser:
    """Validates data rows against a column plan; pure, so every row can be checked before writing.

    Built for speed (registers have 100,000 rows): one handler per column, chosen once.
    """

    def __init__(self, plan: ColumnPlan) -> None:
        self.plan = plan
        self.header_of = {c.target: c for c in plan.columns}
        # The class cell is read after the grade cell, as it may name the grade too.
        ordered = sorted(plan.columns, key=lambda c: c.target == CLASS)
        self.columns = [
            (c.index, c.header, c.target, handler_for(c.target), c.target in FORMATTED, c.target in _SPECIAL)
            for c in ordered
        ]
        self.blank = sorted(plan.blank)
        self.width = plan.width

    def parse(self, row: int, cells: Sequence[object]) -> ParsedRow | None:
        """None for a row with nothing in its recognised columns; otherwise the parsed row."""
        parsed = ParsedRow(row, {})
        raw: dict[str, object] = {}
        width = len(cells)
        values = parsed.values
        for index, header, target, handler, formatted, special in self.columns:
            if index >= width:
                continue
            value = cells[index]
            if value is None:
                continue
            if value.__class__ is str:
                text = value.strip()
                if not text:
                    continue
                first = text[0]
                if first == "'" and text[1:2] in _DANGEROUS_START:  # our own export's formula guard
                    text = text[1:]
                elif first == "=":
                    raw[target] = value
                    self._problem(parsed, index, header, value, Msg(_FORMULA, {"field": header}))
                    continue
                if formatted and text in PLACEHOLDERS:
                    continue
            else:
                if target == "birth_date":
                    raw[target] = value
                    try:
                        values[target] = parse_roster_date(value, header)
                    except InvalidInput as exc:
                        parsed.problems.append(RowError(row, header, index, shown(value), exc.msg))
                    continue
                if target == "id_number" and isinstance(value, float):
                    raw[target] = value
                    self._problem(
                        parsed, index, header, value, Msg(_ROUNDED, {"field": header, "value": format(value, ".15g")})
                    )
                    continue
                text = cell_text(value) or ""
                if not text:
                    continue
            raw[target] = value
            try:
                result = handler(text, header)
            except InvalidInput as exc:
                parsed.problems.append(RowError(row, header, index, shown(value), exc.msg))
                continue
            if special:
                self._special(parsed, index, header, value, text, target, result)
            else:
                values[target] = result
        if not raw:
            return None
        if self.blank or width > self.width:
            self._unheaded(parsed, cells)
        self._cross_check(parsed, raw)
        return parsed

    def _special(
        self, parsed: ParsedRow, index: int, header: str, value: object, text: str, target: str, result: Any
    ) -> None:
        if target in RECORD_TARGETS:
            parsed.records[target] = result
        elif target == GRADE:
            parsed.grade = result
        elif target == CLASS:
            grade, name = result
            parsed.class_name = name
            if grade is not None:
                if parsed.grade is not None and parsed.grade != grade:
                    self._problem(
                        parsed,
                        index,
                        header,
                        value,
                        Msg(
                            "{field}: '{value}' names grade {named}, the grade column says {grade}",
                            {"field": header, "value": text, "named": grade, "grade": parsed.grade},
                        ),
                    )
                parsed.grade = grade
        else:
            place_field, address_field = WORK_PAIRS[target]
            parsed.values[place_field] = result[0]
            if result[1] is not None:
                parsed.values[address_field] = result[1]

    def _unheaded(self, parsed: ParsedRow, cells: Sequence[object]) -> None:
        for index in [*self.blank, *range(self.width, len(cells))]:
            if index < len(cells) and cell_text(cells[index]) is not None:
                self._problem(parsed, index, "", cells[index], Msg("a value in a column without a header"))

    def _problem(self, parsed: ParsedRow, index: int | None, header: str, value: object, msg: Msg) -> None:
        parsed.problems.append(RowError(parsed.row, header, index, shown(value), msg))

    def _cross_check(self, parsed: ParsedRow, raw: Mapping[str, object]) -> None:
        values = parsed.values
        if "name" not in raw:
            self._missing(parsed, "name", Msg("the child's name is empty"))
        if "student_no" not in raw and "id_number" not in raw:
            target = "student_no" if self.plan.has("student_no") else "id_number"
            self._missing(parsed, target, Msg("neither a student number (学籍号) nor an ID number (身份证号)"))
        number = values.get("id_number")
        if number is not None:
            born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            sex = "male" if int(number[16]) % 2 else "female"
            if "birth_date" in values and values["birth_date"] != born:
                column = self.header_of["birth_date"]
                parsed.problems.append(
                    RowError(
                        parsed.row,
                        column.header,
                        column.index,
                        shown(raw.get("birth_date")),
                        Msg(
                            "{field}: {given} differs from the birth date in the ID number ({born})",
                            {"field": column.header, "given": values["birth_date"], "born": born},
                        ),
                    )
                )
            if "sex" in values and values["sex"] != sex:
                column = self.header_of["sex"]
                parsed.problems.append(
                    RowError(
                        parsed.row,
                        column.header,
                        column.index,
                        shown(raw.get("sex")),
                        Msg(
                            "{field}: '{given}' differs from the sex the ID number encodes ({sex})",
                            {"field": column.header, "given": raw.get("sex"), "sex": Msg(SEXES[sex])},
                        ),
                    )
                )
            if "birth_date" not in raw:
                values["birth_date"] = born
            if "sex" not in raw:
                values["sex"] = sex
        if parsed.grade is not None and parsed.class_name is None and CLASS not in raw:
            self._missing(parsed, CLASS, Msg("a grade without a class (班级)"))
        if parsed.class_name is not None and parsed.grade is None and GRADE not in raw:
            column = self.header_of[CLASS]
            self._problem(
                parsed, column.index, column.header, raw.get(CLASS), Msg("the class names no grade: fill 年级")
            )

    def _missing(self, parsed: ParsedRow, target: str, msg: Msg) -> None:
        column = self.header_of.get(target)
        self._problem(parsed, column.index if column else None, column.header if column else "", "", msg)


def export_value(target: str, value: Any, lang: str) -> Any:
    """A stored value as a register writes it: 男, 是, 隔代监护 (or male, yes, codes in English)."""
    if value is None:
        return None
    if target == "sex":
        return SEX_WORDS.get(lang, {}).get(value, value)
    if target == "family_situation":
        return FAMILY_WORDS.get(lang, {}).get(value, value)
    if target in ("boarding", "guardian_literate"):
        yes, no = BOOL_WORDS.get(lang, BOOL_WORDS["en"])
        return yes if value else no
    return value


def export_targets() -> list[str]:
    """The columns of an export, in the register's usual order."""
    order = [t for t in HEADERS if t not in (IGNORE, FATHER_WORK, MOTHER_WORK, *RECORD_TARGETS)]
    return order


def all_headers() -> Iterable[tuple[str, tuple[str, ...]]]:
    """Every recognised header by target, for the documentation and its test."""
    for target, words in HEADERS.items():
        every = (*words, *(() if target == IGNORE else english_headers(target)))
        yield target, tuple(dict.fromkeys(every))
