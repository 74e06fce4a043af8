"""A wheel's core metadata file, byte for byte: what an index serves beside the wheel
(PEP 658) so that installers resolve without downloading the wheel."""

from __future__ import annotations

from pathlib import Path

from verify._dist.archive import open_archive
from verify.errors import ArchiveError

__all__ = ["wheel_core_metadata"]


def wheel_core_metadata(path: Path) -> bytes | None:
    """The ``*.dist-info/METADATA`` of the wheel at ``path``, or ``None`` when the wheel has
    not exactly one, or cannot be read (read with the analysis's safe reader and limits)."""
    try:
        archive = open_archive(path)
    except ArchiveError:
        return None
    with archive:
        found = [
            member.path
            for member in archive.files()
            if member.path.count("/") == 1 and member.path.endswith(".dist-info/METADATA")
        ]
        if len(found) != 1:
            return None
        try:
            return archive.read(found[0])
        except ArchiveError:
            return None
