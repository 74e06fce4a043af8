"""What the lock file readers share: the formats, and reading typed fields of an entry.

Each helper takes the :class:`~verify.models.SourceLocation` of the entry it reads and raises
:class:`~verify.errors.InvalidInputError` there (the path and, when known, the line) when a
field is missing or malformed, so every reader reports a broken lock the same way.
:mod:`verify._resolve.lockfiles` tells the formats apart and dispatches to the readers; the
readers import this module, never that one.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

from packaging.utils import InvalidName, NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from verify._index.urls import normalize_index_url
from verify._resolve.requirements import SUPPORTED_HASH_ALGORITHMS
from verify.errors import InvalidInputError, UsageError
from verify.models import SourceLocation

__all__ = [
    "LockKind",
    "fail",
    "is_entry_of",
    "is_url",
    "key_line",
    "lock_index_url",
    "normalized_name",
    "optional_int",
    "optional_str",
    "optional_table",
    "package_name",
    "parse_digest",
    "parse_upload_time",
    "parse_version",
    "path_filename",
    "required_str",
    "table_header_lines",
    "table_list",
    "url_filename",
]

_HEX_RE = re.compile(r"^[0-9a-f]+$")
_FRACTION_RE = re.compile(r"(?<=\d\d:\d\d:\d\d)\.(\d+)")


class LockKind(str, enum.Enum):
    """A lock file format. The value is the ``origin`` of the candidates read from it."""

    PYLOCK = "pylock"
    UV = "uv.lock"
    POETRY = "poetry.lock"
    PIPFILE = "Pipfile.lock"


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


def is_entry_of(entry: Mapping[str, Any], name: NormalizedName, version: Version) -> bool:
    """Whether a lock's package entry (a table with ``name`` and ``version``) pins ``name`` at
    ``version``; an entry whose version does not parse pins nothing."""
    try:
        return (
            canonicalize_name(str(entry.get("name"))) == name
            and Version(str(entry.get("version"))) == version
        )
    except InvalidVersion:
        return False
