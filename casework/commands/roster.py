"""Commands on registers: import children and the survey, export children and cases, the school year's rollover."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from casework.commands.common import WHOLE, State, actor_option, state
from casework.commands.output import table
from casework.text import N_

if TYPE_CHECKING:
    from casework.services.rollover import RolloverReport
    from casework.services.roster import ImportReport, Progress

PROGRESS_FROM = 3000  # rows; smaller files are done before a bar would be drawn
LISTED = 200  # created or updated rows listed one a line before "… and N more"

school_option = click.option(
    "--school", metavar="NAME", help="School, when the actor works at several. 操作人在多所学校任职时指定学校。"
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"]),
    help="csv (UTF-8 with BOM) or xlsx; default: from --out's extension, else csv. csv（带 BOM "
    "的 UTF-8）或 xlsx；默认按 --out 的扩展名，否则 csv。",
)


@click.group("import")
def import_group() -> None:
    """Bring a school's registers in. 导入花名册。"""


@import_group.command("children")
@click.argument("path", metavar="FILE")
@click.option("--sheet", metavar="NAME", help="Worksheet of an XLSX file (default: the first visible one). 工作表。")
@click.option(
    "--mapping",
    "mapping_path",
    metavar="FILE",
    help="Lines 'HEADER = FIELD' for other headers. 其他表头的对应关系，每行 “表头 = 字段”。",
)
@click.option("--dry-run", is_flag=True, help="Check and show what would change; write nothing. 试导入。")
@click.option("--errors-out", metavar="FILE", help="Write the problems to FILE (.xlsx or .csv). 错误清单。")
@click.option(
    "--term",
    metavar="YEAR-TERM",
    help="Term of a 在读状态 column, e.g. 2026-1 (default: this term). 在读状态所属学期。",
)
@school_option
@actor_option
def import_children(
    path: str,
    sheet: str | None,
    mapping_path: str | None,
    dry_run: bool,
    errors_out: str | None,
    term: str | None,
    school: str | None,
    actor: str | None,
) -> None:
    """Import children from a CSV or XLSX register, all or nothing.

    Headers such as 学生姓名, 性别, 出生日期, 年级, 班级, 学籍号, 身份证号, 监护人电话 are
    recognised (docs/import.md). A child already on file (same 学籍号 or 身份证号) is updated,
    keeping history; any problem imports nothing and is listed by row and column.

    导入学生花名册。
    """
    from casework.domain.inputs import parse_term
    from casework.domain.roster import RosterRejected
    from casework.services import roster

    st = state()
    try:
        with _progress(st) as progress:
            report = roster.import_children(
                st.ctx(),
                actor,
                path,
                sheet=sheet,
                mapping_path=mapping_path,
                dry_run=dry_run,
                school=school,
                progress=progress,
                term=parse_term(term) if term else None,
            )
    except RosterRejected as exc:
        _print_problems(st, exc, errors_out)
        raise
    _print_import(st, report)


@import_group.command("survey")
@click.argument("path", metavar="FILE")
@click.option("--year", "school_year", type=WHOLE, help="School year surveyed (default: this one). 摸底学年。")
@click.option("--sheet", metavar="NAME", help="Worksheet of an XLSX file (default: the first visible one). 工作表。")
@click.option(
    "--mapping",
    "mapping_path",
    metavar="FILE",
    help="Lines 'HEADER = FIELD' for other headers. 其他表头的对应关系，每行 “表头 = 字段”。",
)
@click.option("--dry-run", is_flag=True, help="Check and show what would change; write nothing. 试导入。")
@click.option("--errors-out", metavar="FILE", help="Write the problems to FILE (.xlsx or .csv). 错误清单。")
@school_option
@actor_option
def import_survey(
    path: str,
    school_year: int | None,
    sheet: str | None,
    mapping_path: str | None,
    dry_run: bool,
    errors_out: str | None,
    school: str | None,
    actor: str | None,
) -> None:
    """Import the survey: every pupil, with 是否留守儿童 (建档率's denominator).

    The children flagged 是 have their files opened or updated and count as identified; of the other
    pupils only their number per class is kept.

    导入摸底名册。
    """
    from casework.domain.roster import RosterRejected
    from casework.services import roster

    st = state()
    try:
        with _progress(st) as progress:
            report = roster.import_survey(
                st.ctx(),
                actor,
                path,
                sheet=sheet,
                mapping_path=mapping_path,
                dry_run=dry_run,
                school=school,
                progress=progress,
                school_year=school_year,
            )
    except RosterRejected as exc:
        _print_problems(st, exc, errors_out)
        raise
    _print_import(st, report)


@click.group("export")
def export_group() -> None:
    """Write children or cases to a spreadsheet. 导出。"""


def _export_command(what: str, help: str) -> click.Command:
    @export_group.command(what, help=help)
    @format_option
    @click.option(
        "--out",
        "path",
        metavar="PATH",
        help="File to write (default: the command's name, e.g. children.csv). 输出文件。",
    )
    @school_option
    @actor_option
    def command(fmt: str | None, path: str | None, school: str | None, actor: str | None) -> None:
        from casework.services import roster_export

        st = state()
        out = path or f"{what}.{fmt or 'csv'}"
        run = roster_export.export_children if what == "children" else roster_export.export_cases
        result = run(st.ctx(), actor, out, fmt, school)
        click.echo(st.t("{count} rows written to {path}", count=result.rows, path=result.path))

    return command


