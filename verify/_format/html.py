"""HTML for the people who decide: the review list, and the detail of one file's verification
(also ``pip-verify diff --format html``, as one standalone file).

Server-rendered, one small stylesheet, no JavaScript. Every value that comes from a package
(names, versions, file paths, code, messages that quote them) is escaped; pages forbid
scripts and outside resources with a Content-Security-Policy.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from verify._behaviour.review import DiffResult
from verify._dist.excerpt import ExcerptLine
from verify.models import Finding, Reason

__all__ = [
    "ActionForm",
    "DetailView",
    "FindingView",
    "HistoryEntry",
    "ListRow",
    "detail_from_diff",
    "render_detail",
    "render_list",
]

#: Scripts, frames and outside resources are refused; only the inline stylesheet applies, and
#: forms post only to the page's own origin.
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 72rem;
  padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 1.8rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd;
  vertical-align: top; }
code, pre { font: 13px/1.4 ui-monospace, monospace; }
pre { background: #f6f6f6; padding: .5rem; overflow-x: auto; margin: .3rem 0; }
.flagged { background: #ffe3e3; display: block; }
.deny, .critical, .high { color: #a40000; font-weight: 600; }
.warn, .medium { color: #8a5a00; font-weight: 600; }
.allow, .low, .info { color: #236a23; }
.decoded { background: #eef3ff; }
.muted { color: #666; }
form { margin-top: 1rem; padding: .8rem; border: 1px solid #ccc; }
label { display: block; margin: .4rem 0; }
input[type=text], input[type=date] { width: 30rem; max-width: 100%; }
"""


