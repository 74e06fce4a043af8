"""Known vulnerabilities: where they are looked up, and the audit of resolved packages.

The engine and the commands speak :class:`VulnerabilitySource` (:mod:`.interface`) and
:func:`audit_many` (:mod:`.audit`). The sources are an OSV-compatible API (:mod:`.osv`) and a
hardened offline OSV database (:mod:`.offline`); OSV records are read in :mod:`.records`, their
affected ranges evaluated in :mod:`.ranges`, their severity scored in :mod:`.cvss`, and records
that are aliases of each other merged in :mod:`.merge`. pip-audit is imported only in
:mod:`.pip_audit_boundary`.
"""

from __future__ import annotations

from verify._vulnerabilities.audit import audit, audit_many
from verify._vulnerabilities.interface import (
    AuditOutcome,
    KnownVulnerability,
    SourceUnreachableError,
    VulnerabilitySource,
    VulnerabilitySourceError,
)
from verify._vulnerabilities.offline import OsvOfflineService
from verify._vulnerabilities.osv import OsvApiService
from verify._vulnerabilities.pip_audit_boundary import PipAuditSource

__all__ = [
    "AuditOutcome",
    "KnownVulnerability",
    "OsvApiService",
    "OsvOfflineService",
    "PipAuditSource",
    "SourceUnreachableError",
    "VulnerabilitySource",
    "VulnerabilitySourceError",
    "audit",
    "audit_many",
]
