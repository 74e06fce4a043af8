"""Lines of a distribution's file around a line a finding flags, for the people who review it.

The archive is read with the same safe reader as the analysis (its limits, no extraction).
Lines are decoded leniently and cut to a readable length: they are evidence to look at, never
code to run, and whoever shows them must escape them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from verify._dist.archive import open_archive
from verify.errors import ArchiveError

__all__ = ["ExcerptLine", "excerpts"]

#: Lines shown before and after the flagged one.
AROUND = 3
#: Characters kept of one line (a minified or encoded line can be megabytes).
MAX_LINE = 400


@dataclass(frozen=True, slots=True)
class ExcerptLine:
    """One line of a file: its number, its text (cut to :data:`MAX_LINE`), and whether it is
    the flagged one."""

    number: int
    text: str
    flagged: bool = False


def excerpts(
    archive_path: Path, wanted: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], tuple[ExcerptLine, ...]]:
    """For each (member path, line number) in ``wanted``, the lines around it.

    A member that is not in the archive, cannot be read within the limits, or has fewer lines
    gets no entry; an archive that cannot be opened gives no entries at all.
    """
    found: dict[tuple[str, int], tuple[ExcerptLine, ...]] = {}
    wanted = sorted(set(wanted))
    if not wanted:
        return found
    try:
        archive = open_archive(archive_path)
    except ArchiveError:
        return found
    with archive:
        texts: dict[str, list[str] | None] = {}
        for path, line in wanted:
            if path not in texts:
                try:
                    texts[path] = archive.read(path).decode("utf-8", "replace").splitlines()
                except ArchiveError:
                    texts[path] = None
            lines = texts[path]
            if lines is None or not 1 <= line <= len(lines):
                continue
            first, last = max(1, line - AROUND), min(len(lines), line + AROUND)
            found[(path, line)] = tuple(
                ExcerptLine(n, _cut(lines[n - 1]), flagged=n == line)
                for n in range(first, last + 1)
            )
    return found


def _cut(text: str) -> str:
    text = text.expandtabs(4)
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"
