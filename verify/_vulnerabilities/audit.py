"""Auditing package versions against a :class:`VulnerabilitySource`: every package gets an
:class:`AuditOutcome`, its vulnerabilities (aliases merged) or why it could not be checked."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import requests

from verify._vulnerabilities.fields import short
from verify._vulnerabilities.interface import (
    AuditOutcome,
    VulnerabilitySource,
    VulnerabilitySourceError,
)
from verify._vulnerabilities.merge import merge_aliases
from verify.errors import UsageError, VerifyError

__all__ = ["audit", "audit_many"]

logger = logging.getLogger(__name__)


def audit(source: VulnerabilitySource, name: str, version: str) -> AuditOutcome:
    """Ask ``source`` about ``name`` at ``version``; never raises for a source failure.

    Records that are aliases of each other (a PYSEC and a GHSA advisory for one CVE) are
    merged into one :class:`KnownVulnerability`. An unreachable or misbehaving source yields an
    outcome with ``error`` set; only a :class:`~verify.errors.UsageError` (an unusable offline
    database, a bad URL) propagates, since no package can be checked against that source.
    """
    try:
        found = source.known_vulnerabilities(name, version)
    except UsageError:
        raise
    except VulnerabilitySourceError as exc:
        return AuditOutcome(
            (), str(exc) or f"the vulnerability service failed ({type(exc).__name__})"
        )
    except VerifyError as exc:
        return AuditOutcome((), exc.one_line())
    except requests.RequestException as exc:
        return AuditOutcome((), f"could not reach the vulnerability service: {short(exc)}")
    except Exception as exc:
        logger.debug("auditing %s %s failed", name, version, exc_info=True)
        return AuditOutcome(
            (), f"checking {name} {version} failed: {type(exc).__name__}: {short(exc)}"
        )
    return AuditOutcome(merge_aliases(found))


def audit_many(
    source: VulnerabilitySource,
    packages: Sequence[tuple[str, str]],
    *,
    jobs: int = 8,
) -> dict[tuple[str, str], AuditOutcome]:
    """:func:`audit` each ``(name, version)`` pair (duplicates once), ``jobs`` at a time.

    Every pair gets an outcome; a source failure is an outcome's ``error``. Only a
    :class:`~verify.errors.UsageError` propagates (the remaining queries are cancelled).
    """
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    unique = list(dict.fromkeys(packages))
    if unique:
        source.prepare()  # an offline database: one index, a hostile one refused before threads
    workers = min(jobs, len(unique))
    if workers <= 1:
        return {key: audit(source, key[0], key[1]) for key in unique}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pip-verify-audit")
    try:
        futures: list[tuple[tuple[str, str], Future[AuditOutcome]]] = [
            (key, pool.submit(audit, source, key[0], key[1])) for key in unique
        ]
        return {key: future.result() for key, future in futures}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
