"""What a register records besides the card: the term's enrolment, material aid, the survey (摸底) and whom it found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from casework.domain.roster import AID, AID_DATE, LEFT_BEHIND, ColumnPlan, ParsedRow
from casework.errors import InvalidInput
from casework.persistence.bulk import insert_rows
from casework.persistence.tables import Aid, Enrolment, Survey, SurveyChild, SurveyClass
from casework.services import consent, trail
from casework.text import Msg


@dataclass
class SurveyCount:
    """What a survey found: pupils listed, children identified as left behind, and the children on file
    it no longer flags (their parents may have come home: the leadership group looks at their cases)."""

    school_year: int
    pupils: int = 0
    identified: int = 0
    not_flagged_on_file: list[int] = field(default_factory=list)


def check_flag_column(path: str, plan: ColumnPlan, survey: bool) -> None:
    """A survey needs the left-behind flag; a register of children on file has none (every child on
    file is left behind): a flag column there means the survey was meant."""
    flag = next((c for c in plan.columns if c.target == LEFT_BEHIND), None)
    if survey and flag is None:
        raise InvalidInput(
            "{path}: a survey needs a column saying whether each pupil is left behind (是否留守儿童)", path=path
        )
    if not survey and flag is not None:
        raise InvalidInput(
            "{path}: column '{header}' flags left-behind pupils: import it with 'casework import survey'",
            path=path,
            header=flag.header,
        )


def write_enrolments(
    session: Session,
    school_id: int,
    actor_id: int,
    now: datetime,
    term: tuple[int, int],
    enrolments: Sequence[tuple[int, int | None, str]],
) -> int:
    """Each child's status in ``term`` (child, class, status), replacing what was recorded for the term."""
    year, number = term
    ids = sorted({child for child, _, _ in enrolments})
    session.execute(
        delete(Enrolment).where(Enrolment.child_id.in_(ids), Enrolment.school_year == year, Enrolment.term == number)
    )
    insert_rows(
        session,
        Enrolment.__table__,  # type: ignore[arg-type]
        ("school_id", "child_id", "class_id", "school_year", "term", "status", "recorded_at", "recorded_by"),
        [(school_id, child, cls, year, number, status, now, actor_id) for child, cls, status in enrolments],
    )
    return len(enrolments)


def without_consent(session: Session, aids: Sequence[tuple[ParsedRow, int]], day: date) -> list[tuple[ParsedRow, int]]:
    """The rows giving aid to a child with no guardian's consent covering records on ``day``."""
    allowed = consent.records_allowed(session, [child for _, child in aids], day)
    return [(row, child) for row, child in aids if child not in allowed]


def no_consent(child: int) -> Msg:
    return Msg(
        "aid is counselling content: child {child} has no guardian's consent covering it "
        "(record one with 'casework record consent')",
        {"child": child},
    )


def write_aids(
    session: Session, school_id: int, actor_id: int, now: datetime, aids: Sequence[tuple[ParsedRow, int]]
) -> int:
    """The aid each row gives (kind, the cell's text, the day of 受助日期 or the import's), sealed as it is written."""
    insert_rows(
        session,
        Aid.__table__,  # type: ignore[arg-type]
        ("school_id", "child_id", "kind", "given_on", "description", "recorded_at", "recorded_by"),
        [
            (
                school_id,
                child,
                row.records[AID][0],
                row.records.get(AID_DATE) or now.date(),
                row.records[AID][1],
                now,
                actor_id,
            )
            for row, child in aids
        ],
    )
    return len(aids)


def write_survey(
    session: Session,
    school_id: int,
    actor_id: int,
    now: datetime,
    survey: SurveyCount,
    sha256: str,
    identified: Sequence[tuple[int, int | None]],
    pupils: Counter[int | None],
) -> int:
    """The survey with its counts per class and the children it identified (child, class), and its audit event."""
    row = Survey(
        school_id=school_id,
        school_year=survey.school_year,
        held_on=now.date(),
        pupils=survey.pupils,
        identified=survey.identified,
        sha256=sha256,
        recorded_at=now,
        recorded_by=actor_id,
    )
    session.add(row)
    session.flush()
    found = Counter(cls for _, cls in identified)
    session.add_all(
        SurveyClass(school_id=school_id, survey_id=row.id, class_id=cls, pupils=n, identified=found.get(cls, 0))
        for cls, n in pupils.items()
    )
    insert_rows(
        session,
        SurveyChild.__table__,  # type: ignore[arg-type]
        ("school_id", "survey_id", "child_id", "class_id"),
        [(school_id, row.id, child, cls) for child, cls in identified],
    )
    session.flush()
    trail.Scribe(session, school_id, now, actor_id).write(
        "survey.recorded",
        "survey",
        row.id,
        data={
            "school_year": survey.school_year,
            "pupils": survey.pupils,
            "identified": survey.identified,
            "not_flagged_on_file": survey.not_flagged_on_file,
        },
    )
    return int(row.id)
