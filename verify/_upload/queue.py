"""Screening on a Celery queue with Redis: the gate enqueues, ``pip-verify worker`` screens.

The gate (:class:`QueueScreener`) sends each upload's bytes, and the attestation files beside
it, as one JSON message (never pickle) and waits for the verdict. Workers (:func:`run_worker`)
take one job at a time (``worker_prefetch_multiplier=1``), acknowledge it only once it is
done (``task_acks_late``), and give it back if their process dies
(``task_reject_on_worker_lost``), so a job is never lost with a crashed worker.

Jobs are idempotent and keyed by :func:`job_key`, a sha256 over the file's name and bytes and
its attestation files. A worker reuses the verdict another worker stored under
``pip-verify:verdict:<job key>:<config digest>`` (kept :data:`VERDICT_TTL` seconds), where the
config digest covers the pip-verify version, the policy file's bytes and every setting that
can change a verdict; a Redis ``SET NX`` lock per key makes the second of two workers given
the same job wait for the first one's verdict instead of analysing it too. Each request from
the gate is its own task (its id is the job key and a random suffix), so a stored result is
never taken for the answer to a new request: workers may have a new policy since.

Verdicts that say screening could not complete (``unavailable``) are never reused: the next
upload of the same file is screened again.

A distribution that is not a readable archive (:class:`~verify.errors.ArchiveError`) is
*refused* with exit code 2 and an empty report (``{}``): the upload is at fault and the answer
depends only on its bytes; the gate answers 400, as it does when it screens in-process.
Anything else that stops screening (the worker's own policy or trust store, a service it
needs) is not the upload's fault: that verdict is ``unavailable`` (exit 3, the gate's 503).

Workers record nothing in the trust store: the gate records a first-seen publisher once the
upstream index has taken the upload.

Redis counters, for operators and the tests: ``pip-verify:stats:analysed`` (real analyses),
``pip-verify:stats:cache-hits`` (verdicts a worker reused) and
``pip-verify:stats:worker:<worker name>`` (real analyses by one worker).

celery and redis are the ``queue`` extra: they are imported only by the queue modules, and
only when a queue is used.

This module is the gate's side (:class:`QueueScreener`). The job and its message are in
:mod:`.queue_jobs`, the configuration digest in :mod:`.queue_digest`, the Celery app in
:mod:`.queue_app` and the worker's side in :mod:`.queue_worker`.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from verify._index.urls import redact
from verify._upload.queue_app import QUEUE_NAME, RESULT_EXPIRES, TASK_NAME, make_app
from verify._upload.queue_digest import config_digest
from verify._upload.queue_jobs import (
    MAX_FILE_BYTES,
    PAYLOAD_VERSION,
    encode_job,
    job_key,
    key_of,
    read_job,
)
from verify._upload.queue_worker import (
    LOCK_POLL,
    LOCK_TTL,
    STAT_ANALYSED,
    STAT_CACHE_HITS,
    VERDICT_TTL,
    run_worker,
)
from verify._upload.verdict import Verdict
from verify.errors import IncompleteError

# Every public name this module held before the worker, the jobs, the digest and the Celery app
# moved to modules of their own: callers import them from here as before.
__all__ = [
    "LOCK_POLL",
    "LOCK_TTL",
    "MAX_FILE_BYTES",
    "PAYLOAD_VERSION",
    "QUEUE_NAME",
    "RESULT_EXPIRES",
    "STAT_ANALYSED",
    "STAT_CACHE_HITS",
    "TASK_NAME",
    "VERDICT_TTL",
    "QueueScreener",
    "config_digest",
    "job_key",
    "make_app",
    "run_worker",
]


def _task_id(key: str) -> str:
    # One id per request: a stored result is never mistaken for the answer to a new request
    # (workers may have a new policy since). Repeats are cheap: workers share verdicts by key.
    return f"pip-verify-screen-{key}-{uuid.uuid4().hex[:12]}"


def _connection_errors() -> tuple[type[BaseException], ...]:
    import kombu.exceptions
    import redis.exceptions

    return (kombu.exceptions.OperationalError, redis.exceptions.RedisError, OSError)


class QueueScreener:
    """Screens uploads on the queue at ``broker_url``: a drop-in for
    :func:`~verify._upload.verdict.screen_file` that the gate calls from many threads."""

    def __init__(self, broker_url: str, *, timeout: float = 300.0) -> None:
        self.broker_url = broker_url
        self.timeout = timeout
        self._app = make_app(broker_url)
        import redis

        # Celery's result store retries a lost Redis for a long time and then raises a bare
        # RuntimeError; a ping first turns an unreachable broker into one clear error.
        self._redis = redis.Redis.from_url(broker_url, socket_connect_timeout=5, socket_timeout=5)

    def screen(self, path: Path) -> Verdict:
        """The verdict on ``path`` (and the attestation files beside it), from a worker.

        Raises :class:`~verify.errors.InvalidInputError` when ``path`` cannot be read or is
        not named like a distribution, and :class:`~verify.errors.IncompleteError` when no
        worker answers in time, the broker cannot be reached, or the job failed.
        """
        dist, attestations = read_job(path)
        key = key_of(dist, attestations)
        task_id = _task_id(key)
        errors = _connection_errors()
        try:
            self._redis.ping()
            result = self._app.send_task(
                TASK_NAME,
                args=[encode_job(dist, attestations)],
                task_id=task_id,
                queue=QUEUE_NAME,
            )
            try:
                data = self._wait(result, path.name)
            finally:
                # Stop listening for this result now, while the broker is known: otherwise
                # the result object's finaliser unsubscribes later, and if Redis is gone by
                # then Celery retries for twenty seconds and raises in the garbage collector.
                with contextlib.suppress(Exception):
                    self._app.backend.remove_pending_result(result)
            # The workers cache the verdict under the job key and their configuration;
            # Celery's copy is not needed once read. Dropping it is best effort.
            with contextlib.suppress(Exception):
                result.forget()
        except errors as exc:
            raise self._unreachable(exc) from None
        try:
            return Verdict.from_dict(data)
        except (KeyError, ValueError, TypeError):
            raise IncompleteError(
                f"the screening worker answered with a malformed verdict for {path.name}"
            ) from None

    def close(self) -> None:
        """Release the connections to the broker."""
        self._app.close()
        self._redis.close()

    def __enter__(self) -> QueueScreener:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _wait(self, result: Any, filename: str) -> dict[str, Any]:
        from celery.exceptions import TimeoutError as CeleryTimeout  # type: ignore[import-untyped]

        try:
            data = result.get(timeout=self.timeout, propagate=True)
        except CeleryTimeout:
            raise IncompleteError(
                f"no screening worker answered within {self.timeout:g} s",
                hint=f"start workers: pip-verify worker --broker {redact(self.broker_url)}",
            ) from None
        except _connection_errors():
            raise
        except Exception as exc:  # the task raised on the worker
            raise IncompleteError(
                f"screening {filename} failed on the worker: {type(exc).__name__}: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise IncompleteError(f"the screening worker answered with no verdict for {filename}")
        return data

    def _unreachable(self, exc: BaseException) -> IncompleteError:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return IncompleteError(
            f"cannot reach the screening queue at {redact(self.broker_url)}: {detail}",
            hint="check the broker URL and that Redis is running",
        )
