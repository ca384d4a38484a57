"""Render a template with its typed context to HTML, Markdown, DOCX or PDF bytes.

The jinja2 environment is built on first use (never at import), with StrictUndefined: a value
the template names but the context lacks is an error, never a blank on an official record.
A deployment's override folder is searched before the templates shipped in the package, file by
file, so overriding one template (or the shared page layout) touches nothing else.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from casework.documents.catalog import FORMATS, TEMPLATES
from casework.errors import CaseworkError, InvalidInput
from casework.text import N_

LANGS = ("zh_CN", "en")
BASE = "_base"
# The files one template is made of; a missing one falls back to the package's.
TEMPLATE_FILES = ("template.toml", "page.html.j2", "page.md.j2")

Progress = Callable[[int], None]


class TemplateProblem(CaseworkError):
    """A template could not be rendered: a missing value, a syntax error, a wrong context."""


@dataclass(frozen=True)
class Rendered:
    template: str
    version: str
    fmt: str
    lang: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@cache
def package_templates() -> Path:
    """The stage documents' templates shipped with casework: the top-level templates/documents/
    folder, installed as the package casework.templates (editable and wheel installs alike)."""
    return Path(str(resources.files("casework.templates"))) / "documents"


def _folders(overrides: Path | None) -> tuple[Path, ...]:
    if overrides is None:
        return (package_templates(),)
    return (Path(overrides), package_templates())


def _check(template: str, fmt: str, lang: str) -> None:
    if template not in TEMPLATES:
        raise InvalidInput(
            "no document template '{name}'; templates: {known}", name=template, known=", ".join(TEMPLATES)
        )
    if fmt not in FORMATS:
        raise InvalidInput("--format: '{fmt}' is not one of {known}", fmt=fmt, known=", ".join(FORMATS))
    if lang not in LANGS:
        raise InvalidInput("unknown language '{lang}'; use zh_CN or en", lang=lang)


def _find(folders: tuple[Path, ...], relative: str) -> Path:
    for folder in folders:
        candidate = folder / relative
        if candidate.is_file():
            return confined(folder, candidate)
    raise TemplateProblem(N_("template file {file} is missing"), file=relative)


def confined(folder: Path | str, path: Path | str) -> Path:
    """``path`` if it lies inside ``folder`` once symlinks are resolved: a link in an override
    folder that points out of it (to /etc/shadow, to another school's files) is refused."""
    real_folder = os.path.realpath(folder)
    real = os.path.realpath(path)
    if os.path.commonpath([real_folder, real]) != real_folder:
        raise TemplateProblem(
            N_("template file {file} leads out of its folder {folder} (a symbolic link); it is not read"),
            file=str(path),
            folder=str(folder),
        )
    return Path(path)


@cache
def _toml(path: Path, mtime: float) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateProblem(N_("template file {file}: {error}"), file=str(path), error=str(exc)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    return _toml(path, path.stat().st_mtime)


def template_version(template: str, overrides: Path | None = None) -> str:
    """The version the template declares; with files from an override folder, plus their hash.

    Two renders with the same version used exactly the same template text.
    """
    folders = _folders(overrides)
    declared = _read_toml(_find(folders, f"{template}/template.toml")).get("version")
    if not isinstance(declared, int | str):
        raise TemplateProblem(N_("template {name} declares no version in template.toml"), name=template)
    if overrides is None:
        return str(declared)
    local = sorted(
        confined(overrides, p)
        for name in (template, BASE)
        for p in (Path(overrides) / name).glob("*")
        if p.is_file() and p.name != ".keep"
    )
    if not local:
        return str(declared)
    digest = hashlib.sha256()
    for path in local:
        digest.update(path.relative_to(overrides).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{declared}+local.{digest.hexdigest()[:8]}"


class Labels:
    """A template's words; ``L.items`` finds the word "items", not a dict method."""

    __slots__ = ("_words",)

    def __init__(self, words: dict[str, Any]) -> None:
        self._words = words

    def __getitem__(self, key: str) -> Any:
        return self._words[key]

    def __contains__(self, key: str) -> bool:
        return key in self._words


def labels(template: str, lang: str, overrides: Path | None = None) -> Labels:
    """The template's printed words in ``lang``: the shared page's labels, then its own."""
    folders = _folders(overrides)
    merged: dict[str, Any] = {}
    for name in (BASE, template):
        data = _read_toml(_find(folders, f"{name}/template.toml"))
        words = data.get(lang)
        if not isinstance(words, dict):
            raise TemplateProblem(N_("template {name} has no [{lang}] labels"), name=name, lang=lang)
        merged.update(words)
    return Labels(merged)


def format_date(value: date, lang: str) -> str:
    if lang == "zh_CN":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def _md_cell(value: Any) -> str:
    text = "—" if value is None else str(value)
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _inside(folder: str, path: str) -> bool:
    real_folder = os.path.realpath(folder)
    return os.path.commonpath([real_folder, os.path.realpath(path)]) == real_folder


@cache
def environment(folders: tuple[Path, ...], lang: str) -> Any:
    """One jinja2 environment per override folder and language, made on first use."""
    import jinja2

    def finalize(value: Any) -> Any:
        if value is None:
            return "—"
        if isinstance(value, date):
            return format_date(value, lang)
        return value

    class ConfinedLoader(jinja2.FileSystemLoader):
        """Templates from the folders, never from where a symbolic link in one of them points."""

        def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
            source, filename, uptodate = super().get_source(environment, template)
            if not any(_inside(folder, filename) for folder in self.searchpath):
                confined(self.searchpath[0], filename)  # raises, naming the file
            return source, filename, uptodate

    env = jinja2.Environment(
        loader=ConfinedLoader([str(f) for f in folders], encoding="utf-8"),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    env.filters["d"] = lambda value: "—" if value is None else format_date(value, lang)
    env.filters["cell"] = _md_cell
    env.filters["pct"] = lambda value: "—" if value is None else f"{value * 100:.1f}%"
    env.globals["lang"] = lang
    return env


def _text(template: str, context: object, kind: str, lang: str, overrides: Path | None) -> str:
    import jinja2

    spec = TEMPLATES[template]
    if not isinstance(context, spec.context):
        raise TemplateProblem(
            N_("template {name} takes a {expected}, not a {given}"),
            name=template,
            expected=spec.context.__name__,
            given=type(context).__name__,
        )
    env = environment(_folders(overrides), lang)
    try:
        page = env.get_template(f"{template}/page.{kind}.j2")
        return str(page.render(doc=context, L=labels(template, lang, overrides), template=template))
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(N_("template file {file} is missing"), file=str(exc.name)) from None
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(
            N_("template {name} ({fmt}, {lang}) uses a value its context does not have: {error}"),
            name=template,
            fmt=kind,
            lang=lang,
            error=str(exc),
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(
            N_("template {name}: syntax error in {file} line {line}: {error}"),
            name=template,
            file=str(exc.name),
            line=exc.lineno,
            error=exc.message or "",
        ) from None


def render_html(template: str, context: object, lang: str, overrides: Path | None = None) -> str:
    return _text(template, context, "html", lang, overrides)


def render(
    template_name: str,
    context: object,
    fmt: str,
    lang: str,
    overrides: Path | None = None,
    font: Path | None = None,
) -> bytes:
    """One document's bytes. ``font``: a CJK font file for PDF (else one is looked for)."""
    (result,) = render_batch([(template_name, context)], fmt, lang, overrides, font)
    return result.data


def render_batch(
    jobs: Sequence[tuple[str, object]],
    fmt: str,
    lang: str,
    overrides: Path | None = None,
    font: Path | None = None,
    progress: Progress | None = None,
) -> list[Rendered]:
    """Many documents in one format and language; PDFs share one font subset made for the batch.

    ``progress`` is called with the number of documents finished after each one.
    """
    for template, _ in jobs:
        _check(template, fmt, lang)
    tick = progress or (lambda _n: None)
    versions = {t: template_version(t, overrides) for t in {t for t, _ in jobs}}
    out: list[Rendered] = []
    if fmt == "md":
        for i, (template, context) in enumerate(jobs, start=1):
            data = _text(template, context, "md", lang, overrides).encode("utf-8")
            out.append(Rendered(template, versions[template], fmt, lang, data))
            tick(i)
        return out
    pages = [_text(template, context, "html", lang, overrides) for template, context in jobs]
    if fmt == "html":
        for i, ((template, _), page) in enumerate(zip(jobs, pages, strict=True), start=1):
            out.append(Rendered(template, versions[template], fmt, lang, page.encode("utf-8")))
            tick(i)
        return out
    if fmt == "docx":
        from casework.documents import docx

        for i, ((template, _), page) in enumerate(zip(jobs, pages, strict=True), start=1):
            out.append(Rendered(template, versions[template], fmt, lang, docx.from_html(page, lang)))
            tick(i)
        return out
    from casework.documents import pdf

    fonts = pdf.batch_fonts(pages, font)
    for i, ((template, _), page) in enumerate(zip(jobs, pages, strict=True), start=1):
        out.append(Rendered(template, versions[template], fmt, lang, pdf.from_html(page, fonts)))
        tick(i)
    return out


def template_names() -> Iterable[str]:
    return TEMPLATES.keys()
