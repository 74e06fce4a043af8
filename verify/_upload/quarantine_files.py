"""How the quarantine writes its files: created new (never over an existing one) with mode
``0o600``, synced, and replaced by renaming a whole temporary file over them."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "O_BINARY",
    "fsync_dir",
    "io_reason",
    "replace_file",
    "write_new",
]

#: The files hold unpublished code: only their owner reads them.
DIR_MODE = 0o700
FILE_MODE = 0o600
_CHUNK = 1024 * 1024
O_BINARY: int = getattr(os, "O_BINARY", 0)


def write_new(path: Path, content: bytes | BinaryIO) -> None:
    """Create ``path`` (mode 0o600, never an existing file) with ``content``, synced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_BINARY, FILE_MODE)
    with os.fdopen(fd, "wb") as stream:
        if isinstance(content, bytes):
            stream.write(content)
        else:
            shutil.copyfileobj(content, stream, _CHUNK)
        stream.flush()
        os.fsync(stream.fileno())


def replace_file(path: Path, content: bytes) -> None:
    """Write ``path`` atomically: a synced temporary file renamed over it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    try:
        write_new(tmp, content)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    with contextlib.suppress(OSError):
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - Windows cannot open a directory
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def io_reason(exc: BaseException) -> str:
    """A few words on an I/O failure: the file it happened to, and the system's reason."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__
