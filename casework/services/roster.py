"""Registers in and out: import children from CSV or XLSX all or nothing, export children and cases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, islice
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from casework import i18n
from casework.domain import access as policy
from casework.domain.child import CHILD_FIELDS, as_text, check_plausible
from casework.domain.classes import class_name, is_graduated
from casework.domain.roster import (
    AID,
    CLASS,
    ENROLMENT,
    GRADE,
    HEADER_SEARCH_ROWS,
    LEFT_BEHIND,
    ColumnPlan,
    ParsedRow,
    RosterRejected,
    RowError,
    RowParser,
    find_header_row,
    header_text,
    parse_mapping,
    plan_columns,
    shown,
)
from casework.errors import InvalidInput
from casework.formats import spreadsheets
from casework.formats.gcpause import without_cyclic_gc
from casework.persistence import queries
from casework.persistence.bulk import insert_rows, large_page_cache, seal_dicts
from casework.persistence.tables import (
    Child,
    ChildChange,
    SchoolClass,
)
from casework.services import access, trail
from casework.services import roster_records as records
from casework.services.children import DUTY_FIELDS, follow_duties
from casework.services.context import Context
from casework.services.roster_records import SurveyCount
from casework.text import N_, Msg

BATCH = 1000
CARD_FIELDS: tuple[str, ...] = tuple(f.name for f in CHILD_FIELDS)
INSERT_COLUMNS: tuple[str, ...] = ("school_id", "class_id", "created_at", "created_by", *CARD_FIELDS)
MAPPING_LIMIT = 1 << 20

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Updated:
    row: int
    child_id: int
    name: str
    fields: list[str]


@dataclass(frozen=True)
class Created:
    row: int
    name: str
    class_ref: str | None


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    path: str
    format: str
    encoding: str | None
    sheet: str | None
    other_sheets: list[str]
    header_row: int
    fields: list[str]
    ignored_columns: list[str]
    dry_run: bool
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    updated: list[Updated] = field(default_factory=list)
    new_rows: list[Created] = field(default_factory=list)  # kept in a dry run only
    classes_created: list[str] = field(default_factory=list)
    enrolments: int = 0  # the term's enrolment status recorded (column 在读状态)
    aids: int = 0  # material aid recorded (column 物质帮助)
    survey: SurveyCount | None = None  # an import of the survey (摸底): its counts


class _DryRun(Exception):
    """Rolls the import's transaction back once everything has been checked and counted."""

    def __init__(self, report: Any) -> None:
        super().__init__("dry run")
        self.report = report


