"""The one HTTP chokepoint: every request pip-verify makes goes through :class:`HttpSession`.

It sets a timeout on every socket operation and a total deadline on every call (see
:mod:`verify._index.deadline`), retries idempotent requests on connection errors and on
429/5xx answers (:mod:`verify._index.retries`), limits redirects, sends a User-Agent, keeps
an HTTP cache for index pages, caps the size of what it reads, and refuses any request when
offline.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

import requests
import requests.adapters
from cachecontrol import CacheControlAdapter
from cachecontrol.caches import FileCache
from urllib3 import exceptions as urllib3_exceptions

from verify._index.deadline import (
    Deadline,
    DeadlineExceeded,
    WatchedAdapter,
    deadline,
)
from verify._index.retries import retry_policy
from verify._index.urls import redact
from verify._version import __version__
from verify.errors import CacheError, NetworkError, OfflineError
from verify.settings import DEFAULT_RETRIES, DEFAULT_TIMEOUT

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PAGE_BYTES",
    "HttpSession",
    "PageResponse",
    "UploadResponse",
]

logger = logging.getLogger(__name__)

#: Redirect limit, the same as pip-audit's.
MAX_REDIRECTS = 5
#: An index page larger than this is refused; the largest real project pages are a few MiB.
MAX_PAGE_BYTES = 64 * 1024 * 1024
#: A distribution file larger than this is refused unless the index announced its size.
MAX_FILE_BYTES = 8 * 1024 * 1024 * 1024
_CHUNK = 256 * 1024

USER_AGENT = (
    f"pip-verify/{__version__} "
    f"({platform.python_implementation()} {platform.python_version()}; {platform.system()})"
)


class Writable(Protocol):
    """Where :meth:`HttpSession.download` puts the bytes."""

    def write(self, data: bytes, /) -> object:
        """Take the next chunk."""


@dataclass(frozen=True, slots=True)
class PageResponse:
    """A small response read whole: an index page or a JSON document."""

    url: str
    status: int
    content_type: str
    body: bytes
    from_cache: bool = False


@dataclass(frozen=True, slots=True)
class UploadResponse:
    """An index's answer to an upload, read whole, to hand back to the uploader."""

    status: int
    #: The HTTP reason phrase: upload APIs put their one-line refusal there.
    reason: str
    content_type: str
    body: bytes


class _TimeoutSession(requests.Session):
    """A ``requests.Session`` where no call can forget its timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout
        self.max_redirects = MAX_REDIRECTS
        self.headers["User-Agent"] = USER_AGENT

    def request(
        self, method: str | bytes, url: str | bytes, *args: object, **kwargs: object
    ) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]


class _WatchedCacheAdapter(WatchedAdapter, CacheControlAdapter):
    """The page cache's adapter, with its connections under the total deadline."""


