"""Hashes: the bytes fetched against every digest the inputs and the index gave."""

from __future__ import annotations

from verify._fetch.fetch import FetchResult
from verify._rules.ids import RuleId
from verify._verifier.plan import LOCAL_ORIGINS, Plan, PlannedFile
from verify.models import Finding, HashStatus, ReportError, Severity

__all__ = ["hash_outcome", "judge_hashes"]

_STRONG = frozenset({"sha256", "sha384", "sha512"})


def hash_outcome(planned: PlannedFile, result: FetchResult) -> tuple[HashStatus, str | None]:
    """How the bytes compare with what was expected, and what went wrong if anything."""
    if result.error is not None or result.sha256 is None:
        return HashStatus.UNCHECKED, result.error or f"{planned.filename} could not be read"
    wrong = [e for e in planned.expected if result.digests.get(e.algorithm) != e.digest]
    if wrong:
        sources: dict[tuple[str, str], list[str]] = {}
        for e in wrong:
            sources.setdefault((e.algorithm, e.digest), []).append(e.source)
        claims = "; ".join(
            f"the {' and the '.join(who)} {'say' if len(who) > 1 else 'says'} {alg}:{digest}"
            for (alg, digest), who in sources.items()
        )
        actual = ", ".join(
            f"{alg}:{result.digests[alg]}" for alg in sorted({e.algorithm for e in wrong})
        )
        return HashStatus.MISMATCH, (
            f"{planned.filename} does not match: its bytes have {actual}, but {claims}"
        )
    if not any(e.algorithm in _STRONG for e in planned.expected):
        return HashStatus.UNVERIFIABLE, None
    return HashStatus.VERIFIED, None


def judge_hashes(
    plan: Plan, planned: PlannedFile, result: FetchResult
) -> tuple[HashStatus, str | None]:
    """The hash rules for one fetched file; returns :func:`hash_outcome` for the report."""
    status, problem = hash_outcome(planned, result)
    if status is HashStatus.MISMATCH:
        plan.add(RuleId.HASH_MISMATCH, problem or "")
    elif status is HashStatus.UNVERIFIABLE and plan.candidate.origin not in LOCAL_ORIGINS:
        plan.add(
            RuleId.HASH_MISSING,
            f"{planned.filename}: no sha256 was given to compare with "
            f"(its bytes have sha256 {result.sha256})",
        )
    elif status is HashStatus.UNCHECKED:
        if result.error_kind == "offline":
            plan.add(RuleId.HASH_MISMATCH, problem or "", unchecked=True)
        else:
            plan.errors.append(ReportError(result.error_kind or "network", problem or ""))
            plan.add(RuleId.VERIFICATION_INCOMPLETE, problem or "", unchecked=True)
    if result.repaired:
        plan.findings.append(
            Finding(
                RuleId.CACHE_REPAIRED.value,
                Severity.INFO,
                f"the cached copy of {planned.filename} was corrupt; it was removed"
                + (" and fetched again" if result.path else ""),
            )
        )
    return status, problem
