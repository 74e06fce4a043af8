"""pip-verify's own boundary for known-vulnerability sources: what a source is asked, what it
answers, and how it fails.

A :class:`VulnerabilitySource` answers ``known_vulnerabilities(name, version)`` with
:class:`KnownVulnerability` values (defined with the report in :mod:`verify.models`, which
carries them), or raises :class:`VulnerabilitySourceError` (its subclass
:class:`SourceUnreachableError` when it cannot be reached at all). The engine and the commands
speak only this interface; pip-audit's services are adapted to it in
:mod:`verify._vulnerabilities.pip_audit_boundary`, the one module that imports pip-audit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from verify.models import KnownVulnerability

__all__ = [
    "AuditOutcome",
    "KnownVulnerability",
    "SourceUnreachableError",
    "VulnerabilitySource",
    "VulnerabilitySourceError",
]


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    """What a source said about one package version."""

    vulnerabilities: tuple[KnownVulnerability, ...]
    #: Why the source could not answer (the package is then unchecked, not clean).
    error: str | None = None

    @property
    def checked(self) -> bool:
        """The source answered."""
        return self.error is None


class VulnerabilitySourceError(Exception):
    """A source could not answer (a bad answer, an unusable record); the message says why."""


class SourceUnreachableError(VulnerabilitySourceError):
    """A source could not be reached at all (down, offline)."""


class VulnerabilitySource(ABC):
    """Somewhere known vulnerabilities of a package version can be looked up."""

    @abstractmethod
    def known_vulnerabilities(self, name: str, version: str) -> list[KnownVulnerability]:
        """What affects ``name`` at ``version``, one value per record (aliases not merged).

        Raises :class:`VulnerabilitySourceError` when the source cannot answer, and
        :class:`~verify.errors.UsageError` when no package can be checked against it.
        """

    def warm_up(self) -> None:  # noqa: B027  (a hook: most sources need no warming)
        """Start reaching the source in the background while the caller does other work (pip
        resolving); the lookups later wait for it. Does nothing unless a source needs it."""

    def prepare(self) -> None:  # noqa: B027  (a hook: most sources need no preparation)
        """Get ready for a batch of lookups, before any thread starts; may raise
        :class:`~verify.errors.UsageError`. Does nothing unless a source needs it."""
