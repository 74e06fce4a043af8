"""``pip-verify diff`` output: a readable, coloured unified view, and JSON.

The JSON (schema ``pip-verify/diff/v1``) uses the report's ``findings`` schema, plus the
baseline and the file and metadata diff.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from verify._behaviour.review import DiffResult
from verify._format.json import finding_to_dict
from verify._format.untrusted import one_line
from verify._version import __version__
from verify.models import Decision, Finding, Severity

__all__ = ["DIFF_SCHEMA", "diff_to_dict", "render_diff_json", "render_diff_text"]

DIFF_SCHEMA = "pip-verify/diff/v1"
#: File lists longer than this are cut in the text view (the JSON has them all).
_SHOWN_FILES = 25

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_DECISION_STYLE = {Decision.ALLOW: "green", Decision.WARN: "yellow", Decision.DENY: "bold red"}


def diff_to_dict(result: DiffResult) -> dict[str, Any]:
    """The diff as JSON-ready data."""
    diff = result.diff
    return {
        "schema": DIFF_SCHEMA,
        "tool": {"name": "pip-verify", "version": __version__},
        "name": result.name,
        "old_version": result.old_version,
        "new_version": result.new_version,
        "filename": diff.filename,
        "baseline": {"filename": diff.baseline, "reason": diff.baseline_reason},
        "decision": result.decision.value,
        "files": {
            "added": list(diff.files.added),
            "removed": list(diff.files.removed),
            "changed": list(diff.files.changed),
            "unchanged": len(diff.files.unchanged),
        },
        "metadata": [
            {"field": change.field, "old": change.old, "new": change.new}
            for change in diff.metadata.changes
        ],
        "findings": [finding_to_dict(f) for f in diff.findings],
        "context": [finding_to_dict(f) for f in diff.context],
        "reasons": [
            {"rule": r.rule, "decision": r.decision.value, "message": r.message}
            for r in result.reasons
        ],
        "new_hosts": list(diff.new_hosts),
        "analysed": {
            "files": diff.analysed_files,
            "bytes": diff.analysed_bytes,
            "skipped_unchanged": diff.skipped_files,
        },
    }


def render_diff_json(result: DiffResult) -> str:
    """The diff as an indented JSON document, with a trailing newline."""
    return json.dumps(diff_to_dict(result), indent=2) + "\n"


def _files(console: Console, marker: str, style: str, paths: tuple[str, ...]) -> None:
    for path in paths[:_SHOWN_FILES]:
        console.print(Text(f"{marker} {one_line(path)}", style=style))
    if len(paths) > _SHOWN_FILES:
        console.print(Text(f"{marker} ... and {len(paths) - _SHOWN_FILES} more", style="dim"))


def _finding(console: Console, finding: Finding) -> None:
    line = Text()
    line.append(f"{finding.severity.value:>8} ", style=_SEVERITY_STYLE[finding.severity])
    line.append(f"[{one_line(finding.rule)}] ", style="bold")
    where = (finding.path or "") + (f":{finding.line}" if finding.line else "")
    if where:
        line.append(f"{one_line(where)}: ", style="cyan")
    # Messages embed paths and metadata from the package.
    line.append(one_line(finding.message))
    console.print(line)
    if finding.snippet:
        console.print(Text(f"           {one_line(finding.snippet)}", style="dim"))
    if finding.why:
        console.print(Text(f"           {one_line(finding.why)}", style="dim italic"))


def render_diff_text(result: DiffResult, console: Console) -> None:
    """The diff for people: files, metadata, then findings with their evidence."""
    diff = result.diff
    console.print(
        f"[bold]{escape(one_line(diff.filename))}[/]  "
        f"baseline: {escape(one_line(diff.baseline_reason))}",
        highlight=False,
    )
    files = diff.files
    console.print(
        f"files: {len(files.added)} added, {len(files.removed)} removed, "
        f"{len(files.changed)} changed, {len(files.unchanged)} unchanged "
        f"({diff.analysed_files} analysed, {diff.skipped_files} skipped as unchanged)",
        highlight=False,
    )
    _files(console, "+", "green", files.added)
    _files(console, "-", "red", files.removed)
    _files(console, "~", "yellow", files.changed)
    if diff.metadata.changes:
        console.print("\n[bold]metadata[/]")
        for change in diff.metadata.changes:
            console.print(
                Text(f"  {one_line(change.field)}: ")
                + Text(one_line(str(change.old)), style="red")
                + Text(" -> ")
                + Text(one_line(str(change.new)), style="green")
            )
    console.print(f"\n[bold]new behaviour[/] ({len(diff.findings)})")
    if not diff.findings:
        console.print("  none", style="green")
    for finding in diff.findings:
        _finding(console, finding)
    if diff.context:
        console.print(
            f"\n[dim]{len(diff.context)} capabilities the baseline already had "
            "(context; --format json lists them)[/]"
        )
    console.print(
        Text("\ndecision: ") + Text(result.decision.value, style=_DECISION_STYLE[result.decision])
    )
