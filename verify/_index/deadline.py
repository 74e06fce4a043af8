"""Total deadlines for HTTP requests.

``--timeout`` bounds each connect and each socket read, so a server that sends one byte per
read (or trickles its headers, or asks for a long ``Retry-After``) never trips it and can
keep a check waiting for days. Every request :class:`~verify._index.session.HttpSession`
makes therefore also runs under a :class:`Deadline` covering all its attempts, redirects
and retries together. The time a request may take is::

    timeout * (retries + 2)  +  timeout * (MiB of body received so far)

The first term is one ``timeout`` per attempt plus one to spare for back-off and a small
body; the second lets a large file keep going for as long as it arrives at an average of at
least 1 MiB per ``timeout`` (about 68 KiB/s at the default 15 s), so a slow but real
download is never cut short while a trickle is. Raising ``--timeout`` raises both.

When the time is up a watchdog thread shuts the request's sockets down, which wakes the
read blocked in them; retry back-off and ``Retry-After`` sleeps are cut to the time left.
The sockets are found through urllib3 connection classes that attach every socket they
connect or send on to the deadline of the calling thread.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests.adapters
from urllib3 import PoolManager, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

__all__ = [
    "Deadline",
    "DeadlineExceeded",
    "WatchedAdapter",
    "WatchedRetry",
    "allowed_seconds",
    "deadline",
]

MIB = 1024 * 1024


def allowed_seconds(timeout: float, retries: int, *, received: int) -> float:
    """How long a request may take, in total, once it has received ``received`` bytes."""
    return timeout * (retries + 2) + timeout * received / MIB


class DeadlineExceeded(Exception):
    """Stops a request whose deadline passed.

    Deliberately not an ``OSError``: urllib3 retries those, and there is no time left.
    """


class Deadline:
    """The time budget of one request, all its attempts together."""

    def __init__(self, timeout: float, retries: int) -> None:
        self.timeout = timeout
        self.retries = retries
        self.started = time.monotonic()
        #: Body bytes received so far; only the requesting thread writes it.
        self.received = 0
        self.expired = False
        self._lock = threading.Lock()
        # Duplicates of the request's sockets: shutting one down ends the connection, and
        # a duplicate stays valid (never reused for another socket) until released.
        self._twins: list[socket.socket] = []

    def allowed(self) -> float:
        """Seconds this request may take, given what it received so far."""
        return allowed_seconds(self.timeout, self.retries, received=self.received)

    def expires_at(self) -> float:
        return self.started + self.allowed()

    def remaining(self) -> float:
        return max(0.0, self.expires_at() - time.monotonic())

    def attach(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the time is up; raise if it already is."""
        with self._lock:
            if self.expired:
                raise DeadlineExceeded
            try:
                twin = socket.fromfd(sock.fileno(), sock.family, sock.type, sock.proto)
            except OSError:
                return  # already closed: nothing left to wake
            self._twins.append(twin)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for twin in self._twins:
                with contextlib.suppress(OSError):
                    twin.shutdown(socket.SHUT_RDWR)

    def release(self) -> None:
        with self._lock:
            for twin in self._twins:
                twin.close()
            self._twins.clear()


class _Watchdog:
    """One thread that expires every deadline of the process when its time comes."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active: set[Deadline] = set()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def watch(self, deadline: Deadline) -> Iterator[None]:
        with self._condition:
            self._active.add(deadline)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="pip-verify-deadlines", daemon=True
                )
                self._thread.start()
            self._condition.notify()
        try:
            yield
        finally:
            with self._condition:
                self._active.discard(deadline)
            deadline.release()

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                soonest: float | None = None
                for deadline in list(self._active):
                    # Bytes received since the last look push the expiry further out.
                    at = deadline.expires_at()
                    if at <= now:
                        deadline.expire()
                        self._active.discard(deadline)
                    elif soonest is None or at < soonest:
                        soonest = at
                self._condition.wait(None if soonest is None else soonest - now)


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()


def _reset_after_fork() -> None:
    # The watchdog thread does not survive fork(); its lock may be held by a thread that
    # did not either.
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


@contextlib.contextmanager
def deadline(timeout: float, retries: int) -> Iterator[Deadline]:
    """Run the requests made in this block by this thread under one :class:`Deadline`."""
    current = Deadline(timeout, retries)
    previous: Deadline | None = getattr(_CURRENT, "deadline", None)
    _CURRENT.deadline = current
    try:
        with _WATCHDOG.watch(current):
            yield current
    finally:
        _CURRENT.deadline = previous


def _attach(sock: socket.socket | None) -> None:
    current: Deadline | None = getattr(_CURRENT, "deadline", None)
    if current is not None and sock is not None:
        current.attach(sock)


class _WatchedConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        # The plain socket, before any TLS handshake: a trickled handshake is covered too.
        sock = super()._new_conn()
        try:
            _attach(sock)
        except DeadlineExceeded:
            sock.close()
            raise
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self.sock)  # a kept-alive connection, connected for an earlier request
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        try:
            _attach(sock)
        except DeadlineExceeded:
            sock.close()
            raise
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self.sock)
        super().request(*args, **kwargs)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """Makes an adapter's connections attach their sockets to the current deadline.

    SOCKS proxies keep their own connection classes and are not watched.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, ProxyManager):
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


class WatchedRetry(Retry):
    """urllib3's retries, sleeping never past the current deadline."""

    def get_backoff_time(self) -> float:
        return _clamp(super().get_backoff_time())

    def get_retry_after(self, response: Any) -> float | None:
        wait = super().get_retry_after(response)
        return None if wait is None else _clamp(wait)


def _clamp(seconds: float) -> float:
    current: Deadline | None = getattr(_CURRENT, "deadline", None)
    if current is None:
        return seconds
    left = current.remaining()
    if left <= 0:
        raise DeadlineExceeded
    return min(seconds, left)
