"""The verified index: what a project page lists, and which files may be served.

A page request reads the project's page from the upstream and verifies its releases newest
first (each file on its own) until it reaches a final release whose likely picks all passed,
within ``page_budget`` seconds (verification carries on after that). The page then lists:

* every file whose fresh verdict allows it, as the upstream listed it;
* denied files not at all, or (``show_denied``) as yanked with the reason, which pip and uv
  skip unless pinned exactly;
* files not verified yet by the ``unverified`` mode: left out (``hide``) when their release is
  newer than the newest that passed, listed otherwise and verified when a client asks for
  one; listed (``verify-on-request``); or listed as yanked (``show-yanked``).

So a client that asks for the newest release gets the newest one that passed. A file request
serves the content store's bytes of a file whose verdict allows it; a file with no verdict
yet is verified first, within ``file_budget`` seconds. Nothing else is ever served: a denied
file is 403 with the reason, an unverifiable one 403 with why, and one still being verified
503. When the upstream cannot be reached, the last listing read from it stands in, so what was
verified is still listed and served.
"""

from __future__ import annotations

import concurrent.futures
import enum
import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from verify._dist.core_metadata import wheel_core_metadata
from verify._fetch.fetch import Fetcher, FetchRequest
from verify._fetch.store import ContentStore
from verify._index.client import IndexClient
from verify._index.session import HttpSession
from verify._provenance.checker import ProvenanceChecker
from verify._provenance.remembered import RememberedProvenance, trust_identity
from verify._provenance.trust_root import load_trust_root
from verify._proxy import DEFAULT_FILE_BUDGET, DEFAULT_PAGE_BUDGET, DEFAULT_VERDICT_MAX_AGE
from verify._proxy.listings import ListedFile, Listings, listed_files
from verify._proxy.remote import RemoteVerification, Verification
from verify._proxy.verdicts import (
    DirectoryVerdicts,
    FileVerdict,
    RedisVerdicts,
    VerdictStore,
    is_sha256,
    verdict_digest,
)
from verify._proxy.verification import FileJob, Judged, VerificationQueue
from verify._resolve.select import file_version, select_installable, supported_tags
from verify._serve.decisions import DecisionLog, Decisions, RedisDecisions
from verify._verifier import CheckOptions, Verifier
from verify.check import (
    default_cache_dir,
    network_session,
    parse_expectations,
    vulnerability_database,
    vulnerability_service,
)
from verify.errors import IncompleteError
from verify.models import ExpectedDigest, ProjectPage
from verify.policy import Policy, load_policy
from verify.settings import NetworkSettings, VerificationSettings
from verify.trust_store import TrustStore

logger = logging.getLogger(__name__)

__all__ = [
    "FileAnswer",
    "MetadataAnswer",
    "PageEntry",
    "PageView",
    "ProxySettings",
    "UnverifiedMode",
    "VerifiedIndex",
]

#: A project name as a client may ask for it (PEP 508's name characters); anything else is
#: not a project this index can have.
_PROJECT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9])?")
#: Files of one release a page request waits for (see ``_verify_newest``).
EAGER_FILES = 8
#: Projects whose last page is kept in memory.
MEMORY_PAGES = 1024
#: A distribution's filename: no path separators, no leading dot, printable ASCII.
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!-]{0,254}")


