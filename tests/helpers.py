"""What tests share: a clock moved by hand, SQLite and PostgreSQL databases, worlds copied from a template, the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from casework.domain.inputs import AddPlanItem, PairPartner, RecordAssessment, RecordConsent, ReviewPlanItem


@contextmanager
def unscoped(db: Any) -> Iterator[Any]:
    """A read session that sees every row: for tests inspecting what the services wrote."""
    from casework.persistence import scope

    with db.read() as session:
        scope.bind(session, scope.Scope.system())
        yield session


PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Every test database is sealed under this key (encryption at rest is always on); tests of a
# missing or wrong key take it away with monkeypatch.delenv.
TEST_KEY = "Y2FzZXdvcmstdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE="


class FakeClock:
    """A clock the tests move by hand; every reading is a little later than the last."""

    def __init__(self, start: datetime = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def advance(self, days: float) -> None:
        self.now += timedelta(days=days)


def pg_base_url() -> str:
    return os.environ.get("CASEWORK_TEST_PG_URL", PG_DEFAULT)


def _pg_reachable(url: str) -> str | None:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


_PG_PROBLEM: list[str | None] = []


def pg_problem() -> str | None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_pg_reachable(pg_base_url()))
    return _PG_PROBLEM[0]


def make_pg_url() -> str:
    """A fresh schema in the test database, reached through search_path."""
    import sqlalchemy as sa

    problem = pg_problem()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {pg_base_url()} is unreachable under CI: {problem}")
        pytest.skip(f"PostgreSQL at {pg_base_url()} unreachable ({problem}); set CASEWORK_TEST_PG_URL")
    schema = f"cw_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(pg_base_url())
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = sa.engine.make_url(pg_base_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    _SCHEMAS.append(schema)
    return url.render_as_string(hide_password=False)


_SCHEMAS: list[str] = []


def drop_pg_schemas() -> None:
    import sqlalchemy as sa

    if not _SCHEMAS:
        return
    engine = sa.create_engine(pg_base_url())
    # One transaction per schema: dropping them all at once runs out of lock slots
    # (max_locks_per_transaction) once the suite creates a few hundred schemas.
    for schema in _SCHEMAS:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()
    _SCHEMAS.clear()


BACKENDS = ["sqlite", "postgresql"]


def new_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "sqlite":
        return str(tmp_path_factory.mktemp("db") / "casework.db")
    return make_pg_url()


@dataclass
class World:
    """An initialised database with a school, a class and staff of the roles the tests need."""

    ctx: Any
    clock: FakeClock
    url: str
    admin: str
    counsellor: str
    leader: str
    mentor: str
    teacher: str
    class_ref: str
    extra: dict[str, str] = field(default_factory=dict)

    def child(self, complete: bool = True, consent: bool = True, **fields: str) -> int:
        """A child with a full contact card and, unless ``consent=False``, the guardian's consent
        to counselling records (without one every T2 record is refused)."""
        from casework.services import children
        from casework.services import consent as consents

        card = {
            "name": "王小明",
            "sex": "男",
            "birth_date": "2016-03-08",
            "home_address": "贵州省遵义市白岩镇新村12号",
            "family_situation": "both_away",
            "guardian_name": "王大山",
            "guardian_relation": "祖父",
            "guardian_phone": "13812345678",
            "father_name": "王建",
            "father_phone": "13987654321",
        }
        if not complete:
            del card["guardian_phone"]
        card.update(fields)
        child_id = children.add(self.ctx, self.leader, card, self.class_ref)
        if consent:
            consents.record(
                self.ctx, self.leader, RecordConsent(child_id=child_id, guardian="王大山", relation="祖父", scope="all")
            )
        return child_id

    def case(self, complete: bool = True, consent: bool = True) -> int:
        from casework.services import cases

        return cases.open_case(self.ctx, self.counsellor, self.child(complete, consent))

    def fire(self, case_id: int, event: str, reason: str | None = None) -> Any:
        from casework.services import cases

        actor = self.leader if event in {"continue", "revise", "reassess", "close", "reopen"} else self.counsellor
        return cases.advance(self.ctx, actor, case_id, event, reason)

    def plan_item(self, case_id: int, **overrides: Any) -> int:
        from casework.services import plans

        item: dict[str, Any] = {
            "category": "learning",
            "measures": "每周两次课后辅导",
            "responsible": self.teacher,
            "start": date(2026, 9, 15),
            "end": date(2027, 1, 15),
            "content": "辅导语文、数学",
            "target": "按时完成作业",
        }
        item.update(overrides)
        return plans.plan_item(self.ctx, self.counsellor, AddPlanItem(case_id=case_id, **item))

    def review_all(self, case_id: int) -> None:
        from sqlalchemy import select

        from casework.persistence.tables import Plan, PlanItem
        from casework.services import plans

        with unscoped(self.ctx.db) as session:
            plan_id = session.scalars(select(Plan.id).where(Plan.case_id == case_id).order_by(Plan.id.desc())).first()
            items = session.scalars(select(PlanItem.id).where(PlanItem.plan_id == plan_id)).all()
        for item in items:
            plans.review(
                self.ctx,
                self.counsellor,
                ReviewPlanItem(case_id=case_id, item_id=item, result="met", effect="进步明显"),
            )

    def drive(self, case_id: int, target: str) -> None:
        """Record what each stage needs and fire events until the case is in ``target``."""
        from casework.services import assessments, mentoring

        if target == "closed":
            self.fire(case_id, "close", "父母返乡")
            return
        path = ["identified", "assessed", "individual_plan", "mentored", "reviewed"]
        for state in path[1 : path.index(target) + 1]:
            if state == "assessed":
                self.fire(case_id, "assess")
            elif state == "individual_plan":
                assessments.assessment(
                    self.ctx,
                    self.counsellor,
                    RecordAssessment(case_id=case_id, categories=["learning"], summary="学习需要辅导"),
                )
                self.fire(case_id, "plan")
            elif state == "mentored":
                self.plan_item(case_id)
                mentoring.pairing(
                    self.ctx,
                    self.counsellor,
                    PairPartner(
                        case_id=case_id, kind="mentor", staff=self.mentor, partner_name=None, from_on=None, to_on=None
                    ),
                )
                self.fire(case_id, "mentor")
            elif state == "reviewed":
                self.fire(case_id, "review")


def build_world(url: str) -> World:
    from casework.persistence import crypto
    from casework.persistence.db import Database
    from casework.services import Context, setup

    clock = FakeClock()
    # The key given outright: module-scoped worlds are built before the autouse fixture sets CASEWORK_KEY.
    ctx = Context(db=Database(url, keyring=crypto.KeyRing(crypto.Key.decode(TEST_KEY, "test"))), clock=clock)
    result = setup.init(ctx, admin="管理员", school="测试小学")
    admin = str(result.admin_id)
    setup.add_class(ctx, admin, 4, "1班")
    ids = {
        role: str(setup.add_staff(ctx, admin, name, [role], "4/1班" if role == "class_teacher" else None))
        for role, name in [
            ("counsellor", "郑心怡"),
            ("leader", "周建国"),
            ("mentor", "李帮扶"),
            ("class_teacher", "陈老师"),
        ]
    }
    return World(
        ctx=ctx,
        clock=clock,
        url=url,
        admin=admin,
        counsellor=ids["counsellor"],
        leader=ids["leader"],
        mentor=ids["mentor"],
        teacher=ids["class_teacher"],
        class_ref="4/1班",
    )


@dataclass(frozen=True)
class WorldTemplate:
    """A world built once per backend and session: the database to copy, where its clock stood, its staff."""

    source: str  # the SQLite file, or the PostgreSQL schema's SQL (its name written as TEMPLATE_SCHEMA)
    clock_now: datetime
    fields: dict[str, str]


_TEMPLATES: dict[str, WorldTemplate] = {}
TEMPLATE_SCHEMA = "cw_world_template"


def _pg_schema_sql(url: str) -> str:
    """The schema ``url`` works in (its search_path), as SQL that makes it again under another name."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    schema = str(parsed.query["options"]).split("search_path=", 1)[1]
    args = ["pg_dump", "--schema", schema, "--no-owner", "--no-privileges", "--inserts", "--no-comments"]
    args += ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    dumped = subprocess.run([*args, parsed.database or "test"], capture_output=True, text=True, env=env, check=True)
    # Lines starting with a backslash (\restrict, from newer pg_dump) are for psql, not SQL.
    sql = "".join(line for line in dumped.stdout.splitlines(keepends=True) if not line.startswith("\\"))
    return sql.replace(schema, TEMPLATE_SCHEMA)


