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
  other than ``main``, so that a development tool does not become a runtime dependency, and
  with ``--source NAME`` when the lock has the package from a named source of the project
  (``[package.source] reference``), so that the pin keeps it there.

Each command is a list of arguments, run without a shell by ``fix --apply``
(:func:`apply_commands` adds the index a ``uv.lock`` uses, :func:`tool_environment` leaves out
the environment's index settings); :func:`lock_commands` gives them as lines to print.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from verify._documents import parse_json, parse_toml
from verify._resolve.lockfields import LockKind, is_entry_of
from verify.errors import InvalidInputError, UsageError

__all__ = [
    "LOCK_EXECUTABLES",
    "LOCK_TOOLS",
    "apply_commands",
    "lock_command_args",
    "lock_commands",
    "lock_registry",
    "tool_environment",
]

#: The tool that owns each lock format fix prints commands for.
LOCK_TOOLS: Mapping[LockKind, str] = {
    LockKind.UV: "uv",
    LockKind.POETRY: "Poetry",
    LockKind.PIPFILE: "Pipenv",
}
#: The executable of each tool, as the commands name it.
LOCK_EXECUTABLES: Mapping[LockKind, str] = {
    LockKind.UV: "uv",
    LockKind.POETRY: "poetry",
    LockKind.PIPFILE: "pipenv",
}
#: Environment variables that give a tool an index, or a configuration file that may name
#: one. ``fix --apply`` runs the tool without them, so that the index is the one the lock
#: uses: passed explicitly to uv, the project's own sources for Poetry and Pipenv. Credentials
#: (``UV_INDEX_<NAME>_PASSWORD``, ``POETRY_HTTP_BASIC_*``) are not index settings and stay.
_INDEX_VARIABLES = frozenset(
    {
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_FIND_LINKS",
        "PIP_NO_INDEX",
        "PIP_CONFIG_FILE",
        "PIPENV_PYPI_MIRROR",
        "UV_INDEX",
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_EXTRA_INDEX_URL",
        "UV_FIND_LINKS",
        "UV_NO_INDEX",
        "UV_INDEX_STRATEGY",
        "UV_CONFIG_FILE",
    }
)
#: Poetry reads repositories from ``POETRY_REPOSITORIES_<NAME>_URL``.
_INDEX_PREFIXES = ("POETRY_REPOSITORIES_",)

#: Group and category names fix puts in a command: nothing a shell or a terminal reads specially.
_SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

Move = tuple[NormalizedName, Version, Version]


Command = tuple[str, ...]


def lock_commands(kind: LockKind, text: str, path: Path, moves: Sequence[Move]) -> tuple[str, ...]:
    """:func:`lock_command_args` as lines to print (each argument quoted as a POSIX shell
    would need it; the names and versions need none)."""
    return tuple(shlex.join(args) for args in lock_command_args(kind, text, path, moves))


def lock_command_args(
    kind: LockKind, text: str, path: Path, moves: Sequence[Move]
) -> tuple[Command, ...]:
    """One command per ``(name, old, new)`` move, for the tool that owns ``text``, the lock
    at ``path`` (see the module's description).

    :raises ValueError: ``kind`` is a lock pip-verify writes itself (``pylock.toml``).
    :raises InvalidInputError: a group, category or source name cannot be put in a command.
    """
    text = text.removeprefix("\ufeff")  # as the lock readers take it
    if kind is LockKind.UV:
        return tuple(
            ("uv", "lock", "--upgrade-package", f"{name}=={new}") for name, _, new in moves
        )
    if kind is LockKind.POETRY:
        packages = parse_toml(text, path).get("package")
        return tuple(
            (
                "poetry",
                "add",
                "--lock",
                *_poetry_group(packages, name, old, path),
                *_poetry_source(packages, name, old, path),
                f"{name}=={new}",
            )
            for name, old, new in moves
        )
    if kind is LockKind.PIPFILE:
        document = parse_json(text, path)
        document = document if isinstance(document, dict) else {}
        return tuple(
            (
                "pipenv",
                "upgrade",
                "--lock-only",
                *_pipenv_category(document, name),
                f"{name}=={new}",
            )
            for name, _old, new in moves
        )
    raise ValueError(f"pip-verify writes {kind.value} itself")


def lock_registry(kind: LockKind, text: str, path: Path) -> str | None:
    """The one index a ``uv.lock`` takes its packages from (``source.registry``), which
    ``fix --apply`` passes to uv explicitly; ``None`` for the other kinds, whose tools take
    the index from the project's own sources, and for a ``uv.lock`` with no registry.

    :raises UsageError: the ``uv.lock`` takes packages from several indexes: which one uv
        should consult first is the project's configuration, which ``--apply`` leaves out.
    """
    if kind is not LockKind.UV:
        return None
    packages = parse_toml(text.removeprefix("\ufeff"), path).get("package")
    registries: dict[str, None] = {}
    for package in packages if isinstance(packages, list) else ():
        source = package.get("source") if isinstance(package, dict) else None
        registry = source.get("registry") if isinstance(source, dict) else None
        if isinstance(registry, str):
            registries[registry] = None
    if len(registries) > 1:
        raise UsageError(
            f"{path} takes packages from several indexes ({', '.join(registries)}); fix "
            "--apply passes uv the one index a lock uses",
            hint="run the printed commands yourself, with the project's index configuration",
        )
    return next(iter(registries), None)


def apply_commands(
    kind: LockKind, text: str, path: Path, moves: Sequence[Move]
) -> tuple[Command, ...]:
    """The commands ``fix --apply`` runs: :func:`lock_command_args`, and for uv the index the
    lock uses (``--default-index``), so that no index configured elsewhere takes part."""
    commands = lock_command_args(kind, text, path, moves)
    registry = lock_registry(kind, text, path)
    if registry is None:
        return commands
    return tuple((*command, "--default-index", registry) for command in commands)


def tool_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without the variables that give a tool an index, and with pip's
    configuration files (which Pipenv's resolver reads) left out."""
    kept = {
        key: value
        for key, value in environ.items()
        if key.upper() not in _INDEX_VARIABLES and not key.upper().startswith(_INDEX_PREFIXES)
    }
    return {**kept, "PIP_CONFIG_FILE": os.devnull}


def _poetry_group(packages: object, name: NormalizedName, old: Version, path: Path) -> Command:
    groups: list[str] = []
    for package in _entries(packages, name, old):
        # Poetry 1.5 and later list groups; older locks have one category.
        found = package.get("groups", package.get("category", "main"))
        groups += [found] if isinstance(found, str) else [str(g) for g in _list(found)]
    if not groups or "main" in groups:
        return ()
    return ("--group", _safe(groups[0], path))


def _poetry_source(packages: object, name: NormalizedName, old: Version, path: Path) -> Command:
    """``--source NAME`` for a package the lock has from a named source of the project."""
    for package in _entries(packages, name, old):
        source = package.get("source")
        if isinstance(source, dict) and source.get("type") == "legacy":
            reference = source.get("reference")
            if isinstance(reference, str) and reference:
                return ("--source", _safe(reference, path, "source"))
    return ()


def _entries(packages: object, name: NormalizedName, version: Version) -> list[dict[str, Any]]:
    """The lock's ``[[package]]`` tables of ``name`` at ``version``."""
    return [
        package
        for package in (packages if isinstance(packages, list) else ())
        if isinstance(package, dict) and is_entry_of(package, name, version)
    ]


def _pipenv_category(document: Mapping[str, Any], name: NormalizedName) -> Command:
    """``--dev`` for a package the lock has in ``develop`` only (pip-verify reads the
    ``default`` and ``develop`` categories)."""
    default, develop = (
        isinstance(entries, dict) and any(canonicalize_name(key) == name for key in entries)
        for entries in (document.get("default"), document.get("develop"))
    )
    return ("--dev",) if develop and not default else ()


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _safe(group: str, path: Path, what: str = "group") -> str:
    if not _SAFE_NAME_RE.match(group):
        raise InvalidInputError(
            f"the {what} {group[:40]!r} is not a name fix can put in a command",
            path=path,
            hint="move the package with the tool that owns the lock",
        )
    return group
