"""A hardened offline OSV database as a source of known vulnerabilities.

:class:`OsvOfflineService` reads a directory of OSV JSON records or a ``.zip`` of them (the
layout of OSV's per-ecosystem ``all.zip``: one record per file), and evaluates the affected
ranges itself (:mod:`verify._vulnerabilities.ranges`). The archive is treated as hostile until
proven otherwise: member names, symlinks, member counts and sizes are checked before anything is
extracted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import stat
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final, TypeAlias

from packaging.utils import NormalizedName, canonicalize_name

from verify._vulnerabilities.fields import short
from verify._vulnerabilities.interface import VulnerabilitySourceError
from verify._vulnerabilities.pip_audit_boundary import PipAuditOsvService
from verify._vulnerabilities.ranges import affects, parse_version, pypi_packages
from verify._vulnerabilities.records import OsvRecord, record_problem
from verify.errors import InvalidInputError

__all__ = ["MAX_RECORD_BYTES", "MAX_TOTAL_BYTES", "MAX_ZIP_MEMBERS", "OsvOfflineService"]

logger = logging.getLogger(__name__)

#: An offline database with more members (zip) or ``*.json`` files (directory) is refused.
MAX_ZIP_MEMBERS: Final = 1_000_000
#: An offline database whose records add up to more bytes (uncompressed) is refused.
MAX_TOTAL_BYTES: Final = 2 * 1024 * 1024 * 1024
#: A single record larger than this is skipped; real records are a few KiB.
MAX_RECORD_BYTES: Final = 16 * 1024 * 1024
#: How many skipped records are named one by one in the log.
_NAMED_SKIPS = 10


_Member: TypeAlias = zipfile.ZipInfo | Path


class OsvOfflineService(PipAuditOsvService):
    """OSV records from a directory (``*.json``, recursively) or a ``.zip`` (OSV's ``all.zip``).

    The records are indexed by normalized package name on first use (or by :meth:`load`),
    once; queries then read only the records naming the package. Unreadable or malformed
    records are skipped with a warning; an archive that looks hostile (unsafe member names,
    symlinks, more than ``max_members`` members or ``max_total_bytes`` uncompressed) is refused
    with :class:`~verify.errors.InvalidInputError`. Safe to share between threads.
    """

    def __init__(
        self,
        source: Path | str,
        *,
        max_members: int = MAX_ZIP_MEMBERS,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_record_bytes: int = MAX_RECORD_BYTES,
    ) -> None:
        self.source = Path(source)
        if self.source.is_dir():
            self._is_zip = False
        elif self.source.is_file():
            self._is_zip = True
        else:
            raise InvalidInputError(
                "no such OSV database (a directory of OSV JSON records or a .zip of them)",
                path=self.source,
            )
        self.max_members = max_members
        self.max_total_bytes = max_total_bytes
        self.max_record_bytes = max_record_bytes
        #: Records indexed, and records skipped as unreadable, after :meth:`load`.
        self.indexed = 0
        self.skipped = 0
        self._lock = threading.Lock()
        self._zip_lock = threading.Lock()
        self._zip: zipfile.ZipFile | None = None
        self._index: dict[NormalizedName, tuple[_Member, ...]] | None = None

    def __repr__(self) -> str:
        return f"OsvOfflineService({str(self.source)!r})"

    def load(self) -> None:
        """Index the database now (it is otherwise indexed on first use); idempotent."""
        self._loaded()

    def prepare(self) -> None:
        """See :class:`~verify._vulnerabilities.interface.VulnerabilitySource`: :meth:`load`."""
        self.load()

    def records_for(self, name: str, version: str) -> list[OsvRecord]:
        """See :class:`~verify._vulnerabilities.records.OsvRecordSource`; evaluates the
        affected ranges here."""
        normalized = canonicalize_name(name)
        parsed = parse_version(version)
        found: list[OsvRecord] = []
        for member in self._loaded().get(normalized, ()):
            try:
                record = self._record(member)
            except _Unreadable as exc:
                # It was readable when indexed: skipping it now could hide a vulnerability.
                raise VulnerabilitySourceError(
                    f"{self.source}: the OSV record {_member_name(member)} "
                    f"can no longer be read: {exc}"
                ) from exc
            if record is not None and affects(record, normalized, version, parsed):
                found.append(record)
        return found

    def close(self) -> None:
        """Close the archive, if one is open."""
        with self._zip_lock:
            if self._zip is not None:
                self._zip.close()
                self._zip = None
            self._index = None

    def __enter__(self) -> OsvOfflineService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Indexing.

    def _loaded(self) -> dict[NormalizedName, tuple[_Member, ...]]:
        index = self._index
        if index is not None:
            return index
        with self._lock:
            if self._index is None:
                members = self._zip_members() if self._is_zip else self._dir_members()
                self._index = self._build_index(members)
            return self._index

    def _build_index(self, members: Iterable[_Member]) -> dict[NormalizedName, tuple[_Member, ...]]:
        index: dict[NormalizedName, list[_Member]] = {}
        self.indexed = self.skipped = 0
        for member in members:
            try:
                record = self._record(member)
            except _Unreadable as exc:
                self.skipped += 1
                if self.skipped <= _NAMED_SKIPS:
                    logger.warning("%s: skipping %s: %s", self.source, _member_name(member), exc)
                continue
            if record is None:
                continue
            self.indexed += 1
            for package in dict.fromkeys(pypi_packages(record)):
                index.setdefault(package, []).append(member)
        if self.skipped > _NAMED_SKIPS:
            logger.warning(
                "%s: skipped %d more unreadable OSV records",
                self.source,
                self.skipped - _NAMED_SKIPS,
            )
        logger.debug("%s: indexed %d OSV records", self.source, self.indexed)
        return {name: tuple(found) for name, found in index.items()}

    def _refuse(self, message: str) -> InvalidInputError:
        return InvalidInputError(
            message, path=self.source, hint="use OSV's all.zip for PyPI, or a directory of records"
        )

    def _dir_members(self) -> Iterator[Path]:
        count = 0
        total = 0
        for root, dirs, files in os.walk(self.source, followlinks=False):
            dirs.sort()
            for filename in sorted(files):
                if not filename.lower().endswith(".json"):
                    continue
                count += 1
                if count > self.max_members:
                    raise self._refuse(f"holds more than {self.max_members} JSON files")
                path = Path(root, filename)
                with contextlib.suppress(OSError):  # an unreadable file is reported when read
                    total += path.stat().st_size
                if total > self.max_total_bytes:
                    raise self._refuse(f"holds more than {self.max_total_bytes} bytes of JSON")
                yield path

    def _zip_members(self) -> list[zipfile.ZipInfo]:
        try:
            declared = _declared_zip_entries(self.source)
        except OSError as exc:
            raise self._refuse(f"cannot read the archive: {exc.strerror or exc}") from exc
        if declared is not None and declared > self.max_members:
            raise self._refuse(f"the archive declares {declared} members, over {self.max_members}")
        try:
            archive = zipfile.ZipFile(self.source)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise self._refuse(f"not a readable zip archive ({exc})") from exc
        try:
            infos = archive.infolist()
            if len(infos) > self.max_members:
                raise self._refuse(f"the archive has {len(infos)} members, over {self.max_members}")
            total = sum(info.file_size for info in infos)
            if total > self.max_total_bytes:
                raise self._refuse(
                    f"the archive would expand to {total} bytes, over {self.max_total_bytes}"
                )
            for info in infos:
                problem = _unsafe_member(info)
                if problem:
                    raise self._refuse(f"unsafe archive member {info.filename!r}: {problem}")
        except BaseException:
            archive.close()
            raise
        with self._zip_lock:
            self._zip = archive
        return [i for i in infos if not i.is_dir() and i.filename.lower().endswith(".json")]

    # Reading one record.

    def _record(self, member: _Member) -> OsvRecord | None:
        """The record in ``member``; ``None`` if withdrawn; :class:`_Unreadable` if unusable."""
        data = self._read(member)
        try:
            decoded: object = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise _Unreadable(f"not valid JSON ({short(exc)})") from exc
        problem = record_problem(decoded)
        if problem is not None:
            raise _Unreadable(problem)
        assert isinstance(decoded, dict)  # noqa: S101  (checked by _record_problem)
        record: OsvRecord = decoded
        if record.get("withdrawn") is not None:
            logger.debug("%s: OSV record %s is withdrawn", self.source, record["id"])
            return None
        return record

    def _read(self, member: _Member) -> bytes:
        limit = self.max_record_bytes
        if isinstance(member, Path):
            try:
                if not stat.S_ISREG(member.stat().st_mode):  # a FIFO would block the read
                    raise _Unreadable("not a regular file")
                with member.open("rb") as handle:
                    data = handle.read(limit + 1)
            except OSError as exc:
                raise _Unreadable(f"cannot read it ({exc.strerror or exc})") from exc
            if len(data) > limit:
                raise _Unreadable(f"larger than {limit} bytes")
            return data
        if member.flag_bits & 0x1:
            raise _Unreadable("encrypted")
        if member.file_size > limit:
            raise _Unreadable(f"larger than {limit} bytes")
        try:
            with self._zip_lock:
                if self._zip is None:
                    raise _Unreadable("the archive is closed")
                with self._zip.open(member) as handle:
                    data = handle.read(member.file_size + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            raise _Unreadable(f"cannot extract it ({short(exc)})") from exc
        except zlib.error as exc:
            raise _Unreadable(f"cannot extract it ({short(exc)})") from exc
        if len(data) > member.file_size:
            raise _Unreadable("larger than the archive says")
        return data


class _Unreadable(Exception):
    """A record that cannot be read; the message says why."""


def _member_name(member: _Member) -> str:
    return member.filename if isinstance(member, zipfile.ZipInfo) else str(member)


_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if not name or "\x00" in name:
        return "empty or NUL in the name"
    if "\\" in name:
        return "backslash in the name"
    if name.startswith("/") or _DRIVE.match(name):
        return "absolute path"
    if ".." in name.split("/"):
        return "parent-directory component"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link"
    return None


_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def _declared_zip_entries(path: Path) -> int | None:
    """The member count the end records of the archive declare, read before parsing it.

    Lets a hostile archive be refused before :mod:`zipfile` builds an object per member.
    ``None`` when the end records cannot be found (:mod:`zipfile` then judges the file).
    """
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        tail_size = min(size, _EOCD.size + 0xFFFF + _ZIP64_LOCATOR.size)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(tail):
            return None
        entries = int(_EOCD.unpack_from(tail, at)[4])
        if entries != 0xFFFF:
            return entries
        if at < _ZIP64_LOCATOR.size:
            return None
        signature, _disk, offset, _disks = _ZIP64_LOCATOR.unpack_from(
            tail, at - _ZIP64_LOCATOR.size
        )
        if signature != b"PK\x06\x07" or offset >= size:
            return None
        handle.seek(offset)
        record = handle.read(_ZIP64_EOCD.size)
        if len(record) != _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
            return None
        return int(_ZIP64_EOCD.unpack(record)[7])
