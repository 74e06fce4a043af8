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
"""

from __future__ import annotations

import bz2
import collections
import contextlib
import enum
import gzip
import io
import lzma
import os
import re
import shutil
import stat
import struct
import tarfile
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, BinaryIO, Protocol, TypeAlias

from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.errors import ArchiveError
from verify.models import Finding

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["DEFAULT_LIMITS", "Archive", "ArchiveLimits", "Member", "MemberKind", "open_archive"]

_MIB = 1024 * 1024
#: ``max_ratio`` applies above this size: small text files legitimately compress very well.
_RATIO_FLOOR = _MIB
#: Tar members up to this size are kept in memory, while the total kept there stays within
#: ``_MEMORY_BUDGET``; everything else goes to the temporary directory.
_IN_MEMORY_MAX = _MIB
_MEMORY_BUDGET = 64 * _MIB
#: Extended header data (pax records, GNU long names) tarfile may read for one member. tarfile
#: holds it in memory whole, so a header declaring gigabytes would otherwise be read.
_MAX_HEADER_BYTES = _MIB
#: Bytes read past a tar's end-of-archive marker, so that the compression layer checks its own
#: trailer (gzip's CRC and length) without letting padding cost unbounded work.
_TAIL_SLACK = _MIB
#: A zip symbolic link's target is its data; longer "targets" are not read.
_MAX_LINK_TARGET = 4096
_CHUNK = _MIB

#: Every exception the standard library's archive and compression modules raise for bad input.
_DECODE_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # includes gzip.BadGzipFile and bz2's "Invalid data stream"
    EOFError,
    ValueError,
    RuntimeError,  # includes RecursionError on chained pax headers, zipfile's "encrypted"
    NotImplementedError,
    OverflowError,
    struct.error,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
)


class MemberKind(str, enum.Enum):
    """What an archive member is."""

    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    #: A device file, FIFO or socket.
    SPECIAL = "special"


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """How much one archive may cost to read; beyond these it is reported as a bomb."""

    #: Members listed; more stop the listing (``Archive.truncated``).
    max_members: int = 50_000
    #: Uncompressed bytes decompressed from one archive, in total.
    max_total_size: int = 2 * 1024**3
    #: Uncompressed bytes of one member.
    max_member_size: int = 256 * _MIB
    #: Uncompressed size over compressed size, enforced for members larger than 1 MiB.
    max_ratio: int = 1000

    def __post_init__(self) -> None:
        for name in ("max_members", "max_total_size", "max_member_size", "max_ratio"):
            if getattr(self, name) < 1:
                raise ValueError(f"ArchiveLimits.{name} must be positive")


DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True, slots=True)
class Member:
    """One archive member, as listed (whether or not it is safe to read)."""

    #: Normalized relative POSIX path; an sdist's top-level directory is stripped. For a member
    #: with an unsafe path, the raw name.
    path: str
    #: Uncompressed size, as declared.
    size: int
    kind: MemberKind
    #: Zip only.
    compressed_size: int | None = None
    #: Zip only.
    crc32: int | None = None
    link_target: str | None = None
    #: The name exactly as stored.
    raw_name: str = ""


@dataclass(frozen=True, slots=True)
class _Spooled:
    """A tar member's bytes in the private temporary directory."""

    file: Path
    size: int


_Source: TypeAlias = zipfile.ZipInfo | bytes | _Spooled


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
        sources: dict[str, _Source],
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
            if isinstance(source, _Spooled):
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
        except _DECODE_ERRORS as exc:
            raise self._error(f"member {path!r} is corrupt: {_describe(exc)}") from exc
        finally:
            # Count what was attempted: a failing read still cost the decompression.
            self._decompressed += size
        if len(data) != size:
            raise self._error(
                f"member {path!r} is corrupt: it holds {len(data)} bytes, "
                f"not the {size} the archive declares"
            )
        return data

    def _read_spooled(self, path: str, spooled: _Spooled) -> bytes:
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
        archive = _open_zip(path, "zip", limits)
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
        return _TarPass(path, compression, limits).run()
    return _open_zip(path, archive_format, limits)


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


# --- Listing: path safety, duplicates, the sdist root, findings ------------------------------


_DRIVE = re.compile(r"[A-Za-z]:")


