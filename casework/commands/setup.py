"""Commands that set a database up: init, demo, class, staff."""

from __future__ import annotations

import click

from casework.commands.common import WHOLE, Vocab, Whole, actor_option, json_option, release_collector, state
from casework.commands.output import echo_json, table
from casework.text import N_


@click.command()
@click.option("--admin", metavar="NAME", help="Create the first administrator. 创建首位管理员。")
@click.option("--school", metavar="NAME", help="School of the administrator. 学校名称。")
def init(admin: str | None, school: str | None) -> None:
    """Create or upgrade the database. 初始化或升级数据库。"""
    from casework.services import setup

    st = state()
    st.check_schema = False
    result = setup.init(st.ctx(), admin=admin, school=school)
    if result.key_file is not None:
        click.echo(
            st.t("created the encryption key {path}: keep a copy outside the database's backups", path=result.key_file)
        )
    click.echo(st.t("database {db} is at schema {revision}", db=st.db_url, revision=result.revision))
    if result.admin_id is not None:
        key = (
            N_("administrator {name} created (staff {id})")
            if result.created
            else N_("administrator {name} exists (staff {id})")
        )
        click.echo(st.t(key, name=admin, id=result.admin_id))


@click.command()
@click.option(
    "--out",
    "path",
    metavar="FILE",
    help="SQLite file to (re)create: default the --db given on the command line, else casework-demo.db. "
    "演示数据库文件。",
)
@click.option(
    "--children",
    default=64,
    show_default=True,
    type=Whole(10, 5000),
    help="How many children, from 10 to 5000. 儿童人数。",
)
@click.option("--seed", default=2026, show_default=True, type=WHOLE)
@click.option("--serve", "then_serve", is_flag=True, help="Then start the web application on it. 然后启动网页服务。")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=WHOLE)
def demo(path: str | None, children: int, seed: int, then_serve: bool, host: str, port: int) -> None:
    """Build a demonstration school and take cases through every stage. 演示。"""
    from casework.services import demo as demo_service

    release_collector()  # a long run that opens no Context of the command's
    st = state()
    path = path or _demo_path(st.db_url)
    report = demo_service.run(path, children=children, seed=seed, lang=st.lang, progress=click.echo)
    for refusal in report.refusals:
        click.echo(
            st.t(
                "refused, as the rules require: case {case}, {event}",
                case=refusal.case_id,
                event=refusal.event,
            )
        )
        for reason in refusal.reasons:
            click.echo(f"  ✗ {reason}")
    if report.consent_refusal:
        click.echo(st.t("refused until the guardian consented:"))
        click.echo(f"  ✗ {report.consent_refusal}")
    table(
        [st.t("stage"), st.t("cases")],
        [(st.t(label), count) for label, count in report.by_state],
        title=st.t(
            "demo school {school}: {children} children, {staff} staff",
            school=report.school,
            children=report.children,
            staff=report.staff,
        ),
    )
    click.echo(st.t("audit chain: {events} events verified, intact", events=report.audit_events))
    # The demo's last day is today: the lists asked for now tell the same story.
    click.echo(
        st.t(
            "{day}: of {open} open cases, {due} have duties due this week, {overdue} overdue, {stalled} stalled",
            day=report.as_of,
            open=report.open_cases,
            due=report.due,
            overdue=report.overdue,
            stalled=report.stalled,
        )
    )
    from casework.domain.vocab import stall_reason_label

    for case_id, reasons in report.stalled_reasons:
        click.echo(f"  ✗ {st.t('case {id}', id=case_id)}: " + st.join(st.t(stall_reason_label(r)) for r in reasons))
    click.echo(f"  casework --db {path} review stalled --as {report.leader}")
    click.echo(st.t("try: casework --db {db} case list", db=path) + f" --as {report.counsellor}")
    click.echo(st.t("demo sign-ins (one-time passwords, this demo database only):"))
    for account in report.accounts:
        click.echo(f"  {account.login:<12} {account.password}  {account.name} ({st.t(_role(account.role))})")
    if then_serve:
        from casework.commands.serve import run_server

        st.db_url = path
        run_server(st, host, port)


@click.group("class")
def class_group() -> None:
    """Classes of a school. 班级。"""


@class_group.command("add")
@click.argument("grade", type=WHOLE)
@click.argument("name")
@click.option("--school", metavar="NAME")
@actor_option
def class_add(grade: int, name: str, school: str | None, actor: str | None) -> None:
    """Add a class, e.g. `class add 3 1班`. 添加班级。"""
    from casework.services import setup

    st = state()
    class_id = setup.add_class(st.ctx(), actor, grade, name, school)
    click.echo(st.t("class {grade}/{name} added (id {id})", grade=grade, name=name, id=class_id))


