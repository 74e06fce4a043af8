"""Read Poetry's lock file (``poetry.lock``) into the same entries as a PEP 751 lock.

``poetry.lock`` is TOML: one ``[[package]]`` table per package with a ``name``, a ``version``
and its files as ``files = [{ file = "NAME", hash = "sha256:HEX" }, ...]`` (Poetry 1.5 and
later; older locks keep the same lists under ``[metadata.files]``, keyed by package name, and
both are read). An optional ``[package.source]`` table says where the package comes from:

* no table: the default index (the indexes pip-verify is configured with);
* ``type = "legacy"``: a simple API index at ``url`` (``reference`` is its name in
  ``pyproject.toml``), which becomes the candidate's ``index_url``;
* ``type = "url"``: the archive at ``url``; ``type = "file"``: the archive at the path ``url``,
  relative to the lock's directory;
* ``type = "git"`` and ``type = "directory"`` (``develop = true`` when editable): source trees
  with no published bytes, listed as unverifiable (``"VCS source"``, ``"local directory"``,
  ``"editable"``) for the policy to decide.

A lock names files but not their URLs: the verifier finds each file by name on the indexes
(:class:`~verify.models.LockedFile` with ``url=None``, preferring the candidate's
``index_url``) and checks its bytes against the lock's digest. A package whose files carry no
digest at all is unverifiable (``"no files in the lock"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from verify._documents import parse_toml
from verify._resolve.lockfields import (
    LockKind,
    fail,
    is_url,
    key_line,
    lock_index_url,
    normalized_name,
    optional_str,
    optional_table,
    package_name,
    parse_digest,
    parse_version,
    required_str,
    table_header_lines,
    table_list,
)
from verify._resolve.pylock import LockedPackage, read_lock_text
from verify._resolve.select import file_version
from verify.models import Candidate, LockedFile, SourceLocation

__all__ = ["read_poetry_lock"]

#: The major ``lock-version`` this module reads (Poetry writes 1.x and 2.x).
SUPPORTED_MAJOR_VERSIONS = (1, 2)

_HINT = "regenerate it with `poetry lock`, or fix the entry by hand"


def read_poetry_lock(path: Path) -> tuple[LockedPackage, ...]:
    """Read the ``poetry.lock`` at ``path``: one entry per ``[[package]]``, in the file's order.

    :raises InvalidInputError: the file cannot be read, is not valid TOML, has an unsupported
        ``lock-version``, or has a malformed entry (the error names its ``[[package]]`` line).
    """
    text = read_lock_text(path, encoding_hint="poetry.lock files are UTF-8")
    data = parse_toml(text, path, hint="fix the lock file's syntax, or run `poetry lock` again")
    top = SourceLocation(str(path))
    metadata = optional_table(data, "metadata", top, "poetry.lock")
    if metadata is None:
        fail(top, "not a poetry.lock file: no [metadata] table", hint=_HINT)
    _check_lock_version(metadata, SourceLocation(str(path), key_line(text, "lock-version")))
    packages = table_list(data, "package", top, "poetry.lock")
    headers = table_header_lines(text, "package")
    sources = [
        SourceLocation(str(path), headers[index] if len(headers) == len(packages) else None)
        for index in range(len(packages))
    ]
    legacy = _legacy_files(metadata, SourceLocation(str(path), _table_line(text, "metadata.files")))
    base = path.parent
    return tuple(
        _package(table, source, base, legacy)
        for table, source in zip(packages, sources, strict=True)
    )


def _table_line(text: str, name: str) -> int | None:
    """The line of the ``[name]`` table header, if any."""
    header = re.compile(rf"^[ \t]*\[[ \t]*{re.escape(name)}[ \t]*\][ \t]*(?:#.*)?$")
    for number, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            return number
    return None


def _check_lock_version(metadata: Mapping[str, Any], source: SourceLocation) -> None:
    raw = metadata.get("lock-version")
    if raw is None:
        return  # locks older than Poetry 1.1 have none; their layout is the 1.x one
    if not isinstance(raw, str):
        fail(source, f"`lock-version` must be a string, not {raw!r}", hint=_HINT)
    try:
        major = Version(raw).major
    except InvalidVersion:
        fail(source, f"invalid `lock-version` {raw!r}", hint=_HINT)
    if major not in SUPPORTED_MAJOR_VERSIONS:
        fail(
            source,
            f"unsupported poetry.lock version {raw}",
            hint="pip-verify reads lock-version 1.x and 2.x",
        )


def _legacy_files(
    metadata: Mapping[str, Any], source: SourceLocation
) -> dict[NormalizedName, list[dict[str, Any]]]:
    """``[metadata.files]`` (locks written before Poetry 1.5), by normalised package name."""
    files = optional_table(metadata, "files", source, "[metadata]")
    if files is None:
        return {}
    legacy: dict[NormalizedName, list[dict[str, Any]]] = {}
    for name in files:
        listed = table_list(files, name, source, f"[metadata.files] {name!r}")
        legacy.setdefault(normalized_name(name, source), []).extend(listed)
    return legacy


def _package(
    table: dict[str, Any],
    source: SourceLocation,
    base: Path,
    legacy: Mapping[NormalizedName, list[dict[str, Any]]],
) -> LockedPackage:
    name = package_name(table, source, "[[package]] entry")
    what = f"package {name!r}"
    version = parse_version(required_str(table, "version", source, what), source, name)
    origin = optional_table(table, "source", source, what) or {}
    kind = optional_str(origin, "type", source, f"{what} source")
    location = optional_str(origin, "url", source, f"{what} source")
    develop = table.get("develop", False)
    if not isinstance(develop, bool):
        fail(source, f"{what}: `develop` must be true or false", hint=_HINT)
    if "files" in table:
        entries = table_list(table, "files", source, what)
    else:
        # Before Poetry 1.5 one list held the files of every locked version of a name.
        entries = [
            entry for entry in legacy.get(name, []) if _of_version(entry.get("file"), version)
        ]

    unverifiable: str | None = None
    index_url: str | None = None
    files: list[LockedFile] = []
    if kind == "git":
        unverifiable = "VCS source"
    elif kind == "directory":
        unverifiable = "editable" if develop else "local directory"
    elif kind in (None, "legacy", "url", "file"):
        url: str | None = None
        path: Path | None = None
        if kind is not None and not location:
            fail(source, f"{what}: a {kind} source needs a `url`", hint=_HINT)
        if kind == "legacy" and location:
            index_url = lock_index_url(location, source, what)
        elif kind == "url" and location:
            if not is_url(location):
                fail(source, f"{what}: url source {location!r} is not a URL", hint=_HINT)
            url = location
        elif kind == "file" and location:
            path = base / location
        files = [_file(entry, source, what, url, path) for entry in entries]
        if not files:
            unverifiable = "no files in the lock"
    else:
        fail(
            source,
            f"{what}: unknown source type {kind!r}",
            hint="pip-verify knows the legacy, url, file, git and directory sources",
        )

    candidate = Candidate(
        name=name,
        version=version,
        files=tuple(files),
        allowed_sha256=frozenset(f.hashes["sha256"] for f in files if "sha256" in f.hashes),
        index_url=index_url,
        source=source,
        origin=LockKind.POETRY.value,
        requested=True,
        preselected=False,
        unverifiable=unverifiable,
    )
    return LockedPackage(
        candidate=candidate,
        unverifiable=unverifiable,
        marker=_marker(table, source, what),
        attestation_identities=(),
    )


def _of_version(filename: object, version: Version) -> bool:
    """Whether a ``[metadata.files]`` entry may belong to ``version`` (unparsable names may)."""
    if not isinstance(filename, str):
        return True  # reported as malformed when the entry is read
    found = file_version(filename)
    return found is None or found == version


def _file(
    entry: Mapping[str, Any], source: SourceLocation, what: str, url: str | None, path: Path | None
) -> LockedFile:
    filename = required_str(entry, "file", source, f"{what} files entry")
    if "/" in filename or "\\" in filename:
        fail(source, f"{what}: file name {filename!r} is a path", hint=_HINT)
    if "hash" not in entry:
        fail(source, f"{what}, file {filename}: no `hash`", hint=_HINT)
    algorithm, digest = parse_digest(entry["hash"], source, f"{what}, file {filename}")
    return LockedFile(
        filename=filename,
        url=url,
        path=path,
        hashes=MappingProxyType({algorithm: digest}),
    )


def _marker(table: Mapping[str, Any], source: SourceLocation, what: str) -> str | None:
    """Poetry 2's ``markers``: one string, or a table of them by dependency group.

    A group listed in ``groups`` without a marker needs the package everywhere: no marker.
    """
    raw = table.get("markers")
    if raw is None or isinstance(raw, str):
        return raw or None
    if not isinstance(raw, dict) or not all(isinstance(value, str) for value in raw.values()):
        fail(source, f"{what}: `markers` must be a string or a table of strings", hint=_HINT)
    groups = table.get("groups")
    if isinstance(groups, list) and any(group not in raw for group in groups):
        return None
    markers = list(dict.fromkeys(raw.values()))
    if not markers or not all(markers):
        return None
    return markers[0] if len(markers) == 1 else " or ".join(f"({m})" for m in markers)
