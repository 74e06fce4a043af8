"""The report as a rich terminal table, for people."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from verify._format.sarif import review_items
from verify._format.untrusted import one_line
from verify.models import Decision, HashStatus, PackageResult, Report, Severity

__all__ = ["render_reasons", "render_text"]

_DECISION_STYLE = {Decision.ALLOW: "green", Decision.WARN: "yellow", Decision.DENY: "bold red"}
_HASH_STYLE = {
    HashStatus.VERIFIED: ("verified", "green"),
    HashStatus.MISMATCH: ("MISMATCH", "bold red"),
    HashStatus.UNVERIFIABLE: ("no digest", "yellow"),
    HashStatus.UNCHECKED: ("unchecked", "yellow"),
}


def _hashes(package: PackageResult) -> Text:
    if not package.files:
        return Text("-", style="dim")
    statuses = Counter(file.hash_status for file in package.files)
    worst = next(
        s
        for s in (
            HashStatus.MISMATCH,
            HashStatus.UNCHECKED,
            HashStatus.UNVERIFIABLE,
            HashStatus.VERIFIED,
        )
        if statuses[s]
    )
    label, style = _HASH_STYLE[worst]
    if len(package.files) > 1:
        label = f"{label} ({statuses[HashStatus.VERIFIED]}/{len(package.files)})"
    return Text(label, style=style)


def _host(url: str | None) -> str:
    # The table names the index by host; the JSON report has the full URL.
    if not url:
        return "-"
    parts = urlsplit(url)
    if parts.scheme == "file":
        return parts.path
    return parts.netloc or url


def _cell(value: str) -> str:
    # Table cells are rich markup: escape that too, after the terminal escapes.
    return escape(one_line(value))


def _table(report: Report, *, with_files: bool) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("package")
    table.add_column("version")
    table.add_column("decision")
    table.add_column("hashes")
    table.add_column("provenance")
    if with_files:
        table.add_column("file(s)", overflow="fold")
    table.add_column("index", overflow="fold")
    for package in report.packages:
        cells: list[RenderableType] = [
            _cell(package.name),
            _cell(str(package.version) if package.version else "-"),
            Text(package.decision.value, style=_DECISION_STYLE[package.decision]),
            _hashes(package),
            Text(package.provenance.status.value, style="dim"),
        ]
        if with_files:
            cells.append(_cell(", ".join(file.filename for file in package.files) or "-"))
        cells.append(_cell(_host(package.index)))
        table.add_row(*cells)
    return table


def _reasons(report: Report) -> list[RenderableType]:
    lines: list[RenderableType] = []
    for item in review_items(report):
        package, reason = item.package, item.reason
        marker = "deny" if reason.decision is Decision.DENY else "warn"
        text = Text()
        text.append(f"{marker:>4} ", style=_DECISION_STYLE[reason.decision])
        label = f"{package.name} {package.version or ''}".rstrip()
        text.append(one_line(label), style="bold")
        text.append(f" [{one_line(reason.rule)}] ", style="cyan")
        # Messages embed paths and names from the package.
        text.append(one_line(reason.message))
        if package.source is not None:
            text.append(f" ({one_line(str(package.source))})", style="dim")
        lines.append(text)
        finding = item.finding
        if finding is not None and finding.severity in (Severity.HIGH, Severity.CRITICAL):
            # The code, decoded when it was hidden, and why it matters.
            if finding.snippet:
                lines.append(Text(f"       {one_line(finding.snippet)}", style="dim"))
            if finding.why:
                lines.append(Text(f"       {one_line(finding.why)}", style="dim italic"))
    return lines


def _summary(report: Report) -> Text:
    counts = Counter(package.decision for package in report.packages)
    total = len(report.packages)
    text = Text()
    text.append(f"{total} package{'s' if total != 1 else ''} checked: ")
    text.append(f"{counts[Decision.ALLOW]} allowed", style="green")
    text.append(", ")
    text.append(f"{counts[Decision.WARN]} with warnings", style="yellow")
    text.append(", ")
    text.append(f"{counts[Decision.DENY]} denied", style="red")
    text.append(". Decision: ")
    text.append(report.decision.value.upper(), style=_DECISION_STYLE[report.decision])
    if report.incomplete:
        text.append(" (verification incomplete)", style="bold red")
    return text


def render_reasons(report: Report, console: Console) -> None:
    """Print only the warnings and denials, one line each (no table)."""
    for line in _reasons(report):
        console.print(line)


def render_text(report: Report, console: Console) -> None:
    """Print the report: a table of packages, every warning and denial, and a summary."""
    parts: list[RenderableType] = []
    if report.packages:
        # Filenames only fit a wide terminal; the JSON report always has them.
        parts.append(_table(report, with_files=console.width >= 120))
    if report.changes:
        parts.append(Text(""))
        for change in report.changes:
            versions = " -> ".join(
                str(v) for v in (change.old_version, change.new_version) if v is not None
            )
            where = f" ({change.source})" if change.source is not None else ""
            parts.append(
                Text.assemble(
                    (f"{change.kind.value:>10} ", "cyan"),
                    one_line(f"{change.name} {versions}{where}"),
                )
            )
    reasons = _reasons(report)
    if reasons:
        parts.append(Text(""))
        parts.extend(reasons)
    parts.extend(
        Text.assemble(("error ", "bold red"), one_line(f"[{error.kind}] {error.message}"))
        for error in report.errors
    )
    parts.extend(
        Text.assemble(("warning ", "yellow"), one_line(warning)) for warning in report.warnings
    )
    parts.append(Text(""))
    parts.append(_summary(report))
    console.print(Group(*parts))
