"""Running ``pip-verify check`` in-process and reading its JSON report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.helpers.assertions import assert_no_traceback
from verify._cli import main

__all__ = ["CheckRun", "check_json", "check_run"]


def check_json(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    *argv: str,
    policy: Path | None = None,
    command: str = "check",
) -> tuple[int, dict[str, Any]]:
    """Run ``check`` (or ``command``, which writes the same report: ``screen``) with a JSON
    report in ``tmp_path``; return the exit code and the report.

    ``policy`` goes before ``argv``, so a ``--policy`` a test passes itself wins.
    """
    report = tmp_path / "report.json"
    first = ["--policy", str(policy)] if policy is not None else []
    code = main(
        [
            command,
            *first,
            *argv,
            "--cache-dir",
            str(tmp_path / "cache"),
            "--format",
            "json",
            "-o",
            str(report),
        ]
    )
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    document: dict[str, Any] = json.loads(report.read_text())
    return code, document


class CheckRun(NamedTuple):
    """What one in-process ``check`` wrote: its exit code, stdout, stderr and report text."""

    code: int
    out: str
    err: str
    #: The JSON report's text; empty when the run wrote none (it failed before reporting).
    report: str


def check_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str, policy: Path | None = None
) -> CheckRun:
    """Run ``check`` with a JSON report in ``tmp_path``, for runs that may fail before writing
    one (unlike :func:`check_json`). No traceback may be printed, and whatever report was
    written must be whole JSON."""
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)  # a report left by an earlier run is not this run's
    first = ["--policy", str(policy)] if policy is not None else []
    code = main(
        [
            "check",
            *first,
            *argv,
            "--cache-dir",
            str(tmp_path / "cache"),
            "--format",
            "json",
            "-o",
            str(report),
        ]
    )
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    written = report.read_text() if report.exists() else ""
    if written:
        json.loads(written)  # whatever was written is a whole report
    return CheckRun(code, captured.out, captured.err, written)
