"""Reading an index's releases, for the benchmarks that pick real files (kept apart from
``harness``, which needs only the standard library)."""

from __future__ import annotations

from collections.abc import Iterable

from packaging.version import Version

from verify._resolve.select import file_version
from verify.models import IndexFile

__all__ = ["final_releases"]


def final_releases(files: Iterable[IndexFile]) -> dict[Version, list[IndexFile]]:
    """Non-yanked files of final releases, by version."""
    releases: dict[Version, list[IndexFile]] = {}
    for entry in files:
        version = file_version(entry.filename)
        if version is None or entry.yanked or version.is_prerelease or version.is_devrelease:
            continue
        releases.setdefault(version, []).append(entry)
    return releases
