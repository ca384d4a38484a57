"""The command that starts the web application on the same --db as every other command."""

from __future__ import annotations

import click

from casework.commands.common import State, state
from casework.web.server import MAX_WORKERS


def run_server(st: State, host: str, port: int, workers: int | None = None) -> None:
    """Serve until interrupted; the address goes out first so a person knows where to point a browser."""
    from casework.web.server import default_workers, serve

    count = workers if workers is not None else default_workers()
    ctx = st.ctx()  # the database is checked here, so that a problem with it is this command's error
    click.echo(st.t("casework web application on http://{host}:{port}/ (Ctrl+C stops it)", host=host, port=port))
    if count > 1:
        click.echo(st.t("{n} worker processes on the same database", n=count))
    serve(ctx, host, port, count)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on. 监听地址。")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port. 端口。")
@click.option(
    "--workers",
    type=click.IntRange(1, MAX_WORKERS),
    default=None,
    help="Server processes on the same database (default: one per CPU core, at most 8). "
    "同一数据库上的服务进程数（默认：每个CPU核一个，最多8个）。",
)
def serve_command(host: str, port: int, workers: int | None) -> None:
    """Start the web application. 启动网页服务。"""
    run_server(state(), host, port, workers)


COMMANDS = [serve_command]
