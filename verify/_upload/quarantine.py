"""The quarantine: uploads the gate refused, kept with their reports until someone decides.

Each refused upload is one directory named by the sha256 of its distribution file::

    <root>/<sha256>/request.body     the uploader's request, byte for byte (multipart)
                   /upload.json      who sent what, when, and why it was refused
                   /report.json      the full screening report
                   /attempts.jsonl   later refusals of the same bytes (one JSON line each)
                   /release.json     who released it upstream, when and why (once released)
    <root>/decisions.jsonl                   reviewers' decisions (the review page's log)

An entry is written under ``<root>/.partial/`` and renamed into place whole, so a crash never
leaves an entry that looks complete; dropping renames it back there before deleting it. The
files hold unpublished code: directories are created ``0o700`` and files ``0o600``.

A quarantine is safe to share between the gate and the ``pip-verify quarantine`` command:
nothing but renames and appends change what another process may be reading.

This module keeps the store (hold, list, show, drop); the entry's files and records are in
:mod:`.quarantine_entry`, how files are written in :mod:`.quarantine_files`, and releasing an
upload to the upstream index in :mod:`.quarantine_release`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from verify._index.session import HttpSession
from verify._upload.quarantine_entry import (
    ATTEMPTS_FILE,
    BODY_FILE,
    FORMAT,
    REPORT_FILE,
    UPLOAD_FILE,
    EntryState,
    HeldUpload,
    QuarantineEntry,
    entry_from,
    json_bytes,
    load_entry,
    upload_record,
)
from verify._upload.quarantine_files import (
    DIR_MODE,
    FILE_MODE,
    O_BINARY,
    fsync_dir,
    io_reason,
    write_new,
)
from verify._upload.quarantine_release import release_entry
from verify.errors import IncompleteError, InvalidInputError, UsageError

# The entry's types and format are defined in quarantine_entry; callers take them from here.
__all__ = [
    "FORMAT",
    "MIN_PREFIX",
    "PARTIAL_GRACE_SECONDS",
    "EntryState",
    "HeldUpload",
    "Quarantine",
    "QuarantineEntry",
]

logger = logging.getLogger(__name__)

#: The fewest hex digits of an id that select an entry.
MIN_PREFIX = 6
#: A leftover under ``.partial`` younger than this may be another process's entry in the
#: making; only older ones are removed.
PARTIAL_GRACE_SECONDS = 3600.0

_PARTIAL = ".partial"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-fA-F]+")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Quarantine:
    """The quarantine directory ``root``: hold, list, release and drop refused uploads.

    Construction removes what crashed writers left under ``.partial`` (see
    :meth:`clean_partial`); the directory itself is created by the first :meth:`hold`.
    Every failure is a :class:`~verify.errors.VerifyError`: :class:`~verify.errors.UsageError`
    for a key or an action that cannot be used, :class:`~verify.errors.IncompleteError` when
    the files cannot be read or written, or the upstream index does not take a release.
    """

    def __init__(self, root: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.root = root
        self._clock = clock
        self.clean_partial()

    # -- writing ---------------------------------------------------------------------------

    def hold(self, upload: HeldUpload, body: Path) -> QuarantineEntry:
        """Keep the refused ``upload`` and a copy of its request ``body`` (a file).

        The same bytes held again keep the first entry: the new refusal is appended to its
        ``attempts.jsonl`` and the existing entry is returned.
        """
        if not _SHA256.fullmatch(upload.sha256):
            raise InvalidInputError(f"not a lowercase hex sha256 digest: {upload.sha256[:80]!r}")
        received = self._clock()
        target = self.root / upload.sha256
        if (target / UPLOAD_FILE).is_file():
            return self._repeat(target, upload, received)
        partial = self._partial_dir()
        try:
            partial.mkdir(mode=DIR_MODE)
            with body.open("rb") as source:
                write_new(partial / BODY_FILE, source)
            write_new(partial / REPORT_FILE, upload.report_json.encode("utf-8"))
            write_new(partial / UPLOAD_FILE, json_bytes(upload_record(upload, received)))
            fsync_dir(partial)
        except BaseException as exc:
            _remove_tree(partial)
            if isinstance(exc, OSError):
                raise IncompleteError(
                    f"cannot quarantine {upload.filename} in {self.root}: {io_reason(exc)}",
                    hint="check that the quarantine directory is writable",
                ) from exc
            raise
        try:
            os.rename(partial, target)
        except BaseException as exc:
            _remove_tree(partial)
            if isinstance(exc, OSError):
                if (target / UPLOAD_FILE).is_file():  # another process held the same bytes first
                    return self._repeat(target, upload, received)
                raise IncompleteError(
                    f"cannot move the quarantine entry into {target}: {io_reason(exc)}",
                    hint="check the quarantine directory; a damaged entry there can be removed",
                ) from exc
            raise
        with contextlib.suppress(OSError):
            fsync_dir(self.root)
        return entry_from(target, upload_record(upload, received), attempts=1)

    def _repeat(self, target: Path, upload: HeldUpload, received: datetime) -> QuarantineEntry:
        line = {
            "received": received.isoformat(),
            "uploader": upload.uploader,
            "client": upload.client,
            "reason": upload.reason,
        }
        path = target / ATTEMPTS_FILE
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | O_BINARY, FILE_MODE)
            with os.fdopen(fd, "ab") as stream:
                stream.write(json.dumps(line, sort_keys=True).encode("utf-8") + b"\n")
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            raise IncompleteError(
                f"cannot record a repeated upload in {path}: {io_reason(exc)}",
                hint="check that the quarantine directory is writable",
            ) from exc
        return load_entry(target)

    def _partial_dir(self) -> Path:
        staging = self.root / _PARTIAL
        try:
            self.root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            staging.mkdir(mode=DIR_MODE, exist_ok=True)
        except OSError as exc:
            raise IncompleteError(
                f"cannot create the quarantine directory {staging}: {io_reason(exc)}",
                hint="pass a writable quarantine directory",
            ) from exc
        return staging / uuid.uuid4().hex

    def clean_partial(self, *, older_than: float = PARTIAL_GRACE_SECONDS) -> int:
        """Remove leftovers of interrupted holds and drops; return how many were removed.

        Only leftovers untouched for ``older_than`` seconds go: a younger one may be an
        entry another process is writing right now. Failures are logged, never raised.
        """
        staging = self.root / _PARTIAL
        try:
            leftovers = list(staging.iterdir())
        except OSError:
            return 0
        removed = 0
        deadline = time.time() - older_than
        for leftover in leftovers:
            try:
                if _newest_mtime(leftover) > deadline:
                    continue
            except OSError:
                continue  # removed meanwhile
            if _remove_tree(leftover):
                removed += 1
            else:
                logger.warning("cannot remove the quarantine leftover %s", leftover)
        return removed

    # -- reading ---------------------------------------------------------------------------

    def list(self) -> list[QuarantineEntry]:
        """Every entry, newest first; damaged entries are skipped with a warning."""
        try:
            children = sorted(self.root.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise IncompleteError(
                f"cannot read the quarantine directory {self.root}: {io_reason(exc)}"
            ) from exc
        entries: list[QuarantineEntry] = []
        for child in children:
            if not _SHA256.fullmatch(child.name) or not child.is_dir():
                continue
            try:
                entries.append(load_entry(child))
            except IncompleteError as exc:
                logger.warning(
                    "skipping the damaged quarantine entry %s: %s (inspect or remove it)",
                    child,
                    exc.message,
                )
        entries.sort(key=lambda entry: (entry.received, entry.id), reverse=True)
        return entries

    def get(self, key: str) -> QuarantineEntry:
        """The one entry ``key`` names: its id, a unique id prefix (at least
        :data:`MIN_PREFIX` hex digits) or its exact filename."""
        key = key.strip()
        if not key:
            raise UsageError("an empty quarantine id", hint="give an id or a filename")
        entries = self.list()
        if _HEX.fullmatch(key) and len(key) <= 64:
            if len(key) < MIN_PREFIX:
                raise UsageError(
                    f"{key!r} is too short to select a quarantined upload",
                    hint=f"give at least {MIN_PREFIX} hex digits of its id, or its filename",
                )
            prefix = key.lower()
            matches = [entry for entry in entries if entry.id.startswith(prefix)]
        else:
            matches = [entry for entry in entries if entry.filename == key]
        if not matches:
            raise UsageError(
                f"no quarantined upload matches {key!r}",
                hint="`pip-verify quarantine list` shows them",
            )
        if len(matches) > 1:
            listed = ", ".join(f"{entry.id[:12]} ({entry.filename})" for entry in matches)
            raise UsageError(
                f"{key!r} matches {len(matches)} uploads: {listed}",
                hint="give more of the id",
            )
        return matches[0]

    def report_json(self, entry: QuarantineEntry) -> str:
        """The screening report stored with ``entry``, as the gate wrote it."""
        path = entry.path / REPORT_FILE
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise IncompleteError(
                f"cannot read the stored report {path}: {io_reason(exc)}"
            ) from exc

    def body_path(self, entry: QuarantineEntry) -> Path:
        """The file holding ``entry``'s request body, byte for byte."""
        return entry.path / BODY_FILE

    # -- deciding --------------------------------------------------------------------------

    def release(
        self,
        key: str,
        *,
        upstream_url: str,
        session: HttpSession,
        by: str,
        why: str,
        authorization: str | None,
    ) -> QuarantineEntry:
        """Forward the held upload ``key`` names to ``upstream_url``, byte for byte.

        Records who released it and why once the upstream index accepts it (HTTP 2xx);
        when it refuses, or cannot be reached, nothing is recorded and the entry stays held.
        ``authorization`` is the ``Authorization`` header for the upstream index, if any; it
        is sent, never stored.
        """
        by, why = by.strip(), why.strip()
        if not by:
            raise UsageError("a release needs the name of who releases it")
        if not why:
            raise UsageError("a release needs a reason", hint="say why the upload is safe")
        entry = self.get(key)
        return release_entry(
            entry,
            self.body_path(entry),
            upstream_url=upstream_url,
            session=session,
            by=by,
            why=why,
            authorization=authorization,
            clock=self._clock,
        )

    def drop(self, key: str) -> QuarantineEntry:
        """Delete the entry ``key`` names, held or released; return what it was."""
        entry = self.get(key)
        partial = self._partial_dir()
        try:
            os.rename(entry.path, partial)
        except OSError as exc:
            raise IncompleteError(
                f"cannot remove the quarantine entry {entry.path}: {io_reason(exc)}"
            ) from exc
        with contextlib.suppress(OSError):
            fsync_dir(self.root)
        if not _remove_tree(partial):
            logger.warning(
                "dropped %s, but could not delete %s; it is removed later", entry.id, partial
            )
        return entry


def _remove_tree(path: Path) -> bool:
    """Delete ``path`` and everything under it; ``False`` if some of it stayed."""
    with contextlib.suppress(OSError):
        shutil.rmtree(path)
    return not path.exists()


def _newest_mtime(path: Path) -> float:
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for child in _walk(path):
            with contextlib.suppress(OSError):
                newest = max(newest, child.lstat().st_mtime)
    return newest


def _walk(path: Path) -> Iterator[Path]:
    for directory, _, files in os.walk(path):
        yield Path(directory)
        for name in files:
            yield Path(directory) / name
