"""Releasing a held upload: forwarding its request to the upstream index byte for byte, and
recording who released it, when and why once the index has taken it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from verify._index.session import HttpSession
from verify._index.urls import redact
from verify._upload.quarantine_entry import (
    RELEASE_FILE,
    EntryState,
    QuarantineEntry,
    entry_from,
    json_bytes,
    upload_dict,
)
from verify._upload.quarantine_files import io_reason, replace_file
from verify.errors import IncompleteError, UsageError

__all__ = ["release_entry"]


def release_entry(
    entry: QuarantineEntry,
    body: Path,
    *,
    upstream_url: str,
    session: HttpSession,
    by: str,
    why: str,
    authorization: str | None,
    clock: Callable[[], datetime],
) -> QuarantineEntry:
    """Forward the held ``entry``, whose request body is the file ``body``, to ``upstream_url``.

    ``by`` and ``why`` are who releases it and why, already checked; ``clock`` dates the
    release. Records them once the upstream index accepts the upload (HTTP 2xx); when it
    refuses, or cannot be reached, nothing is recorded and the entry stays held.
    ``authorization`` is the ``Authorization`` header for the upstream index, if any; it is
    sent, never stored.
    """
    if entry.state is EntryState.RELEASED:
        at = entry.released_at.isoformat(timespec="seconds") if entry.released_at else "?"
        raise UsageError(
            f"{entry.filename} ({entry.id[:12]}) was already released by "
            f"{entry.released_by} at {at}"
        )
    headers = {"Content-Type": entry.content_type}
    if authorization is not None:
        headers["Authorization"] = authorization
    try:
        with body.open("rb") as stream:
            response = session.post_upload(upstream_url, stream, headers=headers)
    except OSError as exc:
        raise IncompleteError(f"cannot read the held upload {body}: {io_reason(exc)}") from exc
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
        "at": clock().isoformat(),
        "upstream": redact(upstream_url),
        "upstream_status": response.status,
        "upstream_reason": reason,
    }
    try:
        replace_file(entry.path / RELEASE_FILE, json_bytes(record))
    except OSError as exc:
        raise IncompleteError(
            f"{entry.filename} was released to {redact(upstream_url)} "
            f"(HTTP {response.status}) but the release could not be recorded in "
            f"{entry.path / RELEASE_FILE}: {io_reason(exc)}",
            hint="record it by hand; releasing it again would upload it twice",
        ) from exc
    return entry_from(entry.path, upload_dict(entry), attempts=entry.attempts, release=record)


def _refusal_hint(status: int) -> str | None:
    if status in (401, 403):
        return "check --username and PIP_VERIFY_UPSTREAM_PASSWORD"
    if 300 <= status < 400:
        return "the upstream URL redirects; give the final upload URL"
    return None
