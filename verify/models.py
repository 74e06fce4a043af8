"""The data pip-verify works on and returns: frozen dataclasses and string enums.

Nothing here does I/O. Inputs are turned into :class:`Candidate` objects, indexes are read into
:class:`ProjectPage` objects, and a check returns a :class:`Report`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import overload

from packaging.utils import NormalizedName
from packaging.version import Version

__all__ = [
    "BehaviourSummary",
    "Candidate",
    "ChangeKind",
    "Decision",
    "ExpectedDigest",
    "FileResult",
    "Finding",
    "HashStatus",
    "IndexFile",
    "IndexFiles",
    "KnownVulnerability",
    "LockChange",
    "LockedFile",
    "PackageResult",
    "ProjectPage",
    "Provenance",
    "ProvenanceStatus",
    "Reason",
    "Report",
    "ReportError",
    "Severity",
    "SourceLocation",
]


class Decision(str, enum.Enum):
    """What the policy says about a package, a rule outcome or a whole report."""

    ALLOW = "allow"
    WARN = "warn"
    DENY = "deny"

    @property
    def rank(self) -> int:
        """Orders decisions from the most permissive to the least."""
        return _DECISION_RANK[self]

    @classmethod
    def worst(cls, decisions: Iterable[Decision]) -> Decision:
        """The least permissive of ``decisions`` (``ALLOW`` when there are none)."""
        return max(decisions, key=lambda d: d.rank, default=cls.ALLOW)


_DECISION_RANK = {Decision.ALLOW: 0, Decision.WARN: 1, Decision.DENY: 2}


class Severity(str, enum.Enum):
    """How serious a finding is."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ProvenanceStatus(str, enum.Enum):
    """Outcome of checking a file's PEP 740 provenance."""

    VERIFIED = "verified"
    ABSENT = "absent"
    INVALID = "invalid"
    UNCHECKED = "unchecked"


class HashStatus(str, enum.Enum):
    """Outcome of comparing a file's bytes with the digests we were told to expect."""

    #: The bytes match every digest that the lock file, the resolver and the index gave.
    VERIFIED = "verified"
    #: The bytes differ from at least one expected digest, or two sources disagree.
    MISMATCH = "mismatch"
    #: The bytes were read but nobody gave a strong digest to compare them with.
    UNVERIFIABLE = "unverifiable"
    #: The bytes could not be read (``--offline`` and not cached, or a download failed).
    UNCHECKED = "unchecked"


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a requirement came from: an input file and a 1-based line, when known."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


@dataclass(frozen=True, slots=True)
class IndexFile:
    """One file as a simple API project page describes it (PEP 503, 691, 700, 714, 740)."""

    filename: str
    url: str
    #: Digests from the index, lower-case algorithm name to lower-case hex.
    hashes: Mapping[str, str]
    index_url: str
    size: int | None = None
    upload_time: datetime | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    requires_python: str | None = None
    #: The PEP 740 provenance URL (JSON ``provenance`` key, HTML ``data-provenance``).
    provenance_url: str | None = None
    #: The page says whether the file has provenance (a JSON ``provenance`` key, even null);
    #: when it does not, the Integrity API is asked.
    provenance_listed: bool = False
    #: Whether the index serves the file's core metadata separately (PEP 658/714).
    core_metadata: bool = False


class IndexFiles(Sequence[IndexFile]):
    """The files of a project page, each built and validated when first used.

    Pages of large projects list tens of thousands of files and a check needs a handful, so
    parsers hand over cheap accessors for a file's name and sha256 and a ``build`` function;
    lookups by name or digest build only the entries they return.
    """

    __slots__ = ("_build", "_built", "_by_name", "_count", "_filename", "_sha256")

    def __init__(
        self,
        count: int,
        build: Callable[[int], IndexFile],
        filename: Callable[[int], str],
        sha256: Callable[[int], str | None],
    ) -> None:
        self._count = count
        self._build = build
        self._filename = filename
        self._sha256 = sha256
        self._built: dict[int, IndexFile] = {}
        self._by_name: dict[str, list[int]] | None = None

    @classmethod
    def of(cls, files: Iterable[IndexFile]) -> IndexFiles:
        """Files that are already built (an HTML page, a test)."""
        items = tuple(files)
        return cls(
            len(items),
            items.__getitem__,
            lambda i: items[i].filename,
            lambda i: items[i].hashes.get("sha256"),
        )

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> IndexFile: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[IndexFile]: ...

    def __getitem__(self, index: int | slice) -> IndexFile | Sequence[IndexFile]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._count)))
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        built = self._built.get(index)
        if built is None:
            built = self._built[index] = self._build(index)
        return built

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"IndexFiles({self._count} files)"

    def named(self, filename: str) -> IndexFile | None:
        """The first entry called ``filename``."""
        if self._by_name is None:
            by_name: dict[str, list[int]] = {}
            for i in range(self._count):
                by_name.setdefault(self._filename(i), []).append(i)
            self._by_name = by_name
        positions = self._by_name.get(filename)
        return self[positions[0]] if positions else None

    def filenames(self) -> list[str]:
        """Every entry's filename, without building the entries."""
        return [self._filename(i) for i in range(self._count)]

    def with_sha256(self, digests: Iterable[str]) -> list[IndexFile]:
        """Every entry whose sha256 is one of ``digests``."""
        wanted = frozenset(digests)
        return [self[i] for i in range(self._count) if self._sha256(i) in wanted]


