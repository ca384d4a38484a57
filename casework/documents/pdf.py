"""PDF through WeasyPrint, with CJK glyphs embedded from a font subset made once per batch.

Embedding a whole CJK collection makes WeasyPrint subset it for every PDF (seconds each); a
subset of just the characters the batch uses, without layout tables, is made once (cached on
disk by content) and each PDF then embeds a subset of that. A character no available font
covers stops the batch with its name: a rare character in a child's name (生僻字) must never
print as an empty box.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from html import unescape
from pathlib import Path
from typing import Any

from casework.errors import CaseworkError
from casework.text import N_

FAMILY = "Casework CJK"
# Looked for in this order; a font file named in the settings comes first.
KNOWN_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # SC face of the collection
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
# Always in the subset: what CSS and the page furniture print besides the document's text.
BASELINE = "".join(chr(c) for c in range(0x20, 0x7F)) + "—–·•：，。、；（）《》“”‘’％×…"
INSTALL_HINT = "apt-get install fonts-noto-cjk"


class FontMissing(CaseworkError):
    """No CJK font for PDF output, or a character that no available font has."""


@dataclass(frozen=True)
class FontFile:
    path: Path
    number: int  # face in a collection (.ttc)


@dataclass(frozen=True)
class BatchFonts:
    css: str  # @font-face rules pointing at the subset files
    files: tuple[Path, ...]


def candidates(configured: Path | None) -> list[FontFile]:
    """The CJK fonts available, the configured one first; raises when there are none."""
    found: list[FontFile] = []
    if configured is not None:
        path = Path(configured)
        if not path.is_file():
            raise FontMissing(N_("the PDF font {path} (documents.font in the settings) does not exist"), path=str(path))
        found.append(FontFile(path, 0))
    for name, number in KNOWN_FONTS:
        if Path(name).is_file():
            found.append(FontFile(Path(name), number))
    if not found:
        found.extend(_fontconfig_cjk())
    if not found:
        raise FontMissing(
            N_(
                "no CJK font found for PDF output: install one ({hint}) or name a font file as documents.font "
                "in casework.toml"
            ),
            hint=INSTALL_HINT,
        )
    return found


def _fontconfig_cjk() -> list[FontFile]:
    try:
        listed = subprocess.run(
            ["fc-list", ":lang=zh", "file", "index"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    fonts = []
    for line in sorted(listed.splitlines()):
        path, _, rest = line.partition(":")
        index = rest.strip().removeprefix("index=").rstrip(":") or "0"
        if path.strip() and index.isdigit():
            fonts.append(FontFile(Path(path.strip()), int(index)))
    return fonts


@cache
def _cmap(font: FontFile) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(font.path), fontNumber=font.number, lazy=True) as tt:
        return frozenset(tt.getBestCmap())


def characters(pages: Sequence[str]) -> set[int]:
    """The characters the documents print (tags and SVG paths included: a superset is harmless)."""
    used: set[str] = set()
    for page in pages:
        used.update(unescape(page))
    return {ord(ch) for ch in used if ch.isprintable() and not ch.isspace() or ch == " "}


def assign(needed: set[int], fonts: Sequence[FontFile]) -> dict[FontFile, set[int]]:
    """Each character to the first font that has it; raise naming those none has."""
    plan: dict[FontFile, set[int]] = {}
    missing = set(needed) | {ord(ch) for ch in BASELINE}
    for font in fonts:
        have = missing & _cmap(font)
        if have:
            plan[font] = have
            missing -= have
        if not missing:
            break
    significant = sorted(c for c in missing & needed if c > 0x7F and not 0xE000 <= c <= 0xF8FF)
    if significant:
        raise FontMissing(
            N_(
                "no available font has the characters {chars}: install a font that has them "
                "(fonts-noto-cjk covers rare characters in names) or name it as documents.font"
            ),
            chars=" ".join(f"{chr(c)} (U+{c:04X})" for c in significant[:20]),
        )
    return plan


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(root) / "casework" / "fonts"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".probe"
        probe.touch()
        return path
    except OSError:
        fallback = Path(tempfile.gettempdir()) / "casework-fonts"
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


def subset(font: FontFile, chars: set[int]) -> Path:
    """A subset of ``font`` with ``chars`` and no layout tables, cached on disk by its content."""
    key = hashlib.sha256(
        f"{font.path}:{font.number}:{font.path.stat().st_mtime_ns}:".encode()
        + ",".join(map(str, sorted(chars))).encode()
    ).hexdigest()[:24]
    target = _cache_dir() / f"subset-{key}.otf"
    if target.is_file():
        return target
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont

    options = ft_subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "JSTF", "vhea", "vmtx", "VORG", "DSIG"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]
    options.notdef_outline = True
    options.hinting = False
    with TTFont(str(font.path), fontNumber=font.number, lazy=False) as tt:
        subsetter = ft_subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(chars))
        subsetter.subset(tt)
        partial = target.with_suffix(f".{os.getpid()}.part")
        tt.save(str(partial))
    os.replace(partial, target)
    return target


def batch_fonts(pages: Sequence[str], configured: Path | None = None) -> BatchFonts:
    """The font subsets for a batch of HTML pages, and the CSS that makes WeasyPrint use them."""
    plan = assign(characters(pages), candidates(configured))
    rules, files, names = [], [], []
    for font, chars in plan.items():
        path = subset(font, chars)
        # One family name per subset file: fonts registered under a name stay registered, and
        # two subsets under one name would print one's glyph numbers with the other's shapes.
        name = f"{FAMILY} {path.stem.removeprefix('subset-')}"
        files.append(path)
        names.append(f'"{name}"')
        rules.append(f'@font-face {{ font-family: "{name}"; src: url("{path.as_uri()}"); }}')
    families = ", ".join(names)
    # User-origin rules: !important is what lets them win over the template's own font list.
    rules.append(f"html, body, html * {{ font-family: {families} !important; }}")
    rules.append(f"@page {{ @bottom-center {{ font-family: {families} !important; }} }}")
    return BatchFonts("\n".join(rules), tuple(files))


@cache
def _font_config() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def from_html(page: str, fonts: BatchFonts) -> bytes:
    from weasyprint import CSS, HTML

    config = _font_config()
    stylesheet = CSS(string=fonts.css, font_config=config)
    return bytes(HTML(string=page, base_url=str(Path.cwd())).write_pdf(stylesheets=[stylesheet], font_config=config))


def embedded_fonts(data: bytes) -> list[str]:
    """The names of the fonts a PDF embeds (tests and the benchmark check them)."""
    import io

    from pypdf import PdfReader

    names: set[str] = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        resources: Any = page.get("/Resources") or {}
        fonts: Any = resources.get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            targets = [d.get_object() for d in descendants] if descendants else [font]
            for target in targets:
                descriptor = target.get("/FontDescriptor")
                if descriptor is not None:
                    descriptor = descriptor.get_object()
                    if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                        names.add(str(target.get("/BaseFont")))
    return sorted(names)
