"""Vulnerabilities: what the audit found for a release, judged by the policy's threshold and
ignore list."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date

from verify._rules.ids import RuleId
from verify._verifier.plan import Plan, dedupe
from verify._vulnerabilities import AuditOutcome
from verify._vulnerabilities.cvss import SEVERITY_RANK
from verify.models import Decision, KnownVulnerability, PackageResult
from verify.policy.model import IgnoredVulnerability

__all__ = ["judge_vulnerabilities"]


def judge_vulnerabilities(
    plan: Plan,
    package: PackageResult,
    audits: Mapping[tuple[str, str], AuditOutcome],
    today: date,
) -> PackageResult:
    """``vulnerability`` and ``known-malicious``; the package with its vulnerabilities."""
    candidate = plan.candidate
    outcome = audits.get((candidate.name, str(candidate.version)))
    if outcome is None:
        return package
    before = len(plan.reasons)
    if outcome.error is not None:
        plan.add(
            RuleId.VULNERABILITY,
            f"known vulnerabilities not checked: {outcome.error}",
            unchecked=True,
        )
    config = plan.policy.rule(RuleId.VULNERABILITY.value, package=candidate.name)
    threshold = SEVERITY_RANK.get(str(config.params.get("min-severity", "low")), 0)
    configured = config.params.get("ignore", ())
    ignores = (
        [e for e in configured if isinstance(e, IgnoredVulnerability)]
        if isinstance(configured, tuple)
        else []
    )
    records: list[KnownVulnerability] = []
    for vuln in outcome.vulnerabilities:
        ids = {vuln.id, *vuln.aliases}
        ignored = next((e for e in ignores if e.id in ids), None)
        note = None
        if vuln.malicious:
            plan.add(
                RuleId.KNOWN_MALICIOUS, f"{vuln.id}: {vuln.summary or 'reported as malicious'}"
            )
        elif ignored is not None and ignored.active(today):
            note = f"ignored: {ignored.reason}"
        elif SEVERITY_RANK.get(vuln.severity or "", 4) >= threshold:
            expired = (
                f" (its ignore entry expired on {ignored.expires})" if ignored is not None else ""
            )
            fixed = f"; fixed in {', '.join(vuln.fix_versions)}" if vuln.fix_versions else ""
            plan.add(
                RuleId.VULNERABILITY,
                f"{vuln.id} ({vuln.severity or 'severity unknown'}): "
                f"{vuln.summary or 'no summary'}{fixed}{expired}",
            )
        records.append(dataclasses.replace(vuln, ignored=note))
    reasons = tuple(dedupe([*package.reasons, *plan.reasons[before:]]))
    decision = Decision.worst([package.decision, *(r.decision for r in reasons)])
    return dataclasses.replace(
        package, vulnerabilities=tuple(records), reasons=reasons, decision=decision
    )
