"""Registers as schools send them, made with Faker's zh_CN locale: CSV in every encoding, and XLSX."""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from faker import Faker

HEADERS = [
    "序号",
    "学生姓名",
    "性别",
    "出生日期",
    "年级",
    "班级",
    "学籍号",
    "身份证号",
    "父亲姓名",
    "父亲电话",
    "父亲务工单位/地址",
    "母亲姓名",
    "母亲电话",
    "母亲务工单位/地址",
    "监护人姓名",
    "与儿童关系",
    "监护人年龄",
    "监护人电话",
    "身体状况",
    "家庭住址",
    "是否寄宿",
    "留守类型",
]
DATE_STYLES = ("{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}.{m}.{d}", "{y}年{m}月{d}日")
FAMILY = ("双留守", "单留守", "隔代监护", "离异单亲", "父亲外出务工")
RELATIONS = ("祖父", "祖母", "外祖父", "外祖母", "伯父", "姑姑")


def _gbk_safe(text: str) -> str:
    """Faker now and then picks a character GBK lacks; schools using GBK could not have typed it."""
    return text.encode("gbk", errors="replace").decode("gbk").replace("?", "某")


def children(n: int, seed: int = 7, grades: Sequence[int] = (3, 4, 5)) -> list[dict[str, Any]]:
    """``n`` children whose ID numbers, birth dates and sexes agree, as a register row each."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        sex = rng.choice("MF")
        number = fake.ssn(min_age=7, max_age=12, gender=sex)
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        grade = rng.choice(list(grades))
        father_city = fake.city()
        rows.append(
            {
                "序号": i + 1,
                "学生姓名": _gbk_safe(fake.last_name() + fake.first_name()),
                "性别": "男" if sex == "M" else "女",
                "出生日期": rng.choice(DATE_STYLES).format(y=born.year, m=born.month, d=born.day),
                "年级": rng.choice((str(grade), f"{'一二三四五六'[grade - 1]}年级", f"{grade}年级")),
                "班级": rng.choice(("1班", "(2)班", "一班")),
                "学籍号": f"G{number}",
                "身份证号": number,
                "父亲姓名": _gbk_safe(fake.name_male()),
                "父亲电话": fake.phone_number(),
                "父亲务工单位/地址": _gbk_safe(f"{fake.company()}/{father_city}"),
                "母亲姓名": _gbk_safe(fake.name_female()),
                "母亲电话": rng.choice((fake.phone_number(), "")),
                "母亲务工单位/地址": _gbk_safe(fake.company()),
                "监护人姓名": _gbk_safe(fake.name()),
                "与儿童关系": rng.choice(RELATIONS),
                "监护人年龄": str(rng.randint(50, 80)),
                "监护人电话": fake.phone_number(),
                "身体状况": rng.choice(("健康", "良好", "哮喘")),
                "家庭住址": _gbk_safe(fake.address()),
                "是否寄宿": rng.choice(("是", "否")),
                "留守类型": rng.choice(FAMILY),
            }
        )
    return rows


def write_csv(
    path: Path, rows: Sequence[dict[str, Any]], encoding: str = "utf-8", headers: Sequence[str] = HEADERS
) -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([row.get(h, "") for h in headers])
    return path


def write_xlsx(
    path: Path,
    rows: Sequence[dict[str, Any]],
    headers: Sequence[str] = HEADERS,
    title: str | None = None,
    sheet: str = "花名册",
) -> Path:
    """An XLSX register, as Excel writes one: ID numbers as text, some dates as real dates."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.append(list(headers))
    for i, row in enumerate(rows):
        values: list[Any] = []
        for h in headers:
            value = row.get(h, "")
            if h == "出生日期" and i % 2 == 0:
                number = row["身份证号"]
                value = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            elif h in ("监护人年龄", "序号") and str(value).isdigit():
                value = int(value)
            values.append(value if value != "" else None)
        ws.append(values)
    book.save(path)
    book.close()
    return path
