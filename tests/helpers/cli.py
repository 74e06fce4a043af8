"""Running ``pip-verify check`` in-process and reading its JSON report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.assertions import assert_no_traceback
from verify._cli import main

__all__ = ["check_json"]


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
