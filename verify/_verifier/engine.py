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

import contextlib
import functools
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._behaviour.cache import DiffCache
from verify._behaviour.profile_cache import ProfileCache
from verify._behaviour.review import (
    Analyse,
    PreparedReview,
    ReviewItem,
    ReviewOutcome,
    diff_here,
    finish_review,
    prepare_review,
)
from verify._behaviour.workers import AnalysisPool, usable_cores
from verify._fetch.fetch import Fetcher, FetchResult, ProgressSink
from verify._fetch.store import ContentStore
from verify._index.client import IndexClient
from verify._index.session import HttpSession
from verify._index.urls import file_url_path, redact
from verify._provenance.checker import FileProvenance, ProvenanceChecker
from verify._provenance.identity import ExpectedIdentity
from verify._resolve.select import supported_tags
from verify._rules.ids import RuleId
from verify._verifier.pages import PageReader
from verify._verifier.plan import LOCAL_ORIGINS, Plan, PlannedFile, dedupe
from verify._verifier.planning import Planner
from verify._verifier.rules.age import check_age
from verify._verifier.rules.behaviour import judge_behaviour
from verify._verifier.rules.hashes import hash_outcome, judge_hashes
from verify._verifier.rules.index import (
    check_build_from_source,
    check_index_known,
    check_yanked,
)
from verify._verifier.rules.names import check_names, name_suspicions
from verify._verifier.rules.project import check_project
from verify._verifier.rules.provenance import judge_provenance
from verify._verifier.rules.publisher import check_history, check_pins, check_trusted, pins
from verify._verifier.rules.vulnerabilities import judge_vulnerabilities
from verify._vulnerabilities import AuditOutcome, VulnerabilitySource, audit_many
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
        """Verify every candidate and decide; never raises for per-package failures.

        The work streams: each candidate moves on as soon as its own inputs are ready (its
        project's pages, then its files, then their provenance and behaviour diff), so one
        slow page or large release holds up only its own package, and downloads overlap the
        analysis, which runs in worker processes when there is more than one core and more
        than one package. The evidence is then judged candidate by candidate, in order, so
        the report is the same as if every stage had run to completion in turn.
        """
        with contextlib.ExitStack() as stack:
            # The vulnerability audit needs only names and versions and spends its time
            # waiting on the network.
            background = stack.enter_context(ThreadPoolExecutor(max_workers=1))
            pending_audits = background.submit(self._audit, candidates)
            pages = PageReader(
                self.client,
                candidates,
                stack,
                jobs=self.options.jobs,
                offline=self.options.offline,
            )
            analyse = self._analysis(candidates, stack)
            # The typosquat check needs only the names: done here while the pages load.
            names = name_suspicions([c.name for c in candidates])
            if len(candidates) == 1:
                # Nothing to overlap: one thread fewer, and one allocator arena fewer, for
                # the single upload a gate screens under a memory cap.
                collected = self._collect(candidates[0], pages, names, None)
                gathered = [self._finish(collected, analyse)]
            else:
                side = stack.enter_context(ThreadPoolExecutor(max_workers=self.options.jobs))
                # Two pools, so that no network thread waits on the analysis: one reads,
                # plans and fetches (the candidate, then its baseline), the other waits for
                # each candidate's diff. A thread that fetched and then waited for the
                # analysis held back every later candidate's downloads behind it.
                network = stack.enter_context(ThreadPoolExecutor(max_workers=self.options.jobs))
                waiting = stack.enter_context(ThreadPoolExecutor(max_workers=self.options.jobs))
                pending = [
                    waiting.submit(
                        self._finish_when_collected,
                        network.submit(self._collect, candidate, pages, names, side),
                        analyse,
                    )
                    for candidate in candidates
                ]
                gathered = [future.result() for future in pending]
            audits = pending_audits.result()
        packages = []
        errors: list[ReportError] = []
        today = self.now.date()
        for evidence in gathered:
            plan = evidence.plan
            package = self._conclude(plan, evidence.fetched, evidence.provenance)
            package = judge_vulnerabilities(plan, package, audits, today)
            package = judge_behaviour(plan, package, evidence.reviews)
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

    def _collect(
        self,
        candidate: Candidate,
        pages: PageReader,
        names: Mapping[NormalizedName, str],
        side: ThreadPoolExecutor | None,
    ) -> _Collected:
        """What one candidate needs from the network: its pages, its plan, its files, its
        baselines; provenance is started beside it on ``side`` (left for later without)."""
        found, page_error = pages.read(candidate.name)
        plan = self.planner.plan(
            candidate,
            {candidate.name: found},
            {candidate.name: page_error} if page_error is not None else {},
        )
        check_names(plan, names)
        fetched = self.fetcher.fetch_all([planned.request() for planned in plan.files])
        provenance = (
            None
            if side is None
            else [
                side.submit(self._check_provenance, plan, *job)
                for job in zip(plan.files, fetched, strict=True)
            ]
        )
        return _Collected(plan, fetched, self._prepare_review(plan, fetched, found), provenance)

    def _finish(self, collected: _Collected, analyse: Analyse) -> _Evidence:
        """One candidate's evidence: the behaviour diff, and its provenance (after the diff
        when it was not started beside it)."""
        plan, fetched = collected.plan, collected.fetched
        reviews = (
            []
            if collected.review is None
            else finish_review(
                collected.review,
                jobs=self.options.jobs,
                cache=self._diff_cache(),
                analyse=analyse,
            )
        )
        if collected.provenance is None:
            jobs = zip(plan.files, fetched, strict=True)
            provenance = [self._check_provenance(plan, *job) for job in jobs]
        else:
            provenance = [future.result() for future in collected.provenance]
        return _Evidence(plan, fetched, provenance, reviews)

    def _finish_when_collected(self, collected: Future[_Collected], analyse: Analyse) -> _Evidence:
        return self._finish(collected.result(), analyse)

    def _analysis(self, candidates: Sequence[Candidate], stack: contextlib.ExitStack) -> Analyse:
        """How the behaviour diff runs: in worker processes when two or more can run side by
        side, else in this process; either way reusing the profiles of files analysed before."""
        profiles = ProfileCache(self.store.root.parent / "behaviour" / "files")
        workers = min(usable_cores(), len(candidates))
        if not self.options.behaviour or workers < 2:
            return functools.partial(diff_here, profiles=profiles)
        return stack.enter_context(AnalysisPool(workers, profiles)).diff

    def _check_provenance(
        self, plan: Plan, planned: PlannedFile, result: FetchResult
    ) -> FileProvenance:
        checker = self.provenance
        if checker is None:
            return _NOT_RUN
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

    def _audit(self, candidates: Sequence[Candidate]) -> dict[tuple[str, str], AuditOutcome]:
        if self.vulnerabilities is None:
            return {}
        wanted = [
            (candidate.name, str(candidate.version))
            for candidate in candidates
            if candidate.version is not None and not candidate.unverifiable
        ]
        return audit_many(self.vulnerabilities, wanted, jobs=self.options.jobs)

    def _diff_cache(self) -> DiffCache:
        return DiffCache(self.store.root.parent / "behaviour")

    def _prepare_review(
        self,
        plan: Plan,
        fetched: Sequence[FetchResult],
        pages: tuple[ProjectPage, ...],
    ) -> PreparedReview | None:
        """The candidate's files to diff, with their baselines fetched (``None`` when the
        behaviour diff is off)."""
        if not self.options.behaviour:
            return None
        items: list[ReviewItem] = []
        candidate = plan.candidate
        for planned, result in zip(plan.files, fetched, strict=True):
            status, _problem = hash_outcome(planned, result)
            if result.path is None or status is HashStatus.MISMATCH:
                continue  # nothing trustworthy to analyse; the hash rules already spoke
            entry = planned.entry
            items.append(
                ReviewItem(
                    name=candidate.name,
                    filename=planned.filename,
                    path=result.path,
                    sha256=result.sha256 or "",
                    pages=pages,
                    index_url=entry.index_url if entry else candidate.index_url,
                    upload_time=entry.upload_time if entry else None,
                    baseline_version=self.options.baselines.get(candidate.name),
                    no_pages="--offline" if self.options.offline else None,
                )
            )
        return prepare_review(items, fetcher=self.fetcher, cache=self._diff_cache())

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
        if candidate.origin not in LOCAL_ORIGINS:
            check_project(
                plan,
                [planned.entry for planned in plan.files if planned.entry is not None],
                [result.path for result in fetched if result.path is not None],
                self.now,
            )
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


@dataclass(frozen=True, slots=True)
class _Collected:
    """What the network gave for one candidate, waiting for the analysis."""

    plan: Plan
    fetched: list[FetchResult]
    review: PreparedReview | None
    #: Provenance checks running beside (``None``: not started yet).
    provenance: list[Future[FileProvenance]] | None


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What was gathered about one candidate, for the rule families to judge."""

    plan: Plan
    fetched: list[FetchResult]
    provenance: list[FileProvenance]
    reviews: list[ReviewOutcome]
