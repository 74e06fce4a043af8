"""Read uv's lock file (``uv.lock``) into the same entries as a PEP 751 lock.

``uv.lock`` is TOML: a ``version = 1`` table and one ``[[package]]`` table per package, each with
a ``name``, a ``version`` and a ``source`` table of one of these kinds:

* ``{ registry = "URL" }``: a package index (or a ``--find-links`` location, a URL or a local
  directory). Its files are ``sdist = { url, hash, size, upload-time }`` and
  ``wheels = [{ url, hash, size, upload-time }, ...]``; a local registry's files have a
  ``path`` relative to the registry instead of a ``url``.
* ``{ url = "URL" }``: an archive at a direct URL; a file without its own ``url`` is that one.
* ``{ path = "PATH" }``: a wheel or sdist on disk, relative to the lock's directory.
* ``{ git = "URL" }``, ``{ directory = "PATH" }``, ``{ editable = "PATH" }`` and
  ``{ virtual = "PATH" }``: source trees with no published bytes. These are listed as
  unverifiable (``"VCS source"``, ``"local directory"``, ``"editable"``, ``"virtual project"``)
  and the policy decides (``unverifiable-source``). The project the lock belongs to is one
  of them (``editable = "."`` or ``virtual = "."``): it is local code, not a dependency pulled
  from an index, and it is listed like any other editable or virtual entry.

``hash = "sha256:HEX"`` gives each file's digest; a registry file without one (a
``--find-links`` page that gives none) is checked against the index's digest, as the verifier does
for any file. An entry that should have files but lists none is unverifiable
(``"no files in the lock"``): nothing in the lock pins its bytes.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from packaging.version import Version

from verify._documents import parse_toml
from verify._index.urls import file_url_path
from verify._resolve.lockfields import (
    LockKind,
    fail,
    is_url,
    key_line,
    lock_index_url,
    optional_int,
    optional_str,
    optional_table,
    package_name,
    parse_digest,
    parse_upload_time,
    parse_version,
    path_filename,
    table_header_lines,
    table_list,
    url_filename,
)
from verify._resolve.pylock import LockedPackage, read_lock_text
from verify.errors import InvalidInputError, UsageError
from verify.models import Candidate, LockedFile, SourceLocation

__all__ = ["read_uv_lock"]

#: The ``version`` of the uv.lock format this module reads.
SUPPORTED_VERSION = 1

_UNVERIFIABLE = {
    "git": "VCS source",
    "directory": "local directory",
    "editable": "editable",
    "virtual": "virtual project",
}
_WITH_FILES = ("registry", "url", "path")
_SOURCE_KINDS = (*_WITH_FILES, *_UNVERIFIABLE)
_HINT = "regenerate it with `uv lock`, or fix the entry by hand"


def read_uv_lock(path: Path) -> tuple[LockedPackage, ...]:
    """Read the ``uv.lock`` at ``path``: one entry per ``[[package]]``, in the file's order.

    :raises InvalidInputError: the file cannot be read, is not valid TOML, is not a version 1
        uv.lock, or has a malformed entry (the error names the line of its ``[[package]]``).
    """
    text = read_lock_text(path, encoding_hint="uv.lock files are UTF-8")
    data = parse_toml(text, path, hint="fix the lock file's syntax, or run `uv lock` again")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidInputError(
            "not a uv.lock file: no integer `version`",
            path=path,
            line=key_line(text, "version"),
            hint="a uv.lock starts with `version = 1`",
        )
    if version != SUPPORTED_VERSION:
        raise InvalidInputError(
            f"unsupported uv.lock version {version}",
            path=path,
            line=key_line(text, "version"),
            hint=f"pip-verify reads uv.lock version {SUPPORTED_VERSION}",
        )
    packages = table_list(data, "package", SourceLocation(str(path)), "uv.lock")
    headers = table_header_lines(text, "package")
    base = path.parent
    locked = []
    for index, table in enumerate(packages):
        line = headers[index] if len(headers) == len(packages) else None
        locked.append(_package(table, SourceLocation(str(path), line), base))
    return tuple(locked)


def _package(table: dict[str, Any], source: SourceLocation, base: Path) -> LockedPackage:
    name = package_name(table, source, "[[package]] entry")
    what = f"package {name!r}"
    raw_version = optional_str(table, "version", source, what)
    origin = optional_table(table, "source", source, what)
    if origin is None:
        fail(source, f"{what}: no `source` table", hint=_HINT)
    kinds = [kind for kind in _SOURCE_KINDS if kind in origin]
    if len(kinds) != 1:
        fail(
            source,
            f"{what}: `source` must have exactly one of {', '.join(_SOURCE_KINDS)}",
            hint=_HINT,
        )
    (kind,) = kinds
    location = optional_str(origin, kind, source, f"{what} source")
    if not location:
        fail(source, f"{what}: `source.{kind}` is empty", hint=_HINT)

    version: Version | None = None
    if raw_version is not None:
        version = parse_version(raw_version, source, name)
    unverifiable = _UNVERIFIABLE.get(kind)
    index_url: str | None = None
    files: list[LockedFile] = []
    if unverifiable is None:
        if version is None:
            fail(source, f"{what}: no `version`", hint=_HINT)
        if kind == "registry":
            index_url, root = _registry(location, base, source, what)
            files = _files(table, source, what, root=root)
        elif kind == "url":
            files = _files(table, source, what, root=base, default_url=location)
        else:
            files = _files(table, source, what, root=base, default_path=base / location)
        if not files:
            unverifiable = "no files in the lock"

    candidate = Candidate(
        name=name,
        version=version,
        files=tuple(files),
        allowed_sha256=frozenset(f.hashes["sha256"] for f in files if "sha256" in f.hashes),
        index_url=index_url,
        source=source,
        origin=LockKind.UV.value,
        requested=True,
        preselected=False,
        unverifiable=unverifiable,
    )
    return LockedPackage(
        candidate=candidate, unverifiable=unverifiable, marker=None, attestation_identities=()
    )


def _registry(
    location: str, base: Path, source: SourceLocation, what: str
) -> tuple[str | None, Path]:
    """The index URL a registry names (``None`` for a find-links location) and the directory
    its files' ``path`` keys are relative to."""
    parts = urlsplit(location)
    if not is_url(location):
        if len(parts.scheme) > 1:  # not a Windows drive letter
            fail(source, f"{what}: registry {location!r} is not http(s):// or file://")
        # A local --find-links directory: its files are read from disk, not from an index.
        return None, base / location
    if parts.path.lower().endswith((".html", ".htm")):
        # A --find-links page lists files directly; it is not a simple API root.
        return None, base
    index_url = lock_index_url(location, source, what)
    if parts.scheme.lower() == "file":
        try:
            return index_url, file_url_path(index_url)
        except UsageError as exc:
            fail(source, f"{what}: {exc.message}")
    return index_url, base


