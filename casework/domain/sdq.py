"""SDQ-style screening: five subscales and the total difficulties score from 25 item scores, with bands.

Only item numbers and the published scoring rules are used here; the questionnaire's wording is
not reproduced. Items are numbered 1–25 in the questionnaire's order and scored 0, 1 or 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from casework.errors import InvalidInput
from casework.text import N_

SUBSCALES: dict[str, tuple[int, ...]] = {
    "emotional": (3, 8, 13, 16, 24),
    "conduct": (5, 7, 12, 18, 22),
    "hyperactivity": (2, 10, 15, 21, 25),
    "peer": (6, 11, 14, 19, 23),
    "prosocial": (1, 4, 9, 17, 20),
}
# Positively worded items count in reverse (2 - score) on their difficulty scale.
REVERSED = frozenset({7, 11, 14, 21, 25})
DIFFICULTIES = ("emotional", "conduct", "hyperactivity", "peer")

# Published three-band cut-offs (normal, borderline, abnormal) by informant: the highest score
# still "normal" and the highest still "borderline". Prosocial runs the other way: low is worse.
CUTOFFS: dict[str, dict[str, tuple[int, int]]] = {
    "parent": {
        "total": (13, 16),
        "emotional": (3, 4),
        "conduct": (2, 3),
        "hyperactivity": (5, 6),
        "peer": (2, 3),
        "prosocial": (6, 5),
    },
    "teacher": {
        "total": (11, 15),
        "emotional": (4, 5),
        "conduct": (2, 3),
        "hyperactivity": (5, 6),
        "peer": (3, 4),
        "prosocial": (6, 5),
    },
    "self": {
        "total": (15, 19),
        "emotional": (5, 6),
        "conduct": (3, 4),
        "hyperactivity": (5, 6),
        "peer": (3, 5),
        "prosocial": (6, 5),
    },
}
BANDS = ("normal", "borderline", "abnormal")
LABELS: dict[str, str] = {
    "emotional": N_("emotional symptoms"),
    "conduct": N_("conduct problems"),
    "hyperactivity": N_("hyperactivity"),
    "peer": N_("peer problems"),
    "prosocial": N_("prosocial behaviour"),
    "total": N_("total difficulties"),
    "normal": N_("normal"),
    "borderline": N_("borderline"),
    "abnormal": N_("abnormal"),
}


@dataclass(frozen=True)
class SdqResult:
    informant: str
    scores: dict[str, int]
    bands: dict[str, str]

    @property
    def total(self) -> int:
        return self.scores["total"]

    @property
    def worst_band(self) -> str:
        return max(self.bands.values(), key=BANDS.index)

    def as_data(self) -> dict[str, object]:
        return {"informant": self.informant, "scores": self.scores, "bands": self.bands}


def parse_items(text: str) -> list[int]:
    """'0,1,2,…' or '0120…' (25 digits) into 25 item scores."""
    cleaned = text.replace(" ", "")
    parts = cleaned.split(",") if "," in cleaned else list(cleaned)
    if len(parts) != 25:
        raise InvalidInput("--scores: 25 item scores are needed, {n} given", n=len(parts))
    items = []
    for number, part in enumerate(parts, start=1):
        if part not in {"0", "1", "2"}:
            raise InvalidInput("--scores: item {item} is '{value}', not 0, 1 or 2", item=number, value=part)
        items.append(int(part))
    return items


def band(scale: str, score: int, informant: str) -> str:
    normal, borderline = CUTOFFS[informant][scale]
    if scale == "prosocial":
        return "normal" if score >= normal else "borderline" if score >= borderline else "abnormal"
    return "normal" if score <= normal else "borderline" if score <= borderline else "abnormal"


def score(items: Sequence[int], informant: str = "parent") -> SdqResult:
    if informant not in CUTOFFS:
        raise InvalidInput("--informant: '{value}' is not one of parent, teacher, self", value=informant)
    if len(items) != 25 or any(i not in (0, 1, 2) for i in items):
        raise InvalidInput("--scores: 25 item scores of 0, 1 or 2 are needed")
    scores = {
        scale: sum(2 - items[n - 1] if n in REVERSED else items[n - 1] for n in numbers)
        for scale, numbers in SUBSCALES.items()
    }
    scores["total"] = sum(scores[s] for s in DIFFICULTIES)
    bands = {scale: band(scale, value, informant) for scale, value in scores.items()}
    return SdqResult(informant, scores, bands)
