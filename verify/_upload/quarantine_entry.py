"""A quarantine entry as it lies on disk: the names of its files, the records they hold
(``upload.json``, ``release.json``), and the entry read back from its directory."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from verify._upload.quarantine_files import io_reason
from verify.errors import IncompleteError

__all__ = [
    "ATTEMPTS_FILE",
    "BODY_FILE",
    "DECISIONS_FILE",
    "FORMAT",
    "RELEASE_FILE",
    "REPORT_FILE",
    "UPLOAD_FILE",
    "EntryState",
    "HeldUpload",
    "QuarantineEntry",
    "entry_from",
    "json_bytes",
    "load_entry",
    "read_json",
    "upload_dict",
    "upload_record",
]

#: The ``format`` of ``upload.json``; a different one is not read.
FORMAT = "pip-verify/quarantine/v1"

# The files of an entry's directory (the layout is drawn in quarantine.py).
BODY_FILE = "request.body"
UPLOAD_FILE = "upload.json"
REPORT_FILE = "report.json"
ATTEMPTS_FILE = "attempts.jsonl"
RELEASE_FILE = "release.json"
#: Reviewers' decisions about every entry (the review page's log), beside the entries.
DECISIONS_FILE = "decisions.jsonl"


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


def load_entry(directory: Path) -> QuarantineEntry:
    record = read_json(directory / UPLOAD_FILE)
    if record.get("format") != FORMAT:
        raise IncompleteError(f"{directory / UPLOAD_FILE} is not a {FORMAT} record")
    if record.get("sha256") != directory.name:
        raise IncompleteError(f"{directory / UPLOAD_FILE} names another upload than its directory")
    attempts = 1
    try:
        with (directory / ATTEMPTS_FILE).open("rb") as stream:
            attempts += sum(1 for line in stream if line.strip())
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise IncompleteError(f"cannot read {directory / ATTEMPTS_FILE}: {io_reason(exc)}") from exc
    release: dict[str, Any] | None = None
    if (directory / RELEASE_FILE).exists():
        release = read_json(directory / RELEASE_FILE)
    return entry_from(directory, record, attempts=attempts, release=release)


def entry_from(
    directory: Path,
    record: dict[str, Any],
    *,
    attempts: int,
    release: dict[str, Any] | None = None,
) -> QuarantineEntry:
    where = directory / (RELEASE_FILE if release is not None else UPLOAD_FILE)
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


def upload_record(upload: HeldUpload, received: datetime) -> dict[str, Any]:
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


def upload_dict(entry: QuarantineEntry) -> dict[str, Any]:
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


def json_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise IncompleteError(f"cannot read {path}: {io_reason(exc)}") from exc
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
