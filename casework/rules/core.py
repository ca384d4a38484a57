"""The core guards every deployment needs: file, assessment, plan, mentor and review before moves."""

from __future__ import annotations

from collections.abc import Sequence

from casework import states
from casework.domain.child import FILE_REQUIRED, field_label
from casework.domain.facts import CaseFacts
from casework.rules.base import Parameter, RuleModule, Verdict
from casework.text import Msg


class CoreGuards(RuleModule):
    name = "core"
    version = "1"
    description = Msg("Core guards: what each stage must have recorded before the case moves on")
    parameters = (
        Parameter(
            "file_required",
            list(FILE_REQUIRED),
            Msg("contact-card fields that must be filled before assess"),
        ),
        Parameter(
            "parent_contact_required",
            True,
            Msg("at least one parent's name and phone must be on the card before assess"),
        ),
    )

    def check(self, event: str, facts: CaseFacts) -> Sequence[Verdict]:
        if event == "assess":
            return self._file_complete(facts)
        if event == "plan":
            return [self._assessment_recorded(facts)]
        if event == "mentor":
            return [self._plan_complete(facts), self._mentor_paired(facts)]
        if event in {"continue", "revise", "close"} and facts.state == states.REVIEWED:
            return [self._review_complete(facts)]
        return ()

    def _file_complete(self, facts: CaseFacts) -> list[Verdict]:
        required = list(self.params["file_required"])
        missing = [f for f in required if f not in facts.filled_fields]
        if not facts.in_class:
            missing.insert(0, "class")
        verdicts = [
            self.verdict(
                "file_complete" if not missing else "file_incomplete",
                not missing,
                Msg(
                    "the contact card is missing fields needed for the file: {fields}",
                    {"fields": [Msg(field_label(f)) for f in missing]},
                )
                if missing
                else Msg("the contact card has every field the file needs"),
                {"required": required + ["class"], "missing": missing},
            )
        ]
        if self.params["parent_contact_required"]:
            has_parent = any({f"{p}_name", f"{p}_phone"} <= facts.filled_fields for p in ("father", "mother"))
            verdicts.append(
                self.verdict(
                    "parent_contact" if has_parent else "parent_contact_missing",
                    has_parent,
                    Msg("a parent's name and phone are on the card")
                    if has_parent
                    else Msg("no parent's name and phone on the card: the school must reach them"),
                    {"parent_contact": has_parent},
                )
            )
        return verdicts

    def _assessment_recorded(self, facts: CaseFacts) -> Verdict:
        ok = facts.assessments > 0
        return self.verdict(
            "assessment_recorded" if ok else "assessment_missing",
            ok,
            Msg("an assessment is recorded")
            if ok
            else Msg("no assessment recorded yet: record one with 'record assessment'"),
            {"assessments": facts.assessments},
        )

    def _plan_complete(self, facts: CaseFacts) -> Verdict:
        complete = [i.id for i in facts.plan_items if i.complete]
        ok = bool(complete)
        if ok:
            msg = Msg("the plan has {n} item(s) with time, content and stage target", {"n": len(complete)})
        elif facts.plan_items:
            msg = Msg("no plan item has all of time, content and stage target")
        else:
            msg = Msg("no individual plan recorded yet: record items with 'record plan'")
        return self.verdict(
            "plan_complete" if ok else "plan_incomplete",
            ok,
            msg,
            {"items": len(facts.plan_items), "complete_items": complete},
        )

    def _mentor_paired(self, facts: CaseFacts) -> Verdict:
        ok = "mentor" in facts.active_pairings
        return self.verdict(
            "mentor_paired" if ok else "mentor_missing",
            ok,
            Msg("a mentor is paired") if ok else Msg("no mentor paired: record one with 'record pairing'"),
            {"active_pairings": sorted(facts.active_pairings)},
        )

    def _review_complete(self, facts: CaseFacts) -> Verdict:
        missing = [i.id for i in facts.plan_items if i.id not in facts.reviewed_items]
        ok = facts.review_recorded and not missing
        if ok:
            msg = Msg("the review records a stage effect for every plan item")
        elif not facts.review_recorded:
            msg = Msg("no review recorded in this stage: record one with 'record review'")
        else:
            msg = Msg(
                "the review has no stage effect for plan item(s) {items}",
                {"items": ", ".join(str(i) for i in missing)},
            )
        return self.verdict(
            "review_complete" if ok else "review_incomplete",
            ok,
            msg,
            {"plan_items": [i.id for i in facts.plan_items], "missing": missing},
        )
