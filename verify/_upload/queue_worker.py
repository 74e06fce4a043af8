"""The worker's side of the screening queue: ``pip-verify worker`` takes jobs one at a time,
answers from the verdicts workers share when it can, and screens the job's files otherwise.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify._index.urls import redact
from verify._serve.status import reason_phrase
from verify._upload.queue_app import QUEUE_NAME, TASK_NAME, make_app
from verify._upload.queue_digest import config_digest
from verify._upload.queue_jobs import JobFile, decode_job, key_of
from verify._upload.verdict import Outcome, Verdict, screen_file
from verify.errors import ArchiveError, IncompleteError, UsageError, VerifyError
from verify.screen import ScreenSettings, without_recording

if TYPE_CHECKING:
    import redis

__all__ = [
    "LOCK_POLL",
    "LOCK_TTL",
    "STAT_ANALYSED",
    "STAT_CACHE_HITS",
    "VERDICT_TTL",
    "ping_broker",
    "run_worker",
    "serve_queue",
]

# The name the worker's log records had before it moved out of queue.py: a logging
# configuration may select them by it.
logger = logging.getLogger("verify._upload.queue")

#: How long a worker keeps a verdict for other workers with the same configuration (seconds).
VERDICT_TTL = 7 * 24 * 60 * 60
#: How long a worker may hold the per-job lock: longer than any one screening (seconds).
LOCK_TTL = 30 * 60
#: How often a worker waiting on another worker's lock looks for its verdict (seconds).
LOCK_POLL = 0.2

_KEY_PREFIX = "pip-verify"
STAT_ANALYSED = f"{_KEY_PREFIX}:stats:analysed"
STAT_CACHE_HITS = f"{_KEY_PREFIX}:stats:cache-hits"


def _message(filename: str, error: VerifyError, workdir: Path) -> str:
    """The error's line without the private directory the job's files were written to."""
    message = error.one_line()
    for prefix in (f"{workdir / filename}: ", f"{filename}: "):
        message = message.removeprefix(prefix)
    return message.replace(f"{workdir}{os.sep}", "")


def _refused(filename: str, error: VerifyError, workdir: Path) -> Verdict:
    message = _message(filename, error, workdir)
    return Verdict(
        Outcome.REFUSE,
        2,
        reason_phrase(f"pip-verify refused {filename}: {message}"),
        "{}",
    )


def _unavailable(filename: str, error: VerifyError, workdir: Path) -> Verdict:
    message = _message(filename, error, workdir)
    return Verdict(
        Outcome.UNAVAILABLE,
        3,
        reason_phrase(f"pip-verify could not finish screening {filename}: {message}"),
        "{}",
    )


def _screen_files(
    dist: JobFile, attestations: tuple[JobFile, ...], settings: ScreenSettings
) -> Verdict:
    """Write the job's files into a private directory and screen them."""
    with tempfile.TemporaryDirectory(prefix="pip-verify-job-") as tmp:
        workdir = Path(tmp)
        for item in (dist, *attestations):
            target = workdir / item.name
            with open(target, "xb") as handle:  # names were checked; never overwrite
                handle.write(item.data)
        try:
            return screen_file(workdir / dist.name, settings)
        except ArchiveError as exc:
            return _refused(dist.name, exc, workdir)
        except (UsageError, IncompleteError) as exc:
            return _unavailable(dist.name, exc, workdir)


