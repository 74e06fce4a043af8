"""Serving the upload gate: Waitress, a production WSGI server, with a thread per upload.

Waitress reads each request in full before the gate sees it, so a request that stops
arriving (a ``Content-Length`` announced and the body never sent) is bounded here, on the
connection: after ``idle_timeout`` seconds without a byte of it, or ``request_deadline``
seconds after the gate began reading it, the uploader gets 408 and the connection is closed.
Without that, each stalled upload holds one of the server's connections for minutes.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

try:
    from waitress.channel import HTTPChannel
    from waitress.utilities import Error
except ImportError:
    from verify._upload import gate_extra_missing

    raise gate_extra_missing() from None

from verify._upload import DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_DEADLINE

__all__ = ["serve"]

logger = logging.getLogger("verify.gate")

#: Bodies up to twice the gate's limit reach the gate, which refuses them with a 400 that
#: names the limit; beyond that Waitress itself answers 413 without handing them over.
_SERVER_LIMIT_FACTOR = 2


class _RequestTimeout(Error):
    code = 408
    reason = "Request Timeout"


class _TimedChannel(HTTPChannel):
    """A connection that answers 408 and closes when the request it is reading stalls."""

    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    request_deadline: float = DEFAULT_REQUEST_DEADLINE
    #: When the gate began waiting for the request being read (monotonic clock).
    _waiting_since: float | None = None

    def readable(self) -> bool:
        # The event loop asks every connection this before each select, at least once a
        # second (Waitress's loop timeout): the one place that runs while nothing arrives.
        self._check_deadlines(time.monotonic())
        return super().readable()

    def _check_deadlines(self, now: float) -> None:
        if self.request is None or self.requests or self.will_close or self.close_when_flushed:
            # Nothing partly read, or an earlier request is being served and the gate is not
            # reading: the uploader is not the one keeping anyone waiting.
            self._waiting_since = None
            return
        if self._waiting_since is None:
            self._waiting_since = now
        idle = time.time() - self.last_activity  # Waitress keeps wall-clock activity times
        if idle >= self.idle_timeout:
            reason = f"no bytes of the request arrived for {self.idle_timeout:g} s"
        elif now - self._waiting_since >= self.request_deadline:
            reason = f"the request did not arrive in full within {self.request_deadline:g} s"
        else:
            return
        self._time_out(reason)

    def _time_out(self, reason: str) -> None:
        # Hand the partial request to Waitress as one that failed to parse: its error task
        # writes the 408 in order, with "Connection: close", and closes once it is sent.
        # Waitress's stubs lack ``requests_lock`` and type ``requests`` as read-only.
        channel: Any = self
        with channel.requests_lock:
            request = self.request
            if request is None or self.requests or self.will_close or self.close_when_flushed:
                return
            request.error = _RequestTimeout(f"{reason}; send the upload again")
            request.completed = True
            self.request = None
            channel.requests.append(request)
            channel.server.add_task(self)
        client = self.addr[0] if isinstance(self.addr, tuple) else str(self.addr)
        logger.info(
            json.dumps(
                {"event": "timeout", "client": client, "status": 408, "reason": reason},
                sort_keys=True,
            )
        )


def serve(
    app: Callable[..., Any],
    *,
    host: str,
    port: int,
    threads: int,
    max_upload_bytes: int,
    on_ready: Callable[[str], None],
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    request_deadline: float = DEFAULT_REQUEST_DEADLINE,
    ident: str = "pip-verify-gate",
) -> None:
    """Serve ``app`` on ``host:port`` (0: any free port) until interrupted.

    ``on_ready`` gets the URL once the socket is bound, before the first request is taken.
    A request that sends no byte for ``idle_timeout`` seconds, or is not in full
    ``request_deadline`` seconds after its first byte, is answered 408 and its connection
    closed; a connection idle between requests is closed after ``idle_timeout``.
    """
    from waitress.server import create_server

    idle = max(1, math.ceil(idle_timeout))
    server: Any = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident=ident,
        max_request_body_size=_SERVER_LIMIT_FACTOR * max_upload_bytes + 1024 * 1024,
        clear_untrusted_proxy_headers=True,
        # Waitress closes connections idle this long (whole seconds) when it sweeps them,
        # every cleanup_interval; one being served is never idle, however long screening
        # takes. One second later than the 408, so a stalled request gets its answer first.
        channel_timeout=idle + 1,
        cleanup_interval=min(30, idle),
        expose_tracebacks=False,
    )

    class Channel(_TimedChannel):
        pass

    Channel.idle_timeout = idle_timeout
    Channel.request_deadline = request_deadline
    server.channel_class = Channel
    bound_host, bound_port = server.socket.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    on_ready(f"http://{shown}:{bound_port}/")
    try:
        server.run()
    except KeyboardInterrupt:
        logger.info("%s: interrupted, stopping", ident)
    finally:
        server.close()
