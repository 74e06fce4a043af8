"""What the benchmark scripts share: an isolated pip environment, timed runs, host scrubbing.

The scripts run as ``python bench/<script>.py``, so this directory is on ``sys.path`` and they
import this module as ``harness``.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "SCRUB",
    "Measurement",
    "Run",
    "Scrubber",
    "count_tree",
    "isolated_env",
    "log",
    "mib",
    "ratio",
    "show",
    "timed",
    "tool_version",
]


def isolated_env() -> dict[str, str]:
    """os.environ minus every ``PIP_*`` variable (``PIP_VERIFY_*`` included), with pip
    pointed at no configuration file, and without ``PYTHONDONTWRITEBYTECODE``: an installed
    package's modules are compiled once (pip compiles them at install time), so a run from the
    source tree must be allowed to cache its bytecode too, or every run compiles pip-verify
    from source while pip, installed, does not."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PIP_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


class Scrubber:
    """Replaces the index's and the file host's names (and their domains) in any text."""

    def __init__(self) -> None:
        self._patterns: dict[str, tuple[re.Pattern[str], str]] = {}

    def add(self, url_or_host: str, label: str) -> None:
        host = urlsplit(url_or_host).hostname if "://" in url_or_host else url_or_host
        if not host or host in self._patterns or host in ("localhost", "127.0.0.1"):
            return
        labels = host.lower().split(".")
        domain = ".".join(labels[-2:]) if len(labels) >= 2 else host
        # The domain and every name under it: mirrors, upload and test hosts alike.
        pattern = re.compile(
            r"(?<![A-Za-z0-9.-])(?:[A-Za-z0-9-]+\.)*" + re.escape(domain) + r"(?![A-Za-z0-9-])",
            re.IGNORECASE,
        )
        self._patterns[host] = (pattern, label)

    def __call__(self, text: str) -> str:
        for pattern, label in self._patterns.values():
            text = pattern.sub(label, text)
        return text


#: The scrubber every script's output goes through.
SCRUB = Scrubber()


def log(message: str) -> None:
    print(f"[bench] {SCRUB(message)}", file=sys.stderr, flush=True)


@dataclass
class Run:
    seconds: float
    returncode: int
    stderr: str


@dataclass
class Measurement:
    label: str
    command: str
    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def ok(self) -> bool:
        return all(r.returncode == 0 for r in self.runs)

    @property
    def exit_codes(self) -> str:
        return ",".join(str(r.returncode) for r in self.runs)

    @property
    def seconds(self) -> str:
        return ", ".join(f"{r.seconds:.2f}" for r in self.runs)


def timed(cmd: list[str], env: dict[str, str]) -> Run:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - start
    return Run(seconds, proc.returncode, proc.stderr)


def show(cmd: list[str], subs: dict[str, str]) -> str:
    """A short, readable form of ``cmd`` for the table (temporary paths named by role)."""
    text = " ".join(cmd)
    for path, name in sorted(subs.items(), key=lambda item: -len(item[0])):
        text = text.replace(path, name)
    return text


def tool_version(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if proc.returncode == 0 else "?"


def count_tree(root: Path) -> tuple[int, int]:
    """Files and bytes under ``root`` (0, 0 if it does not exist)."""
    paths = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
    return len(paths), sum(p.stat().st_size for p in paths)


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"
