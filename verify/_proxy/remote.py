"""Verifying the proxy's files on ``pip-verify worker --proxy-upstream`` processes, through the
Celery queue the upload gate's workers use (``proxy --broker``).

The proxy sends one small JSON message per file (its project, version, name, sha256, and the
proxy's verdict digest) and waits for the outcome; it sends no bytes. The worker reads the
upstream's page itself, verifies the file with ``check``'s engine, keeps the verdict in Redis
under the same digest (where the proxy and every other proxy read it), and answers with the
outcome. A worker whose verdict digest differs (another policy, trust store, upstream or
pip-verify version) refuses the job: its verdict would not be the one this proxy's settings
give, and the proxy answers "could not verify" instead of serving on it.

The proxy serves a file a worker allowed only after fetching it itself from the upstream and
checking its sha256 against the verdict's: the bytes served are the bytes that were verified.

Jobs are idempotent: a worker answers a file with a fresh verdict from Redis without verifying
it again, so a job redelivered after a lost worker costs little.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, Final, Protocol

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from verify._index.urls import redact
from verify._proxy.verdicts import is_sha256
from verify._proxy.verification import FileJob, Judged, incomplete
from verify._resolve.local import unsafe_filename
from verify._upload.queue_app import make_app

__all__ = [
    "PROXY_QUEUE",
    "PROXY_TASK",
    "RemoteVerification",
    "Verification",
    "decode_job",
    "encode_job",
    "judged_from_dict",
    "judged_to_dict",
]

logger = logging.getLogger(__name__)

#: The Celery queue the proxy's jobs travel on (the gate's screening jobs have their own).
PROXY_QUEUE: Final = "pip-verify-proxy"
#: The name the proxy's task is sent and registered under.
PROXY_TASK: Final = "pip_verify.proxy_verify"
#: The message format; a worker refuses any other.
PAYLOAD_VERSION: Final = 1
#: How long the proxy waits for a worker's outcome before the file counts as not verified
#: (requests stop waiting sooner, at their page or file budget; a late outcome still lands).
RESULT_TIMEOUT: Final = 900.0
#: Outcomes waited for at once; more jobs wait their turn.
WAITERS: Final = 32


class Verification(Protocol):
    """Where the proxy's files are verified: in the proxy or on workers."""

    def submit(self, jobs: Sequence[FileJob]) -> list[Future[Judged]]:
        """Futures of ``jobs``' outcomes, in order."""
        ...

    def close(self) -> None:
        """Stop; outcomes not in yet are "could not verify"."""
        ...


def encode_job(job: FileJob, digest: str) -> dict[str, Any]:
    """The JSON message of ``job`` for a proxy whose verdict digest is ``digest``."""
    return {
        "version": PAYLOAD_VERSION,
        "project": str(job.project),
        "release": str(job.version),
        "filename": job.filename,
        "sha256": job.sha256,
        "digest": digest,
    }


def decode_job(payload: Any) -> tuple[FileJob, str]:
    """The job and the sender's verdict digest; raises ``ValueError`` for a message that is
    not one the proxy sends (the names and the digests are checked, not trusted)."""
    if not isinstance(payload, dict) or payload.get("version") != PAYLOAD_VERSION:
        raise ValueError("not a pip-verify proxy job")
    texts = ("project", "release", "filename", "sha256", "digest")
    if not all(isinstance(payload.get(key), str) for key in texts):
        raise ValueError("a proxy job's field is not text")
    project, filename = payload["project"], payload["filename"]
    if canonicalize_name(project) != project or unsafe_filename(filename):
        raise ValueError("a proxy job names an unusable project or file")
    if not is_sha256(payload["sha256"]) or not is_sha256(payload["digest"]):
        raise ValueError("a proxy job's digest is not a sha256")
    try:
        version = Version(payload["release"])
    except InvalidVersion as exc:
        raise ValueError(f"a proxy job's version is invalid: {exc}") from None
    job = FileJob(canonicalize_name(project), version, filename, payload["sha256"])
    return job, payload["digest"]


def judged_to_dict(judged: Judged) -> dict[str, Any]:
    """A JSON-ready form of ``judged`` (the worker's answer)."""
    return {
        "allowed": judged.allowed,
        "complete": judged.complete,
        "reason": judged.reason,
        "rules": list(judged.rules),
        "judged-at": judged.judged_at.isoformat(),
        "report": judged.report_json,
        "severity": judged.severity,
        "publisher": judged.publisher,
    }


