"""Measure document rendering: the individual help plan for N cases in each format, documents/s.

Contexts are built once, in memory, with varied names (rare characters among them: 䶮, 𠮷, 堃,
𬌗) so that every glyph a name needs is checked; only rendering is timed. PDFs are rendered in
batches sharing one font subset (the subsetting is inside the timed loop). Targets: HTML and
Markdown at least 500/s, DOCX at least 50/s, PDF at least 5/s, and no missing glyph in any name.

    .venv/bin/python bench/documents.py [--cases 1000] [--batch 250]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from dataclasses import replace

from casework.documents import pdf, render, samples

TARGETS = {"html": 500.0, "md": 500.0, "docx": 50.0, "pdf": 5.0}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英䶮𠮷堃𬌗喆昇赟彧旸犇"


def contexts(n: int, lang: str) -> list[tuple[str, object]]:
    rng = random.Random(2026)
    base = samples.plan(lang)
    jobs: list[tuple[str, object]] = []
    for i in range(n):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        header = replace(base.header, case_id=i + 1, child_name=name)
        jobs.append(("individual_plan", replace(base, header=header)))
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=250, help="documents per PDF batch (one font subset each)")
    parser.add_argument("--lang", default="zh_CN")
    args = parser.parse_args(argv)
    jobs = contexts(args.cases, args.lang)
    print(f"documents benchmark: individual_plan for {args.cases:,} cases, {args.lang}")
    ok = True
    for fmt in ("html", "md", "docx", "pdf"):
        start = time.perf_counter()
        made = []
        for first in range(0, len(jobs), args.batch):
            made.extend(render.render_batch(jobs[first : first + args.batch], fmt, args.lang))
        seconds = time.perf_counter() - start
        rate = len(made) / seconds
        verdict = "PASS" if rate >= TARGETS[fmt] else "FAIL"
        ok = ok and rate >= TARGETS[fmt]
        print(f"{fmt:<5} {rate:9,.1f} documents/s  ({seconds:6.2f} s)  target ≥ {TARGETS[fmt]:g}/s: {verdict}")
        if fmt == "pdf":
            ok = check_pdfs(jobs, made) and ok
    return 0 if ok else 1


def check_pdfs(jobs: list[tuple[str, object]], made: list[render.Rendered]) -> bool:
    """Every name's characters have a glyph (the batch would have refused otherwise); read some back."""
    from pypdf import PdfReader

    names = {ctx.header.child_name for _, ctx in jobs}
    fonts = pdf.candidates(None)
    missing = {ch for name in names for ch in name if not any(ord(ch) in pdf._cmap(f) for f in fonts)}
    unembedded = sum(1 for done in made if not pdf.embedded_fonts(done.data))
    sample = range(0, len(made), max(1, len(made) // 20))
    unreadable = []
    for i in sample:
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(made[i].data)).pages)
        name = jobs[i][1].header.child_name
        if name not in text:
            unreadable.append(name)
    print(
        f"pdf   names with missing glyphs: {len(missing)}; PDFs without an embedded font: {unembedded}; "
        f"names not found in {len(sample)} PDFs read back: {len(unreadable)} {unreadable[:5]}"
    )
    return not missing and not unembedded and not unreadable


if __name__ == "__main__":
    sys.exit(main())
