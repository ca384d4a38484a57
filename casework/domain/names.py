"""How much of a child's name a message may carry: the whole name, the surname and a mask (王**), or none."""

from __future__ import annotations

FULL, MASKED, NONE = "full", "masked", "none"
NAME_MODES = (MASKED, FULL, NONE)

# Two-character surnames (复姓) that are kept whole when the rest of the name is masked.
COMPOUND_SURNAMES = frozenset(
    (
        "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木 澹台 南宫 西门 申屠 独孤"
    ).split()
)


def surname(name: str) -> str:
    name = name.strip()
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


def shown_name(name: str | None, mode: str) -> str | None:
    """The name as a message may carry it: 王小明 -> 王** (masked), 王小明 (full), None (none)."""
    if name is None or mode == NONE:
        return None
    if mode == FULL:
        return name
    family = surname(name)
    return family + "*" * max(1, len(name.strip()) - len(family))
