"""Known vulnerabilities: where they are looked up, and the audit of resolved packages.

The engine and the commands speak :class:`VulnerabilitySource` (:mod:`.interface`) and
:func:`audit_many` (:mod:`.audit`). The sources are an OSV-compatible API (:mod:`.osv`), its
answers remembered for a while (:mod:`.remembered`), and a hardened offline OSV database
(:mod:`.offline`); OSV records are read in :mod:`.records`, their affected ranges evaluated in
:mod:`.ranges`, their severity scored in :mod:`.cvss`, and records that are aliases of each
other merged in :mod:`.merge`. pip-audit is imported only in :mod:`.pip_audit_boundary`, and
only when a source that needs it is first named: importing it runs ``pip --version``, which
should not hold up the start of a check.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from verify._vulnerabilities.audit import audit, audit_many
from verify._vulnerabilities.interface import (
    AuditOutcome,
    KnownVulnerability,
    SourceUnreachableError,
    VulnerabilitySource,
    VulnerabilitySourceError,
)
from verify._vulnerabilities.remembered import AnswerCache, RememberedSource

if TYPE_CHECKING:
    from verify._vulnerabilities.offline import OsvOfflineService
    from verify._vulnerabilities.osv import OsvApiService
    from verify._vulnerabilities.pip_audit_boundary import PipAuditSource

#: The sources built on pip-audit's classes, imported when first named.
_LAZY: dict[str, str] = {
    "OsvApiService": "verify._vulnerabilities.osv",
    "OsvOfflineService": "verify._vulnerabilities.offline",
    "PipAuditSource": "verify._vulnerabilities.pip_audit_boundary",
}

__all__ = [
    "AnswerCache",
    "AuditOutcome",
    "KnownVulnerability",
    "OsvApiService",
    "OsvOfflineService",
    "PipAuditSource",
    "RememberedSource",
    "SourceUnreachableError",
    "VulnerabilitySource",
    "VulnerabilitySourceError",
    "audit",
    "audit_many",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
