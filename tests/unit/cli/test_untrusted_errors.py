"""Issue 15: error lines and quarantine output never put package-provided control characters
on the terminal; they show them escaped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from verify._cli.quarantine import _printable
from verify._format.untrusted import one_line

#: A name that clears the screen when printed raw.
HOSTILE = "demo\x1b[2J\x1b[H\u202e-1.0-py3-none-any.whl"


def _pip_verify(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return subprocess.run(
        [sys.executable, "-m", "verify", *argv],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_error_naming_a_hostile_file_is_one_escaped_line(tmp_path: Path) -> None:
    (tmp_path / HOSTILE).write_bytes(b"")
    completed = _pip_verify("screen", HOSTILE, "--offline", cwd=tmp_path)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    for raw in ("\x1b", "\u202e"):
        assert raw not in completed.stderr
        assert raw not in completed.stdout
    assert "demo\\x1b[2J\\x1b[H\\u202e-1.0-py3-none-any.whl" in completed.stderr
    [line] = completed.stderr.splitlines()
    assert line.startswith("pip-verify: error: ")


def test_quarantine_output_escapes_at_least_what_one_line_does() -> None:
    for code in range(0x110000):
        character = chr(code)
        if one_line(character) != character:
            assert _printable(character) == one_line(character), hex(code)
    ordinary = "demo-1.0-py3-none-any.whl Grüße 日本語 C:\\path"
    assert _printable(ordinary) == one_line(ordinary) == ordinary