class UnverifiedMode(str, enum.Enum):
    """What a page does with files that have no verdict yet."""

    HIDE = "hide"
    VERIFY_ON_REQUEST = "verify-on-request"
    SHOW_YANKED = "show-yanked"


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """How the verified index runs."""

    #: The upstream's simple API root (``https://index.example/simple/``) or a ``file://`` one.
    upstream: str
    verification: VerificationSettings = field(default_factory=VerificationSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    unverified: UnverifiedMode = UnverifiedMode.HIDE
    #: List denied files as yanked, with the reason, instead of leaving them out.
    show_denied: bool = False
    #: Verify on workers through this Celery broker (``redis://host:6379/0``), and keep
    #: verdicts and reviewers' decisions there, shared with every proxy on it.
    broker: str | None = None
    page_budget: float = DEFAULT_PAGE_BUDGET
    file_budget: float = DEFAULT_FILE_BUDGET
    verdict_max_age: float = DEFAULT_VERDICT_MAX_AGE


@dataclass(frozen=True, slots=True)
class PageEntry:
    """One file a page lists."""

    listed: ListedFile
    #: The reason a client sees for a file it should not pick (denied or not verified), as
    #: the yank reason; ``None`` lists the file as the upstream did.
    withheld: str | None = None
    #: The sha256 of the core metadata file the proxy serves beside a verified wheel
    #: (PEP 658); ``None``: none is offered.
    metadata_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class PageView:
    """A project page as the proxy serves it."""

    project: NormalizedName
    entries: tuple[PageEntry, ...]
    #: The upstream could not be reached: this is the last listing read from it.
    from_fallback: bool = False


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """What a file request gets: the verified bytes, or the status and reason."""

    #: 200 (``path`` is set), 403 (denied, or could not be verified), 404 or 503.
    status: int
    reason: str
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class MetadataAnswer:
    """What a metadata file request gets: the bytes, or the status and reason."""

    status: int
    reason: str
    content: bytes | None = None


class VerifiedIndex:
    """The verified index over one upstream; safe to share between request threads."""

    def __init__(
        self,
        settings: ProxySettings,
        *,
        policy: Policy | None = None,
        verify_locally: bool | None = None,
    ) -> None:
        """``verify_locally``: verify in this process; by default only without a broker (with
        one, workers verify: see :mod:`.remote`)."""
        self.settings = settings
        verification, network = settings.verification, settings.network
        self.policy = policy or load_policy(verification.policy_path)
        cache_dir = network.cache_dir or default_cache_dir()
        state = cache_dir / "proxy"
        digest = verdict_digest(settings.upstream, verification, network)
        self.verdicts: VerdictStore = (
            RedisVerdicts(settings.broker, digest)
            if settings.broker
            else DirectoryVerdicts(state / "verdicts", digest)
        )
        self.listings = Listings(state / "listings")
        #: Reviewers' decisions (the review page): an allow by sha256 overrides a denial.
        #: Proxies that share a broker share them too.
        self.decisions: DecisionLog = (
            RedisDecisions(settings.broker)
            if settings.broker
            else Decisions(state / "decisions.jsonl")
        )
        self.store = ContentStore(cache_dir / "files")
        self.max_age = timedelta(seconds=settings.verdict_max_age)
        # A private trust root is read now, so that a bad file stops the proxy at start-up.
        trust = (
            load_trust_root(trust_config=verification.trust_config)
            if verification.trust_config
            else None
        )
        self.trust_store = (
            TrustStore.load(verification.trust_store) if verification.trust_store else None
        )
        self.expectations = parse_expectations(verification.expect)
        # Checked before the session opens: a usage error leaves nothing to close.
        database = vulnerability_database(verification)
        self.session: HttpSession = network_session(network)
        self.provenance = ProvenanceChecker(
            self.session,
            offline=network.offline,
            trust=trust,
            remembered=RememberedProvenance(cache_dir / "provenance", trust_identity(trust)),
        )
        self.vulnerabilities = vulnerability_service(
            verification, self.session, database, cache_dir
        )
        local = verify_locally if verify_locally is not None else not settings.broker
        self.queue: Verification = (
            VerificationQueue(self._verifier, self._keep)
            if local or settings.broker is None
            else RemoteVerification(settings.broker, digest)
        )
        self._tags = supported_tags()
        self._lock = threading.Lock()
        #: The last page read of each project: its digest and its files.
        self._pages: dict[NormalizedName, tuple[str, list[ListedFile]]] = {}

    def close(self) -> None:
        """Stop verifying and close the network session."""
        self.queue.close()
        self.session.close()

    # -- pages -------------------------------------------------------------------------

    def page(self, requested: str) -> PageView | None:
        """The page of project ``requested``, or ``None`` when the upstream has no such
        project. Raises :class:`~verify.errors.IncompleteError` when the upstream cannot be
        reached and no listing of the project was ever read."""
        project = project_name(requested)
        if project is None:
            return None
        try:
            page = IndexClient(self.session, [self.settings.upstream]).page(
                self.settings.upstream, project
            )
        except IncompleteError:
            fallback = self.listings.get(project)
            if fallback is None:
                raise
            return self._view(project, fallback, from_fallback=True)
        if page is None:
            return None
        files = self._listed(project, page)
        passing = self._verify_newest(project, files)
        return self._view(project, files, from_fallback=False, passing=passing)

    def _listed(self, project: NormalizedName, page: ProjectPage) -> list[ListedFile]:
        """The files of ``page``; read again only when the upstream's page changed (a large
        project's page lists tens of thousands of files)."""
        with self._lock:
            known = self._pages.get(project)
        if known is not None and page.digest is not None and known[0] == page.digest:
            return known[1]
        files = listed_files(page)
        self.listings.put(project, files)
        if page.digest is not None:
            with self._lock:
                if len(self._pages) >= MEMORY_PAGES:
                    self._pages.pop(next(iter(self._pages)))
                self._pages[project] = (page.digest, files)
        return files

    def _verify_newest(
        self, project: NormalizedName, files: Sequence[ListedFile]
    ) -> Version | None:
        """Verify releases newest first until a final release whose likely picks passed,
        within the page budget, and return it (``None`` if none was reached in time).

        The likely picks are the files a client most likely installs: the pure wheels and the
        wheel this machine would install (the sdist when there is no wheel), at most
        :data:`EAGER_FILES`. The release's other files (wheels for other platforms, the sdist)
        are verified when a client asks for one, so a project with a hundred binary wheels per
        release does not cost a hundred downloads per page.
        """
        deadline = time.monotonic() + self.settings.page_budget
        for version, release in _releases_newest_first(files):
            current = [f for f in release if not f.yanked]
            if not current:
                continue
            eager = _likely_picks(current, self._tags)
            futures = self.queue.submit(self._jobs(project, version, eager))
            done, _ = concurrent.futures.wait(futures, timeout=max(0, deadline - time.monotonic()))
            if len(done) < len(futures):
                return None  # out of time: the page shows what is verified so far
            passed = all(
                (verdict := self._fresh_for(f)) is not None and self.permits(verdict) for f in eager
            )
            if passed and not version.is_prerelease:
                return version
        return None

    def _jobs(
        self, project: NormalizedName, version: Version, files: Sequence[ListedFile]
    ) -> list[FileJob]:
        """Jobs for the files of ``files`` that have no fresh verdict."""
        return [
            FileJob(project, version, f.filename, f.sha256)
            for f in files
            if self._fresh_for(f) is None
        ]

    def _view(
        self,
        project: NormalizedName,
        files: Sequence[ListedFile],
        *,
        from_fallback: bool,
        passing: Version | None = None,
    ) -> PageView:
        entries = []
        for listed in files:
            # From the fallback listing a verdict of any age counts: it is what was verified,
            # and the upstream cannot be asked whether anything changed.
            verdict = self.verdicts.get(listed.sha256) if from_fallback else None
            verdict = verdict or self._fresh(listed.sha256)
            version = file_version(listed.filename)
            reachable = passing is not None and version is not None and version <= passing
            entry = self._entry(listed, verdict, from_fallback=from_fallback, reachable=reachable)
            if entry is not None:
                entries.append(entry)
        return PageView(project, tuple(entries), from_fallback=from_fallback)

    def _entry(
        self,
        listed: ListedFile,
        verdict: FileVerdict | None,
        *,
        from_fallback: bool,
        reachable: bool,
    ) -> PageEntry | None:
        """How ``listed`` appears on the page. ``reachable``: its release is the newest that
        passed, or older; a client picks it only if this machine's likely picks do not fit
        it (another platform) or it pins or bounds the version."""
        if verdict is not None and verdict.filename == listed.filename:
            if self.permits(verdict):
                return PageEntry(listed, metadata_sha256=verdict.metadata_sha256)
            return PageEntry(listed, withheld=verdict.reason) if self.settings.show_denied else None
        mode = self.settings.unverified
        if from_fallback:
            return None
        if mode is UnverifiedMode.HIDE:
            # Releases newer than the newest that passed stay hidden until they pass. At or
            # below it, a file is listed and verified when a client asks for it: a client on
            # another platform gets that release's wheel for its platform, and a lock that
            # pins an older release gets it, or a refusal with the reason, instead of "no
            # matching distribution".
            return PageEntry(listed) if reachable else None
        if mode is UnverifiedMode.SHOW_YANKED:
            return PageEntry(listed, withheld="pip-verify: not verified yet")
        return PageEntry(listed)

    # -- files -------------------------------------------------------------------------

    def file(self, sha256: str, filename: str) -> FileAnswer:
        """The verified bytes of ``filename`` (digest ``sha256``), or why not."""
        if not is_sha256(sha256) or not _FILENAME.fullmatch(filename):
            return FileAnswer(404, "no such file")
        verdict = self.verdicts.get(sha256)
        if verdict is not None and verdict.filename != filename:
            return FileAnswer(404, "no such file")
        if verdict is not None and self._is_fresh(verdict):
            if not self.permits(verdict):
                return FileAnswer(403, verdict.reason)
            path = self.store.lookup(sha256, filename).path
            if path is not None:
                return FileAnswer(200, verdict.reason, path)
        # No verdict, an old one, or allowed bytes not in this proxy's store: verify now.
        try:
            upstream_file = self._upstream_file(sha256, filename)
        except IncompleteError as exc:
            # The upstream is down: what was verified is still served, nothing else.
            path = self.store.lookup(sha256, filename).path if verdict else None
            if verdict is not None and self.permits(verdict) and path is not None:
                return FileAnswer(200, verdict.reason, path)
            return FileAnswer(503, f"pip-verify cannot reach the upstream: {exc.one_line()}")
        if upstream_file is None:
            return FileAnswer(404, "no such file on the upstream")
        job, url = upstream_file
        if verdict is not None and self._is_fresh(verdict):
            # Verified and allowed elsewhere (a worker, another proxy): fetch those bytes.
            path = self._fetch_verified(job, url)
            if path is None:
                return FileAnswer(503, "pip-verify could not fetch the verified bytes; try again")
            return FileAnswer(200, verdict.reason, path)
        (future,) = self.queue.submit([job])
        try:
            judged = future.result(timeout=self.settings.file_budget)
        except concurrent.futures.TimeoutError:
            return FileAnswer(503, "pip-verify is still verifying this file; try again shortly")
        allowed = judged.allowed or (
            judged.complete and self.decisions.allowed(sha256, _today()) is not None
        )
        if not allowed:
            return FileAnswer(403 if judged.complete else 503, judged.reason)
        path = self.store.lookup(sha256, filename).path or self._fetch_verified(job, url)
        if path is None:
            return FileAnswer(503, "pip-verify could not fetch the verified bytes; try again")
        return FileAnswer(200, judged.reason, path)

    def verify_here(self, job: FileJob) -> Judged:
        """Verify ``job``'s file in this process (a worker's side of :mod:`.remote`), or
        answer from a fresh verdict on it; the verdict is kept where this index keeps them."""
        verdict = self._fresh(job.sha256)
        if verdict is not None and verdict.filename == job.filename:
            return Judged(
                allowed=verdict.allowed,
                complete=True,
                reason=verdict.reason,
                rules=verdict.rules,
                judged_at=verdict.judged_at,
                report_json=self.verdicts.report(job.sha256) or "",
                severity=verdict.severity,
                publisher=verdict.publisher,
            )
        (future,) = self.queue.submit([job])
        return future.result()

    def _upstream_file(self, sha256: str, filename: str) -> tuple[FileJob, str] | None:
        """The job for a file the upstream lists under ``filename`` with ``sha256``, and the
        file's URL, or ``None``; raises :class:`~verify.errors.IncompleteError` if the
        upstream cannot be read."""
        version = file_version(filename)
        project = _project_of(filename)
        if version is None or project is None:
            return None
        page = IndexClient(self.session, [self.settings.upstream]).page(
            self.settings.upstream, project
        )
        for entry in page.files if page is not None else ():
            if entry.filename == filename and entry.hashes.get("sha256") == sha256:
                return FileJob(project, version, filename, sha256), entry.url
        return None

    def _fetch_verified(self, job: FileJob, url: str) -> Path | None:
        """Fetch the bytes a verdict made elsewhere (a worker, another proxy) allowed: only
        bytes with the verified sha256 are kept and served."""
        request = FetchRequest(
            filename=job.filename,
            url=url,
            expected=(ExpectedDigest(source="index", digest=job.sha256),),
        )
        result = Fetcher(self.session, self.store).fetch(request)
        if result.path is None:
            logger.warning("could not fetch the verified %s: %s", job.filename, result.error)
        return result.path

    # -- verdicts ----------------------------------------------------------------------

    def permits(self, verdict: FileVerdict) -> bool:
        """The verdict allows the file, or a reviewer's decision does today."""
        return verdict.allowed or self.decisions.allowed(verdict.sha256, _today()) is not None

    def _fresh(self, sha256: str) -> FileVerdict | None:
        verdict = self.verdicts.get(sha256)
        return verdict if verdict is not None and self._is_fresh(verdict) else None

    def _fresh_for(self, listed: ListedFile) -> FileVerdict | None:
        """A fresh verdict on these bytes under this name (the same bytes listed under another
        name are verified again: a wheel's name is part of what is installed)."""
        verdict = self._fresh(listed.sha256)
        return verdict if verdict is not None and verdict.filename == listed.filename else None

    def _is_fresh(self, verdict: FileVerdict) -> bool:
        return verdict.fresh(datetime.now(timezone.utc), self.max_age)

    def metadata(self, sha256: str, filename: str) -> MetadataAnswer:
        """The core metadata file of the verified wheel ``filename`` (PEP 658), or why not.

        It is read from the verified bytes, never fetched: a client that resolves with it
        reads what was verified.
        """
        if not filename.endswith(".whl"):
            return MetadataAnswer(404, "no metadata file for this file")
        answer = self.file(sha256, filename)
        if answer.path is None:
            return MetadataAnswer(answer.status, answer.reason)
        metadata = wheel_core_metadata(answer.path)
        verdict = self.verdicts.get(sha256)
        if metadata is None or (
            verdict is not None
            and verdict.metadata_sha256 is not None
            and hashlib.sha256(metadata).hexdigest() != verdict.metadata_sha256
        ):
            return MetadataAnswer(404, "no metadata file for this file")
        return MetadataAnswer(200, answer.reason, metadata)

    def _keep(self, job: FileJob, judged: Judged) -> None:
        if not judged.complete:
            return
        metadata_sha256 = None
        if job.filename.endswith(".whl"):
            path = self.store.lookup(job.sha256, job.filename).path
            metadata = wheel_core_metadata(path) if path is not None else None
            if metadata is not None:
                metadata_sha256 = hashlib.sha256(metadata).hexdigest()
        verdict = FileVerdict(
            sha256=job.sha256,
            filename=job.filename,
            project=job.project,
            version=str(job.version),
            allowed=judged.allowed,
            reason=judged.reason,
            rules=judged.rules,
            judged_at=judged.judged_at,
            severity=judged.severity,
            publisher=judged.publisher,
            metadata_sha256=metadata_sha256,
        )
        self.verdicts.put(verdict, judged.report_json)

    def _verifier(self) -> Verifier:
        network = self.settings.network
        return Verifier(
            session=self.session,
            store=self.store,
            index_urls=[self.settings.upstream],
            policy=self.policy,
            options=CheckOptions(
                offline=network.offline,
                all_files=True,
                jobs=network.jobs,
                behaviour=self.settings.verification.behaviour,
            ),
            provenance=self.provenance,
            expectations=self.expectations,
            trust_store=self.trust_store,
            record=False,
            vulnerabilities=self.vulnerabilities,
        )


def project_name(requested: str) -> NormalizedName | None:
    """``requested`` normalized, or ``None`` if it cannot be a project's name."""
    if not _PROJECT.fullmatch(requested):
        return None
    return canonicalize_name(requested)


def _project_of(filename: str) -> NormalizedName | None:
    stem = filename.split("-", 1)[0] if filename.endswith(".whl") else filename.rsplit("-", 1)[0]
    return project_name(stem) if stem else None


def _likely_picks(release: Sequence[ListedFile], tags: Sequence[Tag]) -> list[ListedFile]:
    """The files of ``release`` a client most likely installs: every pure wheel and the one
    this machine would pick, at most :data:`EAGER_FILES`, in the release's order."""
    names = [f.filename for f in release]
    wanted = {n for n in names if n.endswith("-none-any.whl")}
    wanted.update(select_installable(names, tags))
    if not wanted:
        wanted.update(names)  # nothing fits this machine: the page cannot guess, verify all
    return [f for f in release if f.filename in wanted][:EAGER_FILES]


def _releases_newest_first(
    files: Sequence[ListedFile],
) -> Iterator[tuple[Version, list[ListedFile]]]:
    grouped: dict[Version, list[ListedFile]] = {}
    for listed in files:
        version = file_version(listed.filename)
        if version is not None:
            grouped.setdefault(version, []).append(listed)
    for version in sorted(grouped, reverse=True):
        yield version, grouped[version]


def _today() -> date:
    return datetime.now(timezone.utc).date()
