"""The behaviour diff as a stage of a check: pick baselines, fetch them, diff, in parallel.

Baselines come from the same index page the candidate came from and are fetched through
the same :class:`~verify._fetch.fetch.Fetcher` (so through the one network session and into
the content-addressed store, verified against the index's sha256). A baseline that cannot
be had is said in the outcome and the candidate is analysed alone: the analysis still runs,
it just has nothing to compare with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._behaviour.baseline import BaselineChoice, choose_baseline
from verify._behaviour.cache import DiffCache
from verify._behaviour.profile_cache import ProfileCache
from verify._behaviour.result import BehaviourDiff, DistFile
from verify._checks.typosquat import PopularNames
from verify._fetch.fetch import Fetcher, FetchRequest
from verify._resolve.select import file_version, files_of, releases
from verify.errors import ArchiveError, IncompleteError
from verify.models import Decision, ExpectedDigest, Finding, IndexFile, ProjectPage, Reason
from verify.policy import Policy

__all__ = [
    "Analyse",
    "DiffResult",
    "PreparedReview",
    "ReviewItem",
    "ReviewOutcome",
    "baseline_request",
    "behaviour_reasons",
    "diff_here",
    "finding_reasons",
    "finish_review",
    "prepare_review",
    "review",
]


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A verified file to diff: its bytes in the store and the index pages of its project."""

    name: NormalizedName
    filename: str
    path: Path
    sha256: str
    pages: tuple[ProjectPage, ...]
    index_url: str | None = None
    upload_time: datetime | None = None
    #: Compare with this release instead of the newest earlier one.
    baseline_version: Version | None = None
    #: Why no index page can be consulted (``--offline``), if so.
    no_pages: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """The diff of one item, or why it could not be made."""

    item: ReviewItem
    diff: BehaviourDiff | None = None
    #: The candidate itself could not be analysed (an archive that cannot be read).
    error: str | None = None
    #: The baseline could not be fetched, so the file was analysed alone: the diff is
    #: weaker than it should be, which the policy's ``on-error`` for ``behaviour`` judges.
    baseline_error: str | None = None
    #: The analysis stopped before it finished (its worker process died): nothing is known
    #: about the file's behaviour, and the check cannot complete.
    failed: str | None = None


@dataclass(frozen=True, slots=True)
class DiffResult:
    """A diff of two releases or files (``pip-verify diff``), and what the policy decides
    about its findings."""

    diff: BehaviourDiff
    decision: Decision
    reasons: tuple[Reason, ...]
    name: str | None = None
    old_version: str | None = None
    new_version: str | None = None
    #: The new file on disk (in the content store or as given), to quote its flagged lines.
    new_path: Path | None = None


def _choice(item: ReviewItem) -> BaselineChoice:
    if item.no_pages:
        return BaselineChoice(None, None, f"none: {item.no_pages}")
    pages = [p for p in item.pages if item.index_url is None or p.index_url == item.index_url]
    return choose_baseline(
        _newest_entries(pages or item.pages, item.filename, item.baseline_version),
        item.filename,
        version=item.baseline_version,
    )


def _known(
    item: ReviewItem, choice: BaselineChoice, cache: DiffCache | None
) -> BehaviourDiff | None:
    """The diff already made for ``item`` against the baseline ``choice`` names, if the index
    lists the baseline's sha256 (or there is no baseline) and the cache holds that diff."""
    if cache is None or not item.sha256:
        return None
    if choice.entry is None:
        return cache.get(item.sha256, None, f"none: {choice.reason}")
    listed = choice.entry.hashes.get("sha256")
    if listed is None:
        return None  # the digest the diff was made with is known only once fetched
    return cache.get(item.sha256, listed.lower(), choice.reason)


def _newest_entries(
    pages: Sequence[ProjectPage], filename: str, explicit: Version | None
) -> list[IndexFile]:
    """The files of the release a baseline would come from, building no other entry.

    Pages of big projects list thousands of files; only the names are read for all of
    them, and entries are built for one release (the next one down if all are yanked).
    """
    target = file_version(filename)
    if target is None:
        return []
    grouped = [(page, releases(page.files.filenames())) for page in pages]
    versions: set[Version] = set()
    for _page, by_version in grouped:
        for version in by_version:
            if explicit is not None:
                if version != explicit:
                    continue
            elif version >= target or (version.is_prerelease and not target.is_prerelease):
                continue
            versions.add(version)
    for version in sorted(versions, reverse=True):
        entries = [
            page.files.named(name)
            for page, by_version in grouped
            for name in files_of(by_version, version)
        ]
        usable = [e for e in entries if e is not None and not e.yanked]
        if usable:
            return usable
    return []


def baseline_request(entry: IndexFile) -> FetchRequest:
    """How to fetch an index file: its URL, checked against every strong digest listed."""
    expected = tuple(
        ExpectedDigest("index", digest, algorithm)
        for algorithm, digest in entry.hashes.items()
        if algorithm in ("sha256", "sha384", "sha512")
    )
    return FetchRequest(entry.filename, url=entry.url, expected=expected, size=entry.size)


def diff_here(
    new: DistFile, old: DistFile | None, reason: str, profiles: ProfileCache | None = None
) -> BehaviourDiff:
    """:func:`diff_distributions` in this process, against the shipped popular names (their
    index costs a third of a second: it is loaded, once, only when a diff runs), reusing the
    ``profiles`` of files analysed before."""
    # The analysers load here, on the first diff a check makes: one whose every diff is
    # cached never imports them.
    from verify._behaviour.diff import diff_distributions

    return diff_distributions(
        new, old, baseline_reason=reason, popular=PopularNames.load(), profiles=profiles
    )


