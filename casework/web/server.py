"""Run the web application under uvicorn, on the address the serve command was given."""

from __future__ import annotations

import logging

from casework.services.context import Context


def serve(ctx: Context, host: str, port: int) -> None:
    import uvicorn

    from casework.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Proxy headers are judged by the application against [web] trusted_proxies, not by uvicorn
    # (which would believe any proxy on 127.0.0.1); no access log, as URLs may carry a searched name.
    uvicorn.run(
        create_app(ctx),
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_level="info",
    )
