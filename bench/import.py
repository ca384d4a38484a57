"""Measure roster import: N children from CSV and from XLSX, against raw executemany of the same rows.

Generates a register of N children (Faker zh_CN names and addresses, valid ID numbers) as
UTF-8 CSV and as XLSX, then imports each into a fresh SQLite database through
``roster.import_children`` (decoding, header recognition, validation of every cell, duplicate
checks, bulk inserts, one audit event), each in its own process so that its peak memory
(ru_maxrss) is its own. The limit is measured in the same run: the same rows, already split
into columns, inserted with one sqlite3 ``executemany`` into a table of the same schema.
Finally the CSV is imported again (every card unchanged), the update path.

    .venv/bin/python bench/import.py [--rows 100000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from casework.persistence import crypto

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import Place, is_pg, place  # noqa: E402

TARGETS = {"csv": 10_000, "xlsx": 5_000}  # rows per second
MEMORY_TARGET_MB = 300
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
HEADERS = [
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


def generate(n: int, seed: int = 2026) -> list[list[str]]:
    """N register rows; Faker supplies pools of names and places, the rows combine them fast."""
    from faker import Faker

    from casework.domain.idcard import check_digit

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    surnames = [fake.last_name() for _ in range(300)]
    given = [fake.first_name() for _ in range(2000)]
    addresses = [fake.address() for _ in range(3000)]
    companies = [f"{fake.company()}/{fake.city()}" for _ in range(800)]
    areas = sorted({fake.ssn()[:6] for _ in range(500)})
    rows = []
    used: set[str] = set()
    for i in range(n):
        while True:
            born = date(2013, 9, 1) + timedelta(days=rng.randrange(6 * 365))
            male = rng.random() < 0.5
            seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
            first17 = f"{rng.choice(areas)}{born:%Y%m%d}{seq:03d}"
            if first17 not in used:
                used.add(first17)
                break
        number = first17 + check_digit(first17)
        grade = 2026 - born.year - (1 if born.month >= 9 else 0) - 5
        grade = min(6, max(1, grade))
        rows.append(
            [
                rng.choice(surnames) + rng.choice(given),
                "男" if male else "女",
                f"{born.year}/{born.month}/{born.day}" if i % 2 else born.isoformat(),
                f"{grade}年级",
                f"{rng.randint(1, 8)}班",
                f"G{number}",
                number,
                rng.choice(surnames) + rng.choice(given),
                f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                rng.choice(companies),
                rng.choice(surnames) + rng.choice(given),
                f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                rng.choice(companies),
                rng.choice(surnames) + rng.choice(given),
                rng.choice(("祖父", "祖母", "外祖父", "外祖母")),
                str(rng.randint(50, 80)),
                f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                rng.choice(("健康", "良好", "哮喘")),
                rng.choice(addresses),
                rng.choice(("是", "否")),
                rng.choice(("双留守", "单留守", "隔代监护", "离异单亲")),
            ]
        )
    return rows


def write_files(rows: list[list[str]], folder: Path) -> tuple[Path, Path]:
    csv_path = folder / "register.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    xlsx_path = folder / "register.xlsx"
    write_excel_like(xlsx_path, HEADERS, rows)
    return csv_path, xlsx_path


def _col(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
)


def write_excel_like(path: Path, headers: list[str], rows: list[list[str]]) -> None:
    """An XLSX as Excel and WPS write one: text in a shared-string table, a dimension up front.

    (openpyxl writes inline strings and no dimension, which no school's file has.)
    """
    strings: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w") as f:
            f.write(
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f'<dimension ref="A1:{_col(len(headers) - 1)}{len(rows) + 1}"/><sheetData>'.encode()
            )
            for r, row in enumerate([headers, *rows], start=1):
                cells = "".join(
                    f'<c r="{_col(i)}{r}" t="s"><v>{strings.setdefault(v, len(strings))}</v></c>'
                    for i, v in enumerate(row)
                    if v
                )
                f.write(f'<row r="{r}">{cells}</row>'.encode())
            f.write(b"</sheetData></worksheet>")
        with z.open("xl/sharedStrings.xml", "w") as f:
            f.write(
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                f'count="{len(strings)}" uniqueCount="{len(strings)}">'.encode()
            )
            for text in strings:
                f.write(f"<si><t>{escape(text)}</t></si>".encode())
            f.write(b"</sst>")


def fresh_db(path: Path | str) -> str:
    from casework.persistence.db import Database
    from casework.services import Context, setup

    ctx = Context(db=Database(str(path)), clock=lambda: NOW)  # PostgreSQL: the key from CASEWORK_KEY
    setup.init(ctx, admin="校务管理员", school="基准测试小学")
    ctx.db.dispose()
    return str(path)


def child(kind: str, file: str, db: str) -> None:
    """Run in a process of its own: import ``file`` and print seconds and peak memory as JSON."""
    from casework.persistence.db import Database
    from casework.services import Context, roster

    ctx = Context(db=Database(db), clock=lambda: NOW)
    start = time.perf_counter()
    report = roster.import_children(ctx, "校务管理员", file)
    seconds = time.perf_counter() - start
    ctx.db.dispose()
    peak_mb = peak_memory_mb()
    print(
        json.dumps(
            {
                "kind": kind,
                "seconds": seconds,
                "rows": report.rows,
                "created": report.created,
                "unchanged": report.unchanged,
                "peak_mb": peak_mb,
            }
        )
    )


def peak_memory_mb() -> float:
    """This process's peak resident memory: VmHWM, which starts afresh at exec (ru_maxrss is
    inherited from the parent that forked us, here the one holding the generated rows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(kind: str, file: Path, db: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(file), db],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{kind} import failed:\n{out.stdout}\n{out.stderr}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def raw_limit(rows: list[list[str]], target: str) -> float:
    """Seconds for one executemany of the same rows into a same-schema child table (raw sqlite3 with
    the engine's pragmas, or raw psycopg on a fresh PostgreSQL database)."""
    from sqlalchemy import create_engine

    from casework.persistence.db import normalise_url
    from casework.persistence.tables import Base

    pg = is_pg(target)
    engine = create_engine(normalise_url(target))
    Base.metadata.create_all(engine)
    engine.dispose()
    if pg:
        import psycopg

        db: Any = psycopg.connect(Place(target, Path(".")).driver_dsn(target))
    else:
        db = sqlite3.connect(target, isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL"):
            db.execute(f"PRAGMA {pragma}")
    mark = "%s" if pg else "?"
    ts = NOW.isoformat()
    db.execute(f"INSERT INTO school (id, name, created_at) VALUES (1, 'raw', {mark})", (ts,))
    db.execute(f"INSERT INTO staff (id, name, created_at) VALUES (1, 'raw', {mark})", (ts,))
    if pg:
        db.commit()
    columns = (
        "name, sex, birth_date, student_no, id_number, father_name, father_phone, father_workplace, "
        "mother_name, mother_phone, mother_workplace, guardian_name, guardian_relation, guardian_age, "
        "guardian_phone, health, home_address, boarding, family_situation, school_id, created_at, created_by"
    )
    prepared = [
        (r[0], r[1], r[2], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15], r[16], r[17])
        + (r[18], r[19] == "是", r[20], 1, ts, 1)
        for r in rows
    ]
    marks = ", ".join(mark for _ in prepared[0])
    start = time.perf_counter()
    if pg:
        with db.cursor() as cursor:
            cursor.executemany(f"INSERT INTO child ({columns}) VALUES ({marks})", prepared)
        db.commit()
    else:
        db.execute("BEGIN IMMEDIATE")
        db.executemany(f"INSERT INTO child ({columns}) VALUES ({marks})", prepared)
        db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="how many children (100,000)")
    parser.add_argument("--dir", help="where to put the files (a fresh temporary directory)")
    parser.add_argument("--db", help="a PostgreSQL server URL: fresh databases there, dropped after; else SQLite")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FILE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    n = args.rows
    began = time.perf_counter()
    if is_pg(args.db):  # the import processes find the key where a PostgreSQL database's key is given
        os.environ.setdefault(crypto.ENV_KEY, crypto.Key.generate().encoded())
    with tempfile.TemporaryDirectory(prefix="casework-import-", dir=args.dir) as tmp, place(args.db, tmp) as spot:
        folder = Path(tmp)
        print(f"import benchmark: {n:,} children, {spot.kind} ({tmp if not spot.pg else args.db})")
        start = time.perf_counter()
        rows = generate(n)
        csv_path, xlsx_path = write_files(rows, folder)
        sizes = f"CSV {csv_path.stat().st_size / 1e6:.1f} MB, XLSX {xlsx_path.stat().st_size / 1e6:.1f} MB"
        print(f"generated {sizes} in {time.perf_counter() - start:.1f} s (not timed)")

        raw_s = raw_limit(rows, spot.new("raw"))
        raw_rate = n / raw_s
        print(f"raw executemany (limit) {raw_rate:10,.0f} rows/s  ({raw_s:.2f} s)")
        ok = True
        results = {}
        dbs: dict[str, str] = {}
        for kind, file in (("csv", csv_path), ("xlsx", xlsx_path)):
            dbs[kind] = fresh_db(spot.new(kind))
            result = run_child(kind, file, dbs[kind])
            results[kind] = result
            rate = result["created"] / result["seconds"]
            passed = rate >= TARGETS[kind] and result["peak_mb"] < MEMORY_TARGET_MB and result["created"] == n
            ok &= passed
            print(
                f"import {kind:<4} {rate:17,.0f} rows/s  ({result['seconds']:.2f} s, peak {result['peak_mb']:.0f} MB)"
                f"  raw/import {raw_rate / rate:5.1f}×  target ≥ {TARGETS[kind]:,} rows/s, "
                f"< {MEMORY_TARGET_MB} MB: {'PASS' if passed else 'FAIL'}"
            )
        again = run_child("csv", csv_path, dbs["csv"])
        rate = again["unchanged"] / again["seconds"]
        print(
            f"re-import csv {rate:13,.0f} rows/s  ({again['seconds']:.2f} s, peak {again['peak_mb']:.0f} MB)"
            f"  {again['unchanged']:,.0f} cards compared, all unchanged"
        )
        ok &= again["unchanged"] == n
    print(f"total {time.perf_counter() - began:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
