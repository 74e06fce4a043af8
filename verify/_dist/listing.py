"""Listing an archive's members, whatever the container: the member model and the limits,
path safety, duplicate names, the sdist root, and the ``archive-*`` findings.

A reader (:mod:`~verify._dist.zipread`, :mod:`~verify._dist.tarread`) adds each member to a
:class:`Listing` as it meets it and hands back a :class:`Listed`, which
:func:`~verify._dist.archive.open_archive` turns into an :class:`~verify._dist.archive.Archive`.
"""

from __future__ import annotations

import enum
import lzma
import re
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeAlias

from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.models import Finding

__all__ = [
    "DECODE_ERRORS",
    "DEFAULT_LIMITS",
    "MIB",
    "ArchiveLimits",
    "Entry",
    "Listed",
    "Listing",
    "Member",
    "MemberKind",
    "Source",
    "Spooled",
    "describe_error",
    "escaped",
]

MIB = 1024 * 1024

#: Every exception the standard library's archive and compression modules raise for bad input.
DECODE_ERRORS: tuple[type[Exception], ...] = (
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
    max_member_size: int = 256 * MIB
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
class Spooled:
    """A tar member's bytes in the private temporary directory."""

    file: Path
    size: int


Source: TypeAlias = zipfile.ZipInfo | bytes | Spooled


@dataclass(frozen=True, slots=True)
class Listed:
    """What a reader found in one archive: its members, findings and readable sources, and
    what the :class:`~verify._dist.archive.Archive` must release when it is closed."""

    #: ``wheel``, ``zip`` (a zip sdist, or an egg) or ``tar``.
    format: str
    root: str | None
    members: tuple[Member, ...]
    findings: tuple[Finding, ...]
    truncated: bool
    sources: dict[str, Source]
    refused: dict[str, str]
    zip_file: zipfile.ZipFile | None = None
    handle: BinaryIO | None = None
    tempdir: Path | None = None
    decompressed: int = 0


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
class Entry:
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
    source: Source | None = None


class Listing:
    """The members of one archive and what is wrong with them, in archive order."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.truncated = False
        self._findings: list[tuple[Entry | None, str, str]] = []
        self._first: dict[str, Entry] = {}
        self._copies: dict[str, list[Entry]] = {}

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
    ) -> Entry:
        """List a member stored as ``raw_name`` that extractors would write as ``name``."""
        path, problem = _check_path(name, kind)
        entry = Entry(
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

    def flag(self, entry: Entry | None, rule: str, message: str) -> None:
        """Report ``rule`` for ``entry`` (or the whole archive); a flagged member is not read."""
        self._findings.append((entry, rule, message))
        if entry is not None:
            self.refuse(entry, message)

    def refuse(self, entry: Entry, reason: str) -> None:
        """Make ``entry`` unreadable without a finding (the first reason is kept)."""
        if entry.refusal is None:
            entry.refusal = reason

    def stop(self, message: str, entry: Entry | None = None) -> None:
        """The listing ends here, at a limit."""
        self.truncated = True
        self.flag(entry, "archive-bomb", message)

    def _note_duplicate(self, entry: Entry) -> None:
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
    ) -> tuple[str | None, tuple[Member, ...], tuple[Finding, ...], dict[str, Source]]:
        """Strip the root, then build the members, findings and readable sources."""
        for path, copies in self._copies.items():
            self._findings.append(
                (
                    copies[0],
                    "archive-duplicate-entry",
                    f"{escaped(path)} appears {len(copies)} times; installers and scanners "
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


def _common_root(entries: list[Entry]) -> str | None:
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


def escaped(text: str, limit: int = 200) -> str:
    """``text`` on one line, with control characters and lone surrogates escaped."""
    shown = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= limit else shown[:limit] + "..."


def describe_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return escaped(text)
