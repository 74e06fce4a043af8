"""Tell lock files apart and read any of them into :class:`~verify._resolve.pylock.LockedPackage`.

pip-verify reads four lock formats: PEP 751 (``pylock.toml``, :mod:`verify._resolve.pylock`),
uv's ``uv.lock`` (:mod:`verify._resolve.uvlock`), Poetry's ``poetry.lock``
(:mod:`verify._resolve.poetrylock`) and Pipenv's ``Pipfile.lock``
(:mod:`verify._resolve.pipfilelock`). :func:`lock_kind` decides by the file's name first and,
for other names, by its content; :func:`read_lock` reads any of them.

Every reader gives one :class:`LockedPackage` per entry, in the file's order, each with the line
of the entry in the lock, and raises :class:`~verify.errors.InvalidInputError` (with the path and,
when known, the line) for a malformed lock. The helpers below are shared by the readers.
"""

from __future__ import annotations

import enum
import json
import re
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

from packaging.utils import InvalidName, NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version
from typing_extensions import assert_never

from verify._index.urls import normalize_index_url
from verify._resolve.pylock import LockedPackage, is_pylock_path, read_pylock
from verify._resolve.requirements import SUPPORTED_HASH_ALGORITHMS
from verify.errors import InvalidInputError, UsageError
from verify.models import SourceLocation

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["LockKind", "LockedPackage", "lock_kind", "read_lock"]

#: Files larger than this are not parsed just to guess what they are.
MAX_SNIFF_BYTES = 64 * 1024 * 1024

_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")
_HEX_RE = re.compile(r"^[0-9a-f]+$")
_FRACTION_RE = re.compile(r"(?<=\d\d:\d\d:\d\d)\.(\d+)")


class LockKind(str, enum.Enum):
    """A lock file format. The value is the ``origin`` of the candidates read from it."""

    PYLOCK = "pylock"
    UV = "uv.lock"
    POETRY = "poetry.lock"
    PIPFILE = "Pipfile.lock"


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
    # The readers import this module's helpers, so they are imported when first needed.
    if kind is LockKind.PYLOCK:
        return read_pylock(path)
    if kind is LockKind.UV:
        from verify._resolve.uvlock import read_uv_lock

        return read_uv_lock(path)
    if kind is LockKind.POETRY:
        from verify._resolve.poetrylock import read_poetry_lock

        return read_poetry_lock(path)
    if kind is LockKind.PIPFILE:
        from verify._resolve.pipfilelock import read_pipfile_lock

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


# --------------------------------------------------------------------------------------------
# Helpers shared by the readers


def table_header_lines(text: str, key: str) -> list[int]:
    """The 1-based lines of the ``[[key]]`` headers (the key may be quoted), in order."""
    escaped = re.escape(key)
    header = re.compile(
        rf"""^[ \t]*\[\[[ \t]*(?:{escaped}|"{escaped}"|'{escaped}')[ \t]*\]\][ \t]*(?:#.*)?$"""
    )
    return [number for number, line in enumerate(text.splitlines(), start=1) if header.match(line)]


def key_line(text: str, key: str) -> int | None:
    """The first line that assigns ``key`` (bare or quoted), if any."""
    pattern = re.compile(rf"""^[ \t]*(?:{re.escape(key)}|"{re.escape(key)}")[ \t]*=""")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def fail(source: SourceLocation, message: str, *, hint: str | None = None) -> NoReturn:
    """Raise the :class:`InvalidInputError` for ``message`` at ``source``."""
    raise InvalidInputError(message, path=source.path, line=source.line, hint=hint)


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if value is None:
        return "null"
    return type(value).__name__


def optional_str(
    table: Mapping[str, Any], key: str, source: SourceLocation, what: str
) -> str | None:
    """``table[key]`` when it is a string, ``None`` when it is missing."""
    value = table.get(key)
    if value is None or isinstance(value, str):
        return value
    fail(source, f"{what}: `{key}` must be a string, not {_type_name(value)}")


def required_str(table: Mapping[str, Any], key: str, source: SourceLocation, what: str) -> str:
    """``table[key]``, which must be a non-empty string."""
    value = optional_str(table, key, source, what)
    if not value:
        fail(source, f"{what}: no `{key}`")
    return value


def optional_int(
    table: Mapping[str, Any], key: str, source: SourceLocation, what: str
) -> int | None:
    """``table[key]`` when it is a non-negative integer, ``None`` when it is missing."""
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    fail(source, f"{what}: `{key}` must be a non-negative integer, not {value!r}")