def _files(
    table: dict[str, Any],
    source: SourceLocation,
    what: str,
    *,
    root: Path,
    default_url: str | None = None,
    default_path: Path | None = None,
) -> list[LockedFile]:
    """The wheels, then the sdist, of a package with published bytes."""
    entries = [("wheel", entry) for entry in table_list(table, "wheels", source, what)]
    sdist = optional_table(table, "sdist", source, what)
    if sdist is not None:
        entries.append(("sdist", sdist))
    return [
        _file(entry, source, f"{what}, {kind}", root, default_url, default_path)
        for kind, entry in entries
    ]


def _file(
    entry: dict[str, Any],
    source: SourceLocation,
    what: str,
    root: Path,
    default_url: str | None,
    default_path: Path | None,
) -> LockedFile:
    url = optional_str(entry, "url", source, what)
    relative = optional_str(entry, "path", source, what)
    filename = optional_str(entry, "filename", source, what)
    path: Path | None = None
    if relative:
        path = root / relative
    elif not url:
        url, path = default_url, default_path
    if url is None and path is None:
        fail(source, f"{what}: no `url` or `path`", hint=_HINT)
    if not filename:
        if relative:
            filename = path_filename(relative)
        elif url:
            filename = url_filename(url)
        elif path is not None:
            filename = path.name
    if not filename:
        fail(source, f"{what}: cannot tell the file's name", hint="give it a `filename` key")
    hashes: dict[str, str] = {}
    raw_hash = entry.get("hash")
    if raw_hash is not None:
        algorithm, digest = parse_digest(raw_hash, source, f"{what} {filename}")
        hashes[algorithm] = digest
    return LockedFile(
        filename=filename,
        url=url or None,
        path=path,
        hashes=MappingProxyType(hashes),
        size=optional_int(entry, "size", source, f"{what} {filename}"),
        upload_time=parse_upload_time(entry.get("upload-time"), source, f"{what} {filename}"),
    )
