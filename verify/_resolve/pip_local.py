"""Which ``file:`` URLs in pip's resolution the user accounts for.

pip follows a ``file:`` link on an http(s) index page, and an index can serve pip (which
names itself in its User-Agent) a page other than the one pip-verify reads. pip-verify would
then copy, hash and analyse a local file of the index's choosing, and report on it. So a local
file pip chose is verified only when the user named it or a local source the user gave may
offer it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify._index.urls import file_url_path, redact
from verify._resolve.pip_request import PipResolveRequest
from verify._resolve.requirements import read_requirements
from verify.errors import IndexResponseError, UsageError, VerifyError
from verify.models import Candidate

__all__ = ["check_local_files", "direct_flags"]


@dataclass(frozen=True, slots=True)
class _Location:
    """An index or ``--find-links`` location pip was given, as it was written."""

    value: str
    is_index: bool
    #: Where a relative path is looked up first (the requirements file that names it).
    base: Path | None = None


def check_local_files(
    found: Sequence[tuple[Candidate, bool]],
    request: PipResolveRequest,
    *,
    python: str | None,
    env: Mapping[str, str] | None,
) -> None:
    """Refuse a ``file:`` URL that pip chose and no local source the user gave accounts for.

    Each candidate comes with whether the user named its file (a path or ``name @ file:``
    requirement or constraint, which pip's report marks as direct). Other ``file:`` URLs must
    lie where a local index or ``--find-links`` location, given on the command line, in a
    requirements file or in pip's configuration, may offer them.

    :raises IndexResponseError: naming the package and the URL.
    """
    suspects = [
        (candidate, file.url)
        for candidate, direct in found
        if not direct
        for file in candidate.files
        if file.url is not None and file.url[:5].lower() == "file:"
    ]
    if not suspects:
        return
    locations = _request_locations(request)
    configured: list[_Location] | None = None
    for candidate, url in suspects:
        if _accounted_for(url, locations):
            continue
        if configured is None:
            # Only now: reading pip's configuration costs a pip start-up.
            configured = _configured_locations(python or sys.executable, env)
        if _accounted_for(url, configured):
            continue
        raise IndexResponseError(
            f"pip resolved {candidate.name} {candidate.version} to the local file "
            f"{redact(url)}, which no local index, local --find-links location or path "
            "you gave accounts for",
            hint="an index may be serving pip a page that links to files on this machine: "
            "check what the index serves to pip, or name local files to pip-verify as paths",
        )


def _request_locations(request: PipResolveRequest) -> list[_Location]:
    indexes = [request.resolution.index_url or "", *request.resolution.extra_index_urls]
    locations = [_Location(url, is_index=True) for url in indexes if url]
    locations += [_Location(value, is_index=False) for value in request.resolution.find_links]
    # pip also takes these options from the requirements and constraints files it reads.
    for path in (*request.requirement_files, *request.constraint_files):
        try:
            parsed = read_requirements(path)
        except VerifyError:
            continue  # a file that cannot be read here names no location either
        named = [parsed.index_url or "", *parsed.extra_index_urls]
        locations += [_Location(url, True, path.parent) for url in named if url]
        locations += [_Location(value, False, path.parent) for value in parsed.find_links]
    return locations


_LOCATION_OPTIONS = {"index-url": True, "extra-index-url": True, "find-links": False}


def _configured_locations(python: str, env: Mapping[str, str] | None) -> list[_Location]:
    """The indexes and ``find-links`` of pip's configuration files and ``PIP_*`` variables."""
    try:
        completed = subprocess.run(
            [python, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env=dict(env) if env is not None else dict(os.environ),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []  # nothing is accounted for, so the file is refused: the safe side
    locations: list[_Location] = []
    for line in completed.stdout.splitlines():
        key, sep, raw = line.partition("=")
        is_index = _LOCATION_OPTIONS.get(key.strip().rpartition(".")[2])
        if not sep or is_index is None:
            continue
        try:
            value = str(ast.literal_eval(raw.strip()))
        except (ValueError, SyntaxError):
            value = raw.strip()
        locations += [_Location(item, is_index) for item in value.split()]
    return locations


def _local_path(location: _Location) -> Path | None:
    value = location.value
    if value[:8].lower().startswith(("http://", "https://")):
        return None
    try:
        path = file_url_path(value) if value[:5].lower() == "file:" else Path(value)
        if location.base is not None and not path.is_absolute():
            # As pip does: relative to the requirements file when it exists there.
            beside = location.base / path
            path = beside if beside.exists() else path
        return path.resolve()
    except (UsageError, OSError, RuntimeError, ValueError):
        return None


def _accounted_for(url: str, locations: Sequence[_Location]) -> bool:
    try:
        target = file_url_path(url).resolve()
    except (UsageError, OSError, RuntimeError, ValueError):
        return False
    for location in locations:
        local = _local_path(location)
        if local is None:
            continue
        # A local index's pages, and a local links page, are the user's own: like pip-verify's
        # page reader for a file:// index, they may link any local file. A links directory
        # offers only the files in it.
        if location.is_index or local.is_file():
            return True
        if local.is_dir() and target.is_relative_to(local):
            return True
    return False


def direct_flags(document: Any) -> list[bool]:
    """For each entry of pip's report, whether the user named its URL or path (pip's
    ``is_direct``) rather than pip finding it on an index or links page."""
    return [
        isinstance(item, dict) and item.get("is_direct") is True for item in document["install"]
    ]
