"""Listing a tar archive (an sdist) in one streaming pass, keeping its safe files' bytes.

A tar stream cannot be read at random, so it is read once, now: each safe regular file's bytes
are kept in memory when small, otherwise in a private temporary directory whose files are
named by a counter. The decompressed stream is counted as tarfile reads it, so a bomb, a
header of gigabytes or a stream that never ends stops at the limits, and the end-of-archive
marker is checked so that a truncated stream is not taken for a complete one: a stream cut
inside a header or a member's data is refused, one that stops cleanly after a member without
the marker (as tarfile and pip read it: complete) is read and flagged ``archive-unterminated``.
"""

from __future__ import annotations

import bz2
import collections
import contextlib
import gzip
import io
import lzma
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from verify._dist.listing import (
    DECODE_ERRORS,
    MIB,
    ArchiveLimits,
    Entry,
    Listed,
    Listing,
    MemberKind,
    Spooled,
    describe_error,
    escaped,
)
from verify.errors import ArchiveError

__all__ = ["read_tar"]

#: Tar members up to this size are kept in memory, while the total kept there stays within
#: ``_MEMORY_BUDGET``; everything else goes to the temporary directory.
_IN_MEMORY_MAX = MIB
_MEMORY_BUDGET = 64 * MIB
#: Extended header data (pax records, GNU long names) tarfile may read for one member. tarfile
#: holds it in memory whole, so a header declaring gigabytes would otherwise be read.
_MAX_HEADER_BYTES = MIB
#: Bytes read past a tar's end-of-archive marker, so that the compression layer checks its own
#: trailer (gzip's CRC and length) without letting padding cost unbounded work.
_TAIL_SLACK = MIB
_CHUNK = MIB


def read_tar(path: Path, compression: str, limits: ArchiveLimits) -> Listed:
    """List the tar archive at ``path`` (``compression``: ``gz``, ``bz2``, ``xz`` or ``""``)."""
    return _TarPass(path, compression, limits).run()


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
        self.listing = Listing()
        self.tempdir: Path | None = None
        self._current: Entry | None = None
        self._kept = 0
        self._in_memory = 0
        self._spooled = 0

    def run(self) -> Listed:
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
        return Listed(
            "tar",
            root=root,
            members=members,
            findings=findings,
            truncated=self.listing.truncated,
            sources=sources,
            refused=self.listing.refused(),
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
        except DECODE_ERRORS as exc:
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

    def _add(self, info: tarfile.TarInfo) -> Entry:
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
                entry, "archive-link", f"{what} to {escaped(info.linkname)} (not followed)"
            )
        elif kind is MemberKind.SPECIAL:
            what = _TAR_SPECIAL_NAMES.get(info.type, "special file")
            self.listing.flag(entry, "archive-special-file", f"{what} (not read)")
        return entry

    def _keep(self, tar: tarfile.TarFile, info: tarfile.TarInfo, entry: Entry) -> None:
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
                entry.source = Spooled(file, size)
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
        if not block and end > 0:
            # The stream (its compression checked to the end) stops right after the last
            # member's data: tarfile, and so pip, reads such an archive as complete and
            # installs what it holds, so it is analysed, and the missing marker is a finding
            # of its own that the default policy denies, as the refusal did.
            self.listing.flag(
                None,
                "archive-unterminated",
                f"the tar stream stops after its last member, at byte {end}, without the "
                "end-of-archive marker; installers read it as complete",
            )
            return
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

    def _stop(self, reason: str, entry: Entry | None = None) -> None:
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
        detail = describe_error(exc)
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
