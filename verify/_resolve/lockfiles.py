"""Tell lock files apart and read any of them into :class:`~verify._resolve.pylock.LockedPackage`.

pip-verify reads four lock formats: PEP 751 (``pylock.toml``, :mod:`verify._resolve.pylock`),
uv's ``uv.lock`` (:mod:`verify._resolve.uvlock`), Poetry's ``poetry.lock``
(:mod:`verify._resolve.poetrylock`) and Pipenv's ``Pipfile.lock``
(:mod:`verify._resolve.pipfilelock`). :func:`lock_kind` decides by the file's name first and,
for other names, by its content; :func:`read_lock` reads any of them.

Every reader gives one :class:`LockedPackage` per entry, in the file's order, each with the line
of the entry in the lock, and raises :class:`~verify.errors.InvalidInputError` (with the path and,
when known, the line) for a malformed lock. The helpers the readers share are in
:mod:`verify._resolve.lockfields`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typing_extensions import assert_never

from verify._resolve.lockfields import LockKind
from verify._resolve.pipfilelock import read_pipfile_lock
from verify._resolve.poetrylock import read_poetry_lock
from verify._resolve.pylock import LockedPackage, is_pylock_path, read_pylock
from verify._resolve.uvlock import read_uv_lock
from verify.errors import InvalidInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["LockKind", "LockedPackage", "lock_kind", "read_lock"]

#: Files larger than this are not parsed just to guess what they are.
MAX_SNIFF_BYTES = 64 * 1024 * 1024

_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")

_BY_NAME = {
    "uv.lock": LockKind.UV,
    "poetry.lock": LockKind.POETRY,
    "Pipfile.lock": LockKind.PIPFILE,
}


def lock_kind(path: Path) -> LockKind | None:
    """The format of the lock file at ``path``, or ``None`` when it is not a lock file.

    The name decides first (``pylock.toml``, ``pylock.NAME.toml``, ``uv.lock``, ``poetry.lock``,
    ``Pipfile.lock``): such a path is a lock even if it does not exist yet, so that reading it
    reports the real problem. Another name is a lock when it is a readable file whose content
    is one: a TOML table with a top-level ``lock-version`` (PEP 751), an integer ``version`` and
    ``[[package]]`` tables with ``source`` tables (uv), a ``[metadata]`` table with a
    ``content-hash`` and a ``package`` array (Poetry), or a JSON object with ``_meta`` and
    ``default`` objects (Pipenv).
    """
    if is_pylock_path(path):
        return LockKind.PYLOCK
    named = _BY_NAME.get(path.name)
    if named is not None:
        return named
    return _sniff(path)


def read_lock(path: Path) -> tuple[LockedPackage, ...]:
    """Read the lock file at ``path``, whatever its format (see :func:`lock_kind`).

    :raises InvalidInputError: the file cannot be read, is not a lock file pip-verify knows,
        or is malformed (the message names the file and, when known, the line).
    """
    kind = lock_kind(path)
    if kind is None:
        if not path.exists():
            raise InvalidInputError("lock file not found", path=path, hint="check the path")
        raise InvalidInputError(
            "not a lock file pip-verify can read",
            path=path,
            hint="pass a pylock.toml, uv.lock, poetry.lock or Pipfile.lock",
        )
    if kind is LockKind.PYLOCK:
        return read_pylock(path)
    if kind is LockKind.UV:
        return read_uv_lock(path)
    if kind is LockKind.POETRY:
        return read_poetry_lock(path)
    if kind is LockKind.PIPFILE:
        return read_pipfile_lock(path)
    assert_never(kind)  # pragma: no cover


def _sniff(path: Path) -> LockKind | None:
    if path.name.lower().endswith(_ARCHIVE_SUFFIXES):
        return None  # a distribution: not worth reading
    try:
        if not path.is_file() or path.stat().st_size > MAX_SNIFF_BYTES:
            return None
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError):
        return None
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        # Too deep to parse is not a lock file either: reading it by name reports why.
        except (ValueError, RecursionError, MemoryError):
            return None
        if (
            isinstance(document, dict)
            and isinstance(document.get("_meta"), dict)
            and isinstance(document.get("default"), dict)
        ):
            return LockKind.PIPFILE
        return None
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, MemoryError):
        return None
    if "lock-version" in data:
        return LockKind.PYLOCK
    packages = data.get("package")
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and "content-hash" in metadata and isinstance(packages, list):
        return LockKind.POETRY
    if (
        isinstance(data.get("version"), int)
        and isinstance(packages, list)
        and any(isinstance(p, dict) and isinstance(p.get("source"), dict) for p in packages)
    ):
        return LockKind.UV
    return None
