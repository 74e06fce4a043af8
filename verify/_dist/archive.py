"""Safe, bounded reading of Python distribution archives (wheels, sdists, eggs).

Threat model: the archive is hostile. Its members may name paths outside the archive
(``/etc/x``, ``../x``, ``C:\\x``), be symbolic or hard links, device files or FIFOs, or repeat a
name so that an installer and a scanner read different copies. The archive may expand far
beyond its size: a zip or tar bomb, millions of members, a pax header of gigabytes. Reading it
must cost bounded time, memory and disk, must never write outside a private temporary
directory, and must never follow a link.

So nothing is extracted by name. Zip members are decompressed lazily, by :meth:`Archive.read`.
A tar stream cannot be read at random, so :func:`open_archive` reads it once and keeps each
regular file's bytes: in memory when small, otherwise in a private temporary directory whose
files are named by a counter and which :meth:`Archive.close` removes.

Hostile members are listed, reported as ``archive-*`` findings and never read. An archive that
cannot be read at all (not an archive, truncated, corrupt) raises
:class:`~verify.errors.ArchiveError`.

The work is split by concern: :mod:`~verify._dist.listing` judges each member (path, kind,
duplicates, limits) and builds the findings, :mod:`~verify._dist.zipread` and
:mod:`~verify._dist.tarread` list the two kinds of container, and this module opens a file by
its name and content and reads the members the listing allows.
"""

from __future__ import annotations

import shutil
import stat
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from verify._dist.listing import (
    DECODE_ERRORS,
    DEFAULT_LIMITS,
    ArchiveLimits,
    Listed,
    Member,
    MemberKind,
    Source,
    Spooled,
    describe_error,
)
from verify._dist.tarread import read_tar
from verify._dist.zipread import open_zip
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.errors import ArchiveError
from verify.models import Finding

__all__ = ["DEFAULT_LIMITS", "Archive", "ArchiveLimits", "Member", "MemberKind", "open_archive"]


class Archive:
    """A distribution archive opened for safe reading; create it with :func:`open_archive`.

    ``members`` lists every member seen (up to ``max_members``), hostile ones included;
    ``findings`` holds the ``archive-*`` findings; :meth:`files` yields the regular files that
    :meth:`read` will return. Close it (or use it as a context manager) to release the zip file
    and remove the temporary directory.
    """

    def __init__(
        self,
        path: Path,
        format: str,
        *,
        root: str | None,
        members: tuple[Member, ...],
        findings: tuple[Finding, ...],
        truncated: bool,
        sources: dict[str, Source],
        refused: dict[str, str],
        limits: ArchiveLimits,
        zip_file: zipfile.ZipFile | None = None,
        handle: BinaryIO | None = None,
        tempdir: Path | None = None,
        decompressed: int = 0,
    ) -> None:
        #: The archive file.
        self.path = path
        #: ``wheel``, ``zip`` (a zip sdist, or an egg) or ``tar``.
        self.format = format
        #: The top-level directory stripped from an sdist's paths, else ``None``.
        self.root = root
        self.members = members
        self.findings = findings
        #: The listing stopped at a limit (an ``archive-bomb`` finding says which).
        self.truncated = truncated
        self._sources = sources
        self._refused = refused
        self._limits = limits
        self._zip = zip_file
        self._handle = handle
        self._tempdir = tempdir
        self._decompressed = decompressed
        self._closed = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Archive({str(self.path)!r}, format={self.format!r}, members={len(self.members)})"

    def files(self) -> Iterator[Member]:
        """The regular files that are safe to read, in archive order."""
        for member in self.members:
            if (
                member.kind is MemberKind.FILE
                and member.path in self._sources
                and member.path not in self._refused
            ):
                yield member

    def read(self, path: str) -> bytes:
        """The bytes of the safe regular file at ``path`` (a :attr:`Member.path`).

        Raises :class:`~verify.errors.ArchiveError` when there is no such file, when it is
        unsafe or over the limits, or when its data is corrupt; :class:`ValueError` once the
        archive is closed.
        """
        with self._lock:
            if self._closed:
                raise ValueError(f"{self.path}: the archive is closed")
            reason = self._refused.get(path)
            if reason is not None:
                raise self._error(f"member {path!r} was not read: {reason}")
            source = self._sources.get(path)
            if source is None:
                raise self._error(f"no regular file {path!r} in the archive")
            if isinstance(source, bytes):
                return source
            if isinstance(source, Spooled):
                return self._read_spooled(path, source)
            return self._read_zip(path, source)

    def close(self) -> None:
        """Release the zip file and remove the temporary directory; idempotent."""
        with self._lock:
            self._closed = True
            self._sources = {}
            if self._zip is not None:
                self._zip.close()
                self._zip = None
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            if self._tempdir is not None:
                shutil.rmtree(self._tempdir, ignore_errors=True)
                self._tempdir = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _error(self, message: str) -> ArchiveError:
        return ArchiveError(message, path=self.path)

    def _read_zip(self, path: str, info: zipfile.ZipInfo) -> bytes:
        assert self._zip is not None  # noqa: S101  (only zip archives have ZipInfo sources)
        size = info.file_size
        if self._decompressed + size > self._limits.max_total_size:
            raise self._error(
                f"reading member {path!r} would decompress more than "
                f"{self._limits.max_total_size} bytes from this archive in total"
            )
        try:
            with self._zip.open(info) as stream:
                # zipfile itself stops at the declared size; asking for one byte more means
                # an overrun would show up here rather than be cut off silently.
                data = stream.read(size + 1)
        except DECODE_ERRORS as exc:
            raise self._error(f"member {path!r} is corrupt: {describe_error(exc)}") from exc
        finally:
            # Count what was attempted: a failing read still cost the decompression.
            self._decompressed += size
        if len(data) != size:
            raise self._error(
                f"member {path!r} is corrupt: it holds {len(data)} bytes, "
                f"not the {size} the archive declares"
            )
        return data

    def _read_spooled(self, path: str, spooled: Spooled) -> bytes:
        try:
            with spooled.file.open("rb") as stream:
                data = stream.read(spooled.size + 1)
        except OSError as exc:
            raise self._error(f"member {path!r}: cannot read its temporary copy: {exc}") from exc
        if len(data) != spooled.size:
            raise self._error(f"member {path!r}: its temporary copy changed size")
        return data


