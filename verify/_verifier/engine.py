"""The verification pipeline: from pinned candidates to a :class:`~verify.models.Report`.

:class:`Verifier` reads each project's page on the configured indexes, decides which files the
installer would use, fetches them (in parallel, through the content-addressed store), compares
their bytes with every digest that the input and the index gave, and applies the policy. It
never prints and never exits: failures that stop a package from being verified become errors in
the report, and the report says whether verification completed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urldefrag

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._behaviour.cache import DiffCache
from verify._behaviour.diff import compare_sdist_and_wheel
from verify._behaviour.review import (
    ReviewItem,
    ReviewOutcome,
    behaviour_reasons,
    finding_reasons,
    review,
)
from verify._checks.typosquat import PopularNames, popular_name_set, typosquat_suspicion
from verify._fetch.fetch import DEFAULT_JOBS, Fetcher, FetchRequest, FetchResult, ProgressSink
from verify._fetch.store import ContentStore
from verify._index.client import IndexClient
from verify._index.session import HttpSession
from verify._index.urls import file_url_path, redact
from verify._provenance.checker import FileProvenance, ProvenanceChecker
from verify._provenance.identity import ExpectedIdentity
from verify._resolve.pip_report import TargetEnvironment
from verify._resolve.select import file_version, select_installable, supported_tags
from verify._rules.ids import RuleId
from verify._vulnerabilities import (
    AuditOutcome,
    KnownVulnerability,
    VulnerabilitySource,
    audit_many,
)
from verify.errors import ArchiveError, IncompleteError
from verify.models import (
    BehaviourSummary,
    Candidate,
    Decision,
    ExpectedDigest,
    FileResult,
    Finding,
    HashStatus,
    IndexFile,
    PackageResult,
    ProjectPage,
    Provenance,
    ProvenanceStatus,
    Reason,
    Report,
    ReportError,
    Severity,
)
from verify.policy import Policy
from verify.policy.model import IgnoredVulnerability
from verify.trust_store import TrustStore

__all__ = ["CheckOptions", "Verifier"]

logger = logging.getLogger(__name__)

_STRONG = frozenset({"sha256", "sha384", "sha512"})


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


@dataclass(slots=True)
class _PlannedFile:
    filename: str
    url: str | None
    path: Path | None
    entry: IndexFile | None
    expected: tuple[ExpectedDigest, ...]
    size: int | None

    def request(self) -> FetchRequest:
        return FetchRequest(
            self.filename, url=self.url, path=self.path, expected=self.expected, size=self.size
        )


@dataclass(slots=True)
class _Plan:
    candidate: Candidate
    policy: Policy
    files: list[_PlannedFile] = field(default_factory=list)
    #: The project's pages on the configured indexes.
    listing: tuple[ProjectPage, ...] = ()
    reasons: list[Reason] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ReportError] = field(default_factory=list)

    def add(self, rule: RuleId, message: str, *, unchecked: bool = False) -> None:
        """Record that ``rule`` fired (or could not be evaluated) for this package."""
        config = self.policy.rule(rule.value, package=self.candidate.name)
        decision = config.on_error if unchecked else config.decision
        if decision is Decision.ALLOW and not unchecked:
            return  # a rule the policy turned off; what could not be checked is still said
        self.reasons.append(Reason(rule.value, decision, message, unchecked=unchecked))


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
        self._tags = supported_tags(self.options.target)

    def check(self, candidates: Sequence[Candidate]) -> Report:
        """Verify every candidate and decide; never raises for per-package failures."""
        # The vulnerability audit needs only names and versions and spends its time waiting
        # on the network: it runs while pages are read and files fetched, diffed and their
        # provenance checked.
        with ThreadPoolExecutor(max_workers=1) as background:
            pending_audits = background.submit(self._audit, candidates)
            pages, page_errors = self._read_pages(candidates)
            plans = [self._plan(c, pages, page_errors) for c in candidates]
            self._check_names(plans)
            requests = [planned.request() for plan in plans for planned in plan.files]
            fetched_all = self.fetcher.fetch_all(requests)
            reviews = self._review(plans, fetched_all, pages)
            provenance_list = self._check_provenance(plans, fetched_all)
            audits = pending_audits.result()
        provenances = iter(provenance_list)
        results = iter(fetched_all)
        packages = []
        errors: list[ReportError] = []
        for plan in plans:
            fetched = [next(results) for _ in plan.files]
            package = self._conclude(plan, fetched, [next(provenances) for _ in plan.files])
            package = self._judge_vulnerabilities(plan, package, audits)
            package = self._judge_behaviour(plan, package, reviews.get(id(plan), []))
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

    # -- provenance --------------------------------------------------------------------

    def _check_provenance(
        self, plans: Sequence[_Plan], fetched: Sequence[FetchResult]
    ) -> list[FileProvenance]:
        jobs = [(plan, planned) for plan in plans for planned in plan.files]
        checker = self.provenance
        if checker is None:
            return [_NOT_RUN] * len(jobs)

        def check(job: tuple[tuple[_Plan, _PlannedFile], FetchResult]) -> FileProvenance:
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

    def _judge_vulnerabilities(
        self, plan: _Plan, package: PackageResult, audits: Mapping[tuple[str, str], AuditOutcome]
    ) -> PackageResult:
        candidate = plan.candidate
        outcome = audits.get((candidate.name, str(candidate.version)))
        if outcome is None:
            return package
        before = len(plan.reasons)
        if outcome.error is not None:
            plan.add(
                RuleId.VULNERABILITY,
                f"known vulnerabilities not checked: {outcome.error}",
                unchecked=True,
            )
        config = self.policy.rule(RuleId.VULNERABILITY.value, package=candidate.name)
        threshold = _SEVERITY_RANK.get(str(config.params.get("min-severity", "low")), 0)
        configured = config.params.get("ignore", ())
        ignores = (
            [e for e in configured if isinstance(e, IgnoredVulnerability)]
            if isinstance(configured, tuple)
            else []
        )
        today = self.now.date()
        records: list[KnownVulnerability] = []
        for vuln in outcome.vulnerabilities:
            ids = {vuln.id, *vuln.aliases}
            ignored = next((e for e in ignores if e.id in ids), None)
            note = None
            if vuln.malicious:
                plan.add(
                    RuleId.KNOWN_MALICIOUS, f"{vuln.id}: {vuln.summary or 'reported as malicious'}"
                )
            elif ignored is not None and ignored.active(today):
                note = f"ignored: {ignored.reason}"
            elif _SEVERITY_RANK.get(vuln.severity or "", 4) >= threshold:
                expired = (
                    f" (its ignore entry expired on {ignored.expires})"
                    if ignored is not None
                    else ""
                )
                fixed = f"; fixed in {', '.join(vuln.fix_versions)}" if vuln.fix_versions else ""
                plan.add(
                    RuleId.VULNERABILITY,
                    f"{vuln.id} ({vuln.severity or 'severity unknown'}): "
                    f"{vuln.summary or 'no summary'}{fixed}{expired}",
                )
            records.append(dataclasses.replace(vuln, ignored=note))
        reasons = tuple(_dedupe([*package.reasons, *plan.reasons[before:]]))
        decision = Decision.worst([package.decision, *(r.decision for r in reasons)])
        return dataclasses.replace(
            package, vulnerabilities=tuple(records), reasons=reasons, decision=decision
        )

    # -- behaviour ---------------------------------------------------------------------

    def _review(
        self,
        plans: Sequence[_Plan],
        fetched: Sequence[FetchResult],
        pages: Mapping[NormalizedName, tuple[ProjectPage, ...]],
    ) -> dict[int, list[ReviewOutcome]]:
        if not self.options.behaviour:
            return {}
        items: list[tuple[_Plan, ReviewItem]] = []
        results = iter(fetched)
        for plan in plans:
            for planned, result in zip(
                plan.files, [next(results) for _ in plan.files], strict=True
            ):
                status, _problem = _hash_outcome(planned, result)
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

    def _judge_behaviour(
        self, plan: _Plan, package: PackageResult, outcomes: Sequence[ReviewOutcome]
    ) -> PackageResult:
        if not outcomes:
            return package
        name = plan.candidate.name
        reasons: list[Reason] = []
        findings: list[Finding] = []
        summaries: list[BehaviourSummary] = []
        config = self.policy.rule(RuleId.BEHAVIOUR.value, package=name)
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
            reasons.extend(behaviour_reasons(diff, self.policy, name))
        mismatches = _sdist_wheel_mismatches(outcomes)
        findings.extend(mismatches)
        reasons.extend(finding_reasons(mismatches, outcomes[0].item.filename, self.policy, name))
        merged = tuple(_dedupe([*package.reasons, *reasons]))
        decision = Decision.worst([package.decision, *(r.decision for r in merged)])
        return dataclasses.replace(
            package,
            findings=(*package.findings, *findings),
            reasons=merged,
            decision=decision,
            behaviour=tuple(summaries),
        )

    def _check_names(self, plans: Sequence[_Plan]) -> None:
        """Typosquatting: names that resemble a popular name or another name in the tree."""
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

    def _check_trusted(self, plan: _Plan, filename: str, provenance: FileProvenance) -> None:
        """Trust on first use: compare with the recorded publisher, or record this one."""
        store = self.trust_store
        if store is None:
            return
        candidate = plan.candidate
        entry = store.get(candidate.name)
        status, identity = provenance.status, provenance.identity
        if entry is None:
            if status is ProvenanceStatus.VERIFIED and identity is not None and self.record:
                version = str(candidate.version) if candidate.version is not None else None
                store.record_first_seen(candidate.name, identity, version)
                self.recorded.append(candidate.name)
                plan.findings.append(
                    Finding(
                        RuleId.PUBLISHER_FIRST_SEEN.value,
                        Severity.INFO,
                        f"first sight of {candidate.name}'s publisher: recorded in {store.path}",
                    )
                )
            return
        trusted = f"{entry.identity} ({entry.how} since {entry.since} in {store.path})"
        if status is ProvenanceStatus.VERIFIED and identity is not None:
            if entry.identity.matches(identity):
                return
            new = ExpectedIdentity(
                identity.kind.value,
                identity.repository or "?",
                identity.workflow,
                identity.environment,
            )
            plan.add(
                RuleId.PUBLISHER_CHANGE,
                f"{filename} was published by {new}; the trust store trusts {trusted}. "
                f"If the change is expected: pip-verify trust accept {candidate.name} ...",
            )
        elif status is ProvenanceStatus.ABSENT:
            plan.add(
                RuleId.PROVENANCE_REGRESSION,
                f"{filename} has no provenance, but {candidate.name} was published with "
                f"provenance by {trusted}",
            )
        elif status is ProvenanceStatus.UNCHECKED:
            plan.add(
                RuleId.PUBLISHER_CHANGE,
                f"{filename}: could not compare with the trusted publisher {trusted}: "
                f"{provenance.reason}",
                unchecked=True,
            )

    def _check_history(self, plan: _Plan, filename: str) -> None:
        """Provenance regression judged from the index: the releases just before this one
        were published with provenance, this file has none."""
        version = file_version(filename) or plan.candidate.version
        if version is None:
            return
        for page in plan.listing:
            files = page.files
            by_version: dict[Version, list[str]] = {}
            for name in files.filenames():
                earlier = file_version(name)
                if earlier is not None and earlier < version and not earlier.is_prerelease:
                    by_version.setdefault(earlier, []).append(name)
            for earlier in sorted(by_version, reverse=True)[:_HISTORY_RELEASES]:
                attested = [
                    entry.filename
                    for entry in (files.named(n) for n in by_version[earlier])
                    if entry is not None and entry.provenance_url and not entry.yanked
                ]
                if attested:
                    plan.add(
                        RuleId.PROVENANCE_REGRESSION,
                        f"{filename} has no provenance, but {attested[0]} ({earlier}) on "
                        f"{redact(page.index_url)} was published with provenance",
                    )
                    return

    def _check_indexes(self, plan: _Plan, listing: tuple[ProjectPage, ...]) -> None:
        """Dependency confusion: a name bound to one index, or served by several."""
        name = plan.candidate.name
        serving = [page.index_url for page in listing if len(page.files)]
        bound = {b.url for b in self.policy.indexes if b.binds(name)}
        if bound:
            others = [url for url in serving if url not in bound]
            if others:
                plan.add(
                    RuleId.INDEX_PINNING,
                    f"{name} may only come from {', '.join(sorted(map(redact, bound)))}, but "
                    f"{', '.join(map(redact, others))} also serves it",
                )
        elif len(serving) > 1:
            plan.add(
                RuleId.INDEX_SHADOWING, f"{name} is served by {', '.join(map(redact, serving))}"
            )

    def _check_age(self, plan: _Plan, filename: str, entry: IndexFile) -> None:
        config = self.policy.rule(RuleId.RELEASE_AGE.value, package=plan.candidate.name)
        min_age = config.params["min-age"]
        if not isinstance(min_age, int) or min_age <= 0:
            return
        if entry.upload_time is None:
            plan.add(
                RuleId.RELEASE_AGE,
                f"{filename}: {redact(entry.index_url)} gives no upload time, so its age "
                "is unknown",
                unchecked=True,
            )
            return
        age = self.now - entry.upload_time
        if age < timedelta(seconds=min_age):
            plan.add(
                RuleId.RELEASE_AGE,
                f"{filename} was uploaded {_span(age.total_seconds())} ago "
                f"({entry.upload_time:%Y-%m-%d %H:%M} UTC); the policy wants "
                f"{_span(min_age)}",
            )

    def _pins(self, candidate: Candidate) -> tuple[ExpectedIdentity, ...]:
        """The identities decided beforehand: the input's own, then ``--expect``."""
        origin = str(candidate.source) if candidate.source else candidate.origin
        from_input = tuple(
            ExpectedIdentity.from_table(table, origin=origin)
            for table in candidate.attestation_identities
        )
        return from_input + tuple(self.expectations.get(candidate.name, ()))

    def _check_pins(
        self,
        plan: _Plan,
        filename: str,
        provenance: FileProvenance,
        pins: Sequence[ExpectedIdentity],
    ) -> None:
        wanted = " or ".join(f"{pin} ({pin.origin})" for pin in pins)
        status = provenance.status
        if status is ProvenanceStatus.VERIFIED and provenance.identity is not None:
            if any(pin.matches(provenance.identity) for pin in pins):
                return
            identity = provenance.identity
            got = ExpectedIdentity(
                identity.kind.value,
                identity.repository or "?",
                identity.workflow,
                identity.environment,
            )
            plan.add(
                RuleId.PUBLISHER_MISMATCH, f"{filename} was published by {got}; expected {wanted}"
            )
        elif status is ProvenanceStatus.ABSENT:
            plan.add(RuleId.PUBLISHER_MISMATCH, f"{filename} has no provenance; expected {wanted}")
        elif status is ProvenanceStatus.UNCHECKED:
            plan.add(
                RuleId.PUBLISHER_MISMATCH,
                f"{filename}: the pinned publisher could not be checked: {provenance.reason}",
                unchecked=True,
            )

    # -- index pages -------------------------------------------------------------------

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

    # -- planning ----------------------------------------------------------------------

    def _plan(
        self,
        candidate: Candidate,
        pages: dict[NormalizedName, tuple[ProjectPage, ...]],
        page_errors: dict[NormalizedName, str],
    ) -> _Plan:
        plan = _Plan(candidate, self.policy)
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
        for page in listing:
            if page.project_status in _FLAGGED_STATUSES:
                why = f": {page.project_status_reason}" if page.project_status_reason else ""
                plan.add(
                    RuleId.PROJECT_STATUS,
                    f"{candidate.name} is {page.project_status} on {redact(page.index_url)}{why}",
                )
        self._check_indexes(plan, listing)
        if self.options.offline:
            plan.add(RuleId.INDEX_METADATA, "not consulted: --offline", unchecked=True)
        if candidate.files:
            self._plan_named_files(plan, listing)
        else:
            self._plan_from_hashes(plan, listing)
        return plan

    def _choose(self, filenames: Sequence[str], candidate: Candidate) -> list[str]:
        if candidate.preselected or self.options.all_files:
            return list(filenames)
        chosen = select_installable(filenames, self._tags)
        # No file fits this environment: check them all rather than none.
        return chosen or list(filenames)

    def _plan_named_files(self, plan: _Plan, listing: tuple[ProjectPage, ...]) -> None:
        candidate = plan.candidate
        by_name = {file.filename: file for file in candidate.files}
        source = (
            "resolver"
            if candidate.origin == "resolver"
            else (candidate.origin if candidate.origin in _LOCAL_ORIGINS else "lock")
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
            elif not self.options.offline and candidate.origin not in _LOCAL_ORIGINS:
                plan.add(
                    RuleId.INDEX_UNLISTED,
                    f"{filename} is not listed by any configured index"
                    + (f" (fetched from {redact(locked.url)})" if locked.url else ""),
                )
            url = locked.url
            if url is None and locked.path is None and entry is not None:
                url = entry.url
            plan.files.append(
                _PlannedFile(
                    filename=filename,
                    url=url,
                    path=locked.path,
                    entry=entry,
                    expected=tuple(expected),
                    size=locked.size or (entry.size if entry else None),
                )
            )

    def _plan_from_hashes(self, plan: _Plan, listing: tuple[ProjectPage, ...]) -> None:
        candidate = plan.candidate
        allowed = candidate.allowed_sha256
        if self.options.offline:
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
                    _PlannedFile(
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
                where = ", ".join(redact(url) for url in self.client.index_urls) or "no index"
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
                _PlannedFile(
                    filename,
                    url=entry.url,
                    path=None,
                    entry=entry,
                    expected=expected,
                    size=entry.size,
                )
            )

    # -- conclusions -------------------------------------------------------------------

    def _local_files_need_provenance(self, candidate: Candidate) -> bool:
        config = self.policy.rule(RuleId.PROVENANCE_REQUIRED.value, package=candidate.name)
        return config.params.get("local-files") is True

    def _conclude(
        self,
        plan: _Plan,
        fetched: Sequence[FetchResult],
        provenances: Sequence[FileProvenance],
    ) -> PackageResult:
        candidate = plan.candidate
        files = []
        pins = self._pins(candidate)
        for planned, result, provenance in zip(plan.files, fetched, provenances, strict=True):
            if pins:
                self._check_pins(plan, planned.filename, provenance, pins)
            elif self.trust_store is not None:
                self._check_trusted(plan, planned.filename, provenance)
            if provenance.status is ProvenanceStatus.ABSENT and not any(
                r.rule == RuleId.PROVENANCE_REGRESSION.value for r in plan.reasons
            ):
                self._check_history(plan, planned.filename)
            if provenance.status is ProvenanceStatus.ABSENT and (
                candidate.origin != "local" or self._local_files_need_provenance(candidate)
            ):
                plan.add(
                    RuleId.PROVENANCE_REQUIRED,
                    f"{planned.filename} has no provenance ({provenance.reason})",
                )
            elif (
                provenance.status is ProvenanceStatus.UNCHECKED
                and self.provenance is not None
                and result.path is not None
            ):
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
            status, problem = _hash_outcome(planned, result)
            entry = planned.entry
            if status is HashStatus.MISMATCH:
                plan.add(RuleId.HASH_MISMATCH, problem or "")
            elif status is HashStatus.UNVERIFIABLE and candidate.origin not in _LOCAL_ORIGINS:
                plan.add(
                    RuleId.HASH_MISSING,
                    f"{planned.filename}: no sha256 was given to compare with "
                    f"(its bytes have sha256 {result.sha256})",
                )
            elif status is HashStatus.UNCHECKED:
                if result.error_kind == "offline":
                    plan.add(RuleId.HASH_MISMATCH, problem or "", unchecked=True)
                else:
                    plan.errors.append(ReportError(result.error_kind or "network", problem or ""))
                    plan.add(RuleId.VERIFICATION_INCOMPLETE, problem or "", unchecked=True)
            if result.repaired:
                plan.findings.append(
                    Finding(
                        RuleId.CACHE_REPAIRED.value,
                        Severity.INFO,
                        f"the cached copy of {planned.filename} was corrupt; it was removed"
                        + (" and fetched again" if result.path else ""),
                    )
                )
            if entry is not None:
                self._check_age(plan, planned.filename, entry)
                known = self._policy_indexes
                if known and entry.index_url not in known:
                    plan.add(
                        RuleId.INDEX_UNKNOWN,
                        f"{planned.filename} comes from {redact(entry.index_url)}, which the "
                        "policy's [[indexes]] does not list",
                    )
            if entry is not None and entry.yanked:
                why = f": {entry.yanked_reason}" if entry.yanked_reason else ""
                plan.add(
                    RuleId.YANKED,
                    f"{planned.filename} is yanked from {redact(entry.index_url)}{why}",
                )
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
        if (
            files
            and candidate.origin not in _LOCAL_ORIGINS
            and not any(f.filename.endswith(".whl") for f in files)
        ):
            plan.add(
                RuleId.BUILD_FROM_SOURCE,
                f"no wheel fits: installing {', '.join(f.filename for f in files)} runs its "
                "build backend, which executes the package's code",
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
            reasons=tuple(_dedupe(plan.reasons)),
            source=candidate.source,
            requested=candidate.requested,
        )


#: Candidates for files given as they are, not from an index: a local file (``check``), or
#: an upload before it is published (``screen``, the upload gate). An upload is held to
#: ``provenance-required``; a local file a developer checks is not.
_LOCAL_ORIGINS = frozenset({"local", "upload"})

#: How many releases before a candidate the provenance history looks at.
_HISTORY_RELEASES = 3

_NOT_RUN = FileProvenance(ProvenanceStatus.UNCHECKED, reason="provenance was not checked")
#: From the best outcome to the worst, for summing up a package's files.
_PROVENANCE_ORDER = (
    ProvenanceStatus.VERIFIED,
    ProvenanceStatus.ABSENT,
    ProvenanceStatus.UNCHECKED,
    ProvenanceStatus.INVALID,
)


def _sdist_wheel_mismatches(outcomes: Sequence[ReviewOutcome]) -> list[Finding]:
    """When a release's sdist and wheels were both verified (``--all-files``, a lock that
    lists both), the wheels' modules must come from the sdist."""
    readable = [o.item for o in outcomes if o.diff is not None]
    sdists = [item for item in readable if not item.filename.endswith(".whl")]
    wheels = [item for item in readable if item.filename.endswith(".whl")]
    if not sdists or not wheels:
        return []
    findings: list[Finding] = []
    for wheel in wheels:
        try:
            findings.extend(compare_sdist_and_wheel(sdists[0].path, wheel.path))
        except ArchiveError:
            continue  # both archives were read by the diff already; cannot happen twice
    return findings


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


_SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}


