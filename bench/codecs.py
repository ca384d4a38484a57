"""Our hand-written codecs beside the libraries they stand in for, measured in the same run.

Why casework keeps its own XLSX reader, XLSX writer and DOCX writer: each is measured here against
openpyxl (read-only and write-only) and python-docx doing the same work, and the ratio printed. The
differential tests (tests/unit/test_codecs_against_libraries.py) hold them to the libraries' output.

    python bench/codecs.py [--rows 20000] [--docs 30]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _best(run: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _roster(path: Path, rows: int) -> None:
    import openpyxl

    rng = random.Random(7)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("花名册")
    sheet.append(["学生姓名", "性别", "出生日期", "班级", "监护人", "监护人电话", "家庭住址", "家庭情况"])
    for n in range(rows):
        sheet.append(
            [
                f"王{rng.choice('小大明红华')}{n}",
                rng.choice("男女"),
                f"2016-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                f"4/{rng.randint(1, 4)}班",
                "王大山",
                f"138{rng.randint(10_000_000, 99_999_999)}",
                f"白岩镇新村{n}号",
                "隔代监护",
            ]
        )
    book.save(path)


def read_xlsx(rows: int) -> tuple[float, float]:
    import openpyxl

    from casework.formats.xlsx import Workbook

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.xlsx"
        _roster(path, rows)

        def ours() -> None:
            book = Workbook(str(path))
            try:
                part = next(p for _, p, _ in book.sheets)
                for _ in book.rows(part):
                    pass
            finally:
                book.close()

        def theirs() -> None:
            book = openpyxl.load_workbook(path, read_only=True)
            try:
                for _ in book.active.iter_rows(values_only=True):
                    pass
            finally:
                book.close()

        return rows / _best(ours), rows / _best(theirs)


def write_xlsx(rows: int) -> tuple[float, float]:
    import openpyxl

    from casework.formats import xlsx_stream

    data = [
        (
            n,
            "2026-09-01T08:00:00.000000Z",
            3,
            "case.moved",
            "case",
            n % 500,
            n % 500,
            "assessed",
            "individual_plan",
            "{}",
        )
        for n in range(rows)
    ]
    with tempfile.TemporaryDirectory() as folder:

        def ours() -> None:
            path = Path(folder) / "ours.xlsx"
            with xlsx_stream.SheetRows(f"{path}.0", 0) as sheet:
                for start in range(0, rows, 2000):
                    sheet.extend(data[start : start + 2000])
                parts = [sheet.close()]
            xlsx_stream.write_workbook(str(path), [f"c{n}" for n in range(10)], "audit", rows, parts)

        def theirs() -> None:
            book = openpyxl.Workbook(write_only=True)
            sheet = book.create_sheet("audit")
            sheet.append([f"c{n}" for n in range(10)])
            for row in data:
                sheet.append(row)
            book.save(Path(folder) / "theirs.xlsx")

        return _best(ours) / rows * 1e6, _best(theirs) / rows * 1e6


def write_docx(docs: int) -> tuple[float, float]:
    import docx

    from casework.documents import render, samples

    context = samples.sample("education_plan", "zh_CN")
    page = render.render("education_plan", context, "html", "zh_CN").decode()

    def ours() -> None:
        from casework.documents.docx import from_html

        for _ in range(docs):
            from_html(page, "zh_CN")

    def theirs() -> None:
        # python-docx building the same blocks: one heading, the paragraphs, the tables' cells.
        from casework.documents.docx import _Parser

        parser = _Parser()
        parser.feed(page)
        for _ in range(docs):
            document = docx.Document()
            for block in parser.blocks:
                if block.kind == "table":
                    width = max((len(r) for r in block.rows), default=1)
                    table = document.add_table(rows=len(block.rows), cols=width)
                    for r, row in enumerate(block.rows):
                        for c, cell in enumerate(row):
                            table.cell(r, c).text = "".join(t for t, _ in cell.text)
                else:
                    document.add_paragraph("".join(t for t, _ in block.runs))
            document.save(Path(tempfile.gettempdir()) / "casework-bench.docx")

    return _best(ours) / docs * 1000, _best(theirs) / docs * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--docs", type=int, default=30)
    args = parser.parse_args()
    ours, theirs = read_xlsx(args.rows)
    print(
        f"XLSX read     ours {ours:>10,.0f} rows/s   openpyxl read-only {theirs:>9,.0f} rows/s   {ours / theirs:.1f}×"
    )
    ours_us, theirs_us = write_xlsx(args.rows)
    print(
        f"XLSX write    ours {ours_us:>10.1f} µs/row  openpyxl write-only {theirs_us:>8.1f} µs/row  "
        f"{theirs_us / ours_us:.1f}×"
    )
    ours_ms, theirs_ms = write_docx(args.docs)
    print(
        f"DOCX write    ours {ours_ms:>10.1f} ms/doc  python-docx {theirs_ms:>16.1f} ms/doc  {theirs_ms / ours_ms:.1f}×"
    )
    print(f"(best of 3 runs each; {args.rows:,} rows, {args.docs} documents)")


if __name__ == "__main__":
    main()
