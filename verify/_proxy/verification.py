"""Verifying the proxy's files with ``check``'s engine, a batch at a time, on one thread.

Requests ask for files; each file is verified once however many requests wait for it, and
the requests that arrive while a batch runs are verified together in the next one, where the
engine overlaps their downloads and diffs. Each file is a candidate of its own (its project,
its version, its sha256 as the one allowed digest), so every file gets its own decision: a
clean wheel is not held back by a denied sdist of the same release.

A file's verdict rests on the same evidence as ``check``'s: its bytes against the upstream's
digest, its provenance and publisher, the behaviour diff against the release before it on the
upstream, known vulnerabilities, the release's age and the name. A batch that cannot finish
(the upstream down, a worker process that died, any error) gives every file in it a verdict
of "could not verify", which denies and is never kept.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._format.json import render_json
from verify._serve.status import reason_phrase
from verify._verifier import Verifier
from verify.errors import VerifyError
from verify.models import Candidate, Decision, PackageResult, Report, Severity

__all__ = ["FileJob", "Judged", "VerificationQueue", "incomplete"]

logger = logging.getLogger(__name__)

#: Severities, least first.
SEVERITY_ORDER = (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
#: Files verified in one batch at most: enough to overlap downloads and use every core.
MAX_BATCH = 16


@dataclass(frozen=True, slots=True)
class FileJob:
    """One file to verify: which project and release it belongs to, and its digest."""

    project: NormalizedName
    version: Version
    filename: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Judged:
    """A verification's outcome for one file: the decision, and whether it is final."""

    allowed: bool
    #: The verification completed; an incomplete one is reported but never kept.
    complete: bool
    #: One line: why it was denied or could not be verified, or that it was allowed.
    reason: str
    rules: tuple[str, ...]
    judged_at: datetime
    report_json: str
    #: The worst finding's severity (``-`` when none), and who published the file.
    severity: str = "-"
    publisher: str = "none"


class VerificationQueue:
    """Verifies :class:`FileJob` values in batches on a background thread.

    ``make_verifier`` builds a :class:`~verify._verifier.Verifier` for one batch (its "now"
    is the batch's). ``on_judged`` is called with each file's outcome before anyone waiting
    for it is woken, so a verdict is kept before a request acts on it.
    """

    def __init__(
        self,
        make_verifier: Callable[[], Verifier],
        on_judged: Callable[[FileJob, Judged], None],
    ) -> None:
        self._make_verifier = make_verifier
        self._on_judged = on_judged
        self._lock = threading.Condition()
        self._waiting: list[FileJob] = []
        self._futures: dict[str, Future[Judged]] = {}
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name="pip-verify-proxy-verification", daemon=True
        )
        self._thread.start()

    def submit(self, jobs: Sequence[FileJob]) -> list[Future[Judged]]:
        """Futures of ``jobs``' outcomes; a file already queued or being verified shares the
        future of the first request for it."""
        futures = []
        with self._lock:
            if self._closed:
                raise RuntimeError("the verification queue is closed")
            for job in jobs:
                future = self._futures.get(job.sha256)
                if future is None:
                    future = Future()
                    self._futures[job.sha256] = future
                    self._waiting.append(job)
                futures.append(future)
            self._lock.notify()
        return futures

    def close(self) -> None:
        """Stop after the batch that is running; files still queued are not verified."""
        with self._lock:
            self._closed = True
            waiting, self._waiting = self._waiting, []
            self._lock.notify()
        for job in waiting:
            self._settle(job, incomplete("the proxy is shutting down"))
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._waiting and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            for job, judged in zip(batch, self._verify(batch), strict=True):
                self._settle(job, judged)

    def _settle(self, job: FileJob, judged: Judged) -> None:
        try:
            self._on_judged(job, judged)
        except Exception:  # keeping a verdict is a cache: the request still gets its answer
            logger.exception("could not keep the verdict on %s", job.filename)
        with self._lock:
            future = self._futures.pop(job.sha256, None)
        if future is not None:
            future.set_result(judged)

    def _verify(self, batch: Sequence[FileJob]) -> list[Judged]:
        report = self._check(batch)
        if isinstance(report, Judged):
            return [report] * len(batch)
        if report.errors and len(batch) > 1:
            # The report's errors are not tied to a package: verify each file on its own,
            # so that one file's failure does not take the others down with it.
            return [judged for job in batch for judged in self._verify([job])]
        return [_judged(report, package) for package in report.packages]

    def _check(self, batch: Sequence[FileJob]) -> Report | Judged:
        candidates = [
            Candidate(
                name=job.project,
                version=job.version,
                allowed_sha256=frozenset({job.sha256}),
                origin="proxy",
                preselected=True,
            )
            for job in batch
        ]
        try:
            return self._make_verifier().check(candidates)
        except VerifyError as exc:
            return incomplete(exc.one_line())
        except Exception as exc:  # a crash is never an allow
            logger.exception("verifying %d file(s) failed", len(batch))
            return incomplete(f"{type(exc).__name__}: {exc}")


def incomplete(why: str) -> Judged:
    """The outcome of a verification that could not finish: it denies and is never kept."""
    return Judged(
        allowed=False,
        complete=False,
        reason=reason_phrase(f"pip-verify could not verify this file: {why}"),
        rules=(),
        judged_at=datetime.now(timezone.utc),
        report_json="",
    )


def _judged(report: Report, package: PackageResult) -> Judged:
    """One file's outcome from its package's result in the batch's report."""
    return dataclasses.replace(
        _decided(report, package),
        severity=_worst_severity(package),
        publisher=_publisher(package),
    )


def _worst_severity(package: PackageResult) -> str:
    severities = [f.severity for f in package.findings]
    return max(severities, key=SEVERITY_ORDER.index).value if severities else "-"


def _publisher(package: PackageResult) -> str:
    publisher = package.provenance.publisher
    if not publisher:
        return f"none ({package.provenance.status.value})"
    return ", ".join(f"{key}={value}" for key, value in sorted(publisher.items()) if value)


def _decided(report: Report, package: PackageResult) -> Judged:
    alone = dataclasses.replace(
        report, decision=package.decision, packages=(package,), errors=report.errors
    )
    report_json = render_json(alone)
    filename = package.files[0].filename if package.files else f"{package.name} {package.version}"
    denied = [r for r in package.reasons if r.decision is Decision.DENY]
    unchecked = [r for r in denied if r.unchecked]
    if report.errors or unchecked:
        why = report.errors[0].message if report.errors else unchecked[0].message
        judged = incomplete(why)
        return dataclasses.replace(judged, report_json=report_json)
    if denied:
        rules = tuple(dict.fromkeys(r.rule for r in denied))
        return Judged(
            allowed=False,
            complete=True,
            reason=reason_phrase(
                f"pip-verify denied {filename}: {', '.join(rules)}: {denied[0].message}"
            ),
            rules=rules,
            judged_at=datetime.now(timezone.utc),
            report_json=report_json,
        )
    warned = sum(1 for r in package.reasons if r.decision is Decision.WARN)
    note = f" with {warned} warning{'s' if warned != 1 else ''}" if warned else ""
    return Judged(
        allowed=True,
        complete=True,
        reason=f"pip-verify allowed {filename}{note}",
        rules=(),
        judged_at=datetime.now(timezone.utc),
        report_json=report_json,
    )
