"""Report output shared by every command: formats, ``-o FILE`` and exit codes."""

from __future__ import annotations

import argparse
import enum
import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from verify.errors import UsageError

if TYPE_CHECKING:
    from verify.models import Report

__all__ = [
    "OutputFormat",
    "add_output_arguments",
    "emit_report",
    "exit_code_for",
    "input_file",
]


class OutputFormat(str, enum.Enum):
    """Report formats."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    CYCLONEDX = "cyclonedx"


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format``, ``-o``, ``-q`` and ``-v``."""
    group = parser.add_argument_group("output")
    group.add_argument(
        "--format",
        choices=[f.value for f in OutputFormat],
        default=OutputFormat.TEXT.value,
        help="report format (default: text)",
    )
    group.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write the report to FILE instead of standard output",
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar and no text report on success"
    )
    group.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (repeat for debug)"
    )


def input_file(args: argparse.Namespace) -> str | None:
    """The one lock or requirements file a report is about, if there is one."""
    from verify._resolve.lockfiles import lock_kind

    files = [str(p) for p in getattr(args, "requirement", [])]
    files += [i for i in getattr(args, "inputs", []) if lock_kind(Path(i)) is not None]
    return files[0] if len(files) == 1 else None


def _render(
    report: Report,
    output_format: OutputFormat,
    *,
    color: bool,
    width: int | None,
    stream: TextIO,
    artifact: str | None = None,
) -> None:
    # Only the renderer asked for is imported, when a report is written: the parser, built for
    # every command, needs only the format names, and a JSON report should not pay for the
    # SBOM library's import (about 0.2 s).
    from typing_extensions import assert_never

    if output_format is OutputFormat.JSON:
        from verify._format.json import render_json

        stream.write(render_json(report))
    elif output_format is OutputFormat.SARIF:
        from verify._format.sarif import render_sarif

        stream.write(render_sarif(report, category=artifact, artifact=artifact))
    elif output_format is OutputFormat.MARKDOWN:
        from verify._format.markdown import render_markdown

        stream.write(render_markdown(report))
    elif output_format is OutputFormat.CYCLONEDX:
        from verify._format.cyclonedx import render_cyclonedx

        stream.write(render_cyclonedx(report, name=artifact or "pip-verify check"))
    elif output_format is OutputFormat.TEXT:
        from rich.console import Console

        from verify._format.text import render_text

        console = Console(
            file=stream,
            highlight=False,
            no_color=not color,
            force_terminal=None if color else False,
            width=width,
        )
        render_text(report, console)
    else:
        assert_never(output_format)


def emit_report(
    report: Report, args: argparse.Namespace, *, stdout: TextIO, stderr: TextIO | None = None
) -> None:
    """Write the report where and how the arguments say; in GitHub Actions, also annotate
    the findings and append the summary to the job summary."""
    output_format = OutputFormat(args.format)
    artifact = input_file(args)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        # A machine-readable report on standard output must stay parseable: the workflow
        # commands then go to standard error, which the runner reads as well.
        to_stdout = args.output is None and output_format is not OutputFormat.TEXT
        annotate(report, stream=(stderr or sys.stderr) if to_stdout else stdout)
    if args.output is not None:
        buffer = io.StringIO()
        _render(report, output_format, color=False, width=160, stream=buffer, artifact=artifact)
        try:
            args.output.write_text(buffer.getvalue(), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the report to {args.output}: {exc.strerror}") from exc
        return
    if args.quiet and output_format is OutputFormat.TEXT and report.decision.value == "allow":
        return
    _render(report, output_format, color=True, width=None, stream=stdout, artifact=artifact)


def annotate(report: Report, *, stream: TextIO) -> None:
    """GitHub workflow commands for the most severe findings, and the markdown summary
    appended to ``$GITHUB_STEP_SUMMARY`` (when the runner provides one)."""
    from verify._format.github import append_step_summary, workflow_commands
    from verify._format.markdown import render_markdown

    for command in workflow_commands(report):
        stream.write(command + "\n")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            append_step_summary(render_markdown(report), Path(summary))
        except OSError as exc:
            raise UsageError(f"cannot append to $GITHUB_STEP_SUMMARY: {exc.strerror}") from exc


def exit_code_for(report: Report) -> int:
    """1 when a rule that ran denied, else 3 when verification was incomplete, else 0."""
    if report.denied_by_policy:
        return 1
    if report.incomplete:
        return 3
    return 0