@dataclass(frozen=True, slots=True)
class ProjectPage:
    """A project's page on one index."""

    name: NormalizedName
    index_url: str
    files: IndexFiles
    #: ``json`` (PEP 691) or ``html`` (PEP 503) or ``file`` (a ``file://`` index).
    served_as: str
    api_version: str | None = None
    #: PEP 792 project status (``active``, ``archived``, ``quarantined``, ``deprecated``).
    project_status: str | None = None
    project_status_reason: str | None = None
    #: The sha256 of the page's bytes: the same digest, the same page.
    digest: str | None = None

    def file_named(self, filename: str) -> IndexFile | None:
        """The entry for ``filename``, if this page lists it."""
        return self.files.named(filename)


@dataclass(frozen=True, slots=True)
class LockedFile:
    """A distribution file named by an input: a lock file entry, a resolver result, a path."""

    filename: str
    url: str | None = None
    #: A local file to verify as it is (a path argument, or a lock's ``path`` key).
    path: Path | None = None
    #: Digests the input requires, algorithm to lower-case hex.
    hashes: Mapping[str, str] = field(default_factory=dict)
    size: int | None = None
    upload_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One package pinned to one version, with what the input says about its files.

    ``files`` lists the files the input names. When it is empty the files are found on the
    index: every file of ``version`` whose sha256 is in ``allowed_sha256`` (a hashed
    requirements file), or every file of ``version`` when there are no hashes.
    """

    name: NormalizedName
    version: Version | None
    files: tuple[LockedFile, ...] = ()
    allowed_sha256: frozenset[str] = frozenset()
    #: The index an input ties the package to (a pylock ``index`` key), if any.
    index_url: str | None = None
    source: SourceLocation | None = None
    #: ``resolver``, ``requirements``, ``local``, or the lock format (``pylock``, ``uv.lock``,
    #: ``poetry.lock``, ``Pipfile.lock``).
    origin: str = "resolver"
    #: Directly requested by the user rather than pulled in as a dependency.
    requested: bool = True
    #: The files are the resolver's choice already: no further selection by tags.
    preselected: bool = False
    #: Why this entry cannot be verified (a VCS checkout, a local directory, an editable).
    unverifiable: str | None = None
    #: pip found no release of this requirement: its error, and the candidate has no version.
    #: The engine says whether any index serves the name at all (``name-unknown``).
    unresolved: str | None = None
    #: Publisher identities the input pins (PEP 751 ``attestation-identities``), raw tables.
    attestation_identities: tuple[Mapping[str, object], ...] = ()


@dataclass(frozen=True, slots=True)
class ExpectedDigest:
    """A digest that some source says a file must have."""

    #: ``lock``, ``resolver``, ``index`` or ``local``.
    source: str
    digest: str
    algorithm: str = "sha256"


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a check observed, with its evidence."""

    rule: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    #: The offending source line, trimmed (behaviour findings); decoded when the code was
    #: hidden under an encoding (``[decoded base64] ...``).
    snippet: str | None = None
    #: One sentence on why the finding is dangerous (behaviour findings).
    why: str | None = None


