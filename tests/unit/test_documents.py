"""Document templates: golden files in both languages, strictness, overrides, DOCX and PDF read back."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from casework.documents import contexts, pdf, render, samples
from casework.documents.catalog import TEMPLATES

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "documents"
ROOT = Path(__file__).resolve().parents[2]
LANGS = ("zh_CN", "en")
CASES = [(t, lang, fmt) for t in TEMPLATES for lang in LANGS for fmt in ("html", "md")]


@pytest.mark.parametrize(("template", "lang", "fmt"), CASES, ids=[f"{t}-{lang}-{f}" for t, lang, f in CASES])
def test_golden_file(template: str, lang: str, fmt: str) -> None:
    """Set UPDATE_GOLDEN=1 to rewrite; look at a changed file as a picture before committing it."""
    data = render.render(template, samples.sample(template, lang), fmt, lang)
    golden = GOLDEN / f"{template}.{lang}.{fmt}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_bytes(data)
    assert golden.is_file(), f"no golden file {golden.name}: run with UPDATE_GOLDEN=1"
    assert data == golden.read_bytes(), f"{golden.name} differs: run with UPDATE_GOLDEN=1 and look at it"


def test_same_context_same_bytes() -> None:
    context = samples.sample("individual_plan", "zh_CN")
    for fmt in ("html", "md"):
        assert render.render("individual_plan", context, fmt, "zh_CN") == render.render(
            "individual_plan", context, fmt, "zh_CN"
        )


def test_a_value_the_context_lacks_is_an_error_not_a_blank(tmp_path: Path) -> None:
    folder = tmp_path / "child_card"
    folder.mkdir()
    (folder / "page.md.j2").write_text("{{ doc.header.child_name }} {{ doc.nickname }}\n", encoding="utf-8")
    with pytest.raises(render.TemplateProblem, match="nickname"):
        render.render("child_card", samples.sample("child_card", "zh_CN"), "md", "zh_CN", overrides=tmp_path)


def test_a_missing_label_is_an_error_too(tmp_path: Path) -> None:
    folder = tmp_path / "child_card"
    folder.mkdir()
    (folder / "page.md.j2").write_text("{{ L.no_such_word }}\n", encoding="utf-8")
    with pytest.raises(render.TemplateProblem):
        render.render("child_card", samples.sample("child_card", "en"), "md", "en", overrides=tmp_path)


def test_a_template_takes_only_its_own_context() -> None:
    with pytest.raises(render.TemplateProblem, match="PlanContext"):
        render.render("individual_plan", samples.sample("child_card", "zh_CN"), "html", "zh_CN")


def test_an_override_folder_replaces_one_file_and_changes_the_version(tmp_path: Path) -> None:
    folder = tmp_path / "child_card"
    folder.mkdir()
    (folder / "page.html.j2").write_text(
        '{% extends "_base/page.html.j2" %}'
        "{% block body %}<p>本校自定义：{{ doc.header.child_name }}</p>{% endblock %}",
        encoding="utf-8",
    )
    html = render.render("child_card", samples.sample("child_card", "zh_CN"), "html", "zh_CN", tmp_path).decode()
    assert "本校自定义：王䶮" in html and "留守儿童档案与联络卡" in html  # the shipped labels and layout stay
    assert render.template_version("child_card", tmp_path).startswith("2+local.")
    assert render.template_version("assessment", tmp_path) == "1"
    plan = render.render("individual_plan", samples.sample("individual_plan", "zh_CN"), "html", "zh_CN", tmp_path)
    assert plan == render.render("individual_plan", samples.sample("individual_plan", "zh_CN"), "html", "zh_CN")


def test_redaction_masks_contact_data_and_keeps_names() -> None:
    card = contexts.redact(samples.child_card("zh_CN"))
    assert card.header.redacted and card.header.child_name == "王䶮"
    assert card.parents[0].phone == "139****4321" and card.parents[0].name == "王建"
    assert card.id_number == "52**************21"
    assert card.home_address == "贵州省遵****"
    html = render.render("child_card", card, "html", "zh_CN").decode()
    assert "13987654321" not in html and "本文件的联系方式已脱敏处理" in html


def test_docx_has_the_text_and_real_tables() -> None:
    import docx

    data = render.render("individual_plan", samples.sample("individual_plan", "zh_CN"), "docx", "zh_CN")
    document = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "留守儿童个别帮扶计划" in text
    items = next(t for t in document.tables if t.rows[0].cells[0].text == "序号")
    rows = [[c.text for c in row.cells] for row in items.rows]
    assert rows[0][:3] == ["序号", "需求", "帮扶措施"]
    assert rows[1][2] == "每周二、四课后辅导数学" and rows[1][3] == "陈老师"
    assert rows[2][6] == "情绪稳定，愿意与同学交往"
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_docx_of_every_template_opens() -> None:
    import docx

    for template in TEMPLATES:
        data = render.render(template, samples.sample(template, "en"), "docx", "en")
        assert docx.Document(io.BytesIO(data)).paragraphs


@pytest.mark.slow
def test_pdf_embeds_the_font_and_prints_rare_characters() -> None:
    from pypdf import PdfReader

    jobs = [
        ("meeting_agenda", samples.sample("meeting_agenda", "zh_CN")),
        ("talk_record", samples.sample("talk_record", "zh_CN")),
    ]
    made = render.render_batch(jobs, "pdf", "zh_CN")
    for done in made:
        assert done.data.startswith(b"%PDF")
        assert pdf.embedded_fonts(done.data), "no embedded font"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(made[0].data)).pages)
    assert "领导小组会议议程" in text.replace(" ", "")
    assert "𠮷" in text and "䶮" in text


def test_no_font_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(pdf.FontMissing, match="does not exist"):
        pdf.candidates(tmp_path / "missing.ttf")


def test_a_character_no_font_has_is_named() -> None:
    fonts = pdf.candidates(None)
    with pytest.raises(pdf.FontMissing, match=r"U\+2FFFD"):
        pdf.assign({ord("王"), 0x2FFFD}, fonts)


def test_contexts_are_frozen() -> None:
    card = samples.child_card("en")
    with pytest.raises(AttributeError):
        card.sex = "x"  # type: ignore[misc]
    assert replace(card, sex="x").sex == "x"


@pytest.mark.slow
def test_an_installed_wheel_renders_every_template(tmp_path: Path) -> None:
    """templates/ ships inside the package: build a wheel, install it alone, render everything."""
    # From a clean copy of the sources: a build/ folder left in the checkout would ship stale modules.
    source = tmp_path / "source"
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("casework", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=junk)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("casework-*.whl")
    # A fresh virtual environment with the wheel installed by pip. Its dependencies come from this
    # environment's site-packages through a .pth line (a test may not download them); a path
    # added that way is not a site directory, so this checkout's editable install stays out.
    fresh = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True, capture_output=True)
    python = fresh / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    deps = next(p for p in map(Path, sys.path) if p.name == "site-packages" and p.is_dir())
    (site / "dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    script = (
        "import casework.documents.render as r, casework.documents.samples as s\n"
        "from casework.documents.catalog import TEMPLATES\n"
        f"assert str(r.package_templates()).startswith({str(site)!r}), r.package_templates()\n"
        "for t in TEMPLATES:\n"
        "    for lang in ('zh_CN', 'en'):\n"
        "        for fmt in ('html', 'md', 'docx'):\n"
        "            assert r.render(t, s.sample(t, lang), fmt, lang)\n"
        "print('ok', len(TEMPLATES))\n"
    )
    out = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"ok {len(TEMPLATES)}")