def optional_table(
    table: Mapping[str, Any], key: str, source: SourceLocation, what: str
) -> dict[str, Any] | None:
    """``table[key]`` when it is a table (a JSON object), ``None`` when it is missing."""
    value = table.get(key)
    if value is None or isinstance(value, dict):
        return value
    fail(source, f"{what}: `{key}` must be a table, not {_type_name(value)}")


def table_list(
    table: Mapping[str, Any], key: str, source: SourceLocation, what: str
) -> list[dict[str, Any]]:
    """``table[key]``, an array of tables (empty when missing)."""
    value = table.get(key)
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    fail(source, f"{what}: `{key}` must be an array of tables")


def package_name(table: Mapping[str, Any], source: SourceLocation, what: str) -> NormalizedName:
    """The entry's ``name``, normalised; it must be a valid project name."""
    return normalized_name(required_str(table, "name", source, what), source)


def normalized_name(name: str, source: SourceLocation) -> NormalizedName:
    """``name`` normalised (PEP 503); it must be a valid project name."""
    try:
        return canonicalize_name(name, validate=True)
    except InvalidName:
        fail(source, f"invalid project name {name!r}")


def parse_version(text: str, source: SourceLocation, name: str) -> Version:
    """``text`` as a PEP 440 version."""
    try:
        return Version(text)
    except InvalidVersion:
        fail(source, f"package {name!r}: invalid version {text!r}")


def parse_digest(
    value: object, source: SourceLocation, what: str, *, algorithms: Mapping[str, int] | None = None
) -> tuple[str, str]:
    """An ``ALGORITHM:HEX`` digest as ``(algorithm, hex)``, both lower-case.

    ``algorithms`` maps the accepted algorithms to their hex lengths (by default pip's:
    sha256, sha384 and sha512).
    """
    accepted = SUPPORTED_HASH_ALGORITHMS if algorithms is None else algorithms
    if not isinstance(value, str):
        fail(source, f"{what}: a hash must be a string like 'sha256:HEX', not {_type_name(value)}")
    algorithm, colon, digest = value.strip().partition(":")
    algorithm, digest = algorithm.lower(), digest.lower()
    if not colon:
        fail(
            source,
            f"{what}: hash {value!r} has no algorithm",
            hint="write hashes as 'sha256:HEX'",
        )
    length = accepted.get(algorithm)
    if length is None:
        fail(
            source,
            f"{what}: unsupported hash algorithm {algorithm!r} in {value!r}",
            hint=f"pip-verify accepts {', '.join(sorted(accepted))}; regenerate the lock",
        )
    if len(digest) != length or not _HEX_RE.match(digest):
        fail(
            source,
            f"{what}: invalid {algorithm} digest {digest!r}",
            hint=f"a {algorithm} digest is {length} hexadecimal digits",
        )
    return algorithm, digest


def url_filename(url: str) -> str:
    """The last segment of ``url``'s path, percent-decoded ('' when there is none)."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def path_filename(path: str) -> str:
    """The last segment of a path written with ``/`` or ``\\`` ('' when there is none)."""
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def is_url(value: str) -> bool:
    """Whether ``value`` is an http(s):// or file:// URL (not a path, not ``C:\\...``)."""
    return urlsplit(value).scheme.lower() in ("http", "https", "file")


def lock_index_url(url: str, source: SourceLocation, what: str) -> str:
    """An index URL from a lock, normalised as the configured indexes are (ends with ``/``)."""
    if not is_url(url):
        fail(source, f"{what}: index URL {url!r} is not http(s):// or file://")
    try:
        return normalize_index_url(url)
    except UsageError as exc:
        fail(source, f"{what}: {exc.message}")


def parse_upload_time(value: object, source: SourceLocation, what: str) -> datetime | None:
    """An ``upload-time`` (a TOML datetime or an RFC 3339 string) as an aware datetime."""
    if value is None:
        return None
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(_iso_for_python(value.strip()))
        except ValueError:
            moment = None
    if moment is None:
        fail(source, f"{what}: `upload-time` {value!r} is not a date and time")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _iso_for_python(text: str) -> str:
    """An RFC 3339 time in the form ``datetime.fromisoformat`` takes on Python 3.10 too
    (``Z`` as ``+00:00``, a fraction of exactly six digits: uv writes ``.1Z``)."""
    text = re.sub(r"[Zz]$", "+00:00", text)
    return _FRACTION_RE.sub(lambda found: "." + found.group(1)[:6].ljust(6, "0"), text)
