"""The edits ``fix`` makes to a hashed requirements file: a line pinned anew, and a line added
for a dependency the file lacks, the rest of the file (comments, order, other lines) as it
was.

Every edit is placed by the lines of the file as it was read, and the edits are applied from
the bottom up, so that one edit never shifts the lines another one is placed by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from verify._resolve.requirements import read_requirements
from verify.errors import UsageError

__all__ = ["Pin", "apply_pins"]


@dataclass(frozen=True, slots=True)
class Pin:
    """``name`` pinned to ``version`` with ``hashes`` (sha256); ``add``: a new line for a
    package the file does not pin."""

    name: NormalizedName
    version: Version
    hashes: tuple[str, ...]
    add: bool = False


@dataclass(frozen=True, slots=True)
class _Line:
    name: NormalizedName
    requirement: Requirement
    start: int
    end: int


def apply_pins(text: str, path: Path, pins: Sequence[Pin]) -> str:
    """``text`` (the file at ``path`` as read) with each of ``pins``; a later pin of a name
    replaces an earlier one. A line added goes where its name sorts when the file's
    requirements are in order by name, else at the end."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    found = _requirement_lines(path, lines)
    by_name = {line.name: line for line in found}
    ordered = [line.name for line in found] == sorted(line.name for line in found)
    edits: list[tuple[int, int, int, str]] = []
    for pin in {pin.name: pin for pin in pins}.values():
        line = by_name.get(pin.name)
        if line is not None:
            requirement = line.requirement
            marker = f" ; {requirement.marker}" if requirement.marker else ""
            body = _body(_spelled(requirement), pin, marker)
            edits.append((line.start, 1, line.end + 1, body))
        elif pin.add:
            after = [line.start for line in found if line.name > pin.name] if ordered else []
            at = min(after, default=len(lines))
            edits.append((at, 0, at, _body(pin.name, pin)))
        else:
            raise UsageError(f"cannot find {pin.name}'s line in {path} to rewrite")
    # Bottom up; at one line the rewrite before the insertion above it.
    for start, _, end, body in sorted(edits, reverse=True):
        lines[start:end] = [body]
    return "".join(lines)


def _requirement_lines(path: Path, lines: Sequence[str]) -> list[_Line]:
    """The requirements of the file itself (not of the files it includes), with the lines
    each spans (a line ended by a backslash goes on)."""
    found = []
    for line in read_requirements(path).lines:
        requirement = line.requirement
        if requirement is None or Path(line.location.path).resolve() != path.resolve():
            continue
        if line.location.line is None:
            continue
        start = line.location.line - 1
        end = start
        while end < len(lines) and lines[end].rstrip("\r\n").endswith("\\"):
            end += 1
        found.append(_Line(canonicalize_name(requirement.name), requirement, start, end))
    return found


def _spelled(requirement: Requirement) -> str:
    """The requirement's name as the file spells it, with its extras."""
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}"


def _body(spelled: str, pin: Pin, marker: str = "") -> str:
    pinned = f"{spelled}=={pin.version}{marker}"
    return " \\\n".join([pinned, *(f"    --hash=sha256:{h}" for h in pin.hashes)]) + "\n"
