"""The command that starts the web application on the same --db as every other command."""

from __future__ import annotations

import click

from casework.commands.common import State, Whole, state


def run_server(st: State, host: str, port: int) -> None:
    """Serve until interrupted; the address goes out first so a person knows where to point a browser."""
    from casework.web.server import serve

    click.echo(st.t("casework web application on http://{host}:{port}/ (Ctrl+C stops it)", host=host, port=port))
    serve(st.ctx(), host, port)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on. 监听地址。")
@click.option("--port", default=8000, show_default=True, type=Whole(1, 65535), help="Port, from 1 to 65535. 端口。")
def serve_command(host: str, port: int) -> None:
    """Start the web application. 启动网页服务。"""
    run_server(state(), host, port)


COMMANDS = [serve_command]
