"""The project as a whole: whether any index serves the name at all (``name-unknown``), how
long ago the project first appeared (``project-age``), and whether it is a young, empty
look-alike (``project-thin``).

These are the names coding assistants invent and attackers then register: they have no
history to diff against, so the evidence is the project's own record on its index (upload
times, the number of releases), its metadata (project URLs) and the shipped popularity list.
No online service is asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from verify._checks.resemblance import closest_popular, popular_compound
from verify._checks.typosquat import PopularNames, popular_name_set, typosquat_suspicion
from verify._dist.core_metadata import project_urls
from verify._index.urls import redact
from verify._resolve.select import file_version
from verify._rules.ids import RuleId
from verify._verifier.plan import Plan
from verify._verifier.rules.age import span
from verify.models import IndexFile, ProjectPage

__all__ = ["ProjectRecord", "check_name_unknown", "check_project", "project_record"]


def check_name_unknown(plan: Plan, index_urls: Sequence[str]) -> None:
    """``name-unknown`` for a candidate no configured index serves, with the popular names
    it most likely stands for."""
    name = plan.candidate.name
    where = ", ".join(redact(url) for url in index_urls)
    suggestions = closest_popular(name, popular=PopularNames.load())
    if suggestions:
        meant = f"; did you mean {' or '.join(suggestions)}?"
    else:
        meant = "; no popular project has a similar name"
    plan.add(RuleId.NAME_UNKNOWN, f"no index serves {name} ({where}){meant}")


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """What a project's index pages say about its history."""

    #: The earliest upload time of any of its files; ``None`` when no file has one.
    first_upload: datetime | None
    #: The releases (versions) its files belong to.
    releases: tuple[str, ...]


def project_record(listing: Sequence[ProjectPage]) -> ProjectRecord:
    """The history of the project whose pages are ``listing`` (every index that serves it)."""
    times = [
        entry.upload_time
        for page in listing
        for entry in page.files
        if entry.upload_time is not None
    ]
    versions = {
        version
        for page in listing
        for filename in page.files.filenames()
        if (version := file_version(filename)) is not None
    }
    return ProjectRecord(
        first_upload=min(times) if times else None,
        releases=tuple(str(v) for v in sorted(versions)),
    )


def check_project(
    plan: Plan, entries: Sequence[IndexFile], paths: Sequence[Path], now: datetime
) -> None:
    """``project-age`` and ``project-thin`` for the plan's candidate, whose files are
    ``entries`` on the index and ``paths`` in the store."""
    name = plan.candidate.name
    if not plan.listing or name in popular_name_set():
        return  # no index record to read, or a project everyone knows
    age_rule = plan.policy.rule(RuleId.PROJECT_AGE.value, package=name)
    thin_rule = plan.policy.rule(RuleId.PROJECT_THIN.value, package=name)
    min_age = _seconds(age_rule.params.get("min-age"))
    young = _seconds(thin_rule.params.get("young"))
    horizon = max(min_age, young)
    if horizon <= 0:
        return
    # A release older than both limits belongs to a project older still: no need to read the
    # upload time of every file a large project ever published.
    times = [e.upload_time for e in entries if e.upload_time is not None]
    if times and now - min(times) >= timedelta(seconds=horizon):
        return
    record = project_record(plan.listing)
    if record.first_upload is None:
        where = ", ".join(sorted({redact(page.index_url) for page in plan.listing}))
        message = f"{where} gives no upload times, so the age of {name} is unknown"
        if min_age > 0:
            # One note for both rules: project-thin needs the same upload times.
            plan.add(RuleId.PROJECT_AGE, message, unchecked=True)
        return
    age = now - record.first_upload
    first = f"{record.first_upload:%Y-%m-%d %H:%M} UTC"
    if min_age > 0 and age < timedelta(seconds=min_age):
        plan.add(
            RuleId.PROJECT_AGE,
            f"{name} first appeared {span(age.total_seconds())} ago ({first}, "
            f"{_releases(record)}); the policy wants projects at least {span(min_age)} old",
        )
    if young > 0 and age < timedelta(seconds=young) and len(record.releases) == 1:
        _check_thin(plan, record, paths, first, age)


def _check_thin(
    plan: Plan, record: ProjectRecord, paths: Sequence[Path], first: str, age: timedelta
) -> None:
    name = plan.candidate.name
    urls = [project_urls(path) for path in paths]
    if not urls or any(found is None or found for found in urls):
        return  # it names its project's home, or its metadata could not be read
    popular = PopularNames.load()
    suspicion = typosquat_suspicion(name, popular=popular)
    if suspicion is not None and suspicion.rank is not None:
        resembles = suspicion.message.removeprefix(f"{name} resembles ")
    else:
        compound = popular_compound(name, popular=popular)
        if compound is None:
            return
        resembles = compound.message
    plan.add(
        RuleId.PROJECT_THIN,
        f"{name} is {span(age.total_seconds())} old ({first}) with a single release "
        f"({record.releases[0]}), names no project URLs, and its name resembles {resembles}",
    )


def _releases(record: ProjectRecord) -> str:
    count = len(record.releases)
    return f"{count} release{'s' if count != 1 else ''}"


def _seconds(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0
