"""The proxy's side of the review page: its denied verdicts, as files to review."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from verify._proxy.index import VerifiedIndex
from verify._proxy.verdicts import FileVerdict
from verify._serve.review import Blocked

__all__ = ["DeniedFiles"]


class DeniedFiles:
    """The files ``index`` denied (a :class:`~verify._serve.review.ReviewSource`)."""

    title = "pip-verify proxy: blocked files"

    def __init__(self, index: VerifiedIndex) -> None:
        self.index = index

    def blocked(self) -> Iterator[Blocked]:
        """Every denied verdict."""
        return (_blocked(v) for v in self.index.verdicts.all() if not v.allowed)

    def get(self, sha256: str) -> Blocked | None:
        """The denied verdict on ``sha256``, if there is one."""
        verdict = self.index.verdicts.get(sha256)
        return _blocked(verdict) if verdict is not None and not verdict.allowed else None

    def report_json(self, sha256: str) -> str | None:
        """The report kept with the verdict."""
        return self.index.verdicts.report(sha256)

    @contextmanager
    def distribution(self, sha256: str) -> Iterator[Path | None]:
        """The verified bytes in the content store, re-hashed."""
        verdict = self.index.verdicts.get(sha256)
        yield None if verdict is None else self.index.store.lookup(sha256, verdict.filename).path


def _blocked(verdict: FileVerdict) -> Blocked:
    return Blocked(
        sha256=verdict.sha256,
        filename=verdict.filename,
        project=verdict.project,
        version=verdict.version,
        when=verdict.judged_at,
        rules=verdict.rules,
        severity=verdict.severity,
        publisher=verdict.publisher,
    )
