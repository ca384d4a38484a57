"""casework doc: render, list, get and sample from the command line; documents after moves."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from casework.cli import app
from tests.cli.test_cli import CARD


@pytest.fixture
def run(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return cli(
        ("init", "--admin", "赵校务", "--school", "白岩小学"),
        ("class", "add", "4", "1班", "--as", "1"),
        ("staff", "add", "郑心怡", "--role", "counsellor", "--as", "1"),
        ("child", "add", "王䶮", "--class", "4/1班", *CARD, "--as", "1"),
        ("record", "consent", "1", "--guardian", "王大山", "--relation", "祖父", "--as", "2"),
        ("case", "open", "1", "--as", "郑心怡"),
        env={"CASEWORK_ACTOR": "郑心怡"},
    )


def test_a_move_registers_its_document_and_doc_render_writes_files(run, tmp_path) -> None:
    run("case", "advance", "1", "assess", "--as", "郑心怡")
    rows = json.loads(run("doc", "list", "--as", "郑心怡", "1", "--json").output)
    assert [(r["template"], r["format"], r["status"], r["auto"]) for r in rows] == [("child_card", "html", "ok", True)]
    out = run("doc", "render", "1", "--stage", "identified", "--format", "md", "--lang", "en").output
    assert "Left-behind child file and contact card" in out and "王䶮" in out
    run("doc", "render", "1", "--stage", "identified", "--format", "docx", "--out", "docs/")
    assert (tmp_path / "docs" / "case1-child_card.zh_CN.docx").is_file()
    assert "联络卡" in run("doc", "list", "--as", "郑心怡", "1").output  # the template child_card, by its name
    assert "child_card" in run("doc", "list", "--as", "郑心怡", "1", "--json").output
    rows = json.loads(run("doc", "list", "--as", "郑心怡", "1", "--json").output)
    assert [r["format"] for r in rows] == ["html", "md", "docx"]
    got = run("doc", "get", "--as", "郑心怡", str(rows[0]["id"]), "--out", "card.html").output
    assert "card.html" in got and "王䶮" in (tmp_path / "card.html").read_text(encoding="utf-8")


def test_auto_render_can_be_switched_off(run, tmp_path) -> None:
    (tmp_path / "casework.toml").write_text("[documents]\nauto_render = false\n", encoding="utf-8")
    run("case", "advance", "1", "assess", "--as", "郑心怡")
    assert json.loads(run("doc", "list", "--as", "郑心怡", "1", "--json").output) == []


def test_bad_input_is_one_clear_line(run) -> None:
    assert "--stage" in run("doc", "render", "1", "--stage", "nowhere", code=1).output
    assert "no assessment" in run("--lang", "en", "doc", "render", "1", "--stage", "assessed", code=1).output
    assert "2026-13" in run("doc", "render", "1", "--template", "talk_record", "--month", "2026-13", code=1).output


def test_sample_previews_an_override(tmp_path) -> None:
    folder = tmp_path / "tpl" / "talk_record"
    folder.mkdir(parents=True)
    (folder / "page.md.j2").write_text("本校谈心卡 {{ doc.header.child_name }}\n", encoding="utf-8")
    (tmp_path / "casework.toml").write_text('[documents]\ntemplates = "tpl"\n', encoding="utf-8")
    runner = CliRunner(catch_exceptions=False)
    result = runner.invoke(
        app(), ["--settings", str(tmp_path / "casework.toml"), "doc", "sample", "talk_record", "--format", "md"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "本校谈心卡 王䶮"
    result = runner.invoke(
        app(), ["doc", "sample", "individual_plan", "--format", "docx", "--out", str(tmp_path / "p.docx")]
    )
    assert result.exit_code == 0, result.output
    import docx

    assert docx.Document(io.BytesIO((tmp_path / "p.docx").read_bytes())).tables
