"""Charts for the leadership group, as self-contained SVG: Chinese labels drawn from a CJK font."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from casework.errors import CaseworkError

# Where Debian's fonts-noto-cjk and fonts-wqy-zenhei put their files.
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


@cache
def cjk_font(explicit: str | None = None) -> str:
    """A font file with Chinese glyphs, or one clear error naming what to install."""
    for candidate in (explicit, *CJK_FONT_FILES):
        if candidate and Path(candidate).is_file():
            return candidate
    raise CaseworkError(
        "no CJK font found for the charts: install Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk)"
    )


def _figure(width: float = 7.0, height: float = 3.2):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    path = cjk_font()
    font_manager.fontManager.addfont(path)
    family = font_manager.FontProperties(fname=path).get_name()
    plt.rcParams.update(
        {"font.family": family, "svg.fonttype": "path", "svg.hashsalt": "casework", "axes.unicode_minus": False}
    )
    return plt, plt.subplots(figsize=(width, height))


def _svg(plt, fig) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    fig.tight_layout()
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg") :]


def trend_chart(title: str, series: dict[str, list[tuple[str, float | None]]]) -> str:
    """Lines of monthly shares (0–100%), one per named series."""
    plt, (fig, ax) = _figure()
    for label, points in series.items():
        xs = [m for m, v in points if v is not None]
        ys = [v * 100 for m, v in points if v is not None]
        ax.plot(xs, ys, marker="o", label=label)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower right")
    return _svg(plt, fig)


def funnel_chart(title: str, stages: list[tuple[str, int]]) -> str:
    """Horizontal bars: how many cases sit in each stage, first stage on top."""
    plt, (fig, ax) = _figure()
    labels = [s for s, _ in stages][::-1]
    counts = [n for _, n in stages][::-1]
    bars = ax.barh(labels, counts, color="#3b6ea5")
    ax.bar_label(bars, padding=3)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(plt, fig)
