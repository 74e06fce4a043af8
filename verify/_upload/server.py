"""Serving the upload gate: Waitress, a production WSGI server, with a thread per upload."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["serve"]

logger = logging.getLogger("verify.gate")

#: Bodies up to twice the gate's limit reach the gate, which refuses them with a 400 that
#: names the limit; beyond that Waitress itself answers 413 without handing them over.
_SERVER_LIMIT_FACTOR = 2


def serve(
    app: Callable[..., Any],
    *,
    host: str,
    port: int,
    threads: int,
    max_upload_bytes: int,
    on_ready: Callable[[str], None],
) -> None:
    """Serve ``app`` on ``host:port`` (0: any free port) until interrupted.

    ``on_ready`` gets the URL once the socket is bound, before the first request is taken.
    """
    from waitress.server import create_server

    server: Any = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="pip-verify-gate",
        max_request_body_size=_SERVER_LIMIT_FACTOR * max_upload_bytes + 1024 * 1024,
        clear_untrusted_proxy_headers=True,
        # Screening a large upload can take a while; the connection must outlive it.
        channel_timeout=600,
        expose_tracebacks=False,
    )
    bound_host, bound_port = server.socket.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    on_ready(f"http://{shown}:{bound_port}/")
    try:
        server.run()
    except KeyboardInterrupt:
        logger.info("pip-verify gate: interrupted, stopping")
    finally:
        server.close()
