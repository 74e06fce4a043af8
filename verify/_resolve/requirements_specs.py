"""The requirement half of a line: a PEP 508 requirement, a URL or a path, its environment
marker, and the digests its ``--hash`` options allow."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement

from verify._resolve.requirements_model import EMPTY_HASHES, SUPPORTED_HASH_ALGORITHMS
from verify._resolve.requirements_options import ParsedOption, fail
from verify.models import SourceLocation

__all__ = ["URL_RE", "collect_hashes", "parse_requirement"]

#: A URL rather than a path or a requirement, told by its scheme (remote ``-r`` files too).
URL_RE = re.compile(r"^(https?|file|ftp|(git|hg|svn|bzr)\+[a-z0-9+.-]+):", re.IGNORECASE)
_ARCHIVE_SUFFIXES = (
    ".whl",
    ".zip",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
)
_HEX_RE = re.compile(r"^[0-9a-f]+$")


def collect_hashes(
    options: list[ParsedOption], location: SourceLocation
) -> Mapping[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for parsed in options:
        if parsed.option.name != "--hash":
            continue
        value = parsed.value
        algorithm, colon, digest = value.partition(":")
        if not colon or not algorithm or not digest:
            fail(
                location,
                f"--hash needs ALGORITHM:HEXDIGEST, got {value!r}",
                hint="write --hash=sha256:<64 hex digits>",
            )
        algorithm = algorithm.lower()
        length = SUPPORTED_HASH_ALGORITHMS.get(algorithm)
        if length is None:
            fail(
                location,
                f"unsupported hash algorithm {algorithm!r}",
                hint="use " + ", ".join(SUPPORTED_HASH_ALGORITHMS),
            )
        digest = digest.lower()
        if len(digest) != length or not _HEX_RE.match(digest):
            fail(
                location,
                f"invalid {algorithm} digest {digest!r}: expected {length} hexadecimal "
                f"digits, got {len(digest)} characters",
            )
        found.setdefault(algorithm, set()).add(digest)
    if not found:
        return EMPTY_HASHES
    return MappingProxyType({alg: frozenset(digests) for alg, digests in found.items()})


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.startswith((".", "~"))


def parse_requirement(args: str, location: SourceLocation) -> tuple[Requirement | None, str | None]:
    """Parse the requirement part of a line: a PEP 508 requirement, a URL or a path."""
    if URL_RE.match(args):
        # pip only splits URL markers at "; " because a URL may contain ";".
        target, _, marker = args.partition("; ")
        _check_marker(marker, args, location)
        return None, target.strip()
    target, _, marker = args.partition(";")
    target = target.strip()
    if "@" not in target and (
        _looks_like_path(target) or target.lower().endswith(_ARCHIVE_SUFFIXES)
    ):
        _check_marker(marker, args, location)
        return None, target
    try:
        requirement = Requirement(args)
    except InvalidRequirement as exc:
        if _looks_like_path(target):
            _check_marker(marker, args, location)
            return None, target
        reason = str(exc).splitlines()[0] if str(exc) else "not a valid requirement"
        fail(
            location,
            f"invalid requirement {args!r}: {reason[:1].lower()}{reason[1:]}",
            hint="see https://packaging.python.org/en/latest/specifications/dependency-specifiers/",
        )
    return requirement, requirement.url


def _check_marker(marker: str, args: str, location: SourceLocation) -> None:
    marker = marker.strip()
    if not marker:
        return
    try:
        Marker(marker)
    except InvalidMarker as exc:
        reason = str(exc).splitlines()[0]
        fail(location, f"invalid marker in {args!r}: {reason[:1].lower()}{reason[1:]}")
