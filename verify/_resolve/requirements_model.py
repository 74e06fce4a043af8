"""What a requirements file says, once read: its requirement lines and its global options.

Also what makes a line hash-pinned (``name==version --hash=sha256:...``), which
:attr:`RequirementsFile.is_hash_pinned` and the hash-pinned candidates both ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from packaging.requirements import Requirement

from verify.models import SourceLocation

__all__ = [
    "EMPTY_HASHES",
    "SUPPORTED_HASH_ALGORITHMS",
    "RequirementLine",
    "RequirementsFile",
    "pin_problem",
]

#: The hash algorithms pip accepts in ``--hash``, with the length of their hex digests.
SUPPORTED_HASH_ALGORITHMS: Mapping[str, int] = MappingProxyType(
    {"sha256": 64, "sha384": 96, "sha512": 128}
)
#: The digests of a line without ``--hash``: one shared, read-only empty mapping.
EMPTY_HASHES: Mapping[str, frozenset[str]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RequirementLine:
    """One requirement of a requirements file, as written on one logical line."""

    #: The parsed PEP 508 requirement; ``None`` for a bare URL or path and for ``-e`` lines.
    requirement: Requirement | None
    #: The logical line as written (continuations joined, environment variables not
    #: expanded), without its options and comment.
    raw: str
    #: Digests from ``--hash`` options: algorithm to the set of lower-case hex digests.
    hashes: Mapping[str, frozenset[str]]
    #: The file (as it was named) and the line where the logical line starts.
    location: SourceLocation
    #: The line is an ``-e``/``--editable`` requirement.
    editable: bool = False
    #: The URL of ``name @ url``, the target of a bare URL or path, or of ``-e``.
    url: str | None = None
    #: Per-requirement options other than ``--hash``, verbatim (``--config-settings=k=v``).
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RequirementsFile:
    """A requirements file with the files it includes, read into requirements and options."""

    path: Path
    #: Every requirement, including those of nested ``-r`` files, in file order.
    lines: tuple[RequirementLine, ...]
    #: ``-i``/``--index-url`` (the last one wins, as in pip).
    index_url: str | None
    #: ``--extra-index-url`` values, in order.
    extra_index_urls: tuple[str, ...]
    #: ``-f``/``--find-links`` values, in order.
    find_links: tuple[str, ...]
    no_index: bool
    #: ``-c``/``--constraint`` files, relative to the file that names them.
    constraints: tuple[Path, ...]
    #: Every other global option, verbatim (``--pre``, ``--only-binary=:all:``).
    pip_options: tuple[str, ...]

    @property
    def is_hash_pinned(self) -> bool:
        """Whether every requirement is ``name==version`` with a sha256 ``--hash``.

        An empty file is not hash-pinned.
        """
        return bool(self.lines) and all(pin_problem(line) is None for line in self.lines)


def pin_problem(line: RequirementLine) -> str | None:
    """Why ``line`` is not ``name==version --hash=sha256:...``, or ``None`` when it is."""
    if line.editable:
        return "is an editable requirement (-e), which cannot be hash-pinned"
    requirement = line.requirement
    if requirement is None or requirement.url is not None:
        return "names a URL or path rather than `name==version`"
    specifiers = list(requirement.specifier)
    if not specifiers:
        return "is not pinned to a version (use `name==version`)"
    if len(specifiers) > 1 or specifiers[0].operator not in ("==", "==="):
        return f"is not pinned to one version with == (it says {requirement.specifier})"
    if specifiers[0].operator == "==" and specifiers[0].version.endswith(".*"):
        return f"pins a wildcard version ({requirement.specifier})"
    if not line.hashes.get("sha256"):
        return "has no --hash=sha256:... option"
    return None
