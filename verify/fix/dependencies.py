"""What a candidate release does to the rest of a hashed requirements file (issue 17).

The candidate's check resolves it with pip's resolver (wheels only, as ``check`` does) with
every other pin of the lock as a constraint, so the tree it verifies is the lock's own plus
what the candidate needs that the lock lacks or pins at an excluded release. Those packages
are what :func:`dependency_moves` returns: each was verified by the same check, and each
names the package whose ``Requires-Dist`` asks for it, for the report.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from verify._dist.core_metadata import requires_dist
from verify.models import PackageResult, Report

__all__ = [
    "constraints_text",
    "dependency_moves",
    "excluded_pins",
    "nearest_allowed",
    "requirement_of",
]


def constraints_text(
    pins: Mapping[NormalizedName, Version], skip: Collection[NormalizedName]
) -> str:
    """A pip constraints file holding every pin but those of ``skip`` (the package being
    fixed, and the others this run fixes, whose pinned releases are the ones to leave)."""
    return "".join(
        f"{name}=={version}\n" for name, version in sorted(pins.items()) if name not in skip
    )


def dependency_moves(
    report: Report, name: NormalizedName, pins: Mapping[NormalizedName, Version]
) -> list[tuple[PackageResult, Version, Version | None]]:
    """Each package of the candidate's tree (``report``, the check of ``name`` with the
    lock's ``pins`` as constraints) that the lock lacks or pins at another release, with its
    release there and the one the lock pins (``None``: added)."""
    moves = []
    for package in report.packages:
        if package.name == name or package.version is None:
            continue
        old = pins.get(package.name)
        if old != package.version:
            moves.append((package, package.version, old))
    return moves


def excluded_pins(
    report: Report, pins: Mapping[NormalizedName, Version]
) -> dict[NormalizedName, SpecifierSet]:
    """The pins some ``Requires-Dist`` entry of ``report``'s verified wheels excludes (the
    entry's marker holding with no extra), each with every such entry's specifier."""
    wanted: dict[NormalizedName, SpecifierSet] = {}
    for package in report.packages:
        for _, requirement in _requirements(package):
            name = canonicalize_name(requirement.name)
            if name in pins and _marker_holds(requirement):
                wanted[name] = wanted.get(name, SpecifierSet()) & requirement.specifier
    return {
        name: spec
        for name, spec in wanted.items()
        if not spec.contains(pins[name], prereleases=True)
    }


def nearest_allowed(
    pinned: Version, specifier: SpecifierSet, releases: Collection[Version]
) -> Version | None:
    """The release nearest ``pinned`` that ``specifier`` admits: the smallest upgrade, else
    the nearest downgrade; never a pre-release."""
    admitted = [v for v in releases if not v.is_prerelease and specifier.contains(v)]
    above = sorted(v for v in admitted if v > pinned)
    below = sorted((v for v in admitted if v < pinned), reverse=True)
    return next(iter(above + below), None)


def requirement_of(report: Report, name: NormalizedName) -> tuple[str, str]:
    """Which package of ``report`` needs ``name`` and its ``Requires-Dist`` entry for it
    (``("foo 1.2", "baz>=1.0")``), read from the verified wheels; an entry whose marker holds
    with no extra is preferred. ``("", "")`` when no verified wheel names it."""
    found = ("", "")
    for package in report.packages:
        for text, requirement in _requirements(package):
            if canonicalize_name(requirement.name) != name:
                continue
            who = f"{package.name} {package.version}"
            if _marker_holds(requirement):
                return who, text
            found = found if found[0] else (who, text)
    return found


def _requirements(package: PackageResult) -> list[tuple[str, Requirement]]:
    """The ``Requires-Dist`` entries of the package's verified wheel (none without one), as
    written and parsed; an entry that does not parse is left out."""
    requirements = []
    for text in requires_dist(package):
        try:
            requirements.append((text, Requirement(text)))
        except InvalidRequirement:
            continue
    return requirements


def _marker_holds(requirement: Requirement) -> bool:
    """Whether the entry applies here with no extra. pip already judged the markers for the
    target environment when it resolved; this only picks which entry to quote."""
    if requirement.marker is None:
        return True
    try:
        return requirement.marker.evaluate({"extra": ""})
    except InvalidMarker:  # pragma: no cover - packaging parsed it already
        return False
