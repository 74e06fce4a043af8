"""Index: which indexes serve a package and how they list its files (dependency confusion,
project status, yanked files, and sdists that would be built)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from verify._index.urls import redact
from verify._rules.ids import RuleId
from verify._verifier.plan import LOCAL_ORIGINS, Plan
from verify.models import FileResult, IndexFile, ProjectPage

__all__ = [
    "check_build_from_source",
    "check_index_known",
    "check_indexes",
    "check_project_status",
    "check_yanked",
]

_FLAGGED_STATUSES = frozenset({"quarantined", "archived", "deprecated"})


def check_project_status(plan: Plan, listing: Sequence[ProjectPage]) -> None:
    """``project-status``: a project its index marks quarantined, archived or deprecated."""
    for page in listing:
        if page.project_status in _FLAGGED_STATUSES:
            why = f": {page.project_status_reason}" if page.project_status_reason else ""
            plan.add(
                RuleId.PROJECT_STATUS,
                f"{plan.candidate.name} is {page.project_status} on {redact(page.index_url)}{why}",
            )


def check_indexes(plan: Plan, listing: Sequence[ProjectPage]) -> None:
    """Dependency confusion: a name bound to one index, or served by several."""
    name = plan.candidate.name
    serving = [page.index_url for page in listing if len(page.files)]
    bound = {b.url for b in plan.policy.indexes if b.binds(name)}
    if bound:
        others = [url for url in serving if url not in bound]
        if others:
            plan.add(
                RuleId.INDEX_PINNING,
                f"{name} may only come from {', '.join(sorted(map(redact, bound)))}, but "
                f"{', '.join(map(redact, others))} also serves it",
            )
    elif len(serving) > 1:
        plan.add(RuleId.INDEX_SHADOWING, f"{name} is served by {', '.join(map(redact, serving))}")


def check_index_known(plan: Plan, filename: str, entry: IndexFile, known: Collection[str]) -> None:
    """``index-unknown``: a file from an index the policy's ``[[indexes]]`` does not list."""
    if known and entry.index_url not in known:
        plan.add(
            RuleId.INDEX_UNKNOWN,
            f"{filename} comes from {redact(entry.index_url)}, which the "
            "policy's [[indexes]] does not list",
        )


def check_yanked(plan: Plan, filename: str, entry: IndexFile) -> None:
    """``yanked`` (PEP 592)."""
    if entry.yanked:
        why = f": {entry.yanked_reason}" if entry.yanked_reason else ""
        plan.add(RuleId.YANKED, f"{filename} is yanked from {redact(entry.index_url)}{why}")


def check_build_from_source(plan: Plan, files: Sequence[FileResult]) -> None:
    """``build-from-source``: only sdists fit, so installing runs the package's build."""
    if (
        files
        and plan.candidate.origin not in LOCAL_ORIGINS
        and not any(f.filename.endswith(".whl") for f in files)
    ):
        plan.add(
            RuleId.BUILD_FROM_SOURCE,
            f"no wheel fits: installing {', '.join(f.filename for f in files)} runs its "
            "build backend, which executes the package's code",
        )
