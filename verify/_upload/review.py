"""The gate's side of the review page: its quarantine, as files to review.

Allowing a quarantined upload on the review page does not publish it: the gate holds none of
the upstream index's credentials. It records the decision in ``<quarantine>/decisions.jsonl``,
and the gate then forwards those exact bytes, with the uploader's own credentials, when they
are uploaded again. An admin who holds credentials can still publish it at once with
``pip-verify quarantine release``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from verify._serve.review import Blocked, summary_of
from verify._upload.form import BadUpload, parse_upload
from verify._upload.quarantine import EntryState, Quarantine, QuarantineEntry
from verify._upload.quarantine_entry import DECISIONS_FILE
from verify.errors import VerifyError

__all__ = ["DECISIONS_FILE", "QuarantinedFiles"]


class QuarantinedFiles:
    """The uploads in ``quarantine`` (a :class:`~verify._serve.review.ReviewSource`)."""

    title = "pip-verify gate: quarantined uploads"

    def __init__(self, quarantine: Quarantine) -> None:
        self.quarantine = quarantine

    def blocked(self) -> Iterator[Blocked]:
        """Every entry, held or released."""
        for entry in self.quarantine.list():
            yield self._blocked(entry)

    def get(self, sha256: str) -> Blocked | None:
        """The entry with id ``sha256``, if there is one."""
        entry = self._entry(sha256)
        return None if entry is None else self._blocked(entry)

    def report_json(self, sha256: str) -> str | None:
        """The screening report the gate kept with the entry."""
        entry = self._entry(sha256)
        if entry is None:
            return None
        try:
            return self.quarantine.report_json(entry)
        except VerifyError:
            return None

    @contextmanager
    def distribution(self, sha256: str) -> Iterator[Path | None]:
        """The uploaded file, taken out of the kept request into a private temporary
        directory for as long as the context lasts."""
        entry = self._entry(sha256)
        if entry is None:
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="pip-verify-review-") as scratch:
            body = self.quarantine.body_path(entry)
            try:
                with body.open("rb") as stream:
                    form = parse_upload(
                        stream,
                        content_type=entry.content_type,
                        content_length=body.stat().st_size,
                        dest=Path(scratch),
                    )
            except (OSError, BadUpload):
                yield None
                return
            # The kept request is the entry's own; bytes that differ from its id are not it.
            yield form.path if form.sha256 == entry.sha256 else None

    def _entry(self, sha256: str) -> QuarantineEntry | None:
        try:
            entry = self.quarantine.get(sha256)
        except VerifyError:
            return None
        return entry if entry.sha256 == sha256 else None

    def _blocked(self, entry: QuarantineEntry) -> Blocked:
        try:
            report = self.quarantine.report_json(entry)
        except VerifyError:
            report = ""
        rules, severity, publisher = summary_of(report)
        state = f"uploaded by {entry.uploader or 'anonymous'}"
        if entry.attempts > 1:
            state += f", {entry.attempts} attempts"
        if entry.state is EntryState.RELEASED:
            state += f"; released upstream by {entry.released_by}"
        return Blocked(
            sha256=entry.sha256,
            filename=entry.filename,
            project=entry.name,
            version=entry.version,
            when=entry.received,
            rules=rules,
            severity=severity,
            publisher=publisher,
            state=state,
        )
