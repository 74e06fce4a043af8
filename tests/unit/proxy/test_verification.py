"""verify._proxy.verification: one verification per file however many wait, failures that
never allow, and what closing answers.

The engine itself is exercised end to end elsewhere (test_app, test_proxy); here a stand-in
for it records the batches it is given, so the order can be observed."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import cast

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._proxy.verification import FileJob, Judged, VerificationQueue
from verify._verifier import Verifier
from verify.errors import NetworkError
from verify.models import Candidate, Decision, PackageResult, Provenance, ProvenanceStatus, Report


class Recorder:
    """Stands in for the engine: allows everything, records each batch, can be held."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.fail = fail

    def check(self, candidates: Sequence[Candidate]) -> Report:
        self.started.set()
        self.gate.wait(timeout=30)
        self.batches.append([next(iter(c.allowed_sha256)) for c in candidates])
        if self.fail is not None:
            raise self.fail
        packages = tuple(
            PackageResult(
                name=c.name,
                version=c.version,
                decision=Decision.ALLOW,
                index=None,
                files=(),
                provenance=Provenance(ProvenanceStatus.ABSENT),
            )
            for c in candidates
        )
        return Report(decision=Decision.ALLOW, packages=packages)


def job(n: int) -> FileJob:
    return FileJob(
        NormalizedName("demo"), Version(f"1.{n}"), f"demo-1.{n}-py3-none-any.whl", f"{n:064x}"
    )


def queue_for(recorder: Recorder, kept: list[tuple[FileJob, Judged]]) -> VerificationQueue:
    return VerificationQueue(
        lambda: cast(Verifier, recorder), lambda j, judged: kept.append((j, judged))
    )


def test_a_file_asked_for_twice_is_verified_once() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    queue = queue_for(recorder, [])
    try:
        one = queue.submit([job(1)])
        two = queue.submit([job(1)])
        assert one[0] is two[0]
        recorder.gate.set()
        assert one[0].result(timeout=30).allowed
    finally:
        queue.close()
    assert recorder.batches == [[job(1).sha256]]


def test_a_batch_that_fails_denies_every_file_and_is_not_final() -> None:
    kept: list[tuple[FileJob, Judged]] = []
    queue = queue_for(Recorder(fail=NetworkError("index.example is down")), kept)
    try:
        futures = queue.submit([job(1), job(2)])
        outcomes = [f.result(timeout=30) for f in futures]
    finally:
        queue.close()
    for outcome in outcomes:
        assert not outcome.allowed
        assert not outcome.complete
        assert "could not verify this file: index.example is down" in outcome.reason
    crashed = queue_for(Recorder(fail=RuntimeError("bug")), [])
    try:
        (future,) = crashed.submit([job(3)])
        assert not future.result(timeout=30).allowed
    finally:
        crashed.close()


def test_closing_answers_what_is_still_queued() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    queue = queue_for(recorder, [])
    running = queue.submit([job(1)])
    assert recorder.started.wait(timeout=30)
    queued = queue.submit([job(2)])
    threading.Timer(0.2, recorder.gate.set).start()
    queue.close()
    assert not queued[0].result(timeout=30).complete
    assert running[0].result(timeout=30) is not None
