"""Which PyPI package versions an OSV record affects, and which versions fix it.

A record's ``affected[]`` entries name packages by ecosystem; an ``ECOSYSTEM`` range is a list
of ``introduced``/``fixed``/``last_affected``/``limit`` events, walked in version order (OSV's
evaluation), with versions compared by :mod:`packaging.version`. Explicit ``versions`` lists
count too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from verify._vulnerabilities.fields import objects, texts
from verify._vulnerabilities.interface import VulnerabilitySourceError

__all__ = [
    "ECOSYSTEM",
    "affects",
    "fix_versions",
    "in_range",
    "parse_version",
    "pypi_entries",
    "pypi_packages",
    "version_key",
]

logger = logging.getLogger(__name__)

#: The OSV ecosystem of Python packages.
ECOSYSTEM = "PyPI"

_ZERO = Version("0")


def parse_version(text: str) -> Version | None:
    """``text`` as a PEP 440 version; ``None`` when it is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def version_key(text: str) -> tuple[int, Version, str]:
    """Sorts version strings: PEP 440 versions in order, then the others by text."""
    parsed = parse_version(text)
    return (0, parsed, "") if parsed is not None else (1, _ZERO, text)


def pypi_entries(record: Mapping[str, object], name: NormalizedName) -> Iterator[dict[str, object]]:
    """The ``affected[]`` entries of ``record`` about the PyPI package ``name``."""
    for entry in objects(record.get("affected")):
        package = entry.get("package")
        if not isinstance(package, dict) or package.get("ecosystem") != ECOSYSTEM:
            continue
        package_name = package.get("name")
        if isinstance(package_name, str) and canonicalize_name(package_name) == name:
            yield entry


def pypi_packages(record: Mapping[str, object]) -> Iterator[NormalizedName]:
    """The PyPI packages ``record`` names in ``affected[]``, normalized."""
    for entry in objects(record.get("affected")):
        package = entry.get("package")
        if not isinstance(package, dict) or package.get("ecosystem") != ECOSYSTEM:
            continue
        package_name = package.get("name")
        if isinstance(package_name, str) and package_name:
            yield canonicalize_name(package_name)


def _ecosystem_ranges(entry: Mapping[str, object]) -> Iterator[dict[str, object]]:
    for rng in objects(entry.get("ranges")):
        if rng.get("type") == "ECOSYSTEM":
            yield rng


def affects(
    record: Mapping[str, object], name: NormalizedName, version: str, parsed: Version | None
) -> bool:
    """Whether ``record`` says ``name`` at ``version`` is affected (OSV's evaluation).

    Raises :class:`VulnerabilitySourceError` when ``version`` is not a PEP 440 version and
    the record has ranges to evaluate.
    """
    unjudged = False
    for entry in pypi_entries(record, name):
        for listed in texts(entry.get("versions")):
            if listed == version or (parsed is not None and parse_version(listed) == parsed):
                return True
        for rng in _ecosystem_ranges(entry):
            if parsed is None:
                unjudged = True
            elif in_range(rng, parsed):
                return True
    if unjudged:
        raise VulnerabilitySourceError(
            f"{name} {version!r} is not a PEP 440 version: "
            f"cannot evaluate the ranges of {record.get('id')}"
        )
    return False


def in_range(rng: Mapping[str, object], version: Version) -> bool:
    """OSV's algorithm for one ``ECOSYSTEM`` range: walk its events in version order."""
    events: list[tuple[Version | None, str]] = []
    for event in objects(rng.get("events")):
        for kind in ("introduced", "fixed", "last_affected", "limit"):
            raw = event.get(kind)
            if not isinstance(raw, str):
                continue
            if kind == "introduced" and raw == "0":
                events.append((None, kind))  # before every version
                continue
            at = parse_version(raw)
            if at is None:
                logger.debug("ignoring the unparsable %s version %r of a range", kind, raw)
                continue
            events.append((at, kind))
    affected = False
    for at, kind in sorted(
        events, key=lambda e: (e[0] is not None, e[0] if e[0] is not None else _ZERO)
    ):
        if kind == "introduced" and (at is None or version >= at):
            affected = True
        elif at is None:
            continue
        elif (kind == "fixed" and version >= at) or (kind == "last_affected" and version > at):
            affected = False
    limits = [at for at, kind in events if kind == "limit" and at is not None]
    return affected and not any(version >= limit for limit in limits)


def fix_versions(
    record: Mapping[str, object], name: NormalizedName, version: Version | None
) -> tuple[str, ...]:
    """The versions fixing ``record`` for ``name`` at ``version``, sorted: the fixed versions
    above it in the ranges that contain it, else every fixed version the record names."""
    matching: set[str] = set()
    every: set[str] = set()
    for entry in pypi_entries(record, name):
        for rng in _ecosystem_ranges(entry):
            fixed = {
                raw
                for event in objects(rng.get("events"))
                if isinstance(raw := event.get("fixed"), str) and raw
            }
            every |= fixed
            if version is not None and in_range(rng, version):
                matching |= {f for f in fixed if (at := parse_version(f)) and at > version}
    return tuple(sorted(matching or every, key=version_key))
