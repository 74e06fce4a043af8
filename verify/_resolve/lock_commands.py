"""The commands that move packages of a lock file its tool owns to exact releases.

``uv.lock``, ``poetry.lock`` and ``Pipfile.lock`` are written by uv, Poetry and Pipenv from the
project's own files, with content hashes and resolution data pip-verify does not reproduce;
an edit by hand leaves them out of step with those files. So ``pip-verify fix`` gives, for each
package it moves, the one command that makes the tool move it to exactly the release that fix
verified, and writes nothing. What each command does, and why it is the one:

* uv: ``uv lock --upgrade-package NAME==VERSION`` moves that package only, to that version,
  and leaves ``pyproject.toml`` as it is.
* Pipenv: ``pipenv upgrade --lock-only NAME==VERSION`` re-locks that package (and what it
  needs) at that version, writes ``Pipfile.lock`` only (``--lock-only`` keeps the specifier out
  of the ``Pipfile``) and installs nothing. With ``--dev`` when the lock has the package in
  ``develop`` only, so that it is not added to the default packages.
* Poetry has no command that moves one locked package to an exact release and leaves
  ``pyproject.toml`` alone. ``poetry update NAME`` is not pin-precise: it moves to the newest
  release the project's constraint allows, which fix has not verified (it may be a release with
  an install hook, one beyond ``--allow``, or one inside the cooldown). ``poetry add --lock
  NAME==VERSION`` lands the lock on exactly the verified release: it writes that pin into
  ``pyproject.toml`` (a package that was only a dependency of a dependency becomes a direct
  one) and updates the lock without installing anything. Moving exactly to what was verified
  matters more than leaving the constraint as it was; the pin is the user's to relax once the
  new lock checks clean. With ``--group NAME`` when the lock lists the package only in groups
  other than ``main``, so that a development tool does not become a runtime dependency.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from verify._documents import parse_json, parse_toml
from verify._resolve.lockfields import LockKind
from verify.errors import InvalidInputError

__all__ = ["LOCK_TOOLS", "lock_commands"]

#: The tool that owns each lock format fix prints commands for.
LOCK_TOOLS: Mapping[LockKind, str] = {
    LockKind.UV: "uv",
    LockKind.POETRY: "Poetry",
    LockKind.PIPFILE: "Pipenv",
}

#: Group and category names fix puts in a command: nothing a shell or a terminal reads specially.
_SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

Move = tuple[NormalizedName, Version, Version]


def lock_commands(kind: LockKind, text: str, path: Path, moves: Sequence[Move]) -> tuple[str, ...]:
    """One command per ``(name, old, new)`` move, for the tool that owns ``text``, the lock
    at ``path`` (see the module's description).

    :raises ValueError: ``kind`` is a lock pip-verify writes itself (``pylock.toml``).
    :raises InvalidInputError: a group or category name cannot be put in a command.
    """
    text = text.removeprefix("\ufeff")  # as the lock readers take it
    if kind is LockKind.UV:
        return tuple(f"uv lock --upgrade-package {name}=={new}" for name, _old, new in moves)
    if kind is LockKind.POETRY:
        packages = parse_toml(text, path).get("package")
        return tuple(
            f"poetry add --lock{_poetry_group(packages, name, old, path)} {name}=={new}"
            for name, old, new in moves
        )
    if kind is LockKind.PIPFILE:
        document = parse_json(text, path)
        document = document if isinstance(document, dict) else {}
        return tuple(
            f"pipenv upgrade --lock-only{_pipenv_category(document, name)} {name}=={new}"
            for name, _old, new in moves
        )
    raise ValueError(f"pip-verify writes {kind.value} itself")


def _poetry_group(packages: object, name: NormalizedName, old: Version, path: Path) -> str:
    groups: list[str] = []
    for package in packages if isinstance(packages, list) else ():
        if isinstance(package, dict) and _is(package, name, old):
            # Poetry 1.5 and later list groups; older locks have one category.
            found = package.get("groups", package.get("category", "main"))
            groups += [found] if isinstance(found, str) else [str(g) for g in _list(found)]
    if not groups or "main" in groups:
        return ""
    return f" --group {_safe(groups[0], path)}"


def _pipenv_category(document: Mapping[str, Any], name: NormalizedName) -> str:
    """``--dev`` for a package the lock has in ``develop`` only (pip-verify reads the
    ``default`` and ``develop`` categories)."""
    default, develop = (
        isinstance(entries, dict) and any(canonicalize_name(key) == name for key in entries)
        for entries in (document.get("default"), document.get("develop"))
    )
    return " --dev" if develop and not default else ""


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _is(package: Mapping[str, Any], name: NormalizedName, version: Version) -> bool:
    try:
        return (
            canonicalize_name(str(package.get("name"))) == name
            and Version(str(package.get("version"))) == version
        )
    except InvalidVersion:
        return False


def _safe(group: str, path: Path) -> str:
    if not _SAFE_NAME_RE.match(group):
        raise InvalidInputError(
            f"the group {group[:40]!r} is not a name fix can put in a command",
            path=path,
            hint="move the package with the tool that owns the lock",
        )
    return group
