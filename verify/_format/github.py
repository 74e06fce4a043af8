"""GitHub Actions output: workflow-command annotations and the job summary.

GitHub keeps 10 error and 10 warning annotations per step, and reads at most 1 MiB of a
step's summary file. :func:`workflow_commands` annotates the most severe reasons at their
lock-file lines (denials, then warnings, each by the severity of the finding behind it) and
ends with a notice saying how many more are in the summary; :func:`append_step_summary`
appends the markdown summary without ever letting the file outgrow the limit.

Every value is escaped the way the runner unescapes it, so a hostile message can neither
end the command early nor start a new one; other control and bidirectional characters are
made visible, since the annotation shows them to people.
"""

from __future__ import annotations

import re
from pathlib import Path

from verify._format.sarif import ReviewItem, review_items
from verify._format.untrusted import with_line_breaks
from verify.models import Decision, Report

__all__ = [
    "ANNOTATIONS_PER_LEVEL",
    "SUMMARY_LIMIT",
    "append_step_summary",
    "escape_data",
    "escape_property",
    "workflow_commands",
]

#: Annotations GitHub keeps per step for each of ``error`` and ``warning``.
ANNOTATIONS_PER_LEVEL = 10
#: The most of a step summary file GitHub reads, in bytes.
SUMMARY_LIMIT = 1024 * 1024

_CUT_NOTICE = (
    "\n\n… the rest of this summary was left out to stay within GitHub's step summary "
    "limit; see the JSON report.\n"
)
_DETAILS = re.compile(r"<(/?)details>")
_BACKSLASH = "\\"


def escape_data(value: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped as the runner expects, and
    any other control or bidirectional character shown as its escape (``\\x1b``)."""
    value = with_line_breaks(value)
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value: as :func:`escape_data`, plus ``:`` and ``,``."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _command(item: ReviewItem) -> str:
    kind = "error" if item.reason.decision is Decision.DENY else "warning"
    properties = []
    source = item.package.source
    if source is not None:
        properties.append(f"file={escape_property(source.path.replace(_BACKSLASH, '/'))}")
        if source.line is not None and source.line > 0:
            properties.append(f"line={source.line}")
    title = f"pip-verify {item.reason.rule}: {item.label}"
    properties.append(f"title={escape_property(title)}")
    message = f"{item.label}: {item.reason.message}"
    if item.reason.unchecked:
        message += " (could not be checked; the rule's on-error decision applies)"
    evidence = item.evidence
    if evidence is not None:
        message += f"\nevidence: {evidence}"
    return f"::{kind} {','.join(properties)}::{escape_data(message)}"


def workflow_commands(
    report: Report,
    *,
    max_errors: int = ANNOTATIONS_PER_LEVEL,
    max_warnings: int = ANNOTATIONS_PER_LEVEL,
) -> list[str]:
    """``::error``/``::warning`` lines for the most severe reasons, at most the given number
    of each, then a ``::notice`` counting the ones left out (they are all in the summary).

    Denials are errors and warnings warnings, whether the rule ran or could not be evaluated;
    within a level, checked reasons come before unchecked ones, then by severity.
    """
    limits = {Decision.DENY: max(max_errors, 0), Decision.WARN: max(max_warnings, 0)}
    used = dict.fromkeys(limits, 0)
    lines = []
    left_out = 0
    for item in sorted(review_items(report), key=lambda item: item.rank):
        decision = item.reason.decision
        if used[decision] >= limits[decision]:
            left_out += 1
            continue
        used[decision] += 1
        lines.append(_command(item))
    if left_out:
        more = f"{left_out} more finding{'s are' if left_out != 1 else ' is'}"
        lines.append(f"::notice title=pip-verify::{escape_data(more)} in the job summary")
    return lines


def _cut(data: bytes, room: int) -> bytes:
    """The longest start of ``data`` within ``room`` bytes that ends at a paragraph, else a
    line, else a whole character."""
    head = data[:room]
    for boundary in (b"\n\n", b"\n"):
        at = head.rfind(boundary)
        if at > 0:
            return head[: at + len(boundary)]
    return head.decode("utf-8", "ignore").encode("utf-8")


def append_step_summary(text: str, path: Path, *, limit: int = SUMMARY_LIMIT) -> None:
    """Append ``text`` to the step summary file at ``path`` without the file outgrowing
    ``limit`` bytes.

    When ``text`` does not fit, it is cut at a paragraph or line boundary, any ``<details>``
    left open is closed, and a line says that the rest was left out. When not even that fits,
    nothing is appended.
    """
    used = path.stat().st_size if path.exists() else 0
    room = limit - used
    data = text.encode("utf-8")
    if len(data) > room:
        notice = _CUT_NOTICE.encode("utf-8")
        closer = b"\n</details>\n"
        # Reserve room for the notice and for closing every <details> the cut may leave open.
        reserve = len(notice) + len(closer) * text.count("<details>")
        head = _cut(data, room - reserve) if room > reserve else b""
        if not head:
            return
        kept = head.decode("utf-8")
        depth = 0
        for match in _DETAILS.finditer(kept):
            depth = depth - 1 if match.group(1) else depth + 1
        data = head + closer * max(depth, 0) + notice
    if not data:
        return
    with path.open("ab") as summary:
        summary.write(data)