def _check_path(name: str, kind: MemberKind) -> tuple[str | None, str | None]:
    """The normalized path of ``name``, or ``None`` and why extracting it would be unsafe."""
    # A backslash is an ordinary character on POSIX, so "pkg\\mod.py" stays as it is; it only
    # matters where Windows would read it as a separator that escapes the target directory.
    if name.startswith(("/", "\\")):
        return None, "absolute path"
    if _DRIVE.match(name):
        return None, "path with a Windows drive letter"
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if any(".." in part.split("\\") for part in parts):
        return None, "path that climbs out of the archive with '..'"
    path = "/".join(parts) or "."
    if path == "." and kind is not MemberKind.DIRECTORY:
        return None, "empty path"
    return path, None


@dataclass(slots=True)
class _Entry:
    """A member while the listing is built (its path changes when the root is stripped)."""

    raw_name: str
    path: str
    safe: bool
    kind: MemberKind
    size: int
    compressed_size: int | None = None
    crc32: int | None = None
    link_target: str | None = None
    #: Why the member will not be read; ``None`` if it is a readable regular file.
    refusal: str | None = None
    source: _Source | None = None


class _Listing:
    """The members of one archive and what is wrong with them, in archive order."""

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self.truncated = False
        self._findings: list[tuple[_Entry | None, str, str]] = []
        self._first: dict[str, _Entry] = {}
        self._copies: dict[str, list[_Entry]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def add(
        self,
        raw_name: str,
        name: str,
        kind: MemberKind,
        size: int,
        *,
        compressed_size: int | None = None,
        crc32: int | None = None,
        link_target: str | None = None,
    ) -> _Entry:
        """List a member stored as ``raw_name`` that extractors would write as ``name``."""
        path, problem = _check_path(name, kind)
        entry = _Entry(
            raw_name=raw_name,
            path=raw_name if path is None else path,
            safe=path is not None,
            kind=kind,
            size=size,
            compressed_size=compressed_size,
            crc32=crc32,
            link_target=link_target,
        )
        self.entries.append(entry)
        if problem is not None:
            self.flag(entry, "archive-unsafe-path", f"{problem} (not extracted or read)")
        else:
            self._note_duplicate(entry)
        return entry

    def flag(self, entry: _Entry | None, rule: str, message: str) -> None:
        """Report ``rule`` for ``entry`` (or the whole archive); a flagged member is not read."""
        self._findings.append((entry, rule, message))
        if entry is not None:
            self.refuse(entry, message)

    def refuse(self, entry: _Entry, reason: str) -> None:
        """Make ``entry`` unreadable without a finding (the first reason is kept)."""
        if entry.refusal is None:
            entry.refusal = reason

    def stop(self, message: str, entry: _Entry | None = None) -> None:
        """The listing ends here, at a limit."""
        self.truncated = True
        self.flag(entry, "archive-bomb", message)

    def _note_duplicate(self, entry: _Entry) -> None:
        first = self._first.setdefault(entry.path, entry)
        if first is entry:
            return
        if first.kind is MemberKind.DIRECTORY and entry.kind is MemberKind.DIRECTORY:
            return  # harmless: both create the same directory
        copies = self._copies.setdefault(entry.path, [first])
        copies.append(entry)
        for copy in copies:
            self.refuse(copy, "ambiguous: the path appears more than once in the archive")

    def finish(
        self, *, strip_root: bool
    ) -> tuple[str | None, tuple[Member, ...], tuple[Finding, ...], dict[str, _Source]]:
        """Strip the root, then build the members, findings and readable sources."""
        for path, copies in self._copies.items():
            self._findings.append(
                (
                    copies[0],
                    "archive-duplicate-entry",
                    f"{_printable(path)} appears {len(copies)} times; installers and scanners "
                    "may read different copies (not read)",
                )
            )
        root = _common_root(self.entries) if strip_root else None
        if root is not None:
            for entry in self.entries:
                if entry.safe:
                    entry.path = "." if entry.path == root else entry.path[len(root) + 1 :]
        members = tuple(
            Member(
                path=entry.path,
                size=entry.size,
                kind=entry.kind,
                compressed_size=entry.compressed_size,
                crc32=entry.crc32,
                link_target=entry.link_target,
                raw_name=entry.raw_name,
            )
            for entry in self.entries
        )
        findings = tuple(
            Finding(
                rule=rule,
                severity=BEHAVIOUR_RULES[rule].severity,
                message=message,
                path=None if entry is None else entry.path,
            )
            for entry, rule, message in self._findings
        )
        sources = {
            entry.path: entry.source
            for entry in self.entries
            if entry.kind is MemberKind.FILE and entry.refusal is None and entry.source is not None
        }
        return root, members, findings, sources

    def refused(self) -> dict[str, str]:
        """Why each unreadable member path is unreadable (call after :meth:`finish`)."""
        refused: dict[str, str] = {}
        for entry in self.entries:
            if entry.refusal is not None:
                refused.setdefault(entry.path, entry.refusal)
        return refused


def _common_root(entries: list[_Entry]) -> str | None:
    """The single top-level directory every safe member lives in, if there is one."""
    # Unsafe members keep their raw names and are reported anyway: one "../x" must not stop
    # the sdist's own files from being found at their usual paths.
    paths = [(entry.path, entry.kind) for entry in entries if entry.safe and entry.path != "."]
    if not paths:
        return None
    top = paths[0][0].split("/", 1)[0]
    for path, kind in paths:
        if path == top:
            if kind is not MemberKind.DIRECTORY:
                return None
        elif not path.startswith(top + "/"):
            return None
    return top


def _printable(text: str, limit: int = 200) -> str:
    """``text`` on one line, with control characters and lone surrogates escaped."""
    shown = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= limit else shown[:limit] + "..."


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return _printable(text)


# --- Zip -------------------------------------------------------------------------------------

_END = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_LOCAL_SIGNATURE = b"PK\x03\x04"

_SPECIAL_NAMES = {
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
}


@dataclass(frozen=True, slots=True)
class _CentralDirectory:
    #: Where the first record is in the file.
    start: int
    size: int
    #: The offset the end record declares (``start`` less any data prepended to the zip).
    offset: int


def _open_zip(path: Path, archive_format: str, limits: ArchiveLimits) -> Archive:
    handle = path.open("rb")
    try:
        return _list_zip(path, archive_format, limits, handle)
    except BaseException:
        handle.close()
        raise


def _list_zip(path: Path, archive_format: str, limits: ArchiveLimits, handle: BinaryIO) -> Archive:
    # zipfile builds an object for every central directory record before we see any of them,
    # so a directory with millions of records would cost seconds and hundreds of MiB. When
    # there are more than the limit, zipfile is shown a view that ends after the first ones.
    try:
        directory = _find_central_directory(handle)
        kept = None if directory is None else _records_within(handle, directory, limits.max_members)
        source: IO[bytes] = handle
        if directory is not None and kept is not None:
            view = _CutZip(handle, directory.start + kept, _end_records(directory, kept, limits))
            source = io.BufferedReader(view)
        zip_file = zipfile.ZipFile(source)
    except _DECODE_ERRORS as exc:
        raise ArchiveError(_zip_failure(handle, exc), path=path) from exc
    try:
        listing = _Listing()
        infos = zip_file.infolist()
        decompressed = 0
        for info in infos[: limits.max_members]:
            decompressed += _list_zip_member(listing, zip_file, info, limits, decompressed)
        if kept is not None or len(infos) > limits.max_members:
            listing.stop(
                f"more than {limits.max_members} members (listing stopped; the rest was not read)"
            )
        # An egg is an installed layout (packages beside EGG-INFO/), not an sdist: no root.
        is_sdist = archive_format == "zip" and not path.name.lower().endswith(".egg")
        root, members, findings, sources = listing.finish(strip_root=is_sdist)
    except BaseException:
        zip_file.close()
        raise
    return Archive(
        path,
        archive_format,
        root=root,
        members=members,
        findings=findings,
        truncated=listing.truncated,
        sources=sources,
        refused=listing.refused(),
        limits=limits,
        zip_file=zip_file,
        handle=handle,
        decompressed=decompressed,
    )


def _list_zip_member(
    listing: _Listing,
    zip_file: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: ArchiveLimits,
    decompressed: int,
) -> int:
    """List ``info``; return the bytes decompressed to do so (a symbolic link's target)."""
    mode = info.external_attr >> 16
    file_type = stat.S_IFMT(mode)
    # Extractors (zipfile, pip, installer) decide "directory" by the trailing slash alone, and
    # write any other entry as a file whatever its mode says, so that is what is read here.
    if file_type == stat.S_IFLNK:
        kind = MemberKind.SYMLINK
    elif info.is_dir():
        kind = MemberKind.DIRECTORY
    elif file_type in (0, stat.S_IFREG, stat.S_IFDIR):
        kind = MemberKind.FILE
    else:
        kind = MemberKind.SPECIAL
    target, used = None, 0
    if kind is MemberKind.SYMLINK:
        target, used = _zip_link_target(zip_file, info, limits.max_total_size - decompressed)
    entry = listing.add(
        info.orig_filename,
        info.filename,
        kind,
        info.file_size,
        compressed_size=info.compress_size,
        crc32=info.CRC,
        link_target=target,
    )
    if kind is MemberKind.SYMLINK:
        shown = "(target not read)" if target is None else f"to {_printable(target)}"
        listing.flag(entry, "archive-link", f"symbolic link {shown} (not followed)")
    elif kind is MemberKind.SPECIAL:
        name = _SPECIAL_NAMES.get(file_type, f"file of unknown type {file_type:#o}")
        listing.flag(entry, "archive-special-file", f"{name} (not read)")
    elif kind is MemberKind.FILE:
        entry.source = info
        size, compressed = info.file_size, info.compress_size
        if size > limits.max_member_size:
            listing.flag(
                entry,
                "archive-bomb",
                f"declares {size} bytes uncompressed, over the {limits.max_member_size}-byte "
                "member limit (not read)",
            )
        elif size > _RATIO_FLOOR and size / max(compressed, 1) > limits.max_ratio:
            listing.flag(
                entry,
                "archive-bomb",
                f"expands {compressed} bytes to {size} (ratio {size // max(compressed, 1)}:1, "
                f"over {limits.max_ratio}:1; not read)",
            )
        if info.flag_bits & 0x1:
            listing.refuse(entry, "encrypted")
    return used


def _zip_link_target(
    zip_file: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int
) -> tuple[str | None, int]:
    """A zip symbolic link's target (its data), read only when small; and the bytes read."""
    if info.file_size > min(_MAX_LINK_TARGET, budget) or info.flag_bits & 0x1:
        return None, 0
    try:
        with zip_file.open(info) as stream:
            data = stream.read(_MAX_LINK_TARGET + 1)
    except _DECODE_ERRORS:
        return None, info.file_size
    return data.decode("utf-8", "surrogateescape"), len(data)


def _zip_failure(handle: BinaryIO, exc: BaseException) -> str:
    with contextlib.suppress(OSError):
        handle.seek(0)
        if handle.read(4) == _LOCAL_SIGNATURE:
            return (
                "truncated or corrupt zip archive: its central directory cannot be read "
                f"({_describe(exc)})"
            )
    return f"not a zip archive ({_describe(exc)})"


def _find_central_directory(handle: BinaryIO) -> _CentralDirectory | None:
    """Where zipfile will look for the central directory, found the way it finds it.

    ``None`` when there is no end record (zipfile then reports the damage itself).
    """
    size = handle.seek(0, os.SEEK_END)
    if size < _END.size:
        return None
    tail_start = max(size - 0xFFFF - _END.size, 0)
    handle.seek(tail_start)
    tail = handle.read()
    # zipfile first tries a record with no comment at the very end, then the last signature.
    at = len(tail) - _END.size
    if not (tail[at : at + 4] == _END_SIGNATURE and tail[-2:] == b"\0\0"):
        at = tail.rfind(_END_SIGNATURE)
        if at < 0 or at + _END.size > len(tail):
            return None
    location = tail_start + at
    fields = _END.unpack_from(tail, at)
    cd_size, cd_offset, zip64_bytes = int(fields[5]), int(fields[6]), 0
    if location >= _ZIP64_LOCATOR.size + _ZIP64_END.size:
        handle.seek(location - _ZIP64_LOCATOR.size - _ZIP64_END.size)
        records = handle.read(_ZIP64_END.size + _ZIP64_LOCATOR.size)
        if (
            records[_ZIP64_END.size : _ZIP64_END.size + 4] == _ZIP64_LOCATOR_SIGNATURE
            and records[:4] == _ZIP64_END_SIGNATURE
        ):
            zip64 = _ZIP64_END.unpack_from(records)
            cd_size, cd_offset = int(zip64[8]), int(zip64[9])
            zip64_bytes = _ZIP64_END.size + _ZIP64_LOCATOR.size
    start = location - cd_size - zip64_bytes
    if start < 0:
        return None
    return _CentralDirectory(start=start, size=cd_size, offset=cd_offset)


def _records_within(handle: BinaryIO, directory: _CentralDirectory, count: int) -> int | None:
    """The byte length of the first ``count`` records, if the directory holds more than that."""
    if directory.size < (count + 1) * _CENTRAL.size:
        return None  # too small to hold more records: the common case costs no reading
    handle.seek(directory.start)
    used = 0
    for _ in range(count):
        header = handle.read(_CENTRAL.size)
        if len(header) < _CENTRAL.size or header[:4] != _CENTRAL_SIGNATURE:
            return None  # damaged: let zipfile say so
        fields = _CENTRAL.unpack(header)
        variable = int(fields[12]) + int(fields[13]) + int(fields[14])
        handle.seek(variable, os.SEEK_CUR)
        used += _CENTRAL.size + variable
        if used >= directory.size:
            return None
    return used


def _end_records(directory: _CentralDirectory, kept: int, limits: ArchiveLimits) -> bytes:
    """Zip64 and classic end records that describe only the first ``kept`` directory bytes.

    The zip64 records are always written so that the bytes before the classic record are ours,
    not the tail of an attacker's last directory record.
    """
    count = limits.max_members
    return (
        _ZIP64_END.pack(
            _ZIP64_END_SIGNATURE,
            _ZIP64_END.size - 12,
            45,
            45,
            0,
            0,
            count,
            count,
            kept,
            directory.offset,
        )
        + _ZIP64_LOCATOR.pack(_ZIP64_LOCATOR_SIGNATURE, 0, directory.offset + kept, 1)
        + _END.pack(
            _END_SIGNATURE,
            0,
            0,
            min(count, 0xFFFF),
            min(count, 0xFFFF),
            min(kept, 0xFFFFFFFF),
            min(directory.offset, 0xFFFFFFFF),
            0,
        )
    )


class _CutZip(io.RawIOBase):
    """The first ``cut`` bytes of a zip file followed by ``tail``: a zip with fewer records."""

    def __init__(self, raw: BinaryIO, cut: int, tail: bytes) -> None:
        super().__init__()
        self._raw = raw
        self._cut = cut
        self._tail = tail
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            position = offset
        elif whence == os.SEEK_CUR:
            position = self._pos + offset
        elif whence == os.SEEK_END:
            position = self._cut + len(self._tail) + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if position < 0:
            raise OSError("negative seek position")
        self._pos = position
        return position

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if self._pos < self._cut:
                self._raw.seek(self._pos)
                data = self._raw.read(min(len(view) - filled, self._cut - self._pos))
            else:
                start = self._pos - self._cut
                data = self._tail[start : start + len(view) - filled]
            if not data:
                break
            view[filled : filled + len(data)] = data
            filled += len(data)
            self._pos += len(data)
        return filled


# --- Tar -------------------------------------------------------------------------------------


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class _LimitReached(Exception):
    """The tar stream went past a limit; the message says which."""


class _Tap:
    """The decompressed tar stream as tarfile reads it.

    Counts the bytes, stops at ``limit`` and at a ``ceiling`` set around each header read, and
    keeps the last few blocks so that the end-of-archive marker can be checked afterwards.
    """

    _WINDOW = 64 * 1024

    def __init__(self, stream: _Readable, limit: int) -> None:
        self.pos = 0
        self.ceiling: int | None = None
        #: Why reading stopped at a limit, once it has.
        self.stopped: str | None = None
        self._stream = stream
        self._limit = limit
        self._recent: collections.deque[tuple[int, bytes]] = collections.deque()
        self._recent_size = 0

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            size = _CHUNK
        if self.pos >= self._limit:
            self.stopped = f"more than {self._limit} bytes uncompressed"
        elif self.ceiling is not None and self.pos >= self.ceiling:
            self.stopped = (
                f"a member header holds more than {_MAX_HEADER_BYTES} bytes of extended data"
            )
        if self.stopped is not None:
            raise _LimitReached(self.stopped)
        data = self._stream.read(size)
        if data:
            self._recent.append((self.pos, data))
            self._recent_size += len(data)
            while self._recent_size - len(self._recent[0][1]) >= self._WINDOW:
                self._recent_size -= len(self._recent.popleft()[1])
            self.pos += len(data)
        return data

    def drain(self, until: int) -> None:
        """Read on to ``until`` or the end of the stream, whichever comes first."""
        while self.pos < until and self.read(min(_CHUNK, until - self.pos)):
            pass

    def recent(self, offset: int, size: int) -> bytes:
        """The bytes at ``offset``, if they are still in the window (fewer at the end)."""
        parts = []
        for start, data in self._recent:
            if start + len(data) > offset and start < offset + size:
                parts.append(data[max(offset - start, 0) : offset + size - start])
        return b"".join(parts)

    # tarfile's file-object protocol; a stream opened with mode "r|" only ever reads.
    def write(self, data: bytes, /) -> int:
        raise io.UnsupportedOperation("write")

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, /) -> int:
        raise io.UnsupportedOperation("seek")

    def close(self) -> None:
        self._recent.clear()


