"""A distribution's core metadata file: a wheel's, byte for byte, is what an index serves
beside the wheel (PEP 658) so that installers resolve without downloading it; the project URLs
it names tell an established project from a name registered and left empty."""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Callable
from pathlib import Path

from verify._dist.archive import open_archive
from verify.errors import ArchiveError
from verify.models import PackageResult

__all__ = ["project_urls", "requires_dist", "wheel_core_metadata"]


def wheel_core_metadata(path: Path) -> bytes | None:
    """The ``*.dist-info/METADATA`` of the wheel at ``path``, or ``None`` when the wheel has
    not exactly one, or cannot be read (read with the analysis's safe reader and limits)."""
    return _only_member(
        path, lambda name: name.count("/") == 1 and name.endswith(".dist-info/METADATA")
    )


def requires_dist(package: PackageResult) -> list[str]:
    """The ``Requires-Dist`` entries of the first of ``package``'s wheels kept in the cache
    (the bytes that were verified), as written; empty when it has none or it cannot be read."""
    wheel = next(
        (f.cache_path for f in package.files if f.cache_path and f.filename.endswith(".whl")),
        None,
    )
    metadata = wheel_core_metadata(wheel) if wheel is not None else None
    if metadata is None:
        return []
    message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(metadata)
    return [str(text).strip() for text in message.get_all("Requires-Dist") or ()]


def project_urls(path: Path) -> tuple[str, ...] | None:
    """The URLs the distribution at ``path`` names for its project (``Project-URL`` and
    ``Home-page`` of its core metadata: a wheel's ``METADATA``, an sdist's ``PKG-INFO``), or
    ``None`` when its metadata cannot be read."""
    metadata = wheel_core_metadata(path) if path.name.endswith(".whl") else _sdist_pkg_info(path)
    if metadata is None:
        return None
    message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(metadata)
    urls = [value.partition(",")[2].strip() for value in message.get_all("Project-URL") or ()]
    urls += [value.strip() for value in message.get_all("Home-page") or ()]
    return tuple(url for url in urls if url and url.upper() != "UNKNOWN")


def _sdist_pkg_info(path: Path) -> bytes | None:
    # The archive reader gives an sdist's members relative to its top directory.
    return _only_member(path, lambda name: name.removeprefix("./") == "PKG-INFO")


def _only_member(path: Path, wanted: Callable[[str], bool]) -> bytes | None:
    """The bytes of the one member of the archive at ``path`` that is ``wanted``; ``None``
    when there is not exactly one, or the archive or the member cannot be read."""
    try:
        archive = open_archive(path)
    except ArchiveError:
        return None
    with archive:
        found = [member.path for member in archive.files() if wanted(member.path)]
        if len(found) != 1:
            return None
        try:
            return archive.read(found[0])
        except ArchiveError:
            return None