class HttpSession:
    """The only object in pip-verify that opens network connections.

    Index pages go through an HTTP cache under ``cache_dir`` (honouring the server's
    ``Cache-Control``); distribution files are streamed without it, because the
    content-addressed store keeps them. Safe to share between threads.
    """

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        offline: bool = False,
    ) -> None:
        self.offline = offline
        self.timeout = timeout
        self._retries = retries
        if cache_dir is not None:
            _make_cache_dir(cache_dir)
        self._cache_dir = cache_dir
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    # requests.Session is not documented as thread-safe; one per thread is.
    def _session(self, kind: str) -> requests.Session:
        session: requests.Session | None = getattr(self._local, kind, None)
        if session is None:
            session = _TimeoutSession(self.timeout)
            adapter: requests.adapters.HTTPAdapter
            if kind == "pages" and self._cache_dir is not None:
                adapter = _WatchedCacheAdapter(
                    cache=_PageCache(self._cache_dir), max_retries=retry_policy(self._retries)
                )
            else:
                adapter = WatchedAdapter(
                    max_retries=retry_policy(self._retries, post=kind == "api")
                )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            setattr(self._local, kind, session)
            with self._lock:
                self._sessions.append(session)
        return session

    def _refuse_offline(self, url: str) -> None:
        if self.offline:
            raise OfflineError(
                f"{_host(url)} is not reachable with --offline",
                hint="run once without --offline to fill the cache",
            )

    def get_page(
        self,
        url: str,
        *,
        accept: str | None = None,
        max_bytes: int = MAX_PAGE_BYTES,
    ) -> PageResponse:
        """GET a small document, through the HTTP cache.

        Any status is returned (callers decide what a 404 means). Raises
        :class:`~verify.errors.NetworkError` when the host cannot be reached, times out, or
        sends more than ``max_bytes``.
        """
        self._refuse_offline(url)
        headers = {"Accept": accept} if accept else {}
        with (
            self._deadline(url) as budget,
            self._session("pages").get(url, headers=headers, stream=True) as response,
        ):
            body = _read_capped(response, max_bytes, url, budget)
            return PageResponse(
                url=response.url,
                status=response.status_code,
                content_type=response.headers.get("Content-Type", ""),
                body=body,
                from_cache=bool(getattr(response, "from_cache", False)),
            )

    def post_json(
        self,
        url: str,
        payload: object,
        *,
        max_bytes: int = MAX_PAGE_BYTES,
    ) -> PageResponse:
        """POST ``payload`` as JSON and read the answer whole, never through the HTTP cache.

        Meant for query APIs such as OSV's ``/v1/query``, whose POSTs are idempotent: they
        are retried like GETs (connection errors, 429/5xx). Any status is returned; raises
        :class:`~verify.errors.NetworkError` like :meth:`get_page`, and
        :class:`~verify.errors.OfflineError` before opening any connection when offline.
        """
        self._refuse_offline(url)
        session = self._session("api")
        with (
            self._deadline(url) as budget,
            session.post(
                url, json=payload, headers={"Accept": "application/json"}, stream=True
            ) as response,
        ):
            body = _read_capped(response, max_bytes, url, budget)
            return PageResponse(
                url=response.url,
                status=response.status_code,
                content_type=response.headers.get("Content-Type", ""),
                body=body,
            )

    def post_upload(
        self,
        url: str,
        body: BinaryIO,
        *,
        headers: Mapping[str, str],
        max_bytes: int = MAX_PAGE_BYTES,
    ) -> UploadResponse:
        """POST ``body`` (a file, streamed) to an upload endpoint, exactly as given.

        The upload gate forwards an uploader's request byte for byte with this, the
        uploader's ``Content-Type`` and ``Authorization`` in ``headers``. An upload is not
        idempotent: only a connection that could not be opened is retried (nothing was
        sent), never a request that may have arrived; redirects are not followed, because
        a redirected POST loses its body. Any status is returned; raises
        :class:`~verify.errors.NetworkError` when the host cannot be reached or the answer
        is over ``max_bytes``.
        """
        self._refuse_offline(url)
        # The upload's own bytes earn their allowance as if they had been received.
        with (
            self._deadline(url, sending=_remaining_size(body)) as budget,
            self._session("uploads").post(
                url, data=body, headers=dict(headers), stream=True, allow_redirects=False
            ) as response,
        ):
            answer = _read_capped(response, max_bytes, url, budget)
            return UploadResponse(
                status=response.status_code,
                reason=response.reason or "",
                content_type=response.headers.get("Content-Type", ""),
                body=answer,
            )

    def download(
        self,
        url: str,
        sink: Writable,
        *,
        max_bytes: int = MAX_FILE_BYTES,
        on_bytes: Callable[[int], None] | None = None,
        on_total: Callable[[int], None] | None = None,
    ) -> int:
        """Stream ``url`` into ``sink``; return the number of bytes written.

        Raises :class:`~verify.errors.NetworkError` for connection failures, HTTP errors
        and bodies over ``max_bytes``.
        """
        self._refuse_offline(url)
        with (
            self._deadline(url) as budget,
            self._session("files").get(url, stream=True) as response,
        ):
            if response.status_code != 200:
                raise NetworkError(
                    f"{redact(url)} answered HTTP {response.status_code}",
                    hint="the index lists a file that its host does not serve",
                )
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit():
                if int(declared) > max_bytes:
                    raise NetworkError(
                        f"{redact(url)} is {int(declared)} bytes, over the {max_bytes}-byte limit"
                    )
                if on_total is not None:
                    on_total(int(declared))
            written = 0
            for chunk in response.iter_content(_CHUNK):
                written += len(chunk)
                budget.received += len(chunk)
                if written > max_bytes:
                    raise NetworkError(f"{redact(url)} sent more than the {max_bytes}-byte limit")
                sink.write(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
            if budget.expired:
                raise DeadlineExceeded  # the shutdown may look like a normal end
            return written

    @contextlib.contextmanager
    def _deadline(self, url: str, *, sending: int = 0) -> Iterator[Deadline]:
        """Run one request under its total deadline; turn every failure into a NetworkError.

        The deadline covers all attempts, redirects and retry waits of the request:
        ``timeout * (retries + 2) + timeout * MiB received`` seconds (see
        :mod:`verify._index.deadline`).
        """
        with deadline(self.timeout, self._retries) as budget:
            budget.received = sending
            try:
                yield budget
            except DeadlineExceeded as exc:
                raise _deadline_error(url, budget) from exc
            except requests.RequestException as exc:
                # A socket shut down by the watchdog fails like a dropped connection.
                if budget.expired:
                    raise _deadline_error(url, budget) from exc
                raise _network_error(url, exc) from exc

    def close(self) -> None:
        """Close every connection this session opened."""
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _make_cache_dir(path: Path) -> None:
    """Create the page cache directory now, so that an unusable ``--cache-dir`` is one clear
    error before any work (the same one the file store gives), not a failure mid-request."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "Not a directory" if path.exists() and not path.is_dir() else exc.strerror
        raise CacheError(
            f"cannot create the cache directory {path}: {reason}",
            hint="pass a writable --cache-dir",
        ) from exc


class _PageCache(FileCache):
    """The HTTP page cache; its file-system failures are cache errors, not crashes."""

    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory))
        self._root = directory

    def get(self, key: str) -> bytes | None:
        try:
            return super().get(key)
        except OSError as exc:
            raise self._error("read", exc) from exc

    def set(self, key: str, value: bytes, expires: int | datetime | None = None) -> None:
        try:
            super().set(key, value, expires)
        except OSError as exc:
            raise self._error("write", exc) from exc

    def delete(self, key: str) -> None:
        try:
            super().delete(key)
        except OSError as exc:
            raise self._error("write", exc) from exc

    def _error(self, verb: str, exc: OSError) -> CacheError:
        return CacheError(
            f"cannot {verb} the cache directory {self._root}: {exc.strerror}",
            hint="pass a writable --cache-dir",
        )


def _remaining_size(body: BinaryIO) -> int:
    """How many bytes are left to read from ``body``, or 0 when it cannot tell."""
    try:
        here = body.tell()
        end = body.seek(0, os.SEEK_END)
        body.seek(here)
    except (OSError, ValueError, AttributeError):
        return 0
    return max(0, end - here)


def _read_capped(response: requests.Response, max_bytes: int, url: str, budget: Deadline) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise NetworkError(
            f"{redact(url)} is {int(declared)} bytes, over the {max_bytes}-byte limit"
        )
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(_CHUNK):
        total += len(chunk)
        budget.received += len(chunk)
        if total > max_bytes:
            raise NetworkError(f"{redact(url)} sent more than the {max_bytes}-byte limit")
        chunks.append(chunk)
    if budget.expired:
        raise DeadlineExceeded  # the shutdown may look like the end of the body
    return b"".join(chunks)


def _host(url: str) -> str:
    """The host (and port) of ``url``, never its credentials."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return host or redact(url)


def _deadline_error(url: str, budget: Deadline) -> NetworkError:
    return NetworkError(
        f"{_host(url)} did not finish sending {redact(url)} "
        f"within {round(budget.allowed(), 1):g} s",
        hint="check your network, or raise --timeout (the total time allowed grows with it)",
    )


def _network_error(url: str, exc: requests.RequestException) -> NetworkError:
    host = _host(url)
    # urllib3's retries turn read timeouts into MaxRetryError, which requests raises as a
    # ConnectionError: look at the cause, not only the class.
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    timed_out = isinstance(exc, requests.Timeout) or (
        isinstance(reason, urllib3_exceptions.TimeoutError)
        # urllib3 makes "connection refused" a kind of connect timeout.
        and not isinstance(reason, urllib3_exceptions.NewConnectionError)
    )
    if timed_out:
        return NetworkError(
            f"{host} did not answer in time ({redact(url)})",
            hint="check your network, or raise --timeout",
        )
    if isinstance(exc, requests.TooManyRedirects):
        return NetworkError(f"{redact(url)} redirected more than {MAX_REDIRECTS} times")
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(
            f"TLS verification failed for {host}: {_root_cause(exc)}",
            hint="check the certificate or set REQUESTS_CA_BUNDLE",
        )
    if isinstance(exc, requests.ConnectionError):
        return NetworkError(
            f"could not reach {host}: {_root_cause(exc)}",
            hint="check the index URL and your network connection",
        )
    return NetworkError(f"request to {redact(url)} failed: {_root_cause(exc)}")


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 exception chain, in a few words."""
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "timed out",
        "No route to host",
        "Temporary failure in name resolution",
        "Connection reset by peer",
        "Max retries exceeded",
        "certificate verify failed",
    ):
        if marker in text:
            return marker.lower() if marker != "Max retries exceeded" else "too many retries"
    reason = getattr(exc, "reason", None) or (exc.args[0] if exc.args else None)
    text = str(reason) if reason is not None else exc.__class__.__name__
    return text if len(text) <= 160 else text[:157] + "..."
