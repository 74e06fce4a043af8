"""Which earlier file a candidate is compared with.

The baseline is the newest earlier release on the same index (by version order, skipping
yanked releases, and pre-releases unless the candidate is one), and within that release the
file most like the candidate: for a wheel, the wheel whose tags overlap most (the same build
for the same platform), else the sdist; for an sdist, the sdist. A caller may name the
baseline version instead (``--baseline``, or the version a lock file replaces).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from verify._resolve.select import file_version
from verify.models import IndexFile

__all__ = ["BaselineChoice", "choose_baseline"]


@dataclass(frozen=True, slots=True)
class BaselineChoice:
    """The file to compare with, or why there is none."""

    entry: IndexFile | None
    version: Version | None
    #: Why this file (or none): said in reports as ``baseline: ...``.
    reason: str


def choose_baseline(
    files: Iterable[IndexFile],
    candidate: str,
    *,
    version: Version | None = None,
) -> BaselineChoice:
    """The baseline for the file named ``candidate`` among an index's ``files``.

    ``version`` names the baseline release explicitly; otherwise the newest release before
    the candidate's is taken.
    """
    target = file_version(candidate)
    if target is None:
        return BaselineChoice(None, None, f"{candidate} carries no version")
    releases: dict[Version, list[IndexFile]] = {}
    for entry in files:
        entry_version = file_version(entry.filename)
        if entry_version is None or entry.yanked:
            continue
        if version is not None:
            if entry_version == version:
                releases.setdefault(entry_version, []).append(entry)
            continue
        if entry_version >= target or (entry_version.is_prerelease and not target.is_prerelease):
            continue
        releases.setdefault(entry_version, []).append(entry)
    if not releases:
        if version is not None:
            return BaselineChoice(None, None, f"the index serves no release {version}")
        return BaselineChoice(None, None, "no earlier release on the index")
    chosen = max(releases)
    closest = _closest(releases[chosen], candidate)
    if closest is None:
        return BaselineChoice(None, chosen, f"release {chosen} has no wheel or sdist")
    how = "named" if version is not None else "newest earlier release"
    return BaselineChoice(closest, chosen, f"{how} {chosen}: {closest.filename}")


def _tags(filename: str) -> frozenset[Tag] | None:
    try:
        return parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return None


def _closest(entries: list[IndexFile], candidate: str) -> IndexFile | None:
    wheels = [(entry, _tags(entry.filename)) for entry in entries]
    sdists = [
        entry for entry, tags in wheels if tags is None and not entry.filename.endswith(".egg")
    ]
    if candidate.endswith(".whl"):
        wanted = _tags(candidate) or frozenset()
        scored = [
            (len(tags & wanted), _same_parts(tags, wanted), entry)
            for entry, tags in wheels
            if tags is not None
        ]
        if scored:
            # Most tags in common, then most of interpreter/ABI/platform shared: a manylinux
            # wheel is compared with the previous manylinux wheel, not with a Windows one.
            best = max(scored, key=lambda item: (item[0], item[1]))
            return best[2]
    return sdists[0] if sdists else None


def _same_parts(tags: frozenset[Tag], wanted: frozenset[Tag]) -> int:
    parts = (
        {t.interpreter for t in tags} & {t.interpreter for t in wanted},
        {t.abi for t in tags} & {t.abi for t in wanted},
        {_system(t.platform) for t in tags} & {_system(t.platform) for t in wanted},
        {_machine(t.platform) for t in tags} & {_machine(t.platform) for t in wanted},
    )
    return sum(1 for part in parts if part)


def _system(platform: str) -> str:
    # manylinux_2_17 and manylinux_2_28 builds of one release are the same kind of file;
    # a macOS build of it is not, even when no tag matches exactly.
    for prefix, system in (
        ("manylinux", "linux"),
        ("musllinux", "linux-musl"),
        ("linux", "linux"),
        ("macosx", "macos"),
        ("win", "windows"),
    ):
        if platform.startswith(prefix):
            return system
    return platform


def _machine(platform: str) -> str:
    for machine in ("x86_64", "amd64", "aarch64", "arm64", "i686", "win32", "ppc64le", "s390x"):
        if platform.endswith(machine):
            return {"amd64": "x86_64", "arm64": "aarch64", "win32": "i686"}.get(machine, machine)
    return platform