def read_mapping(path: str) -> dict[str, str]:
    try:
        with open(path, "rb") as f:
            data = f.read(MAPPING_LIMIT + 1)
    except OSError as exc:
        raise InvalidInput("--mapping: cannot read {path}: {error}", path=path, error=exc.strerror) from None
    if len(data) > MAPPING_LIMIT:
        raise InvalidInput("--mapping: {path} is larger than {limit} KB", path=path, limit=MAPPING_LIMIT >> 10)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return parse_mapping(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise InvalidInput("--mapping: {path} is neither UTF-8 nor GBK text", path=path)


def _header(table: spreadsheets.Table, mapping: Mapping[str, str]) -> tuple[ColumnPlan, Iterator[Any]]:
    """Find the header row among the first rows; return its plan and the data rows after it."""
    top = list(islice(table.rows, HEADER_SEARCH_ROWS))
    if not top:
        raise InvalidInput("{path} holds no rows", path=table.path)
    index = find_header_row([cells for _, cells in top], mapping)
    if index is None:
        first = "、".join(t for t in (header_text(c) for c in top[0][1][:8]) if t)
        raise InvalidInput(
            "{path}: no header row found in the first {rows} rows (the first row reads: {first}); "
            "the headers must include 学生姓名 or 姓名 and 学籍号 or 身份证号 (see docs/import.md)",
            path=table.path,
            rows=HEADER_SEARCH_ROWS,
            first=shown(first) or "—",
        )
    number, cells = top[index]
    plan = plan_columns(cells, number, mapping)
    if plan.problems:
        raise RosterRejected(table.path, plan.problems)
    return plan, chain(top[index + 1 :], table.rows)


class _Importer:
    """Matches, checks and writes rows batch by batch inside the import's one transaction.

    Duplicates are found in sets loaded once; after the first problem nothing more is written
    (the transaction will be rolled back) but every row is still checked.
    """

    def __init__(
        self,
        session: Session,
        school_id: int,
        actor_id: int,
        now: datetime,
        report: ImportReport,
        plan: ColumnPlan,
        term: tuple[int, int],
    ) -> None:
        self.session, self.school_id, self.actor_id, self.now = session, school_id, actor_id, now
        self.report, self.plan, self.term = report, plan, term
        # What rows record besides the card, written once every row is in (RECORD_TARGETS).
        self.enrolments: list[tuple[int, int | None, str]] = []  # child, class, status
        self.aids: list[tuple[ParsedRow, int]] = []  # row, child
        self.identified: list[tuple[int, int | None]] = []  # child, class: the survey's
        self.pupils: Counter[int | None] = Counter()  # the survey's pupils per class
        self.headers = {c.target: c.header for c in plan.columns}
        self.columns = {c.target: c for c in plan.columns}
        self.problems: list[RowError] = []
        self.by_student_no: dict[str, int] = {}
        self.by_id_number: dict[str, int] = {}
        self.unnumbered: dict[tuple[str, Any], list[int]] = {}
        rows = session.execute(
            select(
                Child.id, Child.student_no, Child.id_number, Child.name, Child.birth_date, Child.transferred_out_on
            ).where(Child.school_id == school_id)
        )
        self.moved: dict[int, Any] = {}  # children who moved to another school: their files are read-only
        for cid, student_no, id_number, name, born, moved in rows:
            if moved is not None:
                self.moved[cid] = moved
            if student_no:
                self.by_student_no[student_no] = cid
            if id_number:
                self.by_id_number[id_number] = cid
            if not student_no and not id_number and born is not None:
                self.unnumbered.setdefault((name, born), []).append(cid)
        self.classes: dict[tuple[int, str], int] = {}
        for cid, grade, name in session.execute(
            select(SchoolClass.id, SchoolClass.grade, SchoolClass.name).where(SchoolClass.school_id == school_id)
        ):
            if not is_graduated(name):
                self.classes.setdefault((grade, class_name(name)), cid)
        self.new_class_ids: list[int] = []
        self.seen_student_no: dict[str, int] = {}
        self.seen_id_number: dict[str, int] = {}
        self.matched: dict[int, int] = {}
        self.changed_fields: Counter[str] = Counter()
        self.duty_children: list[int] = []  # children whose change the duties of their cases follow

    def problem(self, row: ParsedRow, target: str, msg: Msg) -> None:
        column = self.columns.get(target)
        value = row.values.get(target, row.records.get(target))
        self.problems.append(
            RowError(
                row.row,
                column.header if column else "",
                column.index if column else None,
                shown(value[1] if isinstance(value, tuple) else value),  # aid: (kind, the cell's text)
                msg,
            )
        )

    def add(self, batch: Sequence[ParsedRow]) -> None:
        inserts: list[tuple[Any, ...]] = []
        fresh: list[tuple[ParsedRow, int | None]] = []
        updates: list[tuple[ParsedRow, int, int | None]] = []
        for row in batch:
            self.report.rows += 1
            if self.report.survey is not None and not self._flagged(row):
                continue
            if not row.ok:
                self.problems.extend(row.problems)
            elif not self._plausible(row):
                continue
            child_id = self._match(row)
            if not row.ok or self.problems:
                continue
            class_id = self._class(row)
            if child_id is None:
                inserts.append(self._new(row, class_id))
                fresh.append((row, class_id))
            else:
                updates.append((row, child_id, class_id))
                self._records(row, child_id, class_id)
        if self.problems:
            return
        if inserts:
            ids = insert_rows(self.session, Child.metadata.tables[Child.__tablename__], INSERT_COLUMNS, inserts)
            assert ids is not None  # the child table has sealed columns: its ids are allocated first
            for (row, class_id), child_id in zip(fresh, ids, strict=True):
                self._records(row, child_id, class_id)
            self.report.created += len(inserts)
        if updates:
            self._update(updates)

    def _plausible(self, row: ParsedRow) -> bool:
        """A birth date no pupil could have (2099, 1850: a typing error) is the row's problem, as at the
        command line."""
        born = row.values.get("birth_date")
        if not isinstance(born, date):
            return True
        try:
            check_plausible({"birth_date": born}, self.now.date())
        except InvalidInput as exc:
            self.problem(row, "birth_date", exc.msg)
            return False
        return True

    def _flagged(self, row: ParsedRow) -> bool:
        """In a survey: whether the row is a left-behind child, whose file opens or updates. Any other
        pupil is only counted in their class: nothing else of the row is read, checked or kept."""
        survey = self.report.survey
        assert survey is not None
        flag = row.records.get(LEFT_BEHIND)
        column = self.columns[LEFT_BEHIND]
        if flag is None and not any(p.col == column.index for p in row.problems):
            self.problem(
                row,
                LEFT_BEHIND,
                Msg("{field}: say whether the pupil is left behind (是 or 否)", {"field": column.header}),
            )
        if flag is not False:
            return True
        survey.pupils += 1
        placed = {self.columns[t].index for t in (GRADE, CLASS) if t in self.columns}
        problems = [p for p in row.problems if p.col in placed]
        self.problems.extend(problems)
        if not problems and not self.problems:
            self.pupils[self._class(row)] += 1
        values = row.values
        for key, known in (("student_no", self.by_student_no), ("id_number", self.by_id_number)):
            found = known.get(values.get(key))  # type: ignore[arg-type]
            if found is not None and found not in survey.not_flagged_on_file:
                survey.not_flagged_on_file.append(found)
        return False

    def _records(self, row: ParsedRow, child_id: int, class_id: int | None) -> None:
        """Keep what the row records of the child besides the card, to write once every row is in."""
        if self.report.survey is not None:
            self.report.survey.pupils += 1
            self.report.survey.identified += 1
            self.pupils[class_id] += 1
            self.identified.append((child_id, class_id))
        status = row.records.get(ENROLMENT)
        if status is not None:
            self.enrolments.append((child_id, class_id, status))
        if AID in row.records:
            self.aids.append((row, child_id))

    def _match(self, row: ParsedRow) -> int | None:
        """The existing child a row updates, or None for a new child; duplicates are problems."""
        values = row.values
        headers = self.headers
        found: list[int] = []
        for key, seen, existing in (
            ("student_no", self.seen_student_no, self.by_student_no),
            ("id_number", self.seen_id_number, self.by_id_number),
        ):
            value = values.get(key)
            if value is None:
                continue
            if value in seen:
                self.problem(
                    row,
                    key,
                    Msg(
                        "{field}: '{value}' is also on row {other}",
                        {"field": headers.get(key, key), "value": value, "other": seen[value]},
                    ),
                )
            else:
                seen[value] = row.row
            if value in existing:
                found.append(existing[value])
        if len(set(found)) > 1:
            self.problem(
                row,
                "id_number",
                Msg(
                    "the student number is on the card of child {first}, the ID number on that of child {second}",
                    {"first": found[0], "second": found[1]},
                ),
            )
            return None
        child_id = found[0] if found else None
        if child_id is None and "name" in values and "birth_date" in values:
            candidates = self.unnumbered.get((values["name"], values["birth_date"]), [])
            if len(candidates) > 1:
                self.problem(
                    row,
                    "name",
                    Msg(
                        "children {ids} have this name and birth date and no numbers: "
                        "add the student number to one of them first ('child edit')",
                        {"ids": ", ".join(map(str, candidates))},
                    ),
                )
            elif candidates:
                child_id = candidates[0]
        if child_id is not None and child_id in self.moved:
            self.problem(
                row,
                "name",
                Msg(
                    "child {child} moved to another school on {day}: this school keeps the file read-only",
                    {"child": child_id, "day": self.moved[child_id].isoformat()},
                ),
            )
        if child_id is not None:
            if child_id in self.matched:
                self.problem(
                    row,
                    "name",
                    Msg(
                        "this row and row {other} are the same child ({id})",
                        {"other": self.matched[child_id], "id": child_id},
                    ),
                )
            self.matched[child_id] = row.row
        return child_id

    def _class(self, row: ParsedRow) -> int | None:
        if row.grade is None or row.class_name is None:
            return None
        key = (row.grade, row.class_name)
        class_id = self.classes.get(key)
        if class_id is None:
            cls = SchoolClass(school_id=self.school_id, grade=row.grade, name=row.class_name)
            self.session.add(cls)
            self.session.flush()
            class_id = self.classes[key] = cls.id
            self.new_class_ids.append(cls.id)
            self.report.classes_created.append(f"{row.grade}/{row.class_name}")
        return class_id

    def _new(self, row: ParsedRow, class_id: int | None) -> tuple[Any, ...]:
        if self.report.dry_run:
            self.report.new_rows.append(Created(row.row, row.values.get("name", ""), row.class_ref))
        get = row.values.get
        return (self.school_id, class_id, self.now, self.actor_id, *[get(name) for name in CARD_FIELDS])

    def _update(self, updates: Sequence[tuple[ParsedRow, int, int | None]]) -> None:
        columns = [getattr(Child, name) for name in CARD_FIELDS]
        current = {
            r.id: r
            for r in self.session.execute(
                select(Child.id, Child.class_id, *columns).where(Child.id.in_([cid for _, cid, _ in updates]))
            )
        }
        changes: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for row, child_id, class_id in updates:
            old = current[child_id]
            new = dict(row.values)
            if class_id is not None:
                new["class_id"] = class_id
            changed = {k: v for k, v in new.items() if v is not None and getattr(old, k) != v}
            if not changed:
                self.report.unchanged += 1
                continue
            for name, value in changed.items():
                changes.append(
                    {
                        "school_id": self.school_id,
                        "child_id": child_id,
                        "field": name,
                        "old_value": as_text(getattr(old, name)),
                        "new_value": as_text(value),
                        "changed_at": self.now,
                        "changed_by": self.actor_id,
                    }
                )
            self.changed_fields.update(changed.keys())  # names only: never values in the audit
            if DUTY_FIELDS & changed.keys():
                self.duty_children.append(child_id)
            rows.append({"id": child_id, **changed})
            self.report.updated.append(Updated(row.row, child_id, row.values.get("name") or old.name, sorted(changed)))
        if rows:
            # ORM bulk statements skip the flush hooks: seal_dicts seals what they write.
            self.session.execute(update(Child), seal_dicts(self.session, Child.__tablename__, rows))
            self.session.execute(insert(ChildChange), seal_dicts(self.session, ChildChange.__tablename__, changes))
            queries.follow_child_class(self.session, [r["id"] for r in rows if "class_id" in r])

    def finish(self, path: str, table: spreadsheets.Table) -> None:
        plan = self.plan
        if not self.problems:
            self._write_records()
        if self.problems:
            raise RosterRejected(path, self.problems)
        if not self.report.rows:
            raise InvalidInput("{path}: no data rows below the header (row {row})", path=path, row=plan.header_row)
        for class_id in self.new_class_ids:
            trail.Scribe(self.session, self.school_id, self.now, self.actor_id).write(
                "class.added", "school_class", class_id, data={"by": "roster.imported"}
            )
        trail.Scribe(self.session, self.school_id, self.now, self.actor_id).write(
            "roster.imported",
            "school",
            self.school_id,
            data={
                "format": table.format,
                "sha256": table.sha256,
                "rows": self.report.rows,
                "created": self.report.created,
                "updated": len(self.report.updated),
                "unchanged": self.report.unchanged,
                "fields": plan.fields,
                "changed_fields": dict(sorted(self.changed_fields.items())),
                "classes_created": self.new_class_ids,
                "enrolments": self.report.enrolments,
                "aids": self.report.aids,
            },
        )
        if self.report.survey is not None:
            self._survey(table)

    def _write_records(self) -> None:
        """The term's enrolment statuses and the aid given; aid only for children whose guardian's consent
        covers records (aid is counselling content), else the row has a problem and nothing is written."""
        at = (self.session, self.school_id, self.actor_id, self.now)
        if self.enrolments:
            self.report.enrolments = records.write_enrolments(*at, self.term, self.enrolments)
        if self.aids:
            for row, child in records.without_consent(self.session, self.aids, self.now.date()):
                self.problem(row, AID, records.no_consent(child))
            if not self.problems:
                self.report.aids = records.write_aids(*at, self.aids)

    def _survey(self, table: spreadsheets.Table) -> None:
        survey = self.report.survey
        assert survey is not None
        records.write_survey(
            self.session, self.school_id, self.actor_id, self.now, survey, table.sha256, self.identified, self.pupils
        )


def _batches(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(rows, size)):
        yield batch


def import_children(
    ctx: Context,
    actor: str | None,
    path: str,
    *,
    sheet: str | None = None,
    mapping_path: str | None = None,
    dry_run: bool = False,
    school: str | None = None,
    progress: Progress | None = None,
    term: tuple[int, int] | None = None,
) -> ImportReport:
    """Import a register all or nothing, in one transaction and one audit event.

    New children are added; a child already at the school (same student number or ID number)
    has their card updated, every changed field keeping its old value in history. Empty cells
    change nothing. Any problem anywhere raises RosterRejected listing every problem. A 在读状态
    column records the enrolment status of ``term`` (school year, 1 or 2; default: the term of
    today, or the next one), a 物质帮助 column material aid.
    """
    return _import(ctx, actor, path, sheet, mapping_path, dry_run, school, progress, term, None)


def import_survey(
    ctx: Context,
    actor: str | None,
    path: str,
    *,
    sheet: str | None = None,
    mapping_path: str | None = None,
    dry_run: bool = False,
    school: str | None = None,
    progress: Progress | None = None,
    school_year: int | None = None,
) -> ImportReport:
    """Import the survey (摸底): a register of every pupil with a left-behind flag (是否留守儿童).

    The flagged children's files open or update as ``import_children`` does and are recorded as
    identified: 建档率's denominator. The other pupils are counted per class and nothing else of them
    is kept. Children on file the survey does not flag are listed. All or nothing, audited.
    """
    now = ctx.now()
    year = school_year if school_year is not None else ctx.rule_set.calendar.school_year(now.date())
    if not 2000 <= year <= 2100:
        raise InvalidInput("--year: {year} is not a school year such as 2026", year=year)
    return _import(ctx, actor, path, sheet, mapping_path, dry_run, school, progress, None, year)


def _import(
    ctx: Context,
    actor: str | None,
    path: str,
    sheet: str | None,
    mapping_path: str | None,
    dry_run: bool,
    school: str | None,
    progress: Progress | None,
    term: tuple[int, int] | None,
    survey_year: int | None,
) -> ImportReport:
    mapping = read_mapping(mapping_path) if mapping_path else {}
    now = ctx.now()
    term = term or ctx.rule_set.calendar.term_number(now.date())
    with without_cyclic_gc(), spreadsheets.open_table(path, sheet) as table:
        plan, rows = _header(table, mapping)
        records.check_flag_column(table.path, plan, survey_year is not None)
        parser = RowParser(plan)
        report = ImportReport(
            path=path,
            format=table.format,
            encoding=table.encoding,
            sheet=table.sheet,
            other_sheets=table.other_sheets,
            header_row=plan.header_row,
            fields=plan.fields,
            ignored_columns=plan.ignored,
            dry_run=dry_run,
            survey=SurveyCount(survey_year) if survey_year is not None else None,
        )
        try:
            with ctx.db.write() as session:
                _, who, school_id = access.at_school(session, actor, now.date(), school, policy.ROSTER_IMPORT)
                importer = _Importer(session, school_id, who.id, now, report, plan, term)
                done = 0
                with large_page_cache(session):
                    for batch in _batches(rows, BATCH):
                        parsed = [p for p in (parser.parse(n, cells) for n, cells in batch) if p is not None]
                        importer.add(parsed)
                        done += len(batch)
                        if progress is not None:
                            progress(done + plan.header_row, table.estimated_rows)
                    importer.finish(path, table)
                follow_duties(ctx, session, importer.duty_children, now)
                if dry_run:
                    raise _DryRun(report)
        except _DryRun:
            pass
    return report


# ---------------------------------------------------------------------------- export


# ---------------------------------------------------------------------------- errors out

ERROR_COLUMNS = (N_("row"), N_("column"), N_("value"), N_("problem"))


def problem_line(problem: RowError) -> Msg:
    if problem.col is not None:
        return Msg(
            "row {row}, column {col}: {problem}", {"row": problem.row, "col": problem.where, "problem": problem.problem}
        )
    return Msg("row {row}: {problem}", {"row": problem.row, "problem": problem.problem})


def write_problems(path: str, problems: Sequence[RowError], lang: str, fmt: str | None = None) -> int:
    """The problems as a spreadsheet the school can work through: row, column, value, problem."""
    rows = ([p.row, f"{p.where} {p.column}".strip(), p.value, i18n.render(p.problem, lang)] for p in problems)
    headers = [i18n.render(Msg(h), lang) for h in ERROR_COLUMNS]
    return spreadsheets.write_table(path, spreadsheets.format_of(path, fmt), headers, rows, widths=[8, 18, 30, 80])
