"""Which failed requests :class:`~verify._index.session.HttpSession` tries again.

Idempotent requests are retried on connection errors, read errors and 429/5xx answers, with
a short back-off that never sleeps past the request's deadline (:mod:`verify._index.deadline`).
One connection error is not retried: a resolver that answers that a host name does not exist.
That is an answer, not a failure to get one, and asking again a moment later gets the same
one; retrying only delayed every request to such a host by the whole back-off (1.5 s at the
default three retries), which a machine without a route to a service (an air-gapped CI
runner with no vulnerability API) paid on every check. A resolver that could not answer
(``EAI_AGAIN``, a timeout) is retried as before.
"""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Any

from urllib3.exceptions import MaxRetryError, NameResolutionError
from urllib3.util.retry import Retry

from verify._index.deadline import WatchedRetry

__all__ = ["RetryPolicy", "name_does_not_exist", "retry_policy"]

#: getaddrinfo's answers that the name has no address: it does not exist (NXDOMAIN), or has
#: no address records. ``EAI_NODATA`` is not defined on every platform.
_NO_SUCH_NAME = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None
)


def name_does_not_exist(error: BaseException | None) -> bool:
    """Whether ``error`` is the resolver's answer that a host name has no address."""
    if not isinstance(error, NameResolutionError):
        return False
    # urllib3 raises it "from" the resolver's own error, which carries the code.
    cause = error.__cause__
    return isinstance(cause, socket.gaierror) and cause.errno in _NO_SUCH_NAME


class RetryPolicy(WatchedRetry):
    """urllib3's retries under the deadline, never for a host name that does not exist."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> RetryPolicy:
        if name_does_not_exist(error):
            # The same exception urllib3 raises when the retries run out, so callers report
            # it the same way ("could not reach HOST: name or service not known").
            raise MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def retry_policy(retries: int, *, post: bool = False) -> Retry:
    """The retries of one of :class:`~verify._index.session.HttpSession`'s adapters.

    POST is retried only when ``post`` is set: the "api" session sends nothing but
    idempotent queries.
    """
    methods = {"GET", "HEAD", "POST"} if post else {"GET", "HEAD"}
    return RetryPolicy(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=0.25,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset(methods),
        raise_on_status=False,
        respect_retry_after_header=True,
    )