def judged_from_dict(data: Any) -> Judged:
    """The inverse of :func:`judged_to_dict`; raises ``ValueError``, ``KeyError`` or
    ``TypeError`` for anything else."""
    if not isinstance(data, dict):
        raise TypeError("an outcome is not an object")
    texts = ("reason", "judged-at", "report", "severity", "publisher")
    if not all(isinstance(data[key], str) for key in texts):
        raise TypeError("an outcome's text field is not text")
    if not isinstance(data["allowed"], bool) or not isinstance(data["complete"], bool):
        raise TypeError("an outcome's flags are not booleans")
    rules = data["rules"]
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise TypeError("an outcome's rules are not a list of text")
    return Judged(
        allowed=data["allowed"],
        complete=data["complete"],
        reason=data["reason"],
        rules=tuple(rules),
        judged_at=datetime.fromisoformat(data["judged-at"]),
        report_json=data["report"],
        severity=data["severity"],
        publisher=data["publisher"],
    )


class RemoteVerification:
    """Sends the proxy's jobs to workers on the queue at ``broker_url`` and waits for their
    outcomes (a :class:`Verification`). Safe to call from many threads."""

    def __init__(self, broker_url: str, digest: str, *, timeout: float = RESULT_TIMEOUT) -> None:
        self.broker_url = broker_url
        self.digest = digest
        self.timeout = timeout
        self._app = make_app(broker_url)
        self._waiters = ThreadPoolExecutor(WAITERS, thread_name_prefix="pip-verify-proxy-wait")
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Judged]] = {}
        self._closed = False

    def submit(self, jobs: Sequence[FileJob]) -> list[Future[Judged]]:
        """See :class:`Verification`; a file already sent shares the first request's future."""
        futures = []
        for job in jobs:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the verification queue is closed")
                future = self._futures.get(job.sha256)
                if future is not None:
                    futures.append(future)
                    continue
                future = Future()
                self._futures[job.sha256] = future
            futures.append(future)
            self._waiters.submit(self._run, job, future)
        return futures

    def close(self) -> None:
        """See :class:`Verification`."""
        with self._lock:
            self._closed = True
            pending = list(self._futures.items())
        for _, future in pending:
            if not future.done():
                future.set_result(incomplete("the proxy is shutting down"))
        self._waiters.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):
            self._app.close()

    def _run(self, job: FileJob, future: Future[Judged]) -> None:
        try:
            judged = self._ask(job)
        except Exception as exc:  # a failure here is "could not verify", never an allow
            logger.exception("asking a worker to verify %s failed", job.filename)
            judged = incomplete(f"{type(exc).__name__}: {exc}")
        with self._lock:
            self._futures.pop(job.sha256, None)
        if not future.done():
            future.set_result(judged)

    def _ask(self, job: FileJob) -> Judged:
        from celery.exceptions import TimeoutError as CeleryTimeout  # type: ignore[import-untyped]

        task_id = f"pip-verify-proxy-{job.sha256[:32]}-{uuid.uuid4().hex[:12]}"
        try:
            result = self._app.send_task(
                PROXY_TASK, args=[encode_job(job, self.digest)], task_id=task_id, queue=PROXY_QUEUE
            )
        except Exception as exc:
            return incomplete(f"cannot reach the queue at {redact(self.broker_url)}: {exc}")
        try:
            data = result.get(timeout=self.timeout, propagate=True)
        except CeleryTimeout:
            return incomplete(
                f"no worker answered within {self.timeout:g} s (start pip-verify worker "
                f"--broker {redact(self.broker_url)} --proxy-upstream ...)"
            )
        except Exception as exc:  # the task raised on the worker
            return incomplete(f"the worker failed: {type(exc).__name__}: {exc}")
        finally:
            with contextlib.suppress(Exception):
                self._app.backend.remove_pending_result(result)
        with contextlib.suppress(Exception):
            result.forget()
        if isinstance(data, dict) and isinstance(data.get("refused"), str):
            return incomplete(f"the worker refused the job: {data['refused']}")
        try:
            return judged_from_dict(data)
        except (KeyError, ValueError, TypeError) as exc:
            return incomplete(f"the worker answered with a malformed outcome: {exc}")
