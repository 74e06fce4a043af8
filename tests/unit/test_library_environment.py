"""The library never reads environment variables: only the CLI does (verify/_cli).

Three uses remain outside the CLI, each for a reason the test names: pip expands ``${VAR}``
in requirements files, Pipfile.lock sources do the same, and pip runs as a child process
with the environment it needs.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "verify"

#: module -> why it may touch os.environ.
ALLOWED = {
    "verify/_resolve/requirements.py": "pip expands ${VAR} in requirements files",
    "verify/_resolve/pipfilelock.py": "Pipfile.lock source URLs expand ${VAR} as pipenv does",
    "verify/_resolve/pip_report.py": "the environment handed to the pip child process",
    "verify/_resolve/pip_local.py": "the environment handed to the pip child process",
    "verify/install.py": "the environment handed to the pip child process",
}


def _environment_reads(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        attribute = (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv", "environb")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )
        imported = (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ("environ", "getenv") for alias in node.names)
        )
        if attribute or imported:
            lines.append(getattr(node, "lineno", 0))
    return sorted(lines)


def test_only_the_cli_reads_the_environment() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).as_posix()
        if relative.startswith("verify/_cli/") or relative in ALLOWED:
            continue
        offenders += [f"{relative}:{line}" for line in _environment_reads(path)]
    assert not offenders, "library modules reading the environment: " + ", ".join(offenders)


def test_the_exceptions_are_still_needed() -> None:
    # An entry that no longer reads the environment should leave the list.
    for relative in ALLOWED:
        assert _environment_reads(PACKAGE.parent / relative), relative


def test_the_scan_sees_each_spelling(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom os import environ\nos.environ.get('A')\nos.getenv('B')\n")
    assert _environment_reads(sample) == [2, 3, 4]
