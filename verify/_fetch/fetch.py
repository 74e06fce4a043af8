"""Fetching distribution files in parallel into the content-addressed store, hashing on the way."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from verify._fetch.store import ContentStore, hash_file
from verify._index.session import MAX_FILE_BYTES, HttpSession
from verify._index.urls import file_url_path, redact
from verify.errors import CacheError, IncompleteError, OfflineError, UsageError
from verify.models import ExpectedDigest
from verify.settings import DEFAULT_JOBS

if TYPE_CHECKING:
    from _hashlib import HASH

__all__ = ["FetchRequest", "FetchResult", "Fetcher", "ProgressSink"]

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_CHECKABLE = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512"})


class ProgressSink(Protocol):
    """Receives progress of downloads; the CLI renders it, the library never does."""

    def file_started(self, filename: str, total: int | None) -> None:
        """A download of ``filename`` started; ``total`` bytes are expected, when known."""

    def file_advanced(self, filename: str, nbytes: int) -> None:
        """``nbytes`` more bytes of ``filename`` arrived."""

    def file_finished(self, filename: str) -> None:
        """``filename`` is done (fetched, found in the cache, or failed)."""


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """One file to get: from a URL (``http(s)://`` or ``file://``) or a local path."""

    filename: str
    url: str | None = None
    path: Path | None = None
    expected: tuple[ExpectedDigest, ...] = ()
    size: int | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The digests of the bytes we got, and where they are now."""

    request: FetchRequest
    #: Digests of the bytes read, by algorithm; empty when nothing could be read.
    digests: dict[str, str] = field(default_factory=dict)
    #: The bytes in the store; ``None`` when they did not match or could not be read.
    path: Path | None = None
    size: int | None = None
    from_cache: bool = False
    #: A cache entry for this file was corrupt; it was removed (and fetched again if possible).
    repaired: bool = False
    error: str | None = None
    #: The failure was operational (network, cache), as opposed to simply not allowed offline.
    error_kind: str | None = None

    @property
    def sha256(self) -> str | None:
        """The sha256 of the bytes read."""
        return self.digests.get("sha256")


class Fetcher:
    """Gets files into a :class:`ContentStore`, several at a time."""

    def __init__(
        self,
        session: HttpSession,
        store: ContentStore,
        *,
        jobs: int = DEFAULT_JOBS,
        progress: ProgressSink | None = None,
    ) -> None:
        self.session = session
        self.store = store
        self.jobs = max(1, jobs)
        self.progress = progress

    def fetch_all(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        """Fetch every request; results come back in the same order. Never raises per file."""
        if len(requests) < 2:
            # No thread for one file: a check of one upload runs in a single thread.
            return [self.fetch(request) for request in requests]
        with ThreadPoolExecutor(max_workers=min(self.jobs, len(requests))) as pool:
            return list(pool.map(self.fetch, requests))

    def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch one file: from the store when a trusted digest is already there, else anew."""
        try:
            return self._fetch(request)
        except UsageError as exc:
            return FetchResult(request, error=exc.one_line(), error_kind="input")
        except IncompleteError as exc:
            kind = "network"
            if isinstance(exc, CacheError):
                kind = "cache"
            elif isinstance(exc, OfflineError):
                kind = "offline"
            return FetchResult(request, error=exc.one_line(), error_kind=kind)
        finally:
            if self.progress is not None:
                self.progress.file_finished(request.filename)

    def _fetch(self, request: FetchRequest) -> FetchResult:
        algorithms = _algorithms(request.expected)
        wanted = {e.digest for e in request.expected if e.algorithm == "sha256"}
        repaired = False
        # Only a digest every source agrees on may be served from the store: a single
        # expected sha256. With several (a lock and an index that disagree) we read the
        # bytes again so the mismatch is reported against what is really served.
        if len(wanted) == 1:
            (sha256,) = wanted
            found = self.store.lookup(sha256, request.filename)
            repaired = found.corrupt
            if found.path is not None:
                digests = _extra_digests(found.path, algorithms) | {"sha256": sha256}
                return FetchResult(
                    request,
                    digests=digests,
                    path=found.path,
                    size=found.path.stat().st_size,
                    from_cache=True,
                )
        if request.path is not None:
            return self._copy_local(request.path, request, algorithms, repaired)
        if request.url is None:
            return FetchResult(
                request, error="no URL or path to read the file from", error_kind="input"
            )
        if request.url.startswith("file:"):
            return self._copy_local(file_url_path(request.url), request, algorithms, repaired)
        if self.session.offline:
            return FetchResult(
                request,
                repaired=repaired,
                error_kind="offline",
                error=f"{request.filename} is not in the cache and --offline forbids downloading",
            )
        return self._download(request, request.url, algorithms, repaired)

    def _download(
        self, request: FetchRequest, url: str, algorithms: tuple[str, ...], repaired: bool
    ) -> FetchResult:
        hashers = {name: hashlib.new(name) for name in algorithms}
        progress = self.progress
        if progress is not None:
            progress.file_started(request.filename, request.size)

        def on_bytes(count: int) -> None:
            if progress is not None:
                progress.file_advanced(request.filename, count)

        with self.store.incoming() as (tmp, stream):
            sink = _HashingWriter(stream, hashers)
            size = self.session.download(url, sink, on_bytes=on_bytes)
            stream.flush()
            os.fsync(stream.fileno())
            stream.close()
            return self._settle(request, tmp, hashers, size, repaired)

    def _copy_local(
        self, source: Path, request: FetchRequest, algorithms: tuple[str, ...], repaired: bool
    ) -> FetchResult:
        # A local copy is bounded like a download: by the size the index or lock announced,
        # else by the download cap. Only regular files are read: a device (/dev/zero) or a
        # FIFO would never end, or never start.
        limit = request.size if request.size is not None else MAX_FILE_BYTES
        hashers = {name: hashlib.new(name) for name in algorithms}
        try:
            with _open_regular(source) as origin:
                size = os.fstat(origin.fileno()).st_size
                if size > limit:
                    return _too_large(request, source, limit, repaired)
                with self.store.incoming() as (tmp, stream):
                    sink = _HashingWriter(stream, hashers)
                    # The file may grow while it is read: never read past the limit.
                    while sink.written <= limit and (
                        chunk := origin.read(min(_CHUNK, limit + 1 - sink.written))
                    ):
                        sink.write(chunk)
                    if sink.written > limit:
                        return _too_large(request, source, limit, repaired)
                    stream.close()
                    return self._settle(request, tmp, hashers, sink.written, repaired)
        except _NotRegularFile:
            return FetchResult(
                request,
                error=f"cannot read {source}: not a regular file",
                error_kind="input",
                repaired=repaired,
            )
        except OSError as exc:
            return FetchResult(
                request,
                error=f"cannot read {source}: {exc.strerror}",
                error_kind="input",
                repaired=repaired,
            )

    def _settle(
        self, request: FetchRequest, tmp: Path, hashers: dict[str, HASH], size: int, repaired: bool
    ) -> FetchResult:
        digests = {name: hasher.hexdigest() for name, hasher in hashers.items()}
        matches = all(digests.get(e.algorithm) == e.digest for e in request.expected)
        if not matches:
            # Bytes that do not match what we were promised never enter the store.
            logger.info(
                "%s: digest mismatch for %s",
                request.filename,
                redact(request.url or str(request.path)),
            )
            return FetchResult(request, digests=digests, size=size, repaired=repaired)
        path = self.store.commit(tmp, digests["sha256"], request.filename)
        return FetchResult(request, digests=digests, path=path, size=size, repaired=repaired)


class _HashingWriter:
    """Writes through to a file while feeding every hasher."""

    def __init__(self, stream: BinaryIO, hashers: dict[str, HASH]) -> None:
        self._stream = stream
        self._hashers = hashers
        self.written = 0

    def write(self, data: bytes) -> int:
        for hasher in self._hashers.values():
            hasher.update(data)
        self.written += len(data)
        return self._stream.write(data)


class _NotRegularFile(Exception):
    """A local source is a device, FIFO, socket or directory."""


def _open_regular(source: Path) -> BinaryIO:
    """``source`` opened for reading, if it is a regular file.

    Checked before opening, because opening some devices has effects of its own, and again
    on the open descriptor, because the path may have been swapped in between.
    ``O_NONBLOCK`` keeps a FIFO swapped in from blocking the open until a writer appears.
    """
    if not stat.S_ISREG(source.stat().st_mode):
        raise _NotRegularFile(source)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    descriptor = os.open(source, flags | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise _NotRegularFile(source)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _too_large(request: FetchRequest, source: Path, limit: int, repaired: bool) -> FetchResult:
    if request.size is not None:
        error = f"{source} is larger than the {limit} bytes announced for {request.filename}"
    else:
        error = f"{source} is over the {limit}-byte limit"
    return FetchResult(request, error=error, error_kind="input", repaired=repaired)


def _algorithms(expected: Sequence[ExpectedDigest]) -> tuple[str, ...]:
    names = {"sha256"} | {e.algorithm for e in expected if e.algorithm in _CHECKABLE}
    return tuple(sorted(names))


def _extra_digests(path: Path, algorithms: tuple[str, ...]) -> dict[str, str]:
    others = tuple(name for name in algorithms if name != "sha256")
    return hash_file(path, others) if others else {}
