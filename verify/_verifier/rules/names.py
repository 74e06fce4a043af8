"""Names: typosquatting, a name that resembles a popular one or another in the same tree."""

from __future__ import annotations

from collections.abc import Sequence

from verify._checks.typosquat import PopularNames, popular_name_set, typosquat_suspicion
from verify._rules.ids import RuleId
from verify._verifier.plan import Plan

__all__ = ["check_names"]


def check_names(plans: Sequence[Plan]) -> None:
    """``typosquat`` for every candidate whose name is not popular itself."""
    names = [plan.candidate.name for plan in plans]
    popular = popular_name_set()
    suspects = [plan for plan in plans if plan.candidate.name not in popular]
    if not suspects:
        return  # the common case: no need to build the similarity index
    index = PopularNames.load()
    for plan in suspects:
        name = plan.candidate.name
        found = typosquat_suspicion(name, popular=index, tree=[n for n in names if n != name])
        if found is not None:
            plan.add(RuleId.TYPOSQUAT, found.message)