@dataclass(frozen=True, slots=True)
class FindingView:
    """A finding, with the lines of its file around the one it flags (when they could be
    read)."""

    finding: Finding
    excerpt: tuple[ExcerptLine, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A decision someone made about the file."""

    when: str
    who: str
    action: str
    reason: str
    expires: str | None = None


@dataclass(frozen=True, slots=True)
class ActionForm:
    """The form that records a decision: where it posts, and its anti-forgery token."""

    action_url: str
    csrf: str


@dataclass(frozen=True, slots=True)
class DetailView:
    """Everything the detail page shows about one file's verification."""

    title: str
    filename: str
    decision: str
    reasons: tuple[Reason, ...] = ()
    baseline: str | None = None
    baseline_reason: str = ""
    #: added, changed, removed, unchanged: how many files.
    counts: Mapping[str, int] = field(default_factory=dict)
    findings: tuple[FindingView, ...] = ()
    #: Behaviour the baseline already had (context, not a verdict).
    context: tuple[Finding, ...] = ()
    #: (label, value) lines: the provenance and the publisher.
    provenance: tuple[tuple[str, str], ...] = ()
    history: tuple[HistoryEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class ListRow:
    """One blocked file in the review list."""

    url: str
    when: str
    package: str
    version: str
    filename: str
    rules: tuple[str, ...]
    severity: str
    publisher: str
    status: str


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def render_list(rows: Sequence[ListRow], *, title: str = "pip-verify: blocked files") -> str:
    """The review list: what was blocked, when, why, and by which publisher."""
    body = [f"<h1>{_e(title)}</h1>"]
    if not rows:
        body.append('<p class="muted">Nothing is blocked.</p>')
        return _page(title, body)
    body += [
        "<table>",
        "<thead><tr><th>when</th><th>package</th><th>file</th><th>why</th><th>severity</th>"
        "<th>publisher</th><th>status</th></tr></thead>",
        "<tbody>",
    ]
    for row in rows:
        body.append(
            "<tr>"
            f"<td>{_e(row.when)}</td>"
            f"<td>{_e(row.package)} {_e(row.version)}</td>"
            f'<td><a href="{_e(row.url)}">{_e(row.filename)}</a></td>'
            f"<td>{_e(', '.join(row.rules))}</td>"
            f'<td class="{_e(row.severity)}">{_e(row.severity)}</td>'
            f"<td>{_e(row.publisher)}</td>"
            f"<td>{_e(row.status)}</td>"
            "</tr>"
        )
    body += ["</tbody>", "</table>"]
    return _page(title, body)


def render_detail(view: DetailView, *, form: ActionForm | None = None) -> str:
    """The detail page of one file; with ``form``, the reviewer's actions under it."""
    body = [
        f"<h1>{_e(view.title)}</h1>",
        f'<p>File <code>{_e(view.filename)}</code>: <span class="{_e(view.decision)}">'
        f"{_e(view.decision)}</span></p>",
    ]
    if view.reasons:
        body += ["<h2>Why</h2>", "<ul>"]
        body += [
            f'<li><span class="{_e(r.decision.value)}">{_e(r.decision.value)}</span> '
            f"<code>{_e(r.rule)}</code> {_e(r.message)}"
            + (' <span class="muted">(not checked)</span>' if r.unchecked else "")
            + "</li>"
            for r in view.reasons
        ]
        body.append("</ul>")
    body += _behaviour(view)
    if view.provenance:
        body += ["<h2>Provenance and publisher</h2>", "<table>"]
        body += [
            f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>" for label, value in view.provenance
        ]
        body.append("</table>")
    body += _history(view.history)
    if form is not None:
        body += _form(form)
    return _page(view.title, body)


def _behaviour(view: DetailView) -> list[str]:
    body = ["<h2>Behaviour diff</h2>"]
    if view.baseline is not None:
        body.append(
            f"<p>Compared with <code>{_e(view.baseline)}</code> "
            f'<span class="muted">({_e(view.baseline_reason)})</span></p>'
        )
    elif view.baseline_reason:
        body.append(f'<p class="muted">No baseline: {_e(view.baseline_reason)}</p>')
    if view.counts:
        counts = ", ".join(f"{_e(v)} {_e(k)}" for k, v in view.counts.items())
        body.append(f"<p>Files: {counts}.</p>")
    metadata = [f for f in view.findings if _is_metadata(f.finding)]
    code = [f for f in view.findings if not _is_metadata(f.finding)]
    if not view.findings:
        body.append('<p class="muted">Nothing new.</p>')
    for item in code:
        body += _finding(item)
    if metadata:
        body.append("<h2>Metadata diff</h2>")
        for item in metadata:
            body += _finding(item)
    if view.context:
        body += ["<h2>Already in the baseline</h2>", "<ul>"]
        body += [
            f"<li><code>{_e(f.rule)}</code> {_e(f.message)}"
            + (f" <code>{_e(f.path)}</code>" if f.path else "")
            + "</li>"
            for f in view.context
        ]
        body.append("</ul>")
    return body


def _is_metadata(finding: Finding) -> bool:
    path = finding.path or ""
    return path.endswith(("METADATA", "PKG-INFO")) or finding.rule.startswith("metadata-")


def _finding(item: FindingView) -> list[str]:
    finding = item.finding
    where = ""
    if finding.path:
        where = f" in <code>{_e(finding.path)}</code>" + (
            f" line {_e(finding.line)}" if finding.line else ""
        )
    body = [
        f'<h3><span class="{_e(finding.severity.value)}">{_e(finding.severity.value)}</span> '
        f"<code>{_e(finding.rule)}</code>{where}</h3>",
        f"<p>{_e(finding.message)}</p>",
    ]
    if finding.why:
        body.append(f'<p class="muted">Dangerous because {_e(finding.why)}.</p>')
    if item.excerpt:
        lines = []
        for line in item.excerpt:
            text = f"{line.number:>5}  {line.text}"
            lines.append(f'<span class="flagged">{_e(text)}</span>' if line.flagged else _e(text))
        body.append("<pre>" + "\n".join(lines) + "</pre>")
    snippet = finding.snippet or ""
    if snippet.startswith("[decoded"):
        # The code as the analysis decoded it, beside the encoded line above.
        body.append(f'<pre class="decoded">{_e(snippet)}</pre>')
    elif snippet and not item.excerpt:
        body.append(f"<pre>{_e(snippet)}</pre>")
    return body


def _history(history: Sequence[HistoryEntry]) -> list[str]:
    if not history:
        return []
    body = ["<h2>History</h2>", "<table>"]
    body.append("<tr><th>when</th><th>who</th><th>decision</th><th>why</th><th>until</th></tr>")
    body += [
        f"<tr><td>{_e(h.when)}</td><td>{_e(h.who)}</td><td>{_e(h.action)}</td>"
        f"<td>{_e(h.reason)}</td><td>{_e(h.expires or '')}</td></tr>"
        for h in history
    ]
    body.append("</table>")
    return body


def _form(form: ActionForm) -> list[str]:
    return [
        "<h2>Decide</h2>",
        f'<form method="post" action="{_e(form.action_url)}">',
        f'<input type="hidden" name="csrf" value="{_e(form.csrf)}">',
        '<label>Why (required) <input type="text" name="reason" required maxlength="500"></label>',
        '<label>Allow until (optional) <input type="date" name="expires"></label>',
        '<button type="submit" name="action" value="allow">Allow this file</button> ',
        '<button type="submit" name="action" value="keep-blocked">Keep it blocked</button>',
        "</form>",
    ]


def detail_from_diff(
    result: DiffResult,
    excerpts: Mapping[tuple[str, int], tuple[ExcerptLine, ...]] | None = None,
) -> DetailView:
    """The detail view of a ``pip-verify diff``; ``excerpts`` holds the lines around each
    flagged line of the new file, by (path, line)."""
    diff = result.diff
    found = excerpts or {}
    name = f"{result.name} {result.new_version}" if result.name else diff.filename
    return DetailView(
        title=f"pip-verify diff: {name}",
        filename=diff.filename,
        decision=result.decision.value,
        reasons=result.reasons,
        baseline=diff.baseline,
        baseline_reason=diff.baseline_reason,
        counts={
            "added": len(diff.files.added),
            "changed": len(diff.files.changed),
            "removed": len(diff.files.removed),
        },
        findings=tuple(
            FindingView(f, found.get((f.path, f.line), ()) if f.path and f.line else ())
            for f in diff.findings
        ),
        context=diff.context,
    )
