"""Provenance: whether each file has PEP 740 provenance, and whether it verifies."""

from __future__ import annotations

from verify._fetch.fetch import FetchResult
from verify._provenance.checker import FileProvenance
from verify._rules.ids import RuleId
from verify._verifier.plan import Plan, PlannedFile
from verify.models import ProvenanceStatus

__all__ = ["judge_provenance"]


def judge_provenance(
    plan: Plan,
    planned: PlannedFile,
    result: FetchResult,
    provenance: FileProvenance,
    *,
    checked: bool,
) -> None:
    """``provenance-required`` and ``provenance-invalid`` for one file; ``checked`` says
    provenance checking ran at all."""
    candidate = plan.candidate
    if provenance.status is ProvenanceStatus.ABSENT and (
        candidate.origin != "local" or _local_files_need_provenance(plan)
    ):
        plan.add(
            RuleId.PROVENANCE_REQUIRED,
            f"{planned.filename} has no provenance ({provenance.reason})",
        )
    elif provenance.status is ProvenanceStatus.UNCHECKED and checked and result.path is not None:
        plan.add(
            RuleId.PROVENANCE_REQUIRED,
            f"{planned.filename}: provenance not checked: {provenance.reason}",
            unchecked=True,
        )
    if provenance.status is ProvenanceStatus.INVALID:
        plan.add(
            RuleId.PROVENANCE_INVALID,
            f"{planned.filename}: {provenance.reason}"
            + (f" ({provenance.source})" if provenance.source else ""),
        )


def _local_files_need_provenance(plan: Plan) -> bool:
    config = plan.policy.rule(RuleId.PROVENANCE_REQUIRED.value, package=plan.candidate.name)
    return config.params.get("local-files") is True
