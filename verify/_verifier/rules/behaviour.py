"""Behaviour: what each release adds against its baseline, judged by the policy."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from verify._behaviour.review import ReviewOutcome, behaviour_reasons, finding_reasons
from verify._rules.ids import RuleId
from verify._verifier.plan import Plan, dedupe
from verify.errors import ArchiveError
from verify.models import BehaviourSummary, Decision, Finding, PackageResult, Reason

__all__ = ["judge_behaviour"]


def judge_behaviour(
    plan: Plan, package: PackageResult, outcomes: Sequence[ReviewOutcome]
) -> PackageResult:
    """``behaviour`` and its findings for every diffed file of the package."""
    if not outcomes:
        return package
    name = plan.candidate.name
    policy = plan.policy
    reasons: list[Reason] = []
    findings: list[Finding] = []
    summaries: list[BehaviourSummary] = []
    config = policy.rule(RuleId.BEHAVIOUR.value, package=name)
    for outcome in outcomes:
        diff = outcome.diff
        if outcome.baseline_error is not None:
            reasons.append(
                Reason(
                    RuleId.BEHAVIOUR.value,
                    config.on_error,
                    f"{outcome.item.filename} was analysed alone: {outcome.baseline_error}",
                    unchecked=True,
                )
            )
        if outcome.failed is not None:
            # Nothing is known about the file: the check cannot complete, whatever the
            # policy's on-error says, since the cause may be the file itself.
            reasons.append(
                Reason(
                    RuleId.BEHAVIOUR.value,
                    Decision.DENY,
                    f"{outcome.item.filename}: {outcome.failed}",
                    unchecked=True,
                )
            )
            continue
        if diff is None:
            # The file itself cannot be read as a distribution (not an archive, truncated,
            # corrupt): that is what the file is, not a check that failed, and installers
            # would refuse it too. Nothing about it can be allowed.
            reasons.append(
                Reason(
                    RuleId.BEHAVIOUR.value,
                    Decision.DENY,
                    f"{outcome.item.filename} is not a readable distribution: {outcome.error}",
                )
            )
            continue
        summaries.append(
            BehaviourSummary(
                filename=diff.filename,
                baseline=diff.baseline,
                reason=diff.baseline_reason,
                added=len(diff.files.added),
                removed=len(diff.files.removed),
                changed=len(diff.files.changed),
                unchanged=len(diff.files.unchanged),
                analysed_files=diff.analysed_files,
                analysed_bytes=diff.analysed_bytes,
                context=diff.context,
            )
        )
        findings.extend(diff.findings)
        reasons.extend(behaviour_reasons(diff, policy, name))
    mismatches = _sdist_wheel_mismatches(outcomes)
    findings.extend(mismatches)
    reasons.extend(finding_reasons(mismatches, outcomes[0].item.filename, policy, name))
    merged = tuple(dedupe([*package.reasons, *reasons]))
    decision = Decision.worst([package.decision, *(r.decision for r in merged)])
    return dataclasses.replace(
        package,
        findings=(*package.findings, *findings),
        reasons=merged,
        decision=decision,
        behaviour=tuple(summaries),
    )


def _sdist_wheel_mismatches(outcomes: Sequence[ReviewOutcome]) -> list[Finding]:
    """When a release's sdist and wheels were both verified (``--all-files``, a lock that
    lists both), the wheels' modules must come from the sdist."""
    readable = [o.item for o in outcomes if o.diff is not None]
    sdists = [item for item in readable if not item.filename.endswith(".whl")]
    wheels = [item for item in readable if item.filename.endswith(".whl")]
    if not sdists or not wheels:
        return []
    # The analysers are imported only when there is something to compare (see diff_here).
    from verify._behaviour.diff import compare_sdist_and_wheel

    findings: list[Finding] = []
    for wheel in wheels:
        try:
            findings.extend(compare_sdist_and_wheel(sdists[0].path, wheel.path))
        except ArchiveError:
            continue  # both archives were read by the diff already; cannot happen twice
    return findings
