"""Planning: for each candidate, which files to verify and every digest each must match.

A lock names files (with digests, sometimes URLs); a hash-pinned requirement names only
digests; pip's resolution names files and URLs. The planner finds each file on the index
pages, picks those the installer would use (or all of them), and gathers the digests of
every source that gave one. ``not-found``, ``name-unknown``, ``index-unlisted`` and a lock no
served file matches are decided here, before anything is fetched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urldefrag

from packaging.tags import Tag
from packaging.utils import NormalizedName

from verify._fetch.store import ContentStore
from verify._index.urls import redact
from verify._resolve.select import file_version, select_installable
from verify._rules.ids import RuleId
from verify._verifier.plan import LOCAL_ORIGINS, Plan, PlannedFile
from verify._verifier.rules.index import check_indexes, check_project_status
from verify._verifier.rules.project import check_name_unknown
from verify.models import Candidate, ExpectedDigest, IndexFile, ProjectPage, ReportError
from verify.policy import Policy

__all__ = ["Planner"]


@dataclass(frozen=True, slots=True)
class Planner:
    """Plans candidates against the pages read from ``index_urls``."""

    policy: Policy
    store: ContentStore
    index_urls: tuple[str, ...]
    tags: Sequence[Tag]
    offline: bool = False
    all_files: bool = False

    def plan(
        self,
        candidate: Candidate,
        pages: Mapping[NormalizedName, tuple[ProjectPage, ...]],
        page_errors: Mapping[NormalizedName, str],
    ) -> Plan:
        """The files to verify for ``candidate``, with the reasons planning found."""
        plan = Plan(candidate, self.policy)
        if candidate.unverifiable:
            plan.add(
                RuleId.UNVERIFIABLE_SOURCE,
                f"{candidate.unverifiable}: no published bytes to verify",
            )
            return plan
        if candidate.name in page_errors:
            message = page_errors[candidate.name]
            plan.errors.append(ReportError("network", message))
            plan.add(
                RuleId.VERIFICATION_INCOMPLETE,
                f"could not read {candidate.name}'s index page: {message}",
                unchecked=True,
            )
            return plan
        listing = pages.get(candidate.name, ())
        plan.listing = listing
        unknown = not listing and not self.offline and bool(self.index_urls)
        if candidate.unresolved is not None:
            self._plan_unresolved(plan, unknown=unknown)
            return plan
        # Files a lock names by a direct URL or a path are not expected on any index.
        direct = candidate.index_url is None and any(f.url or f.path for f in candidate.files)
        if unknown and candidate.origin not in LOCAL_ORIGINS and not direct:
            check_name_unknown(plan, self.index_urls)
        check_project_status(plan, listing)
        check_indexes(plan, listing)
        if self.offline:
            plan.add(RuleId.INDEX_METADATA, "not consulted: --offline", unchecked=True)
        if candidate.files:
            self._plan_named_files(plan, listing)
        else:
            self._plan_from_hashes(plan, listing)
        return plan

    def _plan_unresolved(self, plan: Plan, *, unknown: bool) -> None:
        """A requirement pip found no release of: a name no index serves is
        ``name-unknown``; anything else is pip's failure, which stops the check."""
        message = plan.candidate.unresolved or "pip found no release"
        if unknown:
            check_name_unknown(plan, self.index_urls)
            return
        plan.errors.append(ReportError("resolver", message))
        plan.add(RuleId.VERIFICATION_INCOMPLETE, message, unchecked=True)

    def _choose(self, filenames: Sequence[str], candidate: Candidate) -> list[str]:
        if candidate.preselected or self.all_files:
            return list(filenames)
        chosen = select_installable(filenames, self.tags)
        # No file fits this environment: check them all rather than none.
        return chosen or list(filenames)

    def _plan_named_files(self, plan: Plan, listing: tuple[ProjectPage, ...]) -> None:
        candidate = plan.candidate
        by_name = {file.filename: file for file in candidate.files}
        source = (
            "resolver"
            if candidate.origin == "resolver"
            else (candidate.origin if candidate.origin in LOCAL_ORIGINS else "lock")
        )
        for filename in self._choose(list(by_name), candidate):
            locked = by_name[filename]
            entry = _find_entry(listing, locked.url, filename, candidate.index_url)
            expected = [
                ExpectedDigest(source, digest, algorithm)
                for algorithm, digest in sorted(locked.hashes.items())
            ]
            if entry is not None:
                expected += [
                    ExpectedDigest("index", digest, algorithm)
                    for algorithm, digest in sorted(entry.hashes.items())
                ]
            elif not self.offline and candidate.origin not in LOCAL_ORIGINS:
                plan.add(
                    RuleId.INDEX_UNLISTED,
                    f"{filename} is not listed by any configured index"
                    + (f" (fetched from {redact(locked.url)})" if locked.url else ""),
                )
            url = locked.url
            if url is None and locked.path is None and entry is not None:
                url = entry.url
            plan.files.append(
                PlannedFile(
                    filename=filename,
                    url=url,
                    path=locked.path,
                    entry=entry,
                    expected=tuple(expected),
                    size=locked.size or (entry.size if entry else None),
                )
            )

    def _plan_from_hashes(self, plan: Plan, listing: tuple[ProjectPage, ...]) -> None:
        candidate = plan.candidate
        allowed = candidate.allowed_sha256
        if self.offline:
            stored = {name: sha for sha in sorted(allowed) for name in self.store.names(sha)}
            if not stored:
                plan.add(
                    RuleId.HASH_MISMATCH,
                    f"no file of {candidate.name} {candidate.version} with an allowed digest "
                    "is in the cache, and --offline forbids downloading",
                    unchecked=True,
                )
                return
            for filename in self._choose(list(stored), candidate):
                plan.files.append(
                    PlannedFile(
                        filename,
                        url=None,
                        path=None,
                        entry=None,
                        expected=(ExpectedDigest("lock", stored[filename]),),
                        size=None,
                    )
                )
            return
        version = candidate.version

        def of_version(entry: IndexFile) -> bool:
            return version is None or file_version(entry.filename) == version

        # Match digests first: parsing every filename of a large project costs more than the
        # rest of a warm check.
        matching = {
            e.filename: e
            for page in listing
            for e in page.files.with_sha256(allowed)
            if of_version(e)
        }
        if not matching:
            files_of_version = [e for page in listing for e in page.files if of_version(e)]
            if not files_of_version:
                where = ", ".join(redact(url) for url in self.index_urls) or "no index"
                plan.add(RuleId.NOT_FOUND, f"{candidate.name} {version} is not on {where}")
                return
            served = ", ".join(
                f"{e.filename} sha256:{e.hashes.get('sha256', '?')}" for e in files_of_version[:3]
            )
            plan.add(
                RuleId.HASH_MISMATCH,
                f"no file of {candidate.name} {version} on the index has a "
                f"digest the lock allows (allowed: {', '.join(sorted(allowed))}; "
                f"served: {served})",
            )
            return
        for filename in self._choose(list(matching), candidate):
            entry = matching[filename]
            sha = entry.hashes["sha256"]
            expected = (
                ExpectedDigest("lock", sha),
                *(
                    ExpectedDigest("index", digest, algorithm)
                    for algorithm, digest in sorted(entry.hashes.items())
                ),
            )
            plan.files.append(
                PlannedFile(
                    filename,
                    url=entry.url,
                    path=None,
                    entry=entry,
                    expected=expected,
                    size=entry.size,
                )
            )


def _find_entry(
    listing: tuple[ProjectPage, ...], url: str | None, filename: str, index_url: str | None
) -> IndexFile | None:
    if url is not None:
        bare = urldefrag(url)[0]
        for page in listing:
            entry = page.file_named(filename)
            if entry is not None and entry.url == bare:
                return entry
    ordered = sorted(listing, key=lambda page: page.index_url != index_url)
    named = (page.file_named(filename) for page in ordered)
    return next((entry for entry in named if entry is not None), None)