#: Runs one diff: :func:`diff_here`, or the same in a worker process
#: (:meth:`~verify._behaviour.workers.AnalysisPool.diff`).
Analyse = Callable[[DistFile, DistFile | None, str], BehaviourDiff]


@dataclass(frozen=True, slots=True)
class PreparedReview:
    """Items ready to be diffed: baselines chosen and fetched, kept diffs found.

    :func:`prepare_review` does what needs the network, :func:`finish_review` what needs the
    processor, so a check can hand its network threads back before the analysis runs.
    """

    #: Each item, its baseline, and the diff already kept for the two (if any).
    pairs: tuple[tuple[ReviewItem, BaselineChoice, BehaviourDiff | None], ...]
    #: Each fetched baseline by file name: its path in the store (``None`` if it could not
    #: be fetched), the error if so, and its sha256.
    baselines: Mapping[str, tuple[Path | None, str | None, str | None]]


def prepare_review(
    items: Sequence[ReviewItem], *, fetcher: Fetcher, cache: DiffCache | None = None
) -> PreparedReview:
    """Choose each item's baseline and fetch the baselines whose diff is not kept yet."""
    choices = [_choice(item) for item in items]
    # A diff already made with the baseline the index lists is taken before the baseline is
    # fetched: it was made from bytes verified against that very digest, and the baseline is
    # read for nothing else. A re-check thus never reads (and re-hashes) baselines.
    known = [_known(item, choice, cache) for item, choice in zip(items, choices, strict=True)]
    wanted = {
        c.entry.filename: c.entry
        for c, diff in zip(choices, known, strict=True)
        if c.entry is not None and diff is None
    }
    fetched: Mapping[str, tuple[Path | None, str | None, str | None]] = {}
    if wanted:
        results = fetcher.fetch_all([baseline_request(entry) for entry in wanted.values()])
        fetched = {r.request.filename: (r.path, r.error, r.sha256) for r in results}
    return PreparedReview(tuple(zip(items, choices, known, strict=True)), fetched)


def finish_review(
    prepared: PreparedReview,
    *,
    jobs: int = 8,
    cache: DiffCache | None = None,
    analyse: Analyse = diff_here,
) -> list[ReviewOutcome]:
    """Diff every prepared item against its baseline; one outcome per item, in order."""

    def run(pair: tuple[ReviewItem, BaselineChoice, BehaviourDiff | None]) -> ReviewOutcome:
        item, choice, diff = pair
        if diff is not None:
            return ReviewOutcome(item, diff=diff)
        old: DistFile | None = None
        old_sha256: str | None = None
        baseline_error: str | None = None
        reason = f"none: {choice.reason}" if choice.entry is None else choice.reason
        if choice.entry is not None:
            path, error, digest = prepared.baselines.get(
                choice.entry.filename, (None, "not fetched", None)
            )
            if path is None:
                baseline_error = (
                    f"the baseline {choice.entry.filename} could not be fetched ({error})"
                )
                reason = f"none: {baseline_error}"
            else:
                old = DistFile(path, choice.entry.filename, choice.entry.upload_time)
                old_sha256 = digest
        # A diff made without the baseline it should have had is not kept: next time the
        # baseline may be there.
        usable = cache is not None and bool(item.sha256) and baseline_error is None
        if usable and cache is not None and choice.entry is not None:
            cached = cache.get(item.sha256, old_sha256, reason)
            if cached is not None:
                return ReviewOutcome(item, diff=cached)
        new = DistFile(item.path, item.filename, item.upload_time)
        try:
            diff = analyse(new, old, reason)
        except ArchiveError as exc:
            return ReviewOutcome(item, error=exc.one_line(), baseline_error=baseline_error)
        except IncompleteError as exc:
            return ReviewOutcome(item, failed=exc.one_line(), baseline_error=baseline_error)
        if usable and cache is not None:
            cache.put(item.sha256, old_sha256, reason, diff)
        return ReviewOutcome(item, diff=diff, baseline_error=baseline_error)

    pairs = prepared.pairs
    if not pairs:
        return []
    if len(pairs) == 1:
        return [run(pairs[0])]  # no thread to start for one diff
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(pairs)))) as pool:
        return list(pool.map(run, pairs))


def review(
    items: Sequence[ReviewItem],
    *,
    fetcher: Fetcher,
    jobs: int = 8,
    cache: DiffCache | None = None,
    analyse: Analyse = diff_here,
) -> list[ReviewOutcome]:
    """Diff every item against its baseline; one outcome per item, in order.

    With a ``cache``, a pair of files already compared is not analysed again. ``analyse``
    runs the diffs (default: in this process). :func:`prepare_review` then
    :func:`finish_review`, in one go.
    """
    if not items:
        return []
    prepared = prepare_review(items, fetcher=fetcher, cache=cache)
    return finish_review(prepared, jobs=jobs, cache=cache, analyse=analyse)


def behaviour_reasons(diff: BehaviourDiff, policy: Policy, package: str | None) -> list[Reason]:
    """What ``policy`` decides for each of ``diff``'s findings (allowed ones left out)."""
    return finding_reasons(diff.findings, diff.filename, policy, package)


def finding_reasons(
    findings: Sequence[Finding], filename: str, policy: Policy, package: str | None
) -> list[Reason]:
    """What ``policy`` decides for each behaviour finding about ``filename``."""
    reasons = []
    for finding in findings:
        decision = policy.behaviour_decision(finding.rule, finding.severity, package=package)
        if decision is Decision.ALLOW:
            continue
        where = (finding.path or filename) + (f":{finding.line}" if finding.line else "")
        reasons.append(
            Reason(finding.rule, decision, f"{where}: {finding.message} ({finding.severity.value})")
        )
    return reasons
