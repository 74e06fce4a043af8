"""``pip-verify fix`` in GitHub Actions: what it found, appended to the job summary.

The Action runs ``fix`` on each lock file its check denied when ``fix: suggest`` is set (see
docs/action.md), and ``fix`` itself appends to ``$GITHUB_STEP_SUMMARY``, as ``check``
appends its report: the packages it moves (from, to, and why each needed a fix), the
dependencies their new releases add or move (and what needs each), then the change as a
unified diff of the lock when the fixed lock passes, or for a lock another tool owns the
commands that make the change. When no lock within ``--allow`` passes, it says so, with the
releases tried.

Names, versions, reasons and the lock's lines come from the lock, the index and the packages,
so they are untrusted: table cells are inert markdown and the diff and commands sit in fenced
blocks nothing inside can close (:mod:`verify._format.markdown`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from verify._format.github import append_step_summary
from verify._format.markdown import code_block, code_span, inert_text
from verify._resolve.lock_commands import LOCK_TOOLS
from verify._resolve.lockfiles import lock_kind
from verify.errors import UsageError
from verify.fix import lock_diff

if TYPE_CHECKING:
    from verify.fix import FixChange, FixOutcome

__all__ = ["append_fix_summary", "render_fix_markdown"]


def _row(change: FixChange) -> str:
    new = f"**{inert_text(str(change.new))}**" if change.new is not None else "kept"
    return (
        f"| {inert_text(change.name)} | {inert_text(str(change.old))} | {new} "
        f"| {inert_text(change.why)} |"
    )


def _dependencies(changes: tuple[FixChange, ...]) -> list[str]:
    """What the new releases add to the lock or move in it, apart from the packages fixed."""
    rows = [
        f"| {inert_text(dep.name)} | {inert_text(str(dep.old)) if dep.old else 'added'} "
        f"| {inert_text(str(dep.new))} | {inert_text(dep.needed_by)} "
        f"| {inert_text(dep.requirement)} |"
        for change in changes
        for dep in change.dependencies
    ]
    if not rows:
        return []
    return [
        "What the new releases need:",
        "",
        "| dependency | from | to | needed by | Requires-Dist |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


def _tried(changes: tuple[FixChange, ...]) -> list[str]:
    """The releases tried and why each did not pass, folded (they can be many)."""
    lines = [
        f"- {inert_text(change.name)} {inert_text(version)}: {inert_text(reason)}"
        for change in changes
        for version, reason in change.tried
    ]
    if not lines:
        return []
    return ["<details>", "<summary>releases tried</summary>", "", *lines, "", "</details>", ""]


def render_fix_markdown(outcome: FixOutcome, lock: str, allow: str) -> str:
    """The job summary's section for ``fix`` on ``lock`` (its path as given, which the diff
    names), with ``allow`` the largest update it was allowed to make."""
    lines = [f"## pip-verify fix: {code_span(lock)}", ""]
    if not outcome.changes:
        lines.append("Nothing to fix: no package of this lock is denied or known vulnerable.")
        return _section(lines)
    if outcome.fixed:
        moved = sum(change.new is not None for change in outcome.changes)
        lines.append(
            f"A lock that passes the policy moves {moved} package"
            f"{'' if moved == 1 else 's'} (updates up to {inert_text(allow)}):"
        )
    else:
        lines.append(
            f"No lock within {inert_text(allow)} updates passes the policy; "
            "nothing is suggested for this lock."
        )
    lines += ["", "| package | from | to | why |", "| --- | --- | --- | --- |"]
    lines += [_row(change) for change in outcome.changes]
    lines.append("")
    lines += _dependencies(outcome.changes)
    lines += _tried(outcome.changes)
    if not outcome.fixed:
        return _section(lines)
    kind = lock_kind(Path(lock))
    if outcome.commands and kind is not None:
        # The tools find their lock in the working directory: say which, for a nested one.
        where = Path(lock).parent.as_posix()
        at = f" (in {code_span(where)})" if where != "." else ""
        lines.append(f"{LOCK_TOOLS[kind]} owns this lock; make the change{at} with:")
        lines.append("")
        lines.append(code_block("\n".join(outcome.commands), "sh").rstrip("\n"))
        lines.append("")
        lines.append(f"then check the new lock: {code_span(f'pip-verify check {lock}')}")
        return _section(lines)
    lines.append(f"The fixed lock checks {outcome.report.decision.value}:")
    lines.append("")
    lines.append(code_block(lock_diff(outcome, lock), "diff").rstrip("\n"))
    return _section(lines)


def _section(lines: list[str]) -> str:
    """The lines as one section, ending with a blank line so that the next one (the next
    lock's, or anything the workflow appends) starts a block of its own."""
    return "\n".join(lines).rstrip("\n") + "\n\n"


def append_fix_summary(outcome: FixOutcome, lock: str, allow: str, summary: Path) -> None:
    """Append :func:`render_fix_markdown` to the step summary file ``summary``."""
    try:
        append_step_summary(render_fix_markdown(outcome, lock, allow), summary)
    except OSError as exc:
        raise UsageError(f"cannot append to $GITHUB_STEP_SUMMARY: {exc.strerror}") from exc
