"""Local distribution files given on the command line, verified as they are."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from packaging.utils import (
    InvalidName,
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from verify.errors import InvalidInputError
from verify.models import Candidate, LockedFile, SourceLocation

__all__ = [
    "DIST_SUFFIXES",
    "is_distribution_path",
    "local_candidate",
    "unsafe_filename",
    "valid_project_name",
]

#: Distribution files: wheels and sdists (PEP 625's ``.tar.gz``, and the legacy ``.zip``).
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")


def is_distribution_path(argument: str) -> bool:
    """Whether a command-line argument names a distribution file rather than a requirement.

    ``name @ https://host.example/name-1.0.whl`` is a requirement, not a path.
    """
    if "@" in argument or "://" in argument:
        return False
    return argument.endswith(DIST_SUFFIXES) and ("/" in argument or Path(argument).exists())


def unsafe_filename(name: str) -> bool:
    """Whether ``name``, sent by someone else, could be more than one plain file name:
    empty, a path (``/``, ``\\``, ``..``), hidden, control characters, or over 255 bytes."""
    return (
        not name
        or "/" in name
        or "\\" in name
        or ".." in name
        or name.startswith(".")
        or any(ord(c) < 32 for c in name)
        or len(name.encode("utf-8", "surrogateescape")) > 255
    )


def valid_project_name(name: str) -> bool:
    """Whether ``name`` is a project name PEP 508 allows (sdist filenames do not enforce it)."""
    try:
        canonicalize_name(name, validate=True)
    except InvalidName:
        return False
    return True


def local_candidate(
    path: Path, *, named_by: Callable[[Path], tuple[str, str] | None] | None = None
) -> Candidate:
    """A candidate for the wheel or sdist at ``path``, named and versioned by its filename.

    An sdist whose file name is no valid one (``demo-1.0-py3-none-any.tar.gz``) is what pip
    still installs from a path or a URL, naming it by its metadata: with ``named_by`` (which
    reads the archive's name and version, or gives ``None``) such a file is named that way
    too, and the behaviour diff reports the name (``filename-invalid``). A wheel's name must
    be valid: pip refuses any other.
    """
    if not path.is_file():
        raise InvalidInputError(
            "no such distribution file",
            path=path,
            hint="check the path, or quote a requirement that ends in .whl",
        )
    filename = path.name
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename) as exc:
        error = InvalidInputError(
            f"not a valid distribution filename: {exc}",
            path=path,
            hint="wheels are named NAME-VERSION-TAGS.whl and sdists NAME-VERSION.tar.gz; an "
            "sdist named otherwise is read only when its PKG-INFO gives a valid Name and Version",
        )
        named = None if named_by is None or filename.endswith(".whl") else named_by(path)
        if named is None or not valid_project_name(named[0]):
            raise error from exc
        try:
            name, version = canonicalize_name(named[0]), Version(named[1])
        except InvalidVersion:
            raise error from exc
    return Candidate(
        name=name,
        version=version,
        files=(LockedFile(filename=filename, path=path.resolve()),),
        source=SourceLocation(str(path)),
        origin="local",
        preselected=True,
    )
