"""The school's recurring duties (每月谈心, 每月反馈, 家访, 每周亲情电话) by the calendar's periods and boarding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from casework.domain.calendar import end_of_month, end_of_week
from casework.domain.facts import CaseFacts
from casework.errors import InvalidInput
from casework.rules.base import Obligation, Parameter, RuleModule
from casework.text import Msg

DUTIES = ("monthly_talk", "boarder_talk", "parent_feedback", "home_visit", "guardian_visit", "family_phone")
DEFAULT_GRACE = {
    "monthly_talk": 5,
    "boarder_talk": 3,
    "parent_feedback": 5,
    "home_visit": 7,
    "guardian_visit": 7,
    "family_phone": 2,
}


class Obligations(RuleModule):
    """每月 is a calendar month, 每学期 a term of the school calendar, 每周 a week from Monday to Sunday.

    A duty is due at the end of the first period, from the one the case entered its stage in, in
    which it was not done; a due date in a holiday moves into the next term. The child's own five
    ones (a call home each week, a letter each month, a visit home each year) are not duties of
    the staff: they are counted per child and class on the indicators report. The school's part,
    arranging the weekly family phone call (学校设立留守儿童亲情电话), is the class teacher's duty.

    Boarding changes two of them (篇4): a boarder is talked with every ``boarder_talk_days``
    instead of monthly, and a day pupil's guardian is visited every ``day_pupil_visit_days``
    instead of once a term; a child whose card does not say is treated as neither.
    """

    name = "obligations"
    version = "3"
    description = Msg(
        "Recurring duties by calendar period: a talk each month by the class teacher (frequent for a "
        "boarder), feedback to the parents each month, a home visit each term (regular for a day pupil), "
        "the weekly family phone call arranged; none falls due in a holiday"
    )
    parameters = (
        Parameter("applies_in", ["individual_plan", "mentored", "reviewed"], Msg("stages in which duties run")),
        Parameter("holiday_grace_days", 14, Msg("days into the next term for a duty that falls in a holiday")),
        Parameter("family_phone", True, Msg("the class teacher arranges the child's weekly call home")),
        Parameter("grace_days", dict(DEFAULT_GRACE), Msg("days past due before each duty counts as overdue")),
        Parameter("boarder_talk_days", 14, Msg("days between the class teacher's talks with a boarding child")),
        Parameter("day_pupil_visit_days", 60, Msg("days between visits to the guardian of a day pupil")),
    )

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        grace = {**DEFAULT_GRACE, **self.params["grace_days"]}
        for code, days in grace.items():
            if code not in DUTIES:
                raise InvalidInput(
                    "rules.{module}: unknown parameter '{key}'", module=self.name, key=f"grace_days.{code}"
                )
            if isinstance(days, bool) or not isinstance(days, int) or days < 0:
                raise InvalidInput(
                    "{key}: expected a whole number of days, 0 or more", key=f"rules.obligations.grace_days.{code}"
                )
        self.params["grace_days"] = grace

    def _shift(self, facts: CaseFacts, due: date) -> date:
        return facts.calendar.shift_out_of_holiday(due, self.params["holiday_grace_days"])

    def _start(self, facts: CaseFacts) -> date:
        return facts.state_since or facts.opened_on or facts.today

    def _duty(self, code: str, what: Msg, role: str, due: date, rhythm: int | None, last: date | None) -> Obligation:
        return Obligation(code, what, role, due, rhythm, last, grace_days=int(self.params["grace_days"][code]))

    def _monthly(self, facts: CaseFacts, code: str, what: Msg, role: str, key: str) -> Obligation:
        """Done in a month: due by the end of the next. Not done since the stage began: by the end of its month."""
        last = facts.last_contacts.get(key)
        start = self._start(facts)
        if last is not None and last >= start.replace(day=1):
            due = end_of_month(end_of_month(last) + timedelta(days=1))
        else:
            due = end_of_month(start)
        return self._duty(code, what, role, self._shift(facts, due), None, last)

    def _weekly(self, facts: CaseFacts, code: str, what: Msg, role: str, key: str) -> Obligation:
        last = facts.last_contacts.get(key)
        start = self._start(facts)
        if last is not None and last >= start - timedelta(days=start.weekday()):
            due = end_of_week(last) + timedelta(days=7)
        else:
            due = end_of_week(start)
        return self._duty(code, what, role, self._shift(facts, due), 7, last)

    def _every(self, facts: CaseFacts, code: str, what: Msg, role: str, key: str, days: int) -> Obligation:
        """Every ``days`` days from the last time, or from the stage's start."""
        last = facts.last_contacts.get(key)
        due = (last or self._start(facts)) + timedelta(days=days)
        return self._duty(code, what, role, self._shift(facts, due), days, last)

    def _talk(self, facts: CaseFacts) -> Obligation:
        """篇4: 「凡寄宿在校的留守儿童，教师要不时与留守儿童互相交流、沟通」: a boarder is talked with more often."""
        if facts.boarding:
            days = int(self.params["boarder_talk_days"])
            what = Msg("a talk with the boarding child every {days} days", {"days": days})
            return self._every(facts, "boarder_talk", what, "class_teacher", "talk@class_teacher", days)
        what = Msg("a talk this month with its record card")
        return self._monthly(facts, "monthly_talk", what, "class_teacher", "talk@class_teacher")

    def _visit(self, facts: CaseFacts) -> Obligation:
        """篇4: 「非寄宿的儿童，教师要定期走访与临时监护人交流」: a day pupil's guardian is visited regularly;
        a boarder (or a child whose card does not say) gets the home visit each term."""
        if facts.boarding is False:
            days = int(self.params["day_pupil_visit_days"])
            what = Msg("a visit to the day pupil's guardian every {days} days", {"days": days})
            return self._every(facts, "guardian_visit", what, "class_teacher", "home_visit", days)
        return self._termly(facts, "home_visit", Msg("a home visit this term"), "class_teacher", "home_visit")

    def _termly(self, facts: CaseFacts, code: str, what: Msg, role: str, key: str) -> Obligation:
        last = facts.last_contacts.get(key)
        term = facts.calendar.term_of(facts.today) or facts.calendar.next_term(facts.today)
        done_this_term = last is not None and last >= term.start
        due = facts.calendar.next_term(term.end).end if done_this_term else term.end
        return self._duty(code, what, role, due, None, last)

    def obligations(self, facts: CaseFacts) -> Sequence[Obligation]:
        if facts.state not in self.params["applies_in"]:
            return ()
        duties = [
            self._talk(facts),
            self._monthly(
                facts, "parent_feedback", Msg("feedback to the parents this month"), "mentor", "parent_feedback"
            ),
            self._visit(facts),
        ]
        if self.params["family_phone"]:
            duties.append(
                self._weekly(
                    facts, "family_phone", Msg("the child's family phone call this week"), "class_teacher", "call_home"
                )
            )
        return duties
