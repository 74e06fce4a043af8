"""A content-addressed store of distribution files, keyed by sha256.

Layout: ``<root>/sha256/<first two hex>/<digest>/<filename>``. The file keeps its real name
so that installers can use it as it is. Writes go to a temporary file in the same file system
and are moved into place with :func:`os.replace`, so a reader never sees a partial file and two
processes filling the same entry both end with the same bytes. Every read re-hashes the entry;
an entry whose bytes no longer match its key is removed and reported as corrupt.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from verify.errors import CacheError

__all__ = ["ContentStore", "Lookup", "hash_file"]

logger = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1024 * 1024


def hash_file(path: Path, algorithms: tuple[str, ...] = ("sha256",)) -> dict[str, str]:
    """Digest ``path`` with each algorithm in one pass."""
    hashers = {name: hashlib.new(name) for name in algorithms}
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def _safe_filename(filename: str) -> str:
    if (
        not filename
        or filename in (".", "..")
        or any(c in filename for c in "/\\\0")
        or filename.startswith(".")
    ):
        raise CacheError(f"refusing to store a file named {filename[:80]!r}")
    return filename


@dataclass(frozen=True, slots=True)
class Lookup:
    """The result of looking a digest up: the verified path, and whether an entry was corrupt."""

    path: Path | None
    corrupt: bool = False


class ContentStore:
    """Distribution files by sha256 under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _entry_dir(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise CacheError(f"not a sha256 digest: {sha256[:80]!r}")
        return self.root / "sha256" / sha256[:2] / sha256

    def _tmp_dir(self) -> Path:
        path = self.root / "tmp"
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"cannot create the cache directory {path}: {exc.strerror}",
                hint="pass a writable --cache-dir",
            ) from exc
        return path

    def lookup(self, sha256: str, filename: str) -> Lookup:
        """The cached file with ``sha256``, stored under ``filename``, re-hashed before use.

        Bytes cached under another name are linked to ``filename``. A corrupt entry is deleted
        and reported so the caller fetches the file again.
        """
        entry = self._entry_dir(sha256)
        target = entry / _safe_filename(filename)
        try:
            if not target.is_file():
                siblings = [p for p in entry.iterdir() if p.is_file()] if entry.is_dir() else []
                if not siblings:
                    return Lookup(None)
                with self._writer(entry) as (tmp, stream):
                    with siblings[0].open("rb") as source:
                        shutil.copyfileobj(source, stream)
                    stream.close()
                    os.replace(tmp, target)
            actual = hash_file(target)["sha256"]
        except FileNotFoundError:
            return Lookup(None)
        except OSError as exc:
            raise CacheError(
                f"cannot read the cache entry {target}: {exc.strerror}",
                hint="check permissions or pass another --cache-dir",
            ) from exc
        if actual != sha256:
            logger.warning(
                "cache entry %s was corrupt (sha256 %s); fetching it again", target, actual
            )
            self._discard(entry)
            return Lookup(None, corrupt=True)
        return Lookup(target)

    def names(self, sha256: str) -> list[str]:
        """The filenames stored under ``sha256`` (not re-hashed: :meth:`lookup` does that)."""
        entry = self._entry_dir(sha256)
        try:
            return sorted(p.name for p in entry.iterdir() if p.is_file())
        except OSError:
            return []

    def _discard(self, entry: Path) -> None:
        with contextlib.suppress(OSError):
            shutil.rmtree(entry)

    @contextlib.contextmanager
    def _writer(self, entry: Path) -> Iterator[tuple[Path, BinaryIO]]:
        tmp_dir = self._tmp_dir()
        try:
            entry.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=tmp_dir, prefix="partial-")
        except OSError as exc:
            raise CacheError(
                f"cannot write to the cache {self.root}: {exc.strerror}",
                hint="pass a writable --cache-dir",
            ) from exc
        tmp = Path(name)
        try:
            with os.fdopen(handle, "wb") as stream:
                yield tmp, stream
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    @contextlib.contextmanager
    def incoming(self) -> Iterator[tuple[Path, BinaryIO]]:
        """A temporary file to write new bytes into; :meth:`commit` moves it into place."""
        with self._writer(self._tmp_dir()) as pair:
            yield pair

    def commit(self, tmp: Path, sha256: str, filename: str) -> Path:
        """Move ``tmp`` (whose sha256 the caller computed while writing) into the store."""
        entry = self._entry_dir(sha256)
        target = entry / _safe_filename(filename)
        try:
            entry.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
        except OSError as exc:
            raise CacheError(
                f"cannot write the cache entry {target}: {exc.strerror}",
                hint="pass a writable --cache-dir",
            ) from exc
        return target
