"""What an interface (the CLI, the web) starts from: settings, a database at this casework's schema, a Context."""

from __future__ import annotations

from typing import Any

from casework import errors
from casework.persistence import migrate
from casework.persistence.db import Database, missing_sqlite_file
from casework.services import settings as settings_service
from casework.services.context import Context


def open_context(
    db_url: str, lang: str, settings_path: str | None = None, check_schema: bool = True, *, need_key: bool = True
) -> Context:
    """A Context on ``db_url`` with the settings of ``settings_path`` (else ./casework.toml if present).

    With ``check_schema`` the database must be at this casework's schema and open with the key
    ring (unless ``need_key`` is false: a use case that reads no sealed value, such as verifying
    the audit chain, runs with no key at all); a SQLite file that is not there is refused without
    creating it (connecting would leave it behind, empty), and a database migrated by a newer
    casework is told to upgrade casework, not to run init. A move's stage documents are rendered
    after it commits when the settings' documents.auto_render says so (the default).
    """
    settings = settings_service.load(settings_path)
    missing = check_schema and missing_sqlite_file(db_url)
    db = None if missing else Database(db_url)
    try:
        if check_schema:
            current = None if db is None else migrate.current_revision(db.engine)
            head = migrate.head_revision()
            if current is not None and migrate.is_newer(current):
                raise migrate.newer_schema(db_url, current)
            if db is None or current != head:
                raise errors.CaseworkError(
                    "the database {db} is at schema {current}, this casework needs {head}: run 'casework init'",
                    db=db_url,
                    current=current or "(empty)",
                    head=head,
                )
            if need_key:
                db.check_key()
    except BaseException:
        if db is not None:
            db.dispose()  # nobody else holds it to close its connections
        raise
    assert db is not None
    ctx = Context(db=db, lang=lang, settings=settings)
    if settings.documents.auto_render:
        ctx.after_move.append(_render_documents)
    return ctx


def _render_documents(ctx: Context, moved: Any, actor_id: int) -> None:
    """The stage documents of a committed move (services.documents.after_move), imported only by a
    command that moves a case: the template machinery is not for the commands that read."""
    from casework.services import documents

    documents.after_move(ctx, moved, actor_id)
