"""Read Pipenv's lock file (``Pipfile.lock``) into the same entries as a PEP 751 lock.

``Pipfile.lock`` is JSON: ``_meta.sources`` names the indexes (``{"name", "url"}``), and the
``default`` and ``develop`` objects map each package name to its entry::

    "requests": {
        "hashes": ["sha256:HEX", ...],
        "index": "pypi",
        "markers": "python_version >= '3.8'",
        "version": "==2.32.3"
    }

Such an entry names no files, only the digests its files may have: it becomes a candidate like
a line of a hash-pinned requirements file (``allowed_sha256``, the version from ``==X``, and the
``index``'s URL as ``index_url``), and the verifier picks the files of that version whose digest the
lock allows. An entry with a version but no hashes is unverifiable (``"no file hashes in the
lock"``).

Entries with ``"editable": true``, a VCS key (``git``, ``hg``, ``svn``, ``bzr``) or a ``path``
to a directory have no published bytes: they are listed as unverifiable (``"editable"``,
``"VCS source"``, ``"local directory"``) for the policy to decide. A ``path`` or ``file`` that
names an archive is verified as that one file.

JSON keeps no line numbers, so the text is scanned once more for the line where each
package's key appears inside ``default`` or ``develop``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._documents import parse_json
from verify._resolve.lockfields import (
    LockKind,
    fail,
    is_url,
    lock_index_url,
    normalized_name,
    optional_str,
    parse_digest,
    parse_version,
    path_filename,
    url_filename,
)
from verify._resolve.pylock import LockedPackage, read_lock_text
from verify.models import Candidate, LockedFile, SourceLocation

__all__ = ["read_pipfile_lock"]

#: The sections that hold packages, in the order they are read.
SECTIONS = ("default", "develop")

_VCS_KEYS = ("git", "hg", "svn", "bzr")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")
#: Pipenv writes sha256 digests only.
_ALGORITHMS: Mapping[str, int] = MappingProxyType({"sha256": 64})
_HINT = "regenerate it with `pipenv lock`, or fix the entry by hand"
_ENV_VAR_RE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
#: What the line scanner needs of JSON: strings, brackets, commas and newlines.
_TOKEN_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],\n]')


def read_pipfile_lock(path: Path) -> tuple[LockedPackage, ...]:
    """Read the ``Pipfile.lock`` at ``path``: ``default`` entries, then ``develop`` entries.

    A package in both sections with the same entry is read once (from ``default``).

    :raises InvalidInputError: the file cannot be read, is not valid JSON, is not a
        Pipfile.lock, or has a malformed entry (the error names the line of its key).
    """
    text = read_lock_text(path, encoding_hint="Pipfile.lock files are UTF-8")
    document = parse_json(text, path, hint="fix the lock file's syntax, or run `pipenv lock` again")
    lines = _key_lines(text)
    top = SourceLocation(str(path))
    if not isinstance(document, dict):
        fail(top, "not a Pipfile.lock: the document is not a JSON object", hint=_HINT)
    meta = document.get("_meta")
    if not isinstance(meta, dict):
        fail(
            SourceLocation(str(path), lines.get(("_meta",))),
            "not a Pipfile.lock: no `_meta` object",
            hint=_HINT,
        )
    indexes = _indexes(meta, SourceLocation(str(path), lines.get(("_meta", "sources"))))
    if not any(section in document for section in SECTIONS):
        fail(top, "not a Pipfile.lock: no `default` or `develop` object", hint=_HINT)

    base = path.parent
    locked: list[LockedPackage] = []
    seen: dict[NormalizedName, list[tuple[object, LockedPackage]]] = {}
    for section in SECTIONS:
        entries = document.get(section, {})
        if not isinstance(entries, dict):
            fail(
                SourceLocation(str(path), lines.get((section,))),
                f"`{section}` must be an object",
                hint=_HINT,
            )
        for key, entry in entries.items():
            source = SourceLocation(str(path), lines.get((section, key)))
            package = _package(key, entry, source, base, indexes)
            earlier = seen.setdefault(package.candidate.name, [])
            if any(same == entry for same, _ in earlier):
                continue  # the same pin in both sections
            earlier.append((entry, package))
            locked.append(package)
    return tuple(locked)


def _indexes(meta: Mapping[str, Any], source: SourceLocation) -> dict[str, str]:
    """``_meta.sources`` as index name to normalised index URL."""
    sources = meta.get("sources", [])
    if not isinstance(sources, list):
        fail(source, "`_meta.sources` must be an array", hint=_HINT)
    indexes: dict[str, str] = {}
    for entry in sources:
        if not isinstance(entry, dict):
            fail(source, "`_meta.sources` entries must be objects", hint=_HINT)
        name = optional_str(entry, "name", source, "`_meta.sources` entry")
        url = optional_str(entry, "url", source, "`_meta.sources` entry")
        if not name or not url:
            fail(source, "a `_meta.sources` entry needs a `name` and a `url`", hint=_HINT)
        indexes[name] = lock_index_url(_expand_env(url), source, f"source {name!r}")
    return indexes


def _expand_env(url: str) -> str:
    """Expand ``${NAME}`` as Pipenv does (credentials are kept out of the lock that way);
    unset or empty variables stay as written."""
    return _ENV_VAR_RE.sub(lambda found: os.environ.get(found.group(1)) or found.group(0), url)


def _package(
    key: str, entry: object, source: SourceLocation, base: Path, indexes: Mapping[str, str]
) -> LockedPackage:
    name = normalized_name(key, source)
    what = f"package {key!r}"
    if not isinstance(entry, dict):
        fail(source, f"{what}: the entry must be an object", hint=_HINT)
    raw_version = optional_str(entry, "version", source, what)
    version = _pinned_version(raw_version, source, what, name) if raw_version else None
    marker = optional_str(entry, "markers", source, what) or None
    index_name = optional_str(entry, "index", source, what)
    index_url: str | None = None
    if index_name is not None:
        if index_name not in indexes:
            fail(
                source,
                f"{what}: index {index_name!r} is not in `_meta.sources`",
                hint=f"known: {', '.join(sorted(indexes)) or 'none'}",
            )
        index_url = indexes[index_name]
    hashes = _hashes(entry, source, what)

    unverifiable: str | None = None
    files: tuple[LockedFile, ...] = ()
    editable = entry.get("editable", False)
    if not isinstance(editable, bool):
        fail(source, f"{what}: `editable` must be true or false", hint=_HINT)
    location = optional_str(entry, "path", source, what) or optional_str(
        entry, "file", source, what
    )
    if editable:
        unverifiable = "editable"
    elif any(vcs in entry for vcs in _VCS_KEYS):
        unverifiable = "VCS source"
    elif location:
        files, unverifiable = _local(location, hashes, base, source, what)
    elif version is None:
        fail(source, f"{what}: no `version` and no `path`, `file` or VCS source", hint=_HINT)
    elif not hashes:
        unverifiable = "no file hashes in the lock"

    candidate = Candidate(
        name=name,
        version=version,
        files=files,
        allowed_sha256=frozenset() if unverifiable or files else frozenset(hashes),
        index_url=index_url,
        source=source,
        origin=LockKind.PIPFILE.value,
        requested=True,
        preselected=False,
        unverifiable=unverifiable,
    )
    return LockedPackage(
        candidate=candidate, unverifiable=unverifiable, marker=marker, attestation_identities=()
    )


def _pinned_version(raw: str, source: SourceLocation, what: str, name: str) -> Version:
    text = raw.strip()
    for operator in ("===", "=="):
        if text.startswith(operator):
            return parse_version(text[len(operator) :].strip(), source, name)
    fail(source, f"{what}: version {raw!r} is not pinned with ==", hint=_HINT)


def _hashes(entry: Mapping[str, Any], source: SourceLocation, what: str) -> list[str]:
    """The entry's sha256 digests, in order, without repeats."""
    raw = entry.get("hashes", [])
    if not isinstance(raw, list):
        fail(source, f"{what}: `hashes` must be an array", hint=_HINT)
    digests = (parse_digest(value, source, what, algorithms=_ALGORITHMS)[1] for value in raw)
    return list(dict.fromkeys(digests))


