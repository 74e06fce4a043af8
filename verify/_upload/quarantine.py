"""The quarantine: uploads the gate refused, kept with their reports until someone decides.

Each refused upload is one directory named by the sha256 of its distribution file::

    <root>/<sha256>/request.body     the uploader's request, byte for byte (multipart)
                   /upload.json      who sent what, when, and why it was refused
                   /report.json      the full screening report
                   /attempts.jsonl   later refusals of the same bytes (one JSON line each)
                   /release.json     who released it upstream, when and why (once released)

An entry is written under ``<root>/.partial/`` and renamed into place whole, so a crash never
leaves an entry that looks complete; dropping renames it back there before deleting it. The
files hold unpublished code: directories are created ``0o700`` and files ``0o600``.

A quarantine is safe to share between the gate and the ``pip-verify quarantine`` command:
nothing but renames and appends change what another process may be reading.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from verify._index.session import HttpSession
from verify._index.urls import redact
from verify.errors import IncompleteError, InvalidInputError, UsageError

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

#: The ``format`` of ``upload.json``; a different one is not read.
FORMAT = "pip-verify/quarantine/v1"
#: The fewest hex digits of an id that select an entry.
MIN_PREFIX = 6
#: A leftover under ``.partial`` younger than this may be another process's entry in the
#: making; only older ones are removed.
PARTIAL_GRACE_SECONDS = 3600.0

_PARTIAL = ".partial"
_BODY = "request.body"
_UPLOAD = "upload.json"
_REPORT = "report.json"
_ATTEMPTS = "attempts.jsonl"
_RELEASE = "release.json"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIR_MODE = 0o700
_FILE_MODE = 0o600
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class HeldUpload:
    """What the gate hands over when it refuses an upload."""

    #: The distribution's filename (validated by the gate).
    filename: str
    #: The normalized project name.
    name: str
    version: str
    #: The sha256 of the distribution file's bytes (64 lowercase hex digits): the entry's id.
    sha256: str
    #: The request's ``Content-Type``, with its multipart boundary: the body needs it.
    content_type: str
    #: The user name of the request's HTTP Basic credentials; never the password.
    uploader: str | None
    #: The client's address, ``host:port``.
    client: str | None
    #: The one-line refusal reason the uploader was given.
    reason: str
    #: The full screening report (``pip-verify/report/v1`` JSON).
    report_json: str


class EntryState(str, enum.Enum):
    """Where a quarantined upload stands."""

    #: Refused and kept; nothing was published.
    HELD = "held"
    #: Forwarded to the upstream index by a person with ``release``.
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """One quarantined upload, as read from its directory."""

    #: The sha256 of the distribution file (64 hex digits).
    id: str
    filename: str
    name: str
    version: str
    sha256: str
    content_type: str
    uploader: str | None
    client: str | None
    reason: str
    #: When the gate first refused it (UTC).
    received: datetime
    #: How many times the gate refused these bytes (1, plus one per repeated upload).
    attempts: int
    state: EntryState
    released_by: str | None
    release_reason: str | None
    released_at: datetime | None
    #: The upstream upload URL it was released to, without credentials.
    released_to: str | None
    upstream_status: int | None
    #: The entry's directory.
    path: Path

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``pip-verify quarantine list --format json``)."""
        return {
            "id": self.id,
            "filename": self.filename,
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "content_type": self.content_type,
            "uploader": self.uploader,
            "client": self.client,
            "reason": self.reason,
            "received": self.received.isoformat(),
            "attempts": self.attempts,
            "state": self.state.value,
            "released_by": self.released_by,
            "release_reason": self.release_reason,
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "released_to": self.released_to,
            "upstream_status": self.upstream_status,
            "path": str(self.path),
        }


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
        if (target / _UPLOAD).is_file():
            return self._repeat(target, upload, received)
        partial = self._partial_dir()
        try:
            partial.mkdir(mode=_DIR_MODE)
            with body.open("rb") as source:
                _write_new(partial / _BODY, source)
            _write_new(partial / _REPORT, upload.report_json.encode("utf-8"))
            _write_new(partial / _UPLOAD, _json_bytes(_upload_record(upload, received)))
            _fsync_dir(partial)
        except BaseException as exc:
            _remove_tree(partial)
            if isinstance(exc, OSError):
                raise IncompleteError(
                    f"cannot quarantine {upload.filename} in {self.root}: {_why(exc)}",
                    hint="check that the quarantine directory is writable",
                ) from exc
            raise
        try:
            os.rename(partial, target)
        except BaseException as exc:
            _remove_tree(partial)
            if isinstance(exc, OSError):
                if (target / _UPLOAD).is_file():  # another process held the same bytes first
                    return self._repeat(target, upload, received)
                raise IncompleteError(
                    f"cannot move the quarantine entry into {target}: {_why(exc)}",
                    hint="check the quarantine directory; a damaged entry there can be removed",
                ) from exc
            raise
        with contextlib.suppress(OSError):
            _fsync_dir(self.root)
        return self._entry_from(target, _upload_record(upload, received), attempts=1)

    def _repeat(self, target: Path, upload: HeldUpload, received: datetime) -> QuarantineEntry:
        line = {
            "received": received.isoformat(),
            "uploader": upload.uploader,
            "client": upload.client,
            "reason": upload.reason,
        }
        path = target / _ATTEMPTS
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _O_BINARY, _FILE_MODE)
            with os.fdopen(fd, "ab") as stream:
                stream.write(json.dumps(line, sort_keys=True).encode("utf-8") + b"\n")
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            raise IncompleteError(
                f"cannot record a repeated upload in {path}: {_why(exc)}",
                hint="check that the quarantine directory is writable",
            ) from exc
        return self._load(target)

    def _partial_dir(self) -> Path:
        staging = self.root / _PARTIAL
        try:
            self.root.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            staging.mkdir(mode=_DIR_MODE, exist_ok=True)
        except OSError as exc:
            raise IncompleteError(
                f"cannot create the quarantine directory {staging}: {_why(exc)}",
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
                f"cannot read the quarantine directory {self.root}: {_why(exc)}"
            ) from exc
        entries: list[QuarantineEntry] = []
        for child in children:
            if not _SHA256.fullmatch(child.name) or not child.is_dir():
                continue
            try:
                entries.append(self._load(child))
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
        path = entry.path / _REPORT
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise IncompleteError(f"cannot read the stored report {path}: {_why(exc)}") from exc

    def body_path(self, entry: QuarantineEntry) -> Path:
        """The file holding ``entry``'s request body, byte for byte."""
        return entry.path / _BODY

    def _load(self, directory: Path) -> QuarantineEntry:
        record = _read_json(directory / _UPLOAD)
        if record.get("format") != FORMAT:
            raise IncompleteError(f"{directory / _UPLOAD} is not a {FORMAT} record")
        if record.get("sha256") != directory.name:
            raise IncompleteError(f"{directory / _UPLOAD} names another upload than its directory")
        attempts = 1
        try:
            with (directory / _ATTEMPTS).open("rb") as stream:
                attempts += sum(1 for line in stream if line.strip())
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise IncompleteError(f"cannot read {directory / _ATTEMPTS}: {_why(exc)}") from exc
        release: dict[str, Any] | None = None
        if (directory / _RELEASE).exists():
            release = _read_json(directory / _RELEASE)
        return self._entry_from(directory, record, attempts=attempts, release=release)

    def _entry_from(
        self,
        directory: Path,
        record: dict[str, Any],
        *,
        attempts: int,
        release: dict[str, Any] | None = None,
    ) -> QuarantineEntry:
        where = directory / (_RELEASE if release is not None else _UPLOAD)
        try:
            return QuarantineEntry(
                id=directory.name,
                filename=_text(record, "filename"),
                name=_text(record, "name"),
                version=_text(record, "version"),
                sha256=_text(record, "sha256"),
                content_type=_text(record, "content_type"),
                uploader=_optional_text(record, "uploader"),
                client=_optional_text(record, "client"),
                reason=_text(record, "reason"),
                received=_timestamp(record, "received"),
                attempts=attempts,
                state=EntryState.RELEASED if release is not None else EntryState.HELD,
                released_by=_text(release, "by") if release is not None else None,
                release_reason=_text(release, "why") if release is not None else None,
                released_at=_timestamp(release, "at") if release is not None else None,
                released_to=_optional_text(release, "upstream") if release is not None else None,
                upstream_status=_status(release) if release is not None else None,
                path=directory,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IncompleteError(f"{where} is malformed: {exc}") from exc

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
        if entry.state is EntryState.RELEASED:
            at = entry.released_at.isoformat(timespec="seconds") if entry.released_at else "?"
            raise UsageError(
                f"{entry.filename} ({entry.id[:12]}) was already released by "
                f"{entry.released_by} at {at}"
            )
        headers = {"Content-Type": entry.content_type}
        if authorization is not None:
            headers["Authorization"] = authorization
        body = self.body_path(entry)
        try:
            with body.open("rb") as stream:
                response = session.post_upload(upstream_url, stream, headers=headers)
        except OSError as exc:
            raise IncompleteError(f"cannot read the held upload {body}: {_why(exc)}") from exc
        # The reason phrase comes from the network: one line, nothing a terminal acts on.
        reason = " ".join("".join(c for c in response.reason if c.isprintable()).split())[:200]
        if not 200 <= response.status < 300:
            raise IncompleteError(
                f"the upstream index refused the release: HTTP {response.status} {reason}".rstrip(),
                hint=_refusal_hint(response.status),
            )
        record = {
            "by": by,
            "why": why,
            "at": self._clock().isoformat(),
            "upstream": redact(upstream_url),
            "upstream_status": response.status,
            "upstream_reason": reason,
        }
        try:
            _replace_file(entry.path / _RELEASE, _json_bytes(record))
        except OSError as exc:
            raise IncompleteError(
                f"{entry.filename} was released to {redact(upstream_url)} "
                f"(HTTP {response.status}) but the release could not be recorded in "
                f"{entry.path / _RELEASE}: {_why(exc)}",
                hint="record it by hand; releasing it again would upload it twice",
            ) from exc
        return self._entry_from(
            entry.path, _upload_dict(entry), attempts=entry.attempts, release=record
        )

    def drop(self, key: str) -> QuarantineEntry:
        """Delete the entry ``key`` names, held or released; return what it was."""
        entry = self.get(key)
        partial = self._partial_dir()
        try:
            os.rename(entry.path, partial)
        except OSError as exc:
            raise IncompleteError(
                f"cannot remove the quarantine entry {entry.path}: {_why(exc)}"
            ) from exc
        with contextlib.suppress(OSError):
            _fsync_dir(self.root)
        if not _remove_tree(partial):
            logger.warning(
                "dropped %s, but could not delete %s; it is removed later", entry.id, partial
            )
        return entry


_O_BINARY: int = getattr(os, "O_BINARY", 0)


def _upload_record(upload: HeldUpload, received: datetime) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "filename": upload.filename,
        "name": upload.name,
        "version": upload.version,
        "sha256": upload.sha256,
        "content_type": upload.content_type,
        "uploader": upload.uploader,
        "client": upload.client,
        "reason": upload.reason,
        "received": received.isoformat(),
    }