@dataclass(frozen=True, slots=True)
class KnownVulnerability:
    """One known vulnerability (or malicious-package report) affecting a package version."""

    id: str
    aliases: tuple[str, ...]
    summary: str | None
    #: Versions that fix it, sorted: the fixed versions above the audited one in the ranges
    #: that contain it; every fixed version the record names when that cannot be told.
    fix_versions: tuple[str, ...]
    #: ``"low"``, ``"medium"``, ``"high"`` or ``"critical"``; ``None`` when unknown.
    severity: str | None
    #: The id or an alias is an OSV malicious-package id (``MAL-...``).
    malicious: bool
    #: The first ``ADVISORY`` or ``WEB`` reference of the record.
    url: str | None
    #: Why the policy ignores it (``"ignored: <reason>"``); ``None`` when it counts. Set by
    #: the verifier from the policy's ignore list, never by a source.
    ignored: str | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a package got its decision: one rule, its decision and the evidence."""

    rule: str
    decision: Decision
    message: str
    #: The rule could not be evaluated (its ``on-error`` decision was applied).
    unchecked: bool = False


@dataclass(frozen=True, slots=True)
class Provenance:
    """The PEP 740 provenance outcome for a package's files."""

    status: ProvenanceStatus
    publisher: Mapping[str, str | None] | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FileResult:
    """What was verified about one file."""

    filename: str
    url: str | None
    #: The sha256 of the bytes we read, or ``None`` when we could not read them.
    sha256: str | None
    hash_status: HashStatus
    expected: tuple[ExpectedDigest, ...] = ()
    size: int | None = None
    upload_time: datetime | None = None
    index_url: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    requires_python: str | None = None
    provenance_url: str | None = None
    #: The verified bytes in the content-addressed cache (what ``install`` installs).
    cache_path: Path | None = None
    #: Why the bytes could not be read, when ``hash_status`` is ``UNCHECKED``.
    error: str | None = None
    #: This file's PEP 740 provenance outcome.
    provenance: Provenance | None = None


@dataclass(frozen=True, slots=True)
class BehaviourSummary:
    """How one file was compared with its baseline (the behaviour diff)."""

    filename: str
    #: The baseline's filename; ``None`` when the file was analysed alone.
    baseline: str | None
    #: Why this baseline or none (``newest earlier release 1.0: ...``, ``no earlier release``).
    reason: str
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0
    analysed_files: int = 0
    analysed_bytes: int = 0
    #: Behaviour the baseline already had, rated low: context, not a verdict.
    context: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class PackageResult:
    """Everything a check concluded about one package."""

    name: NormalizedName
    version: Version | None
    decision: Decision
    index: str | None
    files: tuple[FileResult, ...]
    provenance: Provenance
    findings: tuple[Finding, ...] = ()
    vulnerabilities: tuple[KnownVulnerability, ...] = ()
    reasons: tuple[Reason, ...] = ()
    source: SourceLocation | None = None
    requested: bool = True
    behaviour: tuple[BehaviourSummary, ...] = ()


class ChangeKind(str, enum.Enum):
    """How a package differs between a lock file's base version and the working tree."""

    ADDED = "added"
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    #: Same version, other files or hashes: the bytes the lock admits changed.
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class LockChange:
    """One package's change in one lock file (``check --base``)."""

    name: NormalizedName
    kind: ChangeKind
    old_version: Version | None
    new_version: Version | None
    source: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class ReportError:
    """An operational failure that kept a check from completing."""

    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class Report:
    """The result of a check: one decision, the packages behind it, and what failed."""

    decision: Decision
    packages: tuple[PackageResult, ...]
    errors: tuple[ReportError, ...] = ()
    #: The checks that ran (``hashes``, ``index-metadata``, ...), for the reader of a report.
    checks: tuple[str, ...] = ()
    #: The indexes consulted, in pip's order.
    indexes: tuple[str, ...] = ()
    #: Conditions a reader should know about that did not stop the check (a stale trust root).
    warnings: tuple[str, ...] = ()
    #: With ``--base``: what changed in the lock files (only new or changed packages are
    #: in ``packages``).
    changes: tuple[LockChange, ...] = ()

    @property
    def incomplete(self) -> bool:
        """Whether verification could not complete (errors, or denials from unchecked rules)."""
        if self.errors:
            return True
        return any(
            reason.unchecked and reason.decision is Decision.DENY
            for package in self.packages
            for reason in package.reasons
        )

    @property
    def denied_by_policy(self) -> bool:
        """Whether some rule that did run denied a package."""
        return any(
            not reason.unchecked and reason.decision is Decision.DENY
            for package in self.packages
            for reason in package.reasons
        )