class _Worker:
    """What one ``pip-verify worker`` shares with its task, in every pool process."""

    def __init__(self, broker_url: str, settings: ScreenSettings) -> None:
        self.broker_url = broker_url
        self.settings = settings
        self._lock = threading.Lock()
        self._client: redis.Redis | None = None
        self._pid = 0

    @property
    def redis(self) -> redis.Redis:
        # One client per process: the prefork pool forks after start-up.
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                import redis as redis_module

                self._client = redis_module.Redis.from_url(
                    self.broker_url, socket_connect_timeout=5, socket_timeout=30
                )
                self._pid = os.getpid()
            return self._client

    def screen(self, payload: Any, hostname: str) -> dict[str, Any]:
        dist, attestations = decode_job(payload)
        key = key_of(dist, attestations)
        cache_key = f"{_KEY_PREFIX}:verdict:{key}:{config_digest(self.settings)}"
        client = self.redis
        for _ in self._turns():
            cached = self._cached(cache_key)
            if cached is not None:
                return cached
            lock = client.lock(f"{cache_key}:lock", timeout=LOCK_TTL, blocking=False)
            if not lock.acquire(blocking=False):
                continue  # another worker is screening the same job: wait for its verdict
            try:
                cached = self._cached(cache_key)  # it may have finished just before
                if cached is not None:
                    return cached
                verdict = _screen_files(dist, attestations, self.settings)
                data = verdict.to_dict()
                pipe = client.pipeline()
                pipe.incr(STAT_ANALYSED)
                pipe.incr(f"{_KEY_PREFIX}:stats:worker:{hostname}")
                if verdict.outcome is not Outcome.UNAVAILABLE:
                    pipe.set(cache_key, json.dumps(data), ex=VERDICT_TTL)
                pipe.execute()
                logger.info("screened %s: %s", dist.name, verdict.reason)
                return data
            finally:
                with contextlib.suppress(Exception):
                    lock.release()
        raise RuntimeError(f"gave up waiting for another worker to screen {dist.name}")

    def _cached(self, cache_key: str) -> dict[str, Any] | None:
        raw = self.redis.get(cache_key)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            Verdict.from_dict(data)
        except (KeyError, ValueError, TypeError):
            return None  # not a verdict: screen again, and overwrite it
        self.redis.incr(STAT_CACHE_HITS)
        result: dict[str, Any] = data
        return result

    @staticmethod
    def _turns() -> Iterator[None]:
        # A lock holder finishes or its lock expires within LOCK_TTL; then this worker
        # finds the verdict or takes the lock itself.
        deadline = time.monotonic() + LOCK_TTL + 60
        first = True
        while time.monotonic() < deadline:
            if not first:
                time.sleep(LOCK_POLL)
            first = False
            yield


def ping_broker(broker_url: str) -> None:
    """Raise :class:`~verify.errors.IncompleteError` unless Redis at ``broker_url`` answers."""
    import redis as redis_module

    client = redis_module.Redis.from_url(broker_url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis_module.exceptions.RedisError as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise IncompleteError(
            f"cannot reach the screening queue at {redact(broker_url)}: {detail}",
            hint="check the broker URL and that Redis is running",
        ) from None
    finally:
        client.close()


def run_worker(
    broker_url: str,
    settings: ScreenSettings,
    *,
    concurrency: int = 1,
    loglevel: str = "INFO",
    hostname: str | None = None,
) -> None:
    """Screen jobs from the queue at ``broker_url`` in this process until told to stop.

    ``concurrency`` pool processes each screen one job at a time. ``hostname`` names the
    worker (default ``pip-verify.<pid>@<host>``, unique per process). Returns after a clean
    shutdown (SIGTERM, or SIGINT).

    Raises :class:`~verify.errors.UsageError` when the ``queue`` extra is missing or the
    broker URL is not a Redis URL, :class:`~verify.errors.PolicyError` for an unusable
    policy, and :class:`~verify.errors.IncompleteError` when Redis cannot be reached at
    start-up or the worker stopped on an error.
    """
    from verify.policy import load_policy

    if concurrency < 1:
        raise UsageError("the worker needs a concurrency of at least 1")
    # The gate records first-seen publishers, and only for what was published.
    settings = without_recording(settings)
    app = make_app(broker_url)
    config_digest(settings)  # fail now, not in every job, on an unreadable policy file
    load_policy(settings.verification.policy_path)
    ping_broker(broker_url)
    worker = _Worker(broker_url, settings)

    def screen(task: Any, payload: Any) -> dict[str, Any]:
        return worker.screen(payload, str(task.request.hostname))

    app.task(
        name=TASK_NAME,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        typing=False,
    )(screen)
    serve_queue(
        app,
        QUEUE_NAME,
        concurrency=concurrency,
        loglevel=loglevel,
        hostname=hostname,
        what="the screening worker",
    )


def serve_queue(
    app: Any,
    queue: str,
    *,
    concurrency: int,
    loglevel: str,
    hostname: str | None,
    what: str,
) -> None:
    """Run a Celery worker of ``app`` on ``queue`` until it is told to stop; raise
    :class:`~verify.errors.IncompleteError` naming ``what`` if it stopped on an error."""
    name = hostname or f"pip-verify.{os.getpid()}@{socket.gethostname()}"
    celery_worker = app.Worker(
        hostname=name,
        queues=[queue],
        concurrency=concurrency,
        loglevel=loglevel,
        prefetch_multiplier=1,
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
    )
    celery_worker.start()
    code = celery_worker.exitcode or 0
    if code:
        raise IncompleteError(f"{what} stopped with exit code {code}")
