"""Listing a zip archive (a wheel, a zip sdist, an egg) without trusting its directory.

zipfile builds an object for every central directory record before anything can look at
them, so a directory that declares more records than the member limit is cut: zipfile is shown
a view of the file that ends after the first records, followed by end records written here.
Members are listed with their declared sizes and checked against the limits; their bytes are
decompressed later, one at a time, by :meth:`~verify._dist.archive.Archive.read`.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from verify._dist.listing import (
    DECODE_ERRORS,
    MIB,
    ArchiveLimits,
    Listed,
    Listing,
    MemberKind,
    describe_error,
    escaped,
)
from verify.errors import ArchiveError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["open_zip"]

#: ``max_ratio`` applies above this size: small text files legitimately compress very well.
_RATIO_FLOOR = MIB
#: A zip symbolic link's target is its data; longer "targets" are not read.
_MAX_LINK_TARGET = 4096

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


def open_zip(path: Path, archive_format: str, limits: ArchiveLimits) -> Listed:
    """List the zip archive at ``path``; the listing keeps the file open for reading."""
    handle = path.open("rb")
    try:
        return _list_zip(path, archive_format, limits, handle)
    except BaseException:
        handle.close()
        raise


def _list_zip(path: Path, archive_format: str, limits: ArchiveLimits, handle: BinaryIO) -> Listed:
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
    except DECODE_ERRORS as exc:
        raise ArchiveError(_zip_failure(handle, exc), path=path) from exc
    try:
        listing = Listing()
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
    return Listed(
        archive_format,
        root=root,
        members=members,
        findings=findings,
        truncated=listing.truncated,
        sources=sources,
        refused=listing.refused(),
        zip_file=zip_file,
        handle=handle,
        decompressed=decompressed,
    )


def _list_zip_member(
    listing: Listing,
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
        shown = "(target not read)" if target is None else f"to {escaped(target)}"
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
    except DECODE_ERRORS:
        return None, info.file_size
    return data.decode("utf-8", "surrogateescape"), len(data)


def _zip_failure(handle: BinaryIO, exc: BaseException) -> str:
    with contextlib.suppress(OSError):
        handle.seek(0)
        if handle.read(4) == _LOCAL_SIGNATURE:
            return (
                "truncated or corrupt zip archive: its central directory cannot be read "
                f"({describe_error(exc)})"
            )
    return f"not a zip archive ({describe_error(exc)})"


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
