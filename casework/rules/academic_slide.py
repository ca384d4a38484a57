"""Severe academic slide (学习严重滑坡): a drop in rank or exam total; tutoring, a study helper, a progress record."""

from __future__ import annotations

from collections.abc import Sequence

from casework import states
from casework.domain.facts import AssessmentFacts, CaseFacts, TermFacts
from casework.rules.base import Category, Parameter, PlanRequirement, RuleModule, Verdict
from casework.text import Msg

CATEGORY = "academic_slide"


def last_two(results: Sequence[TermFacts]) -> tuple[TermFacts, TermFacts] | None:
    ordered = sorted(results, key=lambda r: r.key)
    return (ordered[-2], ordered[-1]) if len(ordered) >= 2 else None


class AcademicSlide(RuleModule):
    name = "academic_slide"
    version = "1"
    description = Msg("Severe academic slide: a drop of N class ranks or X percent of the exam total between two terms")
    parameters = (
        Parameter("rank_drop", 10, Msg("class ranks lost between two terms that count as a severe slide")),
        Parameter("percent_drop", 15.0, Msg("percent of the exam total lost that counts as a severe slide")),
        Parameter("weak_subject_score", 60.0, Msg("a subject scored below this needs a tutoring teacher")),
    )

    def classify(self, facts: AssessmentFacts) -> Sequence[Category]:
        pair = last_two(facts.term_results)
        if pair is None:
            return ()
        before, after = pair
        ranks_lost = after.rank - before.rank
        percent_lost = (before.total - after.total) / before.total * 100 if before.total else 0.0
        if ranks_lost < self.params["rank_drop"] and percent_lost < self.params["percent_drop"]:
            return ()
        return [
            Category(
                CATEGORY,
                {
                    "terms": [list(before.key), list(after.key)],
                    "ranks": [before.rank, after.rank],
                    "ranks_lost": ranks_lost,
                    "percent_lost": round(percent_lost, 1),
                },
                risk="medium",
            )
        ]

    def weak_subjects(self, facts: CaseFacts) -> list[str]:
        if not facts.term_results:
            return []
        latest = max(facts.term_results, key=lambda r: r.key)
        return sorted(s for s, score in latest.subjects.items() if score < self.params["weak_subject_score"])

    def plan_requirements(self, category: str, facts: CaseFacts) -> Sequence[PlanRequirement]:
        if category != CATEGORY:
            return ()
        needed = [
            PlanRequirement(
                CATEGORY,
                f"tutoring:{subject}",
                Msg("a tutoring teacher for {subject}", {"subject": subject}),
                item_kind="tutoring",
                subject=subject,
            )
            for subject in self.weak_subjects(facts)
        ]
        needed.append(PlanRequirement(CATEGORY, "study_helper", Msg("a study-helper pupil"), pairing="study_helper"))
        needed.append(
            PlanRequirement(CATEGORY, "progress_record", Msg("a progress record"), item_kind="progress_record")
        )
        return needed

    def check(self, event: str, facts: CaseFacts) -> Sequence[Verdict]:
        if CATEGORY not in facts.categories or facts.state != states.REVIEWED:
            return ()
        if event not in {"continue", "revise", "close", "reassess"}:
            return ()
        pair = last_two(facts.term_results)
        if pair is None:
            return [self.verdict("ranks_not_compared", True, Msg("no two terms' ranks to compare yet"))]
        before, after = pair
        return [
            self.verdict(
                "ranks_compared",
                True,
                Msg("class rank {before} → {after}", {"before": before.rank, "after": after.rank}),
                {"ranks": [before.rank, after.rank], "terms": [list(before.key), list(after.key)]},
            )
        ]