def _template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> WorldTemplate:
    """Migrate and initialise once per backend and session (Alembic itself is tested in test_migrations)."""
    if backend not in _TEMPLATES:
        url = new_url(backend, tmp_path_factory)
        w = build_world(url)
        w.ctx.db.dispose()  # SQLite: the last connection closed folds the WAL into the file
        fields = {f: getattr(w, f) for f in ("admin", "counsellor", "leader", "mentor", "teacher", "class_ref")}
        source = url if backend == "sqlite" else _pg_schema_sql(url)
        _TEMPLATES[backend] = WorldTemplate(source, w.clock.now, fields)
    return _TEMPLATES[backend]


def copy_database(backend: str, source: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new database holding what ``source`` holds: a copy of the SQLite file, or the schema's SQL replayed."""
    if backend == "sqlite":
        url = str(tmp_path_factory.mktemp("db") / "casework.db")
        shutil.copyfile(source, url)
        return url
    import sqlalchemy as sa

    url = make_pg_url()
    schema = str(sa.engine.make_url(url).query["options"]).split("search_path=", 1)[1]
    engine = sa.create_engine(pg_base_url())
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}"'))
        conn.exec_driver_sql(source.replace(TEMPLATE_SCHEMA, schema))
    engine.dispose()
    return url


def _test_settings() -> Any:
    from casework.services.settings import Settings, WebSettings

    # Passwords hashed at argon2id's least cost: the web tests sign in hundreds of times.
    return Settings(web=WebSettings(password_time_cost=1, password_memory_kib=1024))