def _local(
    location: str, hashes: list[str], base: Path, source: SourceLocation, what: str
) -> tuple[tuple[LockedFile, ...], str | None]:
    """A ``path`` or ``file`` entry: one archive to verify, or a directory."""
    url = location if is_url(location) else None
    filename = url_filename(location) if url else path_filename(location)
    if not filename.endswith(_ARCHIVE_SUFFIXES):
        if url is not None and not url.lower().startswith("file:"):
            fail(source, f"{what}: {location!r} does not name a wheel or an sdist", hint=_HINT)
        return (), "local directory"
    if len(hashes) > 1:
        fail(
            source,
            f"{what}: {len(hashes)} digests for the single file {filename}",
            hint="a path or file entry pins one archive: keep its one sha256",
        )
    file = LockedFile(
        filename=filename,
        url=url,
        path=None if url else base / location,
        hashes=MappingProxyType({"sha256": hashes[0]} if hashes else {}),
    )
    return (file,), None


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The 1-based line of each key of the document's top-level objects and of their members.

    Keys are ``(top,)`` for a top-level key and ``(top, member)`` for a key one level down
    (``("default", "requests")``). A repeated key keeps its last line, as ``json.loads`` keeps
    its last value. ``text`` must be valid JSON (so strings hold no raw newlines).
    """
    found: dict[tuple[str, ...], int] = {}
    # For each open container: whether it is an object, and the key it was opened under.
    stack: list[tuple[bool, str | None]] = []
    pending: str | None = None
    expect_key = False
    line = 1
    for token in _TOKEN_RE.finditer(text):
        char = token.group()
        if char == "\n":
            line += 1
        elif char[0] == '"':
            if stack and stack[-1][0] and expect_key:
                key: str = json.loads(char)
                path = (*(k for _, k in stack[1:] if k is not None), key)
                if len(stack) == len(path) <= 2:
                    found[path] = line
                pending = key
                expect_key = False
        elif char in "{[":
            stack.append((char == "{", pending))
            pending = None
            expect_key = char == "{"
        elif char in "}]":
            stack.pop()
            pending = None
        elif stack and stack[-1][0]:  # a comma between members
            expect_key = True
    return found