@class_group.command("list")
@json_option
def class_list(as_json: bool) -> None:
    """List classes. 班级列表。"""
    from casework.services import setup

    st = state()
    rows = setup.list_classes(st.ctx())
    if as_json:
        echo_json(rows)
        return
    table([st.t("id"), st.t("school"), st.t("class")], [(r.id, r.school, r.ref) for r in rows], empty=st.t("classes"))


@click.group("staff")
def staff_group() -> None:
    """Staff members and their roles. 教职工。"""


@staff_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="ROLE",
    type=Vocab("casework.domain.vocab:ROLES"),
    help="leader, deputy, class_teacher, subject_teacher, counsellor, mentor, caring_parent, auditor, admin",
)
@click.option(
    "--class",
    "class_ref",
    metavar="CLASS",
    help="Class of a class teacher (id or GRADE/NAME). 班主任所带班级（编号或 年级/班名）。",
)
@click.option("--school", metavar="NAME")
@click.option("--phone", metavar="NUMBER", help="Given to the children's guardians; on the contact card. 联系电话。")
@actor_option
def staff_add(
    name: str, roles: tuple[str, ...], class_ref: str | None, school: str | None, phone: str | None, actor: str | None
) -> None:
    """Add a staff member. 添加教职工。"""
    from casework.services import setup

    st = state()
    staff_id = setup.add_staff(st.ctx(), actor, name, list(roles), class_ref, school, phone)
    click.echo(st.t("staff member {name} added (id {id})", name=name, id=staff_id))


@staff_group.command("edit")
@click.argument("staff")
@click.option("--phone", metavar="NUMBER", required=True, help="The number; empty clears it. 联系电话，留空即清除。")
@actor_option
def staff_edit(staff: str, phone: str, actor: str | None) -> None:
    """Set a staff member's phone number (yourself, or as the administrator). 修改教职工联系电话。"""
    from casework.domain.inputs import SetStaffPhone
    from casework.services import setup

    st = state()
    setup.set_staff_phone(st.ctx(), actor, SetStaffPhone.parse(staff=staff, phone=phone))
    click.echo(st.t("staff member {staff}: phone number recorded", staff=staff))


@staff_group.command("list")
@click.option("--school", metavar="NAME")
@json_option
def staff_list(school: str | None, as_json: bool) -> None:
    """List staff members. 教职工列表。"""
    from casework.services import setup

    st = state()
    rows = setup.list_staff(st.ctx(), school)
    if as_json:
        echo_json(rows)
        return
    table(
        [st.t("id"), st.t("name"), st.t("school"), st.t("roles")],
        [(r.id, r.name, r.school, st.join(st.t(_role(x)) for x in r.roles)) for r in rows],
        empty=st.t("staff members of {school}", school=school) if school else st.t("staff members"),
    )


@staff_group.command("password")
@click.argument("name")
@click.option("--login", metavar="LOGIN", help="Login name (default: the current one, else the staff name). 登录名。")
@actor_option
def staff_password(name: str, login: str | None, actor: str | None) -> None:
    """Set a one-time password, shown once, changed at first sign-in. 设置一次性密码。"""
    from casework.services import accounts

    st = state()
    issued = accounts.issue_password(st.ctx(), actor, name, login)
    click.echo(
        st.t(
            "one-time password for {name} (login {login}): {password}",
            name=issued.name,
            login=issued.login,
            password=issued.password,
        )
    )
    click.echo(st.t("it is shown only now; it must be changed at the first sign-in"))


def _role(code: str) -> str:
    from casework.domain.vocab import ROLES

    return ROLES.get(code, code)


@staff_group.command("bureau")
@click.argument("staff")
@click.option("--school", metavar="NAME")
@actor_option
def staff_bureau(staff: str, school: str | None, actor: str | None) -> None:
    """Let the education bureau's STAFF see this school in the county report. 教育局查看本校汇总。"""
    from casework.services import county

    st = state()
    staff_id = county.oversee(st.ctx(), actor, staff, school)
    click.echo(st.t("staff {id} of the education bureau now oversees this school", id=staff_id))


COMMANDS = [init, demo, class_group, staff_group]


def _demo_path(db_url: str) -> str:
    """The file the demo builds when --out is not given: the root's --db when it was typed on the
    command line (an exported CASEWORK_DB may name a real database: it is never wiped for a demo)."""
    from casework.errors import InvalidInput

    root = click.get_current_context().find_root()
    if root.get_parameter_source("db_url") is not click.core.ParameterSource.COMMANDLINE:
        return "casework-demo.db"
    if "://" not in db_url:
        return db_url
    if db_url.startswith("sqlite:///") and len(db_url) > len("sqlite:///"):
        return db_url[len("sqlite:///") :]
    raise InvalidInput("the demo builds a SQLite file: give --db FILE or --out FILE, not {db}", db=db_url)