TEST_SETTINGS = _test_settings()


def copy_world(backend: str, tmp_path_factory: pytest.TempPathFactory) -> World:
    """A fresh world: a copy of the backend's template database."""
    from casework.persistence import crypto
    from casework.persistence.db import Database
    from casework.services import Context

    template = _template(backend, tmp_path_factory)
    url = copy_database(backend, template.source, tmp_path_factory)
    clock = FakeClock(template.clock_now)
    keyring = crypto.KeyRing(crypto.Key.decode(TEST_KEY, "test"))
    ctx = Context(db=Database(url, keyring=keyring), clock=clock, settings=TEST_SETTINGS)
    return World(ctx=ctx, clock=clock, url=url, **template.fields)


class Cli:
    """The command line on one database: ``cli("case", "list", code=0)`` runs it and checks the exit code."""

    def __init__(self, url: str, env: Mapping[str, str | None] | None = None) -> None:
        from click.testing import CliRunner

        self.url = url
        self.env = dict(env or {})
        self._runner = CliRunner(catch_exceptions=False)

    def __call__(self, *args: str, code: int | None = 0, env: Mapping[str, str | None] | None = None) -> Any:
        from casework.cli import app

        result = self._runner.invoke(app(), ["--db", self.url, *args], env={**self.env, **(env or {})})
        assert code is None or result.exit_code == code, (args, result.output)
        return result


_CLI_SOURCES: dict[tuple[Any, ...], str] = {}


def cli_database(
    backend: str,
    steps: Sequence[Sequence[str]],
    tmp_path_factory: pytest.TempPathFactory,
    env: Mapping[str, str | None] | None = None,
) -> Cli:
    """The command line on a fresh database prepared by running ``steps`` (each a command's arguments).

    The steps run once per session for each list of steps; every later caller gets a copy.
    """
    key = (backend, tuple(tuple(step) for step in steps), tuple(sorted((env or {}).items())))
    if key not in _CLI_SOURCES:
        built = Cli(new_url(backend, tmp_path_factory), env)
        for step in steps:
            built(*step)
        _CLI_SOURCES[key] = built.url if backend == "sqlite" else _pg_schema_sql(built.url)
    return Cli(copy_database(backend, _CLI_SOURCES[key], tmp_path_factory), env)
