"""Read PEP 751 lock files (``pylock.toml``) into candidates.

Validation is :mod:`packaging.pylock`'s; this module adds what a verifier needs: the line of
each ``[[packages]]`` table (for messages and reports), the files of each package with their
digests, and a reason for the entries that have no files to verify (VCS and directories).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from packaging.utils import NormalizedName

from verify._documents import parse_toml
from verify._provenance.identity import ExpectedIdentity
from verify.errors import InvalidInputError
from verify.models import Candidate, LockedFile, SourceLocation

if TYPE_CHECKING:
    from packaging.pylock import Package, PackageArchive, PackageSdist, PackageWheel

__all__ = ["LockedPackage", "is_pylock_path", "read_lock_text", "read_pylock"]

_PYLOCK_NAME_RE = re.compile(r"^pylock\.[^.]+\.toml$")
# A ``[[packages]]`` header (the key may be quoted), not ``[[packages.wheels]]``.
_PACKAGES_HEADER_RE = re.compile(
    r"""^[ \t]*\[\[[ \t]*(?:packages|"packages"|'packages')[ \t]*\]\][ \t]*(?:#.*)?$"""
)
_CONTEXT_PACKAGE_RE = re.compile(r"^packages\[(\d+)\]")
_HEX_RE = re.compile(r"^[0-9a-f]+$")
#: Hex digest lengths of the algorithms whose length we can check.
_HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One ``[[packages]]`` entry of a lock file."""

    #: The package, its files (wheels, then the sdist or archive) and their sha256 digests.
    candidate: Candidate
    #: Why the entry cannot be verified (``"VCS source"``, ``"local directory"``,
    #: ``"editable"``), or ``None`` when it names files with digests.
    unverifiable: str | None
    #: The entry's environment marker, as written in the lock.
    marker: str | None
    #: The raw ``[[packages.attestation-identities]]`` tables.
    attestation_identities: tuple[Mapping[str, object], ...]


def is_pylock_path(path: Path) -> bool:
    """Whether ``path`` is named like a PEP 751 lock file (``pylock.toml``, ``pylock.X.toml``)."""
    return path.name == "pylock.toml" or bool(_PYLOCK_NAME_RE.match(path.name))


def read_pylock(path: Path) -> tuple[LockedPackage, ...]:
    """Read and validate the lock file at ``path``.

    :raises InvalidInputError: the file cannot be read, is not valid TOML, or is not a valid
        PEP 751 lock file (the error names the line of the offending package when it can).
    """
    # Imported here: most checks read no pylock.toml, and packaging.pylock is a fifth of the
    # lock readers' import time.
    from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

    text = read_lock_text(path)
    data = parse_toml(text, path, hint="fix the lock file's syntax")
    headers = _package_header_lines(text)
    try:
        lock = Pylock.from_dict(data)
    except PylockUnsupportedVersionError as exc:
        raise InvalidInputError(
            f"unsupported lock file: {exc}",
            path=path,
            line=_key_line(text, "lock-version"),
            hint="pip-verify reads lock-version 1.x (PEP 751)",
        ) from None
    except PylockValidationError as exc:
        raise InvalidInputError(
            f"invalid lock file: {exc}",
            path=path,
            line=_context_line(exc.context, headers),
            hint="regenerate the lock file, or fix the entry by hand (PEP 751)",
        ) from None
    except (TypeError, ValueError) as exc:  # pragma: no cover - packaging wraps these
        raise InvalidInputError(f"invalid lock file: {exc}", path=path) from None

    base = path.parent
    packages: list[LockedPackage] = []
    for index, package in enumerate(lock.packages):
        line = headers[index] if len(headers) == len(lock.packages) else None
        packages.append(_locked_package(package, SourceLocation(str(path), line), base))
    return tuple(packages)


def read_lock_text(path: Path, *, encoding_hint: str = "TOML files must be UTF-8") -> str:
    """The text of the lock file at ``path`` (UTF-8, a leading BOM dropped); every lock
    reader uses it, so an unreadable lock reads the same whatever its format."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError("lock file not found", path=path, hint="check the path") from None
    except IsADirectoryError:
        raise InvalidInputError(
            "is a directory, not a lock file", path=path, hint="name the lock file itself"
        ) from None
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read lock file: {exc.strerror or exc}",
            path=path,
            hint="check that the file exists and is readable",
        ) from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"lock file is not UTF-8: {exc.reason}",
            path=path,
            line=data[: exc.start].count(b"\n") + 1,
            hint=encoding_hint,
        ) from None


