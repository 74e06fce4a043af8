"""Small JSON records pip-verify keeps on disk (cached diffs, remembered answers, verdicts):
written atomically, read back, or discarded when unreadable.

A record is a cache: losing one costs time, never a decision. So writing fails quietly (with
a log line), and reading gives ``None`` for a record that is absent or cannot be used, after
removing the unusable one so it is made again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["read_record", "write_record"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def read_record(path: Path, load: Callable[[object], T]) -> T | None:
    """``load`` of the JSON at ``path``; ``None`` if there is none or it is unusable.

    ``load`` raises ``ValueError``, ``KeyError`` or ``TypeError`` for data it cannot use; the
    record is then removed.
    """
    try:
        data: object = json.loads(path.read_text("utf-8"))
        return load(data)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        logger.info("discarding the unreadable record %s: %s", path, exc)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return None


def write_record(path: Path, data: object) -> None:
    """Write ``data`` as JSON at ``path`` (a temporary file, then a rename, so a reader never
    sees half a record); a record that cannot be written is only logged."""
    # A check keeps a record for every file it analyses, so this is on the hot path: the text
    # is encoded once and written in one call, and the directory is made only when missing.
    body = json.dumps(data).encode("utf-8")
    written: str | None = None
    try:
        try:
            written, descriptor = _create_temporary(path)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            written, descriptor = _create_temporary(path)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(body)
        os.replace(written, path)
    except OSError as exc:
        logger.info("could not write the record %s: %s", path, exc)
        if written is not None:
            with contextlib.suppress(OSError):
                os.unlink(written)


def _create_temporary(path: Path) -> tuple[str, int]:
    """A new file beside ``path`` for this thread to write, and its descriptor.

    Named by process and thread, so writers never share one; a name another machine's process
    (on a shared cache directory) already holds falls back to a random one.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    name = f"{path}.{os.getpid()}-{threading.get_ident()}.tmp"
    try:
        return name, os.open(name, flags, 0o600)
    except FileExistsError:
        descriptor, name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        return name, descriptor
