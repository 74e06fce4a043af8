"""Age: how long ago a release was uploaded, against the policy's ``min-age``."""

from __future__ import annotations

from datetime import datetime, timedelta

from verify._index.urls import redact
from verify._rules.ids import RuleId
from verify._verifier.plan import Plan
from verify.models import IndexFile

__all__ = ["check_age", "span"]


def check_age(plan: Plan, filename: str, entry: IndexFile, now: datetime) -> None:
    """``release-age`` for one file the index listed."""
    config = plan.policy.rule(RuleId.RELEASE_AGE.value, package=plan.candidate.name)
    min_age = config.params["min-age"]
    if not isinstance(min_age, int) or min_age <= 0:
        return
    if entry.upload_time is None:
        plan.add(
            RuleId.RELEASE_AGE,
            f"{filename}: {redact(entry.index_url)} gives no upload time, so its age is unknown",
            unchecked=True,
        )
        return
    age = now - entry.upload_time
    if age < timedelta(seconds=min_age):
        plan.add(
            RuleId.RELEASE_AGE,
            f"{filename} was uploaded {span(age.total_seconds())} ago "
            f"({entry.upload_time:%Y-%m-%d %H:%M} UTC); the policy wants "
            f"{span(min_age)}",
        )


def span(seconds: float) -> str:
    """``5 hours``, ``3 days``: a duration the way a person says it."""
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{int(seconds)} seconds"