_FLAGGED_STATUSES = frozenset({"quarantined", "archived", "deprecated"})


def _span(seconds: float) -> str:
    """``5 hours``, ``3 days``: a duration the way a person says it."""
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{int(seconds)} seconds"


def _dedupe(reasons: Iterable[Reason]) -> list[Reason]:
    return list(dict.fromkeys(reasons))


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


def _hash_outcome(planned: _PlannedFile, result: FetchResult) -> tuple[HashStatus, str | None]:
    if result.error is not None or result.sha256 is None:
        return HashStatus.UNCHECKED, result.error or f"{planned.filename} could not be read"
    wrong = [e for e in planned.expected if result.digests.get(e.algorithm) != e.digest]
    if wrong:
        sources: dict[tuple[str, str], list[str]] = {}
        for e in wrong:
            sources.setdefault((e.algorithm, e.digest), []).append(e.source)
        claims = "; ".join(
            f"the {' and the '.join(who)} {'say' if len(who) > 1 else 'says'} {alg}:{digest}"
            for (alg, digest), who in sources.items()
        )
        actual = ", ".join(
            f"{alg}:{result.digests[alg]}" for alg in sorted({e.algorithm for e in wrong})
        )
        return HashStatus.MISMATCH, (
            f"{planned.filename} does not match: its bytes have {actual}, but {claims}"
        )
    if not any(e.algorithm in _STRONG for e in planned.expected):
        return HashStatus.UNVERIFIABLE, None
    return HashStatus.VERIFIED, None