def open_archive(path: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> Archive:
    """Open the distribution at ``path``, chosen by its suffix, and list its members.

    ``.whl``, ``.zip`` and ``.egg`` are read as zip files; ``.tar.gz``, ``.tgz``, ``.tar.bz2``,
    ``.tar.xz`` and ``.tar`` as tar streams, read once, now. Raises
    :class:`~verify.errors.ArchiveError` for an unknown suffix, an empty or unreadable file,
    and a file that is not a valid, complete archive of its kind.
    """
    kind = _format_of(path.name)
    if kind is None:
        raise ArchiveError(
            "unknown archive type (expected .whl, .zip, .egg, .tar.gz, .tgz, .tar.bz2, .tar.xz "
            "or .tar)",
            path=path,
        )
    archive_format, compression = kind
    try:
        info = path.stat()
    except OSError as exc:
        raise ArchiveError(f"cannot read the archive: {exc.strerror or exc}", path=path) from exc
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read
        raise ArchiveError("not a regular file", path=path)
    if info.st_size == 0:
        raise ArchiveError("empty file", path=path)
    if archive_format == "tar" and _starts_like_zip(path):
        # pip unpacks by content (a zip is a zip, whatever its name): so must we.
        archive = _archive(path, open_zip(path, "zip", limits), limits)
        disguised = Finding(
            "archive-disguised",
            BEHAVIOUR_RULES["archive-disguised"].severity,
            f"{path.name} is named as a tar archive but is a zip file; installers unpack it "
            "as a zip",
            path=None,
        )
        archive.findings = (disguised, *archive.findings)
        return archive
    if archive_format == "tar":
        return _archive(path, read_tar(path, compression, limits), limits)
    return _archive(path, open_zip(path, archive_format, limits), limits)


def _starts_like_zip(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError:
        return False  # the tar reader reports the file as unreadable


_SUFFIXES: tuple[tuple[str, str, str], ...] = (
    (".whl", "wheel", ""),
    (".zip", "zip", ""),
    (".egg", "zip", ""),
    (".tar.gz", "tar", "gz"),
    (".tgz", "tar", "gz"),
    (".tar.bz2", "tar", "bz2"),
    (".tar.xz", "tar", "xz"),
    (".tar", "tar", ""),
)


def _format_of(filename: str) -> tuple[str, str] | None:
    lowered = filename.lower()
    for suffix, archive_format, compression in _SUFFIXES:
        if lowered.endswith(suffix) and len(lowered) > len(suffix):
            return archive_format, compression
    return None


def _archive(path: Path, listed: Listed, limits: ArchiveLimits) -> Archive:
    return Archive(
        path,
        listed.format,
        root=listed.root,
        members=listed.members,
        findings=listed.findings,
        truncated=listed.truncated,
        sources=listed.sources,
        refused=listed.refused,
        limits=limits,
        zip_file=listed.zip_file,
        handle=listed.handle,
        tempdir=listed.tempdir,
        decompressed=listed.decompressed,
    )
