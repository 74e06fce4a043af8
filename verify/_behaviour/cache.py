"""Diffs already made, kept by the sha256 of the two files they compared.

A release pair is analysed once: the result depends only on the two files' bytes, the
baseline's reason and the analyser's version, so later checks of the same tree read it back
instead of opening the archives again. An entry that cannot be read is removed and the diff
is made again; the cache never decides anything on its own.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from verify._behaviour.census import FileDiff
from verify._behaviour.result import BehaviourDiff, MetadataChange, MetadataDiff
from verify._records import read_record, write_record
from verify.models import Finding, Severity

__all__ = ["ANALYSER_VERSION", "DiffCache", "finding_data", "load_finding"]

#: Bumped whenever the analysis changes what it finds, so old results are not reused.
ANALYSER_VERSION = "8"


def finding_data(finding: Finding) -> dict[str, Any]:
    """``finding`` as JSON-ready data."""
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "message": finding.message,
        "path": finding.path,
        "line": finding.line,
        "snippet": finding.snippet,
        "why": finding.why,
    }


def load_finding(data: dict[str, Any]) -> Finding:
    """The finding :func:`finding_data` wrote."""
    return Finding(
        str(data["rule"]),
        Severity(data["severity"]),
        str(data["message"]),
        path=data.get("path"),
        line=data.get("line"),
        snippet=data.get("snippet"),
        why=data.get("why"),
    )


def dump(diff: BehaviourDiff) -> dict[str, Any]:
    """``diff`` as JSON-ready data."""
    return {
        "filename": diff.filename,
        "baseline": diff.baseline,
        "baseline_reason": diff.baseline_reason,
        "files": {
            "added": list(diff.files.added),
            "removed": list(diff.files.removed),
            "changed": list(diff.files.changed),
            "unchanged": list(diff.files.unchanged),
        },
        "metadata": {
            "changes": [[c.field, c.old, c.new] for c in diff.metadata.changes],
            "findings": [finding_data(f) for f in diff.metadata.findings],
        },
        "findings": [finding_data(f) for f in diff.findings],
        "context": [finding_data(f) for f in diff.context],
        "analysed_files": diff.analysed_files,
        "analysed_bytes": diff.analysed_bytes,
        "skipped_files": diff.skipped_files,
        "new_hosts": list(diff.new_hosts),
    }


def load(data: dict[str, Any]) -> BehaviourDiff:
    """The diff :func:`dump` wrote; raises ``KeyError``/``TypeError``/``ValueError`` if not."""
    files = data["files"]
    metadata = data["metadata"]
    return BehaviourDiff(
        filename=str(data["filename"]),
        baseline=data["baseline"],
        baseline_reason=str(data["baseline_reason"]),
        files=FileDiff(
            tuple(files["added"]),
            tuple(files["removed"]),
            tuple(files["changed"]),
            tuple(files["unchanged"]),
        ),
        metadata=MetadataDiff(
            tuple(MetadataChange(str(f), o, n) for f, o, n in metadata["changes"]),
            tuple(load_finding(f) for f in metadata["findings"]),
        ),
        findings=tuple(load_finding(f) for f in data["findings"]),
        context=tuple(load_finding(f) for f in data["context"]),
        analysed_files=int(data["analysed_files"]),
        analysed_bytes=int(data["analysed_bytes"]),
        skipped_files=int(data["skipped_files"]),
        new_hosts=tuple(data["new_hosts"]),
    )


class DiffCache:
    """Diff results under ``root``, one JSON file per (new, baseline) pair."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, new_sha256: str, old_sha256: str | None, reason: str) -> Path:
        key = hashlib.sha256(
            f"{ANALYSER_VERSION}\0{new_sha256}\0{old_sha256 or ''}\0{reason}".encode()
        ).hexdigest()
        return self.root / key[:2] / f"{key}.json"

    def get(self, new_sha256: str, old_sha256: str | None, reason: str) -> BehaviourDiff | None:
        """The cached diff, or ``None`` (an unreadable entry is removed)."""
        return read_record(self._path(new_sha256, old_sha256, reason), _load_diff)

    def put(
        self, new_sha256: str, old_sha256: str | None, reason: str, diff: BehaviourDiff
    ) -> None:
        """Keep ``diff``; a cache that cannot be written only costs time later."""
        write_record(self._path(new_sha256, old_sha256, reason), dump(diff))


def _load_diff(data: object) -> BehaviourDiff:
    if not isinstance(data, dict):
        raise TypeError("a cached diff is not an object")
    return load(data)
