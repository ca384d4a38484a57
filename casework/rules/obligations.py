"""Recurring duties (每月谈心, 家长反馈, 家访, 五个一): due dates that follow the school calendar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from casework.domain.facts import CaseFacts
from casework.rules.base import Obligation, Parameter, RuleModule
from casework.text import Msg


class Obligations(RuleModule):
    name = "obligations"
    version = "1"
    description = Msg(
        "Recurring duties: a monthly talk by the class teacher, monthly feedback to the parents, a home "
        "visit each term and the child's five ones; none falls due in a holiday"
    )
    parameters = (
        Parameter("applies_in", ["individual_plan", "mentored", "reviewed"], Msg("stages in which duties run")),
        Parameter("month_days", 30, Msg("days of a monthly duty")),
        Parameter("holiday_grace_days", 14, Msg("days into the next term for a duty that falls in a holiday")),
        Parameter("five_ones", True, Msg("track the child's five ones")),
    )

    def _due(self, facts: CaseFacts, start: date, days: int) -> date:
        return facts.calendar.shift_out_of_holiday(start + timedelta(days=days), self.params["holiday_grace_days"])

    def _rhythmic(self, facts: CaseFacts, code: str, what: Msg, role: str, key: str, days: int) -> Obligation:
        last = facts.last_contacts.get(key)
        start = last or facts.opened_on or facts.today
        return Obligation(code, what, role, self._due(facts, start, days), days, last)

    def _termly(self, facts: CaseFacts, code: str, what: Msg, role: str, key: str) -> Obligation:
        last = facts.last_contacts.get(key)
        term = facts.calendar.term_of(facts.today) or facts.calendar.next_term(facts.today)
        done_this_term = last is not None and last >= term.start
        due = facts.calendar.next_term(term.end).end if done_this_term else term.end
        return Obligation(code, what, role, due, None, last)

    def obligations(self, facts: CaseFacts) -> Sequence[Obligation]:
        if facts.state not in self.params["applies_in"]:
            return ()
        month = self.params["month_days"]
        duties = [
            self._rhythmic(
                facts,
                "monthly_talk",
                Msg("a monthly talk with its record card"),
                "class_teacher",
                "talk@class_teacher",
                month,
            ),
            self._rhythmic(
                facts,
                "parent_feedback",
                Msg("monthly feedback to the parents"),
                "mentor",
                "parent_feedback",
                month,
            ),
            self._termly(facts, "home_visit", Msg("a home visit this term"), "class_teacher", "home_visit"),
        ]
        if self.params["five_ones"]:
            duties += [
                self._rhythmic(
                    facts, "call_home", Msg("the child's weekly call home"), "class_teacher", "call_home", 7
                ),
                self._rhythmic(
                    facts,
                    "letter_home",
                    Msg("the child's monthly letter home"),
                    "class_teacher",
                    "letter",
                    month,
                ),
                self._rhythmic(
                    facts,
                    "subject_teacher_contact",
                    Msg("monthly contact with a subject teacher"),
                    "subject_teacher",
                    "talk@subject_teacher",
                    month,
                ),
                self._rhythmic(
                    facts,
                    "visit_home",
                    Msg("the child's yearly visit home"),
                    "class_teacher",
                    "family_visit",
                    365,
                ),
            ]
        return duties
