"""What a path's place in an sdist says when nothing installs it: metadata, documentation,
tests, CI or development files, each with the phrase reports give as the reason it is inert."""

from __future__ import annotations

import posixpath
from typing import Final

__all__ = ["NOT_INSTALLED_DIRS", "inert_reason", "metadata_reason"]


NOT_INSTALLED_DIRS: Final = {
    **dict.fromkeys(("tests", "test", "testing", "unit_tests", "unit_test"), "not installed"),
    **dict.fromkeys(("docs", "doc", "documentation", "manpages"), "documentation"),
    **dict.fromkeys(("examples", "example"), "examples"),
    **dict.fromkeys(("benchmarks", "benchmark", "bench", "asv_bench"), "benchmarks"),
    **dict.fromkeys(
        (".github", ".gitlab", ".circleci", ".ci", "ci", ".azure-pipelines", ".buildkite"),
        "CI configuration",
    ),
    **dict.fromkeys(
        (".git", ".hg", ".tox", ".nox", ".vscode", ".idea", ".devcontainer", "htmlcov"),
        "development files",
    ),
    **dict.fromkeys(("news", "newsfragments", "changelog.d", "debian"), "release notes"),
}
_DEV_FILES: Final = frozenset(
    {"noxfile.py", "toxfile.py", "tasks.py", "fabfile.py", "conftest.py", "pavement.py"}
    | {"dodo.py", "tox.ini", "pytest.ini", ".coveragerc", "mypy.ini", "makefile", "justfile"}
    | {".travis.yml", "appveyor.yml", "azure-pipelines.yml", ".gitlab-ci.yml", "codecov.yml"}
    | {".readthedocs.yml", ".readthedocs.yaml", ".pre-commit-config.yaml", ".gitignore"}
    | {".gitattributes", ".editorconfig", ".git_archival.txt", ".flake8", ".pylintrc"}
)
_DOC_PREFIXES: Final = (
    *("readme", "license", "licence", "copying", "notice", "authors", "contributors"),
    *("changes", "changelog", "history", "news", "contributing", "code_of_conduct"),
    *("security", "requirements"),
)
_DOC_SUFFIXES: Final = (
    *(".md", ".rst", ".txt", ".bib", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".pdf"),
)
_CONFIG_FILES: Final = frozenset({"pyproject.toml", "setup.cfg", "MANIFEST.in"})


def metadata_reason(path: str) -> str | None:
    parts = path.split("/")
    if path == "PKG-INFO":
        return "metadata (PKG-INFO)"
    if any(part.endswith(".egg-info") for part in parts[:-1]):
        return "metadata (*.egg-info)"
    if path in _CONFIG_FILES:
        return f"build configuration ({path}: read, not run)"
    return None


def inert_reason(path: str) -> str | None:
    """Why a file that nothing installs is inert, when its place says so; ``None`` otherwise."""
    parts = path.split("/")
    name = parts[-1].lower()
    if len(parts) > 1:
        top = parts[0]
        kind = NOT_INSTALLED_DIRS.get(top.lower())
        if kind is not None:
            return f"{kind} ({top}/)"
        if ".github" in parts[:-1]:
            return "CI configuration (.github/)"
    elif name in _DEV_FILES:
        return f"development file ({parts[-1]})"
    elif name.startswith(_DOC_PREFIXES):
        return f"documentation ({parts[-1]})"
    if name.endswith(_DOC_SUFFIXES):
        return f"documentation or image ({posixpath.splitext(name)[1]})"
    return None
