"""Local distribution files given on the command line, verified as they are."""

from __future__ import annotations

from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from verify.errors import InvalidInputError
from verify.models import Candidate, LockedFile, SourceLocation

__all__ = ["is_distribution_path", "local_candidate"]

_SUFFIXES = (".whl", ".tar.gz", ".zip")


def is_distribution_path(argument: str) -> bool:
    """Whether a command-line argument names a distribution file rather than a requirement.

    ``name @ https://host.example/name-1.0.whl`` is a requirement, not a path.
    """
    if "@" in argument or "://" in argument:
        return False
    return argument.endswith(_SUFFIXES) and ("/" in argument or Path(argument).exists())


def local_candidate(path: Path) -> Candidate:
    """A candidate for the wheel or sdist at ``path``, named and versioned by its filename."""
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
        raise InvalidInputError(f"not a valid distribution filename: {exc}", path=path) from exc
    return Candidate(
        name=name,
        version=version,
        files=(LockedFile(filename=filename, path=path.resolve()),),
        source=SourceLocation(str(path)),
        origin="local",
        preselected=True,
    )
