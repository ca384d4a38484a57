"""Run the web application under uvicorn, in one process or several worker processes on the same database."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from casework.services.context import Context

# What a worker process builds its Context from: the serve command's --db, --lang and --settings.
# A worker is a fresh interpreter (uvicorn spawns it), so these travel in its environment.
DB_ENV, LANG_ENV, SETTINGS_ENV = "CASEWORK_DB", "CASEWORK_LANG", "CASEWORK_SETTINGS"
JOBS_ENV = "CASEWORK_WEB_JOBS"  # the folder where the workers show each other their jobs' progress
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
MAX_WORKERS = 8  # more processes than this only queue on SQLite's one writer and the machine's cores


def default_workers() -> int:
    """One worker per CPU core this process may use, at most MAX_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def worker_app() -> object:
    """The application of one worker process, on the Context its environment names (uvicorn's factory).

    It does not fail the jobs left running: with several workers, another one may be running them;
    the serve command did that once, before any worker started.
    """
    from casework.services import runtime
    from casework.web.app import create_app

    ctx = runtime.open_context(os.environ[DB_ENV], os.environ.get(LANG_ENV, "zh_CN"), os.environ.get(SETTINGS_ENV))
    # A spawned worker starts with no logging set up; after the context, whose schema check would
    # log Alembic's start-up chatter, as the serve command's own process never shows it.
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    app = create_app(ctx, recover=False, shared=os.environ.get(JOBS_ENV) or None)
    # What the worker holds from its start (modules, the ORM's mappers, templates, the route table:
    # some 100,000 objects) lives as long as the process: out of the cyclic collector's full passes,
    # each of which stops every request of the worker (measured: half of such a pause at 100,000 cases).
    gc.freeze()
    return app


def serve(ctx: Context, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted, in ``workers`` processes (1: in this one), each opening its own
    Context on the database, settings and language of ``ctx``, each with its own connections."""
    import uvicorn

    from casework.services import jobs

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        jobs.fail_interrupted(ctx)  # jobs a previous server left running were interrupted: failed, with the reason
    finally:
        ctx.db.dispose()  # the workers open their own; this process only watches them
    os.environ[DB_ENV] = ctx.db.url
    os.environ[LANG_ENV] = ctx.lang
    if ctx.settings.source is not None:
        os.environ[SETTINGS_ENV] = os.path.abspath(ctx.settings.source)
    else:  # no file: the defaults, as here (a stray CASEWORK_SETTINGS must not give the workers others)
        os.environ.pop(SETTINGS_ENV, None)
    # One process keeps its jobs' progress in memory; several show it each other in a folder,
    # readable by this user only, removed when the supervisor stops (it handles SIGTERM and SIGINT).
    shared = tempfile.mkdtemp(prefix="casework-jobs-") if workers > 1 else None
    if shared is not None:
        os.environ[JOBS_ENV] = shared
    else:
        os.environ.pop(JOBS_ENV, None)
    try:
        # Proxy headers are judged by the application against [web] trusted_proxies, not by uvicorn
        # (which would believe any proxy on 127.0.0.1); no access log, as URLs may carry a searched name.
        uvicorn.run(
            "casework.web.server:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=False,
            server_header=False,
            access_log=False,
            log_level="info",
        )
    finally:
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)
