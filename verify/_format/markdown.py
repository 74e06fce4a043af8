"""The report as GitHub-flavoured markdown: a pull request comment or a job summary.

A headline (the decision and the counts), a table of the packages with their provenance and
publisher, then every warning and denial grouped by package, the most severe first, with the
evidence behind it. Lists longer than ten entries are folded into ``<details>``.

Package names, versions, messages, paths and snippets come from lock files, indexes and
package contents, so they are untrusted: they are escaped so that they can neither break the
table nor inject HTML, links, mentions, math or formatting, and control and bidirectional
characters are replaced.

The output never exceeds ``max_chars`` characters. When the whole report does not fit, the
least severe findings are left out first, then packages from the end of the table, each
time at an entry's boundary and with a line that says how many were left out.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from verify._format.sarif import ReviewItem, review_items
from verify._format.untrusted import UNSAFE_CHARACTERS, one_line
from verify.models import Decision, PackageResult, ProvenanceStatus, Report

__all__ = [
    "COMMENT_LIMIT",
    "DEFAULT_MARKER",
    "code_block",
    "code_span",
    "inert_text",
    "marker_comment",
    "render_markdown",
]

#: GitHub's limit on the body of a pull request comment, in characters.
COMMENT_LIMIT = 65_536
#: The hidden marker that finds pip-verify's own pull request comment again.
DEFAULT_MARKER = "pip-verify"

#: Lists (table rows, a package's findings) longer than this are folded into <details>.
_OPEN_ITEMS = 10
#: Snippets are shown up to this many characters.
_SNIPPET_CHARS = 200
#: Errors and warnings of the run are listed up to this many each.
_LISTED_NOTES = 20

_DECISION_WORD = {Decision.ALLOW: "allow", Decision.WARN: "warn", Decision.DENY: "deny"}
# Characters that start markdown syntax anywhere in a line (GFM, plus GitHub's $ math).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")
_BACKTICKS = re.compile(r"`+")


def _clean(value: str) -> str:
    # Line breaks and tabs become spaces and every other unsafe character U+FFFD, which
    # renders as a visible mark; the JSON report has the exact value for whoever needs it.
    return UNSAFE_CHARACTERS.sub(lambda m: " " if m.group() in "\r\n\t" else "\ufffd", value)


def _text(value: str) -> str:
    """Untrusted text as inert markdown: one line, no HTML, no syntax, no mentions."""
    value = html.escape(_clean(value), quote=False)
    value = _MARKDOWN_SPECIAL.sub(r"\\\1", value)
    # A zero-width space after @ keeps "@org/team" from notifying anyone.
    return value.replace("@", "@\u200b")


def _code(value: str, *, limit: int | None = None) -> str:
    """Untrusted text as an inline code span (literal, whatever it holds)."""
    value = _clean(value)
    if limit is not None and len(value) > limit:
        value = value[:limit] + "…"
    if not value.strip():
        return _text(value) or "(empty)"
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def inert_text(value: str) -> str:
    """Untrusted text as inert markdown, for other summaries than the report's: one line, no
    HTML, no syntax, no mentions."""
    return _text(value)


def code_span(value: str) -> str:
    """Untrusted text as an inline code span, for other summaries than the report's."""
    return _code(value)


def code_block(text: str, info: str = "") -> str:
    """Untrusted lines (a diff of a lock, commands naming its packages) as a fenced code block
    with the info string ``info``: unsafe characters shown as their escapes, and a fence
    longer than any run of backticks inside, so that no line can close it early."""
    lines = [one_line(line) for line in text.splitlines()]
    longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([fence + info, *lines, fence]) + "\n"


def marker_comment(marker: str = DEFAULT_MARKER) -> str:
    """The hidden HTML comment that marks pip-verify's pull request comment."""
    if "--" in marker or ">" in marker or "<" in marker:
        raise ValueError(f"a comment marker cannot contain '--', '<' or '>': {marker!r}")
    return f"<!-- {_clean(marker).strip()} -->"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _label(package: PackageResult) -> str:
    version = f" {_text(str(package.version))}" if package.version is not None else ""
    return f"{_text(package.name)}{version}"