def _package_header_lines(text: str) -> list[int]:
    """The 1-based lines of the ``[[packages]]`` headers, in order."""
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if _PACKAGES_HEADER_RE.match(line)
    ]


def _key_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"""^[ \t]*(?:{re.escape(key)}|"{re.escape(key)}")[ \t]*=""")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _context_line(context: str | None, headers: list[int]) -> int | None:
    if not context:
        return None
    found = _CONTEXT_PACKAGE_RE.match(context)
    if found is None:
        return None
    index = int(found.group(1))
    return headers[index] if index < len(headers) else None


def _locked_package(package: Package, source: SourceLocation, base: Path) -> LockedPackage:
    files = [_locked_file(wheel, source, base, package.name) for wheel in package.wheels or ()]
    if package.sdist is not None:
        files.append(_locked_file(package.sdist, source, base, package.name))
    if package.archive is not None:
        files.append(_locked_file(package.archive, source, base, package.name))

    unverifiable: str | None = None
    if package.vcs is not None:
        unverifiable = "VCS source"
    elif package.directory is not None:
        unverifiable = "editable" if package.directory.editable else "local directory"

    identities = tuple(_frozen_table(table) for table in package.attestation_identities or ())
    for table in identities:
        try:
            ExpectedIdentity.from_table(table)
        except ValueError as exc:
            raise InvalidInputError(
                f"package {package.name!r}: invalid attestation-identities entry: {exc}",
                path=source.path,
                line=source.line,
            ) from exc
    candidate = Candidate(
        name=package.name,
        version=package.version,
        files=tuple(files),
        allowed_sha256=frozenset(f.hashes["sha256"] for f in files if "sha256" in f.hashes),
        index_url=package.index,
        source=source,
        origin="pylock",
        requested=True,
        preselected=False,
        unverifiable=unverifiable,
        attestation_identities=identities,
    )
    return LockedPackage(
        candidate=candidate,
        unverifiable=unverifiable,
        marker=str(package.marker) if package.marker is not None else None,
        attestation_identities=identities,
    )


def _locked_file(
    entry: PackageWheel | PackageSdist | PackageArchive,
    source: SourceLocation,
    base: Path,
    name: NormalizedName,
) -> LockedFile:
    filename = _filename(entry)
    if not filename:
        raise InvalidInputError(
            f"cannot tell the file name of a file of {name}",
            path=source.path,
            line=source.line,
            hint="give the file a `name` key or a URL or path that ends with its name",
        )
    hashes: dict[str, str] = {}
    for algorithm, digest in entry.hashes.items():
        algorithm, digest = algorithm.lower(), digest.lower()
        length = _HEX_LENGTHS.get(algorithm)
        if not _HEX_RE.match(digest) or (length is not None and len(digest) != length):
            raise InvalidInputError(
                f"invalid {algorithm} digest {digest!r} for {filename}",
                path=source.path,
                line=source.line,
                hint="a digest is hexadecimal, 64 digits for sha256",
            )
        hashes[algorithm] = digest
    return LockedFile(
        filename=filename,
        url=entry.url,
        path=base / entry.path if entry.path else None,
        hashes=MappingProxyType(hashes),
        size=entry.size,
        upload_time=entry.upload_time,
    )


def _filename(entry: PackageWheel | PackageSdist | PackageArchive) -> str | None:
    """The file's ``name`` key, else the last segment of its path, else of its URL."""
    from packaging.pylock import PackageArchive

    name = None if isinstance(entry, PackageArchive) else entry.name
    if name:
        return name
    if entry.path:
        segment = entry.path.replace("\\", "/").rsplit("/", 1)[-1]
        if segment:
            return segment
    if entry.url:
        segment = unquote(urlsplit(entry.url).path.rsplit("/", 1)[-1])
        if segment:
            return segment
    return None


def _frozen_table(table: Mapping[str, Any]) -> Mapping[str, object]:
    return MappingProxyType(dict(table))
