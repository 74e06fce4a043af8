"""The severity scale's order: comparing severities and moving along the scale."""

from __future__ import annotations

from verify.models import Severity

__all__ = ["SEVERITY_ORDER", "raise_severity", "severity_at_least"]

SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.INFO,
    Severity.LOW,
    Severity.MEDIUM,
    Severity.HIGH,
    Severity.CRITICAL,
)


def severity_at_least(severity: Severity, threshold: Severity) -> bool:
    """Whether ``severity`` is ``threshold`` or worse."""
    return SEVERITY_ORDER.index(severity) >= SEVERITY_ORDER.index(threshold)


def raise_severity(
    severity: Severity, steps: int = 1, *, cap: Severity = Severity.CRITICAL
) -> Severity:
    """``severity`` moved ``steps`` up (or down, if negative) the scale, within info..``cap``."""
    index = SEVERITY_ORDER.index(severity) + steps
    index = max(0, min(index, SEVERITY_ORDER.index(cap)))
    return SEVERITY_ORDER[index]
