"""Names: typosquatting, a name that resembles a popular one or another in the same tree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packaging.utils import NormalizedName

from verify._checks.typosquat import PopularNames, popular_name_set, typosquat_suspicion
from verify._rules.ids import RuleId
from verify._verifier.plan import Plan

__all__ = ["check_names", "name_suspicions"]


def name_suspicions(names: Sequence[NormalizedName]) -> dict[NormalizedName, str]:
    """Why each of ``names`` that is not popular itself looks like a typosquat, if it does:
    of a popular name, or of another name in the same tree."""
    popular = popular_name_set()
    suspects = [name for name in dict.fromkeys(names) if name not in popular]
    if not suspects:
        return {}  # the common case: no need to build the similarity index
    index = PopularNames.load()
    found: dict[NormalizedName, str] = {}
    for name in suspects:
        suspicion = typosquat_suspicion(name, popular=index, tree=[n for n in names if n != name])
        if suspicion is not None:
            found[name] = suspicion.message
    return found


def check_names(plan: Plan, suspicions: Mapping[NormalizedName, str]) -> None:
    """``typosquat`` for the plan's candidate, from :func:`name_suspicions` of the tree."""
    message = suspicions.get(plan.candidate.name)
    if message is not None:
        plan.add(RuleId.TYPOSQUAT, message)
