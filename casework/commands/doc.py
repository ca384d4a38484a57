"""Commands on stage documents: render, list, batch, get, sample."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from casework.commands.common import ID, State, actor_option, json_option, state
from casework.commands.output import echo_json, table
from casework.text import N_

STATUS = {"ok": N_("ok"), "failed": N_("failed"), "retried": N_("retried")}
# What each template is called in a list (its name is what `doc render` and `doc get` take).
DOCUMENT_LABELS = {
    "child_card": N_("contact card"),
    "assessment": N_("assessment"),
    "individual_plan": N_("individual help plan"),
    "education_plan": N_("individual education management plan"),
    "talk_record": N_("talk record card"),
    "parent_feedback": N_("feedback to the parents"),
    "stage_review": N_("stage review"),
    "closing_report": N_("closing report"),
    "meeting_agenda": N_("meeting agenda"),
    "meeting_minutes": N_("meeting minutes"),
    "indicator_report": N_("indicator report"),
    "evaluation_report": N_("evaluation report"),
    "term_summary": N_("term summary"),
}
LANGUAGE_LABELS = {"zh_CN": N_("Chinese"), "en": N_("English")}
FORMAT_CHOICE = click.Choice(["html", "md", "docx", "pdf"])
lang_option = click.option("--lang", help="zh_CN or en (default: the global --lang). 语言。")
format_option = click.option("--format", "fmt", type=FORMAT_CHOICE, default="html", show_default=True)
month_option = click.option(
    "--month", metavar="YYYY-MM", help="Month of a talk record card or parent feedback. 谈心记录卡或家长反馈的月份。"
)
redact_option = click.option("--redact", is_flag=True, help="Mask phones, ID numbers, addresses, workplaces. 脱敏。")


@click.group("doc")
def doc_group() -> None:
    """Stage documents: plans, record cards, reports. 个案文书。"""


def _write(st: State, out: Path | None, name: str, data: bytes, several: bool) -> str:
    from casework.errors import InvalidInput
    from casework.formats.files import write_bytes

    # A folder when it is one, when several documents go out, or when it names no file type.
    folder = out is not None and (several or out.is_dir() or not out.suffix)
    target = (out / name) if out is not None and folder else (out or Path(name))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput("--out: cannot write {path}: {error}", path=str(target), error=exc.strerror) from None
    write_bytes(str(target), data)
    return str(target)


@doc_group.command("render")
@click.argument("case_id", type=ID, metavar="CASE")
@click.option("--stage", help="Stage whose documents to render (default: the current stage). 阶段。")
@click.option("--template", help="One document of the stage, e.g. education_plan. 模板。")
@format_option
@click.option(
    "--out", type=click.Path(path_type=Path), help="File, or folder for several documents. 文件；多份文书时为文件夹。"
)
@lang_option
@month_option
@redact_option
@actor_option
def doc_render(
    case_id: int,
    stage: str | None,
    template: str | None,
    fmt: str,
    out: Path | None,
    lang: str | None,
    month: str | None,
    redact: bool,
    actor: str | None,
) -> None:
    """Render a case's stage documents and register them; retries a failed one.

    Markdown without --out is printed; other formats are written to --out or the current folder.

    生成个案文书。
    """
    from casework.services import documents

    st = state()
    made = documents.render_case(
        st.ctx(), actor, case_id, stage=stage, template=template, fmt=fmt, lang=lang, month=month, redact=redact
    )
    for doc in made:
        if fmt == "md" and out is None:
            click.echo(doc.data.decode("utf-8"))
            continue
        path = _write(st, out, doc.filename(), doc.data, len(made) > 1)
        click.echo(st.t("document {id}: {path} (sha256 {sha})", id=doc.id, path=path, sha=doc.sha256[:12]))


@doc_group.command("list")
@click.argument("case_id", type=ID, metavar="CASE")
@actor_option
@json_option
def doc_list(case_id: int, actor: str | None, as_json: bool) -> None:
    """A case's documents and failed renderings.

    Each has its template and case versions, format, status and SHA-256 (all of them with --json).

    个案文书登记。
    """
    from casework.services import documents

    st = state()
    rows = documents.list_documents(st.ctx(), actor, case_id)
    if as_json:
        echo_json(rows)
        return
    table(
        ["#", st.t("document"), st.t("format"), st.t("status"), st.t("checksum")],
        [
            (
                r.id,
                f"{st.t(DOCUMENT_LABELS.get(r.template, r.template))} {r.period or ''}".strip(),
                f"{r.format.upper()} {st.t(LANGUAGE_LABELS.get(r.lang, r.lang))}",
                st.t(STATUS.get(r.status, r.status)) + (f": {r.error}" if r.status == "failed" else ""),
                (r.sha256 or "")[:12],
            )
            for r in rows
        ],
        empty=st.t("documents of case {case}", case=case_id),
    )


@doc_group.command("batch")
@click.argument("template")
@click.option(
    "--state",
    "state_filter",
    help="Cases in this stage (default: the template's stage). 此阶段的个案（默认：模板对应阶段）。",
)
@format_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True)
@lang_option
@month_option
@redact_option
@actor_option
def doc_batch(
    template: str,
    state_filter: str | None,
    fmt: str,
    out: Path,
    lang: str | None,
    month: str | None,
    redact: bool,
    actor: str | None,
) -> None:
    """One document for every case of a stage, e.g. month-end talk record cards. 批量生成。"""
    from casework.services import documents

    st = state()
    bar: Any = click.progressbar(length=1, label=st.t("rendering"), file=sys.stderr)
    with bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        made = documents.render_many(
            st.ctx(),
            actor,
            template,
            state=state_filter,
            fmt=fmt,
            lang=lang,
            month=month,
            redact=redact,
            progress=progress,
        )
    for doc in made:
        _write(st, out, doc.filename(), doc.data, True)
    click.echo(st.t("{n} documents written to {path}", n=len(made), path=str(out)))


@doc_group.command("get")
@click.argument("document_id", type=ID, metavar="DOCUMENT")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="File or folder (default: the registered name). 文件或文件夹（默认：登记的文件名）。",
)
@actor_option
def doc_get(document_id: int, out: Path | None, actor: str | None) -> None:
    """Write a registered document's stored bytes (checked against its hash). 取出文书。"""
    from casework.services import documents

    st = state()
    name, data = documents.document_bytes(st.ctx(), actor, document_id)
    click.echo(_write(st, out, name, data, False))


@doc_group.command("sample")
@click.argument("template")
@format_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="File to write (Markdown is printed without it). 输出文件（不指定则打印 Markdown）。",
)
@lang_option
def doc_sample(template: str, fmt: str, out: Path | None, lang: str | None) -> None:
    """Render a template with made-up data, to check an override. 模板预览。"""
    from casework.services import documents
    from casework.services import settings as settings_service

    st = state()
    options = settings_service.load(st.settings_path).documents
    data = documents.sample(template, fmt, lang or st.lang, options.templates, options.font)
    if out is None and fmt == "md":
        click.echo(data.decode("utf-8"))
        return
    click.echo(_write(st, out, f"{template}.{lang or st.lang}.{fmt}", data, False))


COMMANDS = [doc_group]