def _publisher(package: PackageResult) -> str:
    provenance = package.provenance
    if provenance.status is not ProvenanceStatus.VERIFIED or not provenance.publisher:
        return ""
    fields = (provenance.publisher.get(key) for key in ("kind", "repository", "workflow"))
    return _text(" ".join(value for value in fields if value))


def _decision(decision: Decision) -> str:
    word = _DECISION_WORD[decision]
    return f"**{word}**" if decision is Decision.DENY else word


def _folded(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


@dataclass(frozen=True, slots=True)
class _Group:
    package: PackageResult
    items: tuple[ReviewItem, ...]


class _Document:
    """The parts of the summary, rendered with a given number of rows and findings."""

    def __init__(self, report: Report, title: str | None, marker: str | None) -> None:
        self.report = report
        self.title = title
        self.marker = marker
        self.rows = sorted(report.packages, key=lambda p: (-p.decision.rank, p.name))
        items = sorted(review_items(report), key=lambda item: item.rank)
        by_package: dict[int, list[ReviewItem]] = {}
        for item in items:
            by_package.setdefault(id(item.package), []).append(item)
        # Packages in the order of their most severe finding, each with its findings in order.
        self.groups = [_Group(group[0].package, tuple(group)) for group in by_package.values()]
        self.items = [item for group in self.groups for item in group.items]

    def _headline(self) -> list[str]:
        report = self.report
        status = report.decision.value.upper()
        heading = f"## {_text(self.title) if self.title else 'pip-verify'}: {status}"
        counts = Counter(package.decision for package in report.packages)
        levels = Counter(item.level for item in self.items)
        checked = (
            f"**Decision: {status}**. {_plural(len(report.packages), 'package')} checked: "
            f"{counts[Decision.ALLOW]} allowed, {counts[Decision.WARN]} with warnings, "
            f"{counts[Decision.DENY]} denied."
        )
        found = (
            f"{_plural(levels['error'], 'denial')}, {_plural(levels['warning'], 'warning')}"
            f" and {_plural(levels['note'], 'unchecked rule')}."
        )
        lines = [heading, "", f"{checked} {found}"]
        if report.incomplete:
            lines += [
                "",
                "**Verification incomplete**: some checks could not run, and pip-verify "
                "fails closed.",
            ]
        return lines

    def _notes(self, heading: str, notes: Sequence[str]) -> list[str]:
        if not notes:
            return []
        lines = ["", f"### {heading}", ""]
        lines += [f"- {_text(note)}" for note in notes[:_LISTED_NOTES]]
        if len(notes) > _LISTED_NOTES:
            lines.append(f"- … {len(notes) - _LISTED_NOTES} more; see the JSON report.")
        return lines

    def _table(self, shown: int) -> list[str]:
        if not self.rows:
            return []
        table = [
            "| Package | Version | Decision | Provenance | Publisher | Source |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for package in self.rows[:shown]:
            version = _text(str(package.version)) if package.version is not None else ""
            source = _text(str(package.source)) if package.source is not None else ""
            table.append(
                f"| {_text(package.name)} | {version} | {_decision(package.decision)} | "
                f"{package.provenance.status.value} | {_publisher(package)} | {source} |"
            )
        if shown < len(self.rows):
            left = len(self.rows) - shown
            table += ["", f"… {_plural(left, 'more package')} not shown; see the JSON report."]
        lines = ["", "### Packages", ""]
        if len(self.rows) > _OPEN_ITEMS:
            return lines + _folded(_plural(len(self.rows), "package"), table)
        return lines + table

    @staticmethod
    def _item(item: ReviewItem) -> list[str]:
        reason = item.reason
        word = "unchecked" if item.level == "note" else _DECISION_WORD[reason.decision]
        line = f"- **{word}** {_code(reason.rule)}: {_text(reason.message)}"
        if reason.unchecked:
            line += " (could not be checked; the rule's on-error decision applies)"
        lines = [line]
        finding = item.finding
        if finding is not None and (finding.path or finding.snippet):
            where = (finding.path or "") + (f":{finding.line}" if finding.line else "")
            evidence = f"  - evidence ({finding.severity.value})"
            if where:
                evidence += f": {_code(where)}"
            if finding.snippet:
                evidence += f" {_code(finding.snippet, limit=_SNIPPET_CHARS)}"
            lines.append(evidence)
            if finding.why:
                lines.append(f"  - {_text(finding.why)}")
        return lines

    def _group(self, group: _Group, shown: int) -> list[str]:
        package = group.package
        lines = ["", f"#### {_label(package)}: {_decision(package.decision)}", ""]
        details = []
        if package.source is not None:
            details.append(f"Source: {_text(str(package.source))}.")
        for summary in package.behaviour:
            base = _text(summary.baseline) if summary.baseline else "no baseline"
            details.append(
                f"Behaviour of {_text(summary.filename)} compared with {base} "
                f"({_text(summary.reason)}): {summary.added} files added, "
                f"{summary.changed} changed, {summary.removed} removed."
            )
        if details:
            lines += [" ".join(details[:1]), *(f"<br>{d}" for d in details[1:]), ""]
        body = [line for item in group.items[:shown] for line in self._item(item)]
        if len(group.items) > _OPEN_ITEMS:
            return lines + _folded(_plural(len(group.items), "finding"), body)
        return lines + body

    def _findings(self, shown: int) -> list[str]:
        if not self.items:
            return []
        lines = ["", "### Findings"]
        left = shown
        for group in self.groups:
            if left <= 0:
                break
            lines += self._group(group, left)
            left -= len(group.items)
        if shown < len(self.items):
            hidden = len(self.items) - shown
            lines += [
                "",
                f"… {_plural(hidden, 'more finding')} not shown; see the JSON report.",
            ]
        return lines

    def render(self, rows: int, items: int) -> str:
        """The summary with the first ``rows`` table rows and the first ``items`` findings."""
        lines = [marker_comment(self.marker), ""] if self.marker is not None else []
        lines += self._headline()
        lines += self._notes("Errors", [f"[{e.kind}] {e.message}" for e in self.report.errors])
        lines += self._table(rows)
        lines += self._findings(items)
        lines += self._notes("Warnings", self.report.warnings)
        return "\n".join(lines) + "\n"


def _most(count: int, fits: Callable[[int], bool]) -> int | None:
    """The largest ``n < count`` for which ``fits(n)`` (``None`` if not even 0 fits).

    The length grows with ``n`` but for a digit or two of the "more not shown" line, so a
    search by halves finds the largest ``n`` or one just below it.
    """
    if not fits(0):
        return None
    low, high = 0, count - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def render_markdown(
    report: Report,
    *,
    title: str | None = None,
    max_chars: int = 1_000_000,
    marker: str | None = None,
) -> str:
    """The report as markdown of at most ``max_chars`` characters.

    ``title`` replaces "pip-verify" in the heading (name the lock file when there are several);
    ``marker`` (``DEFAULT_MARKER``, say) starts the text with a hidden HTML comment that finds
    the comment again to update it in place.
    """
    document = _Document(report, title, marker)
    rows, items = len(document.rows), len(document.items)
    text = document.render(rows, items)
    if len(text) <= max_chars:
        return text

    # Leave out findings first (the least severe go first), then table rows.
    def fits(n: int) -> bool:
        return len(document.render(rows, n)) <= max_chars

    shown = _most(items, fits) if items else None
    if shown is not None:
        return document.render(rows, shown)
    shown_rows = _most(rows, lambda n: len(document.render(n, 0)) <= max_chars)
    if shown_rows is not None:
        return document.render(shown_rows, 0)
    # Not even the headline fits: cut it at a line.
    text = document.render(0, 0)[:max_chars]
    cut = text.rfind("\n")
    return text[: cut + 1] if cut > 0 else text