def _decompressor(raw: BinaryIO, compression: str) -> _Readable:
    # The stdlib's own readers (rather than tarfile's "r|gz") check the compressed stream's
    # end: a truncated stream raises EOFError and a bad gzip CRC raises, as with pip's reads.
    if compression == "gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "bz2":
        return bz2.BZ2File(raw)
    if compression == "xz":
        return lzma.LZMAFile(raw)
    return raw


_TAR_SPECIAL_NAMES = {
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "FIFO",
}


class _TarPass:
    """One streaming pass over a tar archive, keeping the bytes of its safe regular files."""

    def __init__(self, path: Path, compression: str, limits: ArchiveLimits) -> None:
        self.path = path
        self.compression = compression
        self.limits = limits
        self.listing = _Listing()
        self.tempdir: Path | None = None
        self._current: _Entry | None = None
        self._kept = 0
        self._in_memory = 0
        self._spooled = 0

    def run(self) -> Archive:
        try:
            with contextlib.ExitStack() as stack:
                raw = stack.enter_context(self.path.open("rb"))
                stream = _decompressor(raw, self.compression)
                stack.callback(stream.close)
                tap = _Tap(stream, self.limits.max_total_size + _MAX_HEADER_BYTES + _TAIL_SLACK)
                stack.callback(tap.close)
                self._read(tap)
        except BaseException:
            self._remove_tempdir()
            raise
        root, members, findings, sources = self.listing.finish(strip_root=True)
        return Archive(
            self.path,
            "tar",
            root=root,
            members=members,
            findings=findings,
            truncated=self.listing.truncated,
            sources=sources,
            refused=self.listing.refused(),
            limits=self.limits,
            tempdir=self.tempdir,
        )

    def _read(self, tap: _Tap) -> None:
        try:
            # tarfile reads the first header while opening.
            tap.ceiling = _MAX_HEADER_BYTES
            with tarfile.open(fileobj=tap, mode="r|") as tar:
                if self._members(tar, tap):
                    self._check_end(tar, tap)
        except _LimitReached as exc:
            self._stop(str(exc))
        except _DECODE_ERRORS as exc:
            if tap.stopped is not None:  # tarfile wrapped our _LimitReached in its own error
                self._stop(tap.stopped)
                return
            raise ArchiveError(self._failure(exc), path=self.path) from exc

    def _members(self, tar: tarfile.TarFile, tap: _Tap) -> bool:
        """List every member; ``False`` if the listing stopped at a limit."""
        limits = self.limits
        while True:
            tap.ceiling = tar.offset + _MAX_HEADER_BYTES
            info = tar.next()
            tap.ceiling = None
            if info is None:
                return True
            if len(self.listing) >= limits.max_members:
                self._stop(f"more than {limits.max_members} members")
                return False
            entry = self._current = self._add(info)
            if entry.kind is MemberKind.FILE and info.size > limits.max_member_size:
                self.listing.flag(
                    entry,
                    "archive-bomb",
                    f"declares {info.size} bytes uncompressed, over the "
                    f"{limits.max_member_size}-byte member limit (not read)",
                )
            # tar.offset is where the next header starts: reaching it decompresses this
            # member's data even when it is not kept, so check before doing that work.
            if tar.offset > limits.max_total_size or (
                entry.refusal is None and self._kept + info.size > limits.max_total_size
            ):
                self._stop(f"more than {limits.max_total_size} bytes uncompressed in total", entry)
                return False
            if entry.kind is MemberKind.FILE and entry.refusal is None:
                self._keep(tar, info, entry)
            self._current = None

    def _add(self, info: tarfile.TarInfo) -> _Entry:
        if info.issym():
            kind = MemberKind.SYMLINK
        elif info.islnk():
            kind = MemberKind.HARDLINK
        elif info.isdir():
            kind = MemberKind.DIRECTORY
        elif info.ischr() or info.isblk() or info.isfifo():
            kind = MemberKind.SPECIAL
        else:
            # Regular, contiguous and sparse files, and types tarfile does not know, which it
            # (and so pip) extracts as regular files.
            kind = MemberKind.FILE
        links = (MemberKind.SYMLINK, MemberKind.HARDLINK)
        entry = self.listing.add(
            info.name,
            info.name,
            kind,
            info.size,
            link_target=info.linkname if kind in links else None,
        )
        if kind in links:
            what = "symbolic link" if kind is MemberKind.SYMLINK else "hard link"
            self.listing.flag(
                entry, "archive-link", f"{what} to {_printable(info.linkname)} (not followed)"
            )
        elif kind is MemberKind.SPECIAL:
            what = _TAR_SPECIAL_NAMES.get(info.type, "special file")
            self.listing.flag(entry, "archive-special-file", f"{what} (not read)")
        return entry

    def _keep(self, tar: tarfile.TarFile, info: tarfile.TarInfo, entry: _Entry) -> None:
        stream = tar.extractfile(info)
        if stream is None:  # pragma: no cover - tarfile returns a stream for every file type
            self.listing.refuse(entry, "tarfile cannot read its data")
            return
        size = info.size
        with stream:
            if size <= _IN_MEMORY_MAX and self._in_memory + size <= _MEMORY_BUDGET:
                data = stream.read(size)
                self._check_size(len(data), size)
                entry.source = data
                self._in_memory += size
            else:
                file = self._spool_file()
                written = 0
                with file.open("xb") as out:  # "x": never follow or reuse a planted file
                    while chunk := stream.read(min(_CHUNK, size - written)):
                        out.write(chunk)
                        written += len(chunk)
                self._check_size(written, size)
                entry.source = _Spooled(file, size)
        self._kept += size

    @staticmethod
    def _check_size(got: int, declared: int) -> None:
        if got != declared:
            raise tarfile.ReadError("unexpected end of data")

    def _spool_file(self) -> Path:
        if self.tempdir is None:
            self.tempdir = Path(tempfile.mkdtemp(prefix="pip-verify-archive-"))
        self._spooled += 1
        return self.tempdir / str(self._spooled)

    def _check_end(self, tar: tarfile.TarFile, tap: _Tap) -> None:
        # tarfile ends the listing quietly at the first block that is not a header, including
        # a cut-off block and the end of the data, so the end-of-archive marker (a block of
        # zeros) is checked here.
        end = tar.offset
        tap.drain(end + _TAIL_SLACK)
        block = tap.recent(end, tarfile.BLOCKSIZE)
        if len(block) < tarfile.BLOCKSIZE:
            raise ArchiveError(
                "truncated archive: the tar stream ends without an end-of-archive marker",
                path=self.path,
            )
        if block.count(0) != tarfile.BLOCKSIZE:
            raise ArchiveError(
                f"corrupt tar archive: no valid member header at byte {end} "
                "(the rest was not read)",
                path=self.path,
            )

    def _stop(self, reason: str, entry: _Entry | None = None) -> None:
        current = self._current
        if current is not None and entry is None:
            # Stopped while this member's data was being kept: it is incomplete.
            current.source = None
            self.listing.refuse(current, reason)
            entry = current
        if entry is not None:
            self.listing.refuse(entry, reason)
        self.listing.stop(f"{reason} (listing stopped; the rest was not read)", entry)

    def _failure(self, exc: BaseException) -> str:
        detail = _describe(exc)
        if isinstance(exc, EOFError) or (
            isinstance(exc, tarfile.ReadError)
            and ("unexpected end" in detail or "truncated" in detail)
        ):
            return f"truncated archive: the stream ends early ({detail})"
        return f"not a valid tar archive, or corrupt ({detail})"

    def _remove_tempdir(self) -> None:
        if self.tempdir is not None:
            shutil.rmtree(self.tempdir, ignore_errors=True)
            self.tempdir = None
