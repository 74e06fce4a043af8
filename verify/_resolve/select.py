"""Choose, among a release's files, the one an installer would install for a target environment."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping, Sequence

from packaging.tags import Tag, compatible_tags, cpython_tags, generic_tags, sys_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from verify.errors import UsageError
from verify.settings import TargetEnvironment

__all__ = [
    "file_project",
    "file_version",
    "files_of",
    "releases",
    "select_installable",
    "supported_tags",
]

_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")


def supported_tags(target: TargetEnvironment | None = None) -> list[Tag]:
    """The tags an installer accepts, best first, for ``target`` or the running interpreter."""
    if target is None or not target.is_set:
        return list(sys_tags())
    version = (
        _python_version(target.python_version) if target.python_version else sys.version_info[:2]
    )
    implementation = target.implementation or "cp"
    platforms = list(target.platforms) or None
    abis = list(target.abis) or None
    interpreter = f"{implementation}{version[0]}{version[1] if len(version) > 1 else ''}"
    if implementation == "cp":
        tags = list(cpython_tags(version, abis, platforms))
    else:
        tags = list(generic_tags(interpreter, abis, platforms))
    tags += list(compatible_tags(version, interpreter, platforms))
    return tags


def _python_version(text: str) -> tuple[int, ...]:
    """pip's forms: ``3``, ``3.12``, ``312``."""
    try:
        if "." in text:
            return tuple(int(part) for part in text.split(".")[:2])
        if len(text) > 1:
            return (int(text[0]), int(text[1:]))
        return (int(text),)
    except ValueError as exc:
        raise UsageError(f"--python-version {text!r} is not like '3.12'") from exc


# Pages of big projects list thousands of files, and the planner, the baseline choice and the
# provenance history each read their versions: parsing a wheel's name (its tags included) is
# the slow part of a warm check without a cache.
@functools.lru_cache(maxsize=1 << 16)
def file_version(filename: str) -> Version | None:
    """The version a distribution filename carries, or ``None`` if it is not one."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
    except InvalidWheelFilename:
        return None
    suffix = next((s for s in _SDIST_SUFFIXES if filename.endswith(s)), None)
    if suffix is None:
        return None
    # packaging parses only .tar.gz and .zip; pip also installs older formats.
    _name, dash, version = filename[: -len(suffix)].rpartition("-")
    try:
        return Version(version) if dash else None
    except InvalidVersion:
        return None


def file_project(filename: str) -> str | None:
    """The project name a distribution filename carries (as spelled in an sdist's name,
    normalized for a wheel's), or ``None``.

    An sdist's name runs to the dash before the version (``requests-oauthlib-2.0.0.tar.gz``
    is ``requests-oauthlib``): legacy sdists keep the dashes of their names.
    """
    if filename.endswith(".whl"):
        try:
            return str(parse_wheel_filename(filename)[0])
        except InvalidWheelFilename:
            return None
    suffix = next((s for s in _SDIST_SUFFIXES if filename.endswith(s)), None)
    if suffix is None or file_version(filename) is None:
        return None
    return filename[: -len(suffix)].rpartition("-")[0] or None


def releases(filenames: Iterable[str]) -> dict[Version, list[str]]:
    """``filenames`` grouped by the version their names spell, each distinct spelling parsed
    once: a page of thousands of files has only hundreds of releases.

    A group is not yet checked: a name in it may still not be a valid distribution filename.
    Read a group's files through :func:`files_of`, which keeps exactly those for which
    :func:`file_version` gives that version, so that looking only at the releases one needs
    (the newest few) gives what parsing every filename would.
    """
    by_text: dict[str, list[tuple[int, str]]] = {}
    for position, name in enumerate(filenames):
        text = _version_text(name)
        if text is not None:
            by_text.setdefault(text, []).append((position, name))
    numbered: dict[Version, list[tuple[int, str]]] = {}
    for text, names in by_text.items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        numbered.setdefault(version, []).extend(names)
    # Spellings of one version ("1.0", "1.0.0") were collected apart: put their files back in
    # the order they were given.
    return {version: [name for _, name in sorted(names)] for version, names in numbered.items()}


def files_of(grouped: Mapping[Version, Sequence[str]], version: Version) -> list[str]:
    """The files of ``version`` in :func:`releases`' ``grouped``, checked in full."""
    return [name for name in grouped.get(version, ()) if file_version(name) == version]


def _version_text(filename: str) -> str | None:
    """Where :func:`file_version` reads the version from, without checking anything else."""
    if filename.endswith(".whl"):
        stem = filename[:-4]
        return stem.split("-", 2)[1] if stem.count("-") in (4, 5) else None
    suffix = next((s for s in _SDIST_SUFFIXES if filename.endswith(s)), None)
    if suffix is None:
        return None
    _name, dash, version = filename[: -len(suffix)].rpartition("-")
    return version if dash else None


def _is_sdist(filename: str) -> bool:
    return filename.endswith(_SDIST_SUFFIXES)


def select_installable(filenames: Sequence[str], tags: Sequence[Tag]) -> list[str]:
    """The file an installer would pick: the best-ranked compatible wheel, else an sdist.

    Returns an empty list when none fits the environment.
    """
    rank = {tag: position for position, tag in enumerate(tags)}
    best: tuple[int, str] | None = None
    for filename in filenames:
        if not filename.endswith(".whl"):
            continue
        try:
            file_tags = parse_wheel_filename(filename)[3]
        except InvalidWheelFilename:
            continue
        positions = [rank[tag] for tag in file_tags if tag in rank]
        if positions and (best is None or min(positions) < best[0]):
            best = (min(positions), filename)
    if best is not None:
        return [best[1]]
    sdists = [name for name in filenames if _is_sdist(name)]
    return sdists[:1]