_export_command(
    "children",
    help="Every child of the school, with the register's headers; imports again.\n\n"
    "CSV is UTF-8 with a BOM so that Excel opens it correctly; cells that would start a formula "
    "are prefixed with '.\n\n导出学生花名册。",
)
_export_command("cases", help="Every case of the school: child, class, stage, since when. 导出个案。")


@click.group("year")
def year_group() -> None:
    """The school year. 学年。"""


@year_group.command("rollover")
@click.option("--top-grade", default=6, show_default=True, type=WHOLE, help="The grade that graduates. 毕业年级。")
@click.option(
    "--school-year",
    "year",
    type=WHOLE,
    help="The school year starting (default: from today). 开始的学年（默认按今天推算）。",
)
@click.option("--dry-run", is_flag=True, help="Show what would move; write nothing. 试运行。")
@school_option
@actor_option
def year_rollover(top_grade: int, year: int | None, dry_run: bool, school: str | None, actor: str | None) -> None:
    """Move every class up a grade; the top grade graduates (cases closed: 毕业).

    Runs once per school year and is audited. Graduated classes are renamed 2026届1班.

    升年级。
    """
    from casework.services import rollover

    st = state()
    report = rollover.rollover(st.ctx(), actor, top_grade, school, year, dry_run)
    _print_rollover(st, report)


# ---------------------------------------------------------------------------- printing


@contextmanager
def _progress(st: State) -> Iterator[Progress]:
    """A rich progress bar on stderr, drawn only for large files on a terminal."""
    bar: Any = None
    task: Any = None

    def advance(done: int, total: int | None) -> None:
        nonlocal bar, task
        if bar is None:
            if not total or total < PROGRESS_FROM or not sys.stderr.isatty():
                return
            from rich.console import Console
            from rich.progress import Progress as Bar

            bar = Bar(console=Console(stderr=True), transient=True)
            bar.start()
            task = bar.add_task(st.t("importing"), total=total)
        bar.update(task, completed=min(done, total or done))

    try:
        yield advance
    finally:
        if bar is not None:
            bar.stop()


def _print_problems(st: State, exc: Any, errors_out: str | None) -> None:
    from casework.services.roster import problem_line, write_problems

    for problem in exc.problems:
        click.echo(st.t(problem_line(problem)), err=True)
    if errors_out:
        write_problems(errors_out, exc.problems, st.lang)
        click.echo(st.t("the problems are listed in {path}", path=errors_out), err=True)


def _print_import(st: State, report: ImportReport) -> None:
    from casework.domain.child import field_label

    if report.dry_run:
        for created in report.new_rows[:LISTED]:
            click.echo(
                st.t(
                    "row {row}: {name} would be added ({cls})",
                    row=created.row,
                    name=created.name,
                    cls=created.class_ref or "—",
                )
            )
        _more(st, len(report.new_rows))
    for updated in report.updated[:LISTED]:
        labels = st.join(st.t(field_label(f)) for f in updated.fields)
        key = (
            N_("row {row}: {name} (child {id}) would change {fields}")
            if report.dry_run
            else N_("row {row}: {name} (child {id}) changed {fields}")
        )
        click.echo(st.t(key, row=updated.row, name=updated.name, id=updated.child_id, fields=labels))
    _more(st, len(report.updated))
    if report.classes_created:
        key = N_("classes that would be added: {classes}") if report.dry_run else N_("classes added: {classes}")
        click.echo(st.t(key, classes=st.join(report.classes_created)))
    if report.ignored_columns:
        click.echo(st.t("columns ignored: {columns}", columns=st.join(report.ignored_columns)))
    if report.other_sheets:
        click.echo(
            st.t(
                "only sheet {sheet} was read; others: {others} (use --sheet)",
                sheet=report.sheet,
                others=st.join(report.other_sheets),
            )
        )
    added, changed = (
        (N_("children to add"), N_("cards to update"))
        if report.dry_run
        else (N_("children added"), N_("cards updated"))
    )
    rows = [
        (st.t("rows read"), report.rows),
        (st.t(added), report.created),
        (st.t(changed), len(report.updated)),
        (st.t("unchanged"), report.unchanged),
    ]
    if report.enrolments:
        rows.append((st.t("enrolment statuses"), report.enrolments))
    if report.aids:
        rows.append((st.t("material aid"), report.aids))
    if report.survey is not None:
        survey = report.survey
        rows += [(st.t("pupils surveyed"), survey.pupils), (st.t("left-behind children identified"), survey.identified)]
        if survey.not_flagged_on_file:
            ids = ", ".join(map(str, survey.not_flagged_on_file))
            click.echo(st.t("children on file the survey does not flag as left behind: {ids}", ids=ids))
    title = N_("dry run of {path}: nothing was written") if report.dry_run else N_("imported {path}")
    table([st.t("import"), st.t("count")], rows, title=st.t(title, path=report.path))


def _more(st: State, count: int) -> None:
    if count > LISTED:
        click.echo(st.t("… and {count} more", count=count - LISTED))


def _print_rollover(st: State, report: RolloverReport) -> None:
    rows = [(old, new) for old, new in report.moved] + [(old, new) for old, new in report.graduated]
    title = (
        N_("school year {year}: rollover (dry run, nothing written)")
        if report.dry_run
        else N_("school year {year}: rollover done")
    )
    table([st.t("class"), st.t("becomes")], rows, title=st.t(title, year=report.school_year))
    click.echo(
        st.t(
            "{children} children graduated; {cases} open case(s) closed with the reason 毕业",
            children=report.graduated_children,
            cases=len(report.closed_cases),
        )
    )


COMMANDS = [import_group, export_group, year_group]
