"""The JSON report (schema ``pip-verify/report/v1``, documented in docs/reports.md).

Fields are only ever added to this schema, never renamed or removed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from verify._version import __version__
from verify.models import (
    BehaviourSummary,
    FileResult,
    Finding,
    KnownVulnerability,
    PackageResult,
    Provenance,
    Report,
)

__all__ = [
    "SCHEMA",
    "behaviour_to_dict",
    "finding_to_dict",
    "render_json",
    "report_to_dict",
    "vulnerability_to_dict",
]

SCHEMA = "pip-verify/report/v1"


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _file(file: FileResult) -> dict[str, Any]:
    return {
        "filename": file.filename,
        "url": file.url,
        "sha256": file.sha256,
        "size": file.size,
        "upload_time": _time(file.upload_time),
        "hash_status": file.hash_status.value,
        "expected": [
            {"source": e.source, "algorithm": e.algorithm, "digest": e.digest}
            for e in file.expected
        ],
        "index": file.index_url,
        "yanked": file.yanked,
        "yanked_reason": file.yanked_reason,
        "requires_python": file.requires_python,
        "provenance_url": file.provenance_url,
        "error": file.error,
        "provenance": _provenance(file.provenance) if file.provenance is not None else None,
    }


def _provenance(provenance: Provenance) -> dict[str, Any]:
    return {
        "status": provenance.status.value,
        "publisher": dict(provenance.publisher) if provenance.publisher is not None else None,
        "reason": provenance.reason,
    }


def _package(package: PackageResult) -> dict[str, Any]:
    return {
        "name": package.name,
        "version": str(package.version) if package.version is not None else None,
        "decision": package.decision.value,
        "index": package.index,
        "requested": package.requested,
        "source": (
            {"path": package.source.path, "line": package.source.line}
            if package.source is not None
            else None
        ),
        "files": [_file(file) for file in package.files],
        "provenance": _provenance(package.provenance),
        "findings": [finding_to_dict(f) for f in package.findings],
        "behaviour": [behaviour_to_dict(b) for b in package.behaviour],
        "vulnerabilities": [vulnerability_to_dict(v) for v in package.vulnerabilities],
        "reasons": [
            {
                "rule": r.rule,
                "decision": r.decision.value,
                "message": r.message,
                "unchecked": r.unchecked,
            }
            for r in package.reasons
        ],
    }


def vulnerability_to_dict(vulnerability: KnownVulnerability) -> dict[str, Any]:
    """One known vulnerability as JSON-ready data (the ``vulnerabilities`` of a package)."""
    return {
        "id": vulnerability.id,
        "aliases": list(vulnerability.aliases),
        "summary": vulnerability.summary,
        "severity": vulnerability.severity,
        "fix_versions": list(vulnerability.fix_versions),
        "malicious": vulnerability.malicious,
        "url": vulnerability.url,
        "ignored": vulnerability.ignored,
    }


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """One finding as JSON-ready data (the ``findings`` schema of reports and diffs)."""
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "path": finding.path,
        "line": finding.line,
        "message": finding.message,
        "snippet": finding.snippet,
        "why": finding.why,
    }


def behaviour_to_dict(summary: BehaviourSummary) -> dict[str, Any]:
    """How a file was compared with its baseline."""
    return {
        "filename": summary.filename,
        "baseline": summary.baseline,
        "reason": summary.reason,
        "files": {
            "added": summary.added,
            "removed": summary.removed,
            "changed": summary.changed,
            "unchanged": summary.unchanged,
        },
        "analysed": {"files": summary.analysed_files, "bytes": summary.analysed_bytes},
        "context": [finding_to_dict(f) for f in summary.context],
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "pip-verify", "version": __version__},
        "decision": report.decision.value,
        "complete": not report.incomplete,
        "checks": list(report.checks),
        "indexes": list(report.indexes),
        "packages": [_package(package) for package in report.packages],
        "changes": [
            {
                "name": change.name,
                "change": change.kind.value,
                "old_version": str(change.old_version) if change.old_version else None,
                "new_version": str(change.new_version) if change.new_version else None,
                "source": (
                    {"path": change.source.path, "line": change.source.line}
                    if change.source is not None
                    else None
                ),
            }
            for change in report.changes
        ],
        "errors": [{"kind": e.kind, "message": e.message} for e in report.errors],
        "warnings": list(report.warnings),
    }


def render_json(report: Report) -> str:
    """The report as an indented JSON document, with a trailing newline."""
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False) + "\n"