def _upload_dict(entry: QuarantineEntry) -> dict[str, Any]:
    return {
        "filename": entry.filename,
        "name": entry.name,
        "version": entry.version,
        "sha256": entry.sha256,
        "content_type": entry.content_type,
        "uploader": entry.uploader,
        "client": entry.client,
        "reason": entry.reason,
        "received": entry.received.isoformat(),
    }


def _refusal_hint(status: int) -> str | None:
    if status in (401, 403):
        return "check --username and PIP_VERIFY_UPSTREAM_PASSWORD"
    if 300 <= status < 400:
        return "the upstream URL redirects; give the final upload URL"
    return None


def _json_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _write_new(path: Path, content: bytes | BinaryIO) -> None:
    """Create ``path`` (mode 0o600, never an existing file) with ``content``, synced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, _FILE_MODE)
    with os.fdopen(fd, "wb") as stream:
        if isinstance(content, bytes):
            stream.write(content)
        else:
            shutil.copyfileobj(content, stream, _CHUNK)
        stream.flush()
        os.fsync(stream.fileno())


def _replace_file(path: Path, content: bytes) -> None:
    """Write ``path`` atomically: a synced temporary file renamed over it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    try:
        _write_new(tmp, content)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    with contextlib.suppress(OSError):
        _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - Windows cannot open a directory
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise IncompleteError(f"cannot read {path}: {_why(exc)}") from exc
    except ValueError as exc:
        raise IncompleteError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise IncompleteError(f"{path} is not a JSON object")
    return data


def _text(record: dict[str, Any], key: str) -> str:
    value = record[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    return value


def _optional_text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    return value


def _timestamp(record: dict[str, Any], key: str) -> datetime:
    moment = datetime.fromisoformat(_text(record, key))
    if moment.tzinfo is None:
        raise ValueError(f"{key} has no time zone")
    return moment.astimezone(timezone.utc)


def _status(record: dict[str, Any]) -> int:
    value = record["upstream_status"]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("upstream_status is not an integer")
    return value


def _why(exc: BaseException) -> str:
    """A few words on an I/O failure: the file it happened to, and the system's reason."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__
