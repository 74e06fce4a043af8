"""The verification pipeline: from pinned candidates to a :class:`~verify.models.Report`.

:class:`Verifier` reads each project's page on the configured indexes, plans which files the
installer would use (:mod:`.planning`), fetches them (in parallel, through the
content-addressed store), checks their provenance, audits the releases and diffs their
behaviour, and has the rule families (:mod:`.rules`) turn that evidence into reasons the
policy decides. It only schedules: every rule lives in a family module. It never prints and
never exits: failures that stop a package from being verified become errors in the report,
and the report says whether verification completed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._behaviour.cache import DiffCache
from verify._behaviour.review import ReviewItem, ReviewOutcome, review
from verify._fetch.fetch import Fetcher, FetchResult, ProgressSink
from verify._fetch.store import ContentStore
from verify._index.client import IndexClient
from verify._index.session import HttpSession
from verify._index.urls import file_url_path, redact
from verify._provenance.checker import FileProvenance, ProvenanceChecker
from verify._provenance.identity import ExpectedIdentity
from verify._resolve.select import supported_tags
from verify._rules.ids import RuleId
from verify._verifier.plan import Plan, PlannedFile, dedupe
from verify._verifier.planning import Planner
from verify._verifier.rules.age import check_age
from verify._verifier.rules.behaviour import judge_behaviour
from verify._verifier.rules.hashes import hash_outcome, judge_hashes
from verify._verifier.rules.index import (
    check_build_from_source,
    check_index_known,
    check_yanked,
)
from verify._verifier.rules.names import check_names
from verify._verifier.rules.provenance import judge_provenance
from verify._verifier.rules.publisher import check_history, check_pins, check_trusted, pins
from verify._verifier.rules.vulnerabilities import judge_vulnerabilities
from verify._vulnerabilities import AuditOutcome, VulnerabilitySource, audit_many
from verify.errors import IncompleteError
from verify.models import (
    Candidate,
    Decision,
    FileResult,
    HashStatus,
    PackageResult,
    ProjectPage,
    Provenance,
    ProvenanceStatus,
    Report,
    ReportError,
)
from verify.policy import Policy
from verify.settings import DEFAULT_JOBS, TargetEnvironment
from verify.trust_store import TrustStore

__all__ = ["CheckOptions", "Verifier"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """How a check runs."""

    offline: bool = False
    #: Verify every file an input allows, not only the one the installer would pick.
    all_files: bool = False
    target: TargetEnvironment = field(default_factory=TargetEnvironment)
    jobs: int = DEFAULT_JOBS
    #: Diff each file against its baseline (the release before it) for new behaviour.
    behaviour: bool = True
    #: Baseline versions named by the caller (``--baseline``, the version a lock replaces).
    baselines: Mapping[NormalizedName, Version] = field(default_factory=dict)


class Verifier:
    """Verifies candidates against the indexes, the store and a policy."""

    def __init__(
        self,
        *,
        session: HttpSession,
        store: ContentStore,
        index_urls: Sequence[str],
        policy: Policy,
        options: CheckOptions | None = None,
        progress: ProgressSink | None = None,
        provenance: ProvenanceChecker | None = None,
        expectations: Mapping[NormalizedName, Sequence[ExpectedIdentity]] | None = None,
        trust_store: TrustStore | None = None,
        record: bool = True,
        vulnerabilities: VulnerabilitySource | None = None,
    ) -> None:
        self.vulnerabilities = vulnerabilities
        #: Compared with, and first-seen publishers recorded into in memory; the command
        #: that owns it saves it (see :attr:`recorded`).
        self.trust_store = trust_store
        self.record = record
        #: Packages whose publisher this check recorded as first seen.
        self.recorded: list[NormalizedName] = []
        self.expectations = dict(expectations or {})
        #: "Now" for release ages; one instant for the whole check.
        self.now = datetime.now(timezone.utc)
        self.options = options or CheckOptions()
        self.provenance = provenance
        self.policy = policy
        self._policy_indexes = frozenset(binding.url for binding in policy.indexes)
        self.store = store
        self.client = IndexClient(session, index_urls)
        self.fetcher = Fetcher(session, store, jobs=self.options.jobs, progress=progress)
        self.planner = Planner(
            policy=policy,
            store=store,
            index_urls=self.client.index_urls,
            tags=supported_tags(self.options.target),
            offline=self.options.offline,
            all_files=self.options.all_files,
        )

    def check(self, candidates: Sequence[Candidate]) -> Report:
        """Verify every candidate and decide; never raises for per-package failures."""
        # The vulnerability audit needs only names and versions and spends its time waiting
        # on the network: it runs while pages are read and files fetched, diffed and their
        # provenance checked.
        with ThreadPoolExecutor(max_workers=1) as background:
            pending_audits = background.submit(self._audit, candidates)
            pages, page_errors = self._read_pages(candidates)
            plans = [self.planner.plan(c, pages, page_errors) for c in candidates]
            check_names(plans)
            requests = [planned.request() for plan in plans for planned in plan.files]
            fetched_all = self.fetcher.fetch_all(requests)
            reviews = self._review(plans, fetched_all, pages)
            provenance_list = self._check_provenance(plans, fetched_all)
            audits = pending_audits.result()
        provenances = iter(provenance_list)
        results = iter(fetched_all)
        packages = []
        errors: list[ReportError] = []
        today = self.now.date()
        for plan in plans:
            fetched = [next(results) for _ in plan.files]
            package = self._conclude(plan, fetched, [next(provenances) for _ in plan.files])
            package = judge_vulnerabilities(plan, package, audits, today)
            package = judge_behaviour(plan, package, reviews.get(id(plan), []))
            packages.append(package)
            errors.extend(plan.errors)
        unique_errors = tuple(dict.fromkeys(errors))
        decision = Decision.worst(p.decision for p in packages)
        if unique_errors:
            decision = Decision.DENY
        checks: tuple[str, ...] = (
            ("hashes",) if self.options.offline else ("hashes", "index-metadata")
        )
        if self.provenance is not None:
            checks += ("provenance",)
        if self.vulnerabilities is not None:
            checks += ("vulnerabilities",)
        if self.options.behaviour:
            checks += ("behaviour",)
        return Report(
            decision=decision,
            packages=tuple(packages),
            errors=unique_errors,
            checks=checks,
            indexes=tuple(redact(url) for url in self.client.index_urls),
            warnings=tuple(w for w in (self.provenance and self.provenance.warning(),) if w),
        )

    # -- evidence ----------------------------------------------------------------------

    def _read_pages(
        self, candidates: Sequence[Candidate]
    ) -> tuple[dict[NormalizedName, tuple[ProjectPage, ...]], dict[NormalizedName, str]]:
        if self.options.offline:
            return {}, {}
        wanted: dict[NormalizedName, tuple[str, ...]] = {}
        for candidate in candidates:
            if candidate.unverifiable:
                continue
            extra = (candidate.index_url,) if candidate.index_url else ()
            urls = tuple(dict.fromkeys(self.client.index_urls + extra))
            wanted[candidate.name] = tuple(dict.fromkeys(wanted.get(candidate.name, ()) + urls))
        jobs = [(name, url) for name, urls in wanted.items() for url in urls]
        pages: dict[NormalizedName, list[ProjectPage]] = {name: [] for name in wanted}
        errors: dict[NormalizedName, str] = {}

        def read(job: tuple[NormalizedName, str]) -> tuple[ProjectPage | None, str | None]:
            try:
                return self.client.page(job[1], job[0]), None
            except IncompleteError as exc:
                return None, exc.one_line()

        if jobs:
            with ThreadPoolExecutor(max_workers=min(self.options.jobs, len(jobs))) as pool:
                for (name, _url), (page, error) in zip(jobs, pool.map(read, jobs), strict=True):
                    if error is not None:
                        errors.setdefault(name, error)
                    elif page is not None:
                        pages[name].append(page)
        return {name: tuple(found) for name, found in pages.items()}, errors

    def _check_provenance(
        self, plans: Sequence[Plan], fetched: Sequence[FetchResult]
    ) -> list[FileProvenance]:
        jobs = [(plan, planned) for plan in plans for planned in plan.files]
        checker = self.provenance
        if checker is None:
            return [_NOT_RUN] * len(jobs)

        def check(job: tuple[tuple[Plan, PlannedFile], FetchResult]) -> FileProvenance:
            (plan, planned), result = job
            if result.sha256 is None or result.path is None:
                return FileProvenance(
                    ProvenanceStatus.UNCHECKED, reason="the file's bytes could not be verified"
                )
            candidate = plan.candidate
            local = planned.path
            if local is None and planned.url is not None and planned.url.startswith("file:"):
                local = file_url_path(planned.url)
            return checker.check(
                name=candidate.name,
                version=str(candidate.version) if candidate.version is not None else None,
                filename=planned.filename,
                sha256=result.sha256,
                entry=planned.entry,
                local_path=local,
            )

        pairs = list(zip(jobs, fetched, strict=True))
        if not pairs:
            return []
        with ThreadPoolExecutor(max_workers=min(self.options.jobs, len(pairs))) as pool:
            return list(pool.map(check, pairs))

    def _audit(self, candidates: Sequence[Candidate]) -> dict[tuple[str, str], AuditOutcome]:
        if self.vulnerabilities is None:
            return {}
        wanted = [
            (candidate.name, str(candidate.version))
            for candidate in candidates
            if candidate.version is not None and not candidate.unverifiable
        ]
        return audit_many(self.vulnerabilities, wanted, jobs=self.options.jobs)

    def _review(
        self,
        plans: Sequence[Plan],
        fetched: Sequence[FetchResult],
        pages: Mapping[NormalizedName, tuple[ProjectPage, ...]],
    ) -> dict[int, list[ReviewOutcome]]:
        if not self.options.behaviour:
            return {}
        items: list[tuple[Plan, ReviewItem]] = []
        results = iter(fetched)
        for plan in plans:
            for planned, result in zip(
                plan.files, [next(results) for _ in plan.files], strict=True
            ):
                status, _problem = hash_outcome(planned, result)
                if result.path is None or status is HashStatus.MISMATCH:
                    continue  # nothing trustworthy to analyse; the hash rules already spoke
                candidate = plan.candidate
                entry = planned.entry
                items.append(
                    (
                        plan,
                        ReviewItem(
                            name=candidate.name,
                            filename=planned.filename,
                            path=result.path,
                            sha256=result.sha256 or "",
                            pages=pages.get(candidate.name, ()),
                            index_url=entry.index_url if entry else candidate.index_url,
                            upload_time=entry.upload_time if entry else None,
                            baseline_version=self.options.baselines.get(candidate.name),
                            no_pages="--offline" if self.options.offline else None,
                        ),
                    )
                )
        outcomes = review(
            [item for _plan, item in items],
            fetcher=self.fetcher,
            jobs=self.options.jobs,
            cache=DiffCache(self.store.root.parent / "behaviour"),
        )
        by_plan: dict[int, list[ReviewOutcome]] = {}
        for (plan, _item), outcome in zip(items, outcomes, strict=True):
            by_plan.setdefault(id(plan), []).append(outcome)
        return by_plan

    # -- conclusions -------------------------------------------------------------------

    def _conclude(
        self,
        plan: Plan,
        fetched: Sequence[FetchResult],
        provenances: Sequence[FileProvenance],
    ) -> PackageResult:
        """Apply the per-file rule families, in the order reports list their reasons."""
        candidate = plan.candidate
        files = []
        pinned = pins(candidate, self.expectations)
        for planned, result, provenance in zip(plan.files, fetched, provenances, strict=True):
            if pinned:
                check_pins(plan, planned.filename, provenance, pinned)
            elif self.trust_store is not None and check_trusted(
                plan, planned.filename, provenance, self.trust_store, record=self.record
            ):
                self.recorded.append(candidate.name)
            if provenance.status is ProvenanceStatus.ABSENT and not any(
                r.rule == RuleId.PROVENANCE_REGRESSION.value for r in plan.reasons
            ):
                check_history(plan, planned.filename)
            judge_provenance(plan, planned, result, provenance, checked=self.provenance is not None)
            status, problem = judge_hashes(plan, planned, result)
            entry = planned.entry
            if entry is not None:
                check_age(plan, planned.filename, entry, self.now)
                check_index_known(plan, planned.filename, entry, self._policy_indexes)
                check_yanked(plan, planned.filename, entry)
            files.append(
                FileResult(
                    filename=planned.filename,
                    url=redact(planned.url) if planned.url else None,
                    sha256=result.sha256,
                    hash_status=status,
                    expected=planned.expected,
                    size=result.size if result.size is not None else planned.size,
                    upload_time=entry.upload_time if entry else None,
                    index_url=redact(entry.index_url) if entry else None,
                    yanked=entry.yanked if entry else False,
                    yanked_reason=entry.yanked_reason if entry else None,
                    requires_python=entry.requires_python if entry else None,
                    provenance_url=entry.provenance_url if entry else None,
                    cache_path=result.path,
                    error=problem if status is HashStatus.UNCHECKED else None,
                    provenance=_as_model(provenance),
                )
            )
        check_build_from_source(plan, files)
        decision = Decision.worst(reason.decision for reason in plan.reasons)
        if plan.errors:
            decision = Decision.DENY
        index = next((f.index_url for f in files if f.index_url), None)
        return PackageResult(
            name=candidate.name,
            version=candidate.version,
            decision=decision,
            index=index,
            files=tuple(files),
            provenance=_package_provenance(files, checked=self.provenance is not None),
            findings=tuple(plan.findings),
            reasons=tuple(dedupe(plan.reasons)),
            source=candidate.source,
            requested=candidate.requested,
        )


_NOT_RUN = FileProvenance(ProvenanceStatus.UNCHECKED, reason="provenance was not checked")
#: From the best outcome to the worst, for summing up a package's files.
_PROVENANCE_ORDER = (
    ProvenanceStatus.VERIFIED,
    ProvenanceStatus.ABSENT,
    ProvenanceStatus.UNCHECKED,
    ProvenanceStatus.INVALID,
)


def _as_model(provenance: FileProvenance) -> Provenance:
    return Provenance(
        provenance.status,
        publisher=provenance.identity.as_dict() if provenance.identity is not None else None,
        reason=provenance.reason,
    )


def _package_provenance(files: Sequence[FileResult], *, checked: bool) -> Provenance:
    """The package's provenance: its worst file's, so one unattested file is not hidden."""
    outcomes = [f.provenance for f in files if f.provenance is not None]
    if not outcomes:
        reason = "no file to check" if checked else "provenance was not checked"
        return Provenance(ProvenanceStatus.UNCHECKED, reason=reason)
    return max(outcomes, key=lambda p: _PROVENANCE_ORDER.index(p.status))
