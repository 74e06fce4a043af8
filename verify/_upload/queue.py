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

celery and redis are the ``queue`` extra: they are imported only here, and only when a queue
is used.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from verify._index.urls import redact
from verify._resolve.local import DIST_SUFFIXES, unsafe_filename
from verify._upload.verdict import Outcome, Verdict, reason_phrase, screen_file
from verify._version import __version__
from verify.errors import (
    ArchiveError,
    IncompleteError,
    InvalidInputError,
    PolicyError,
    UsageError,
    VerifyError,
)
from verify.screen import ScreenSettings
from verify.trust_store import DEFAULT_TRUST_STORE

if TYPE_CHECKING:
    import celery  # type: ignore[import-untyped]
    import redis

__all__ = [
    "QUEUE_NAME",
    "TASK_NAME",
    "QueueScreener",
    "config_digest",
    "job_key",
    "make_app",
    "run_worker",
]

logger = logging.getLogger(__name__)

#: The Celery queue screening jobs travel on.
QUEUE_NAME = "pip-verify-screen"
#: The name the screening task is sent and registered under.
TASK_NAME = "pip_verify.screen"
#: Version of the job message; a worker refuses messages of another version.
PAYLOAD_VERSION = 1
#: How long Celery keeps a job's result, which the gate reuses for the same file (seconds).
#: The gate does not know the workers' configuration, so this bounds how long a verdict
#: outlives a policy change on the workers.
RESULT_EXPIRES = 24 * 60 * 60
#: How long a worker keeps a verdict for other workers with the same configuration (seconds).
VERDICT_TTL = 7 * 24 * 60 * 60
#: How long a worker may hold the per-job lock: longer than any one screening (seconds).
LOCK_TTL = 30 * 60
#: How often a worker waiting on another worker's lock looks for its verdict (seconds).
LOCK_POLL = 0.2
#: The largest distribution or attestation file the queue carries (bytes): the message is
#: base64 in JSON, and one Redis value holds at most 512 MiB.
MAX_FILE_BYTES = 256 * 1024 * 1024

_KEY_PREFIX = "pip-verify"
STAT_ANALYSED = f"{_KEY_PREFIX}:stats:analysed"
STAT_CACHE_HITS = f"{_KEY_PREFIX}:stats:cache-hits"
_MISSING_EXTRA = "queue mode needs the 'queue' extra: pip install 'pip-verify[queue]'"
_BROKER_SCHEMES = ("redis", "rediss")
# Settings that can change a verdict; the rest (cache directory, timeouts, retries, download
# jobs) only change how fast or whether screening completes, and an incomplete screening is
# never cached. Workers with their own cache directories thus share verdicts.
_VERDICT_FIELDS = (
    "index_url",
    "public_index_urls",
    "policy_path",
    "trust_config",
    "expect",
    "trust_store",
    "record",
    "osv_url",
    "vulnerability_db",
    "offline",
)


# ---------------------------------------------------------------------------------------------
# Jobs: what a job is made of, and its key


@dataclasses.dataclass(frozen=True, slots=True)
class _JobFile:
    name: str
    data: bytes


def _attestation_paths(dist: Path) -> list[Path]:
    """``<file>.provenance`` and ``<file>.*.attestation`` beside ``dist``, sorted by name."""
    try:
        children = list(dist.parent.iterdir())
    except OSError:
        return []
    found = [c for c in children if _is_attestation_name(c.name, dist.name) and c.is_file()]
    return sorted(found, key=lambda path: path.name)


def _is_attestation_name(name: str, dist_name: str) -> bool:
    if name == f"{dist_name}.provenance":
        return True
    return name.startswith(f"{dist_name}.") and name.endswith(".attestation")


def _read_job(dist: Path) -> tuple[_JobFile, tuple[_JobFile, ...]]:
    _check_dist_name(dist.name)
    files = [dist, *_attestation_paths(dist)]
    read: list[_JobFile] = []
    for path in files:
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise InvalidInputError(
                    f"larger than the screening queue carries ({MAX_FILE_BYTES} bytes)", path=path
                )
            read.append(_JobFile(path.name, path.read_bytes()))
        except OSError as exc:
            raise InvalidInputError(f"cannot read: {exc.strerror}", path=path) from exc
    return read[0], tuple(read[1:])


def _key_of(dist: _JobFile, attestations: tuple[_JobFile, ...]) -> str:
    digest = hashlib.sha256(b"pip-verify-job/v1\0")
    for item in (dist, *sorted(attestations, key=lambda a: a.name)):
        name = item.name.encode("utf-8")
        digest.update(len(name).to_bytes(8, "big") + name)
        digest.update(len(item.data).to_bytes(8, "big") + item.data)
    return digest.hexdigest()


def job_key(dist: Path) -> str:
    """The key of screening ``dist``: a hex sha256 over its name and bytes and the bytes of
    the attestation files beside it (``<file>.*.attestation``, ``<file>.provenance``, sorted
    by name). The same file with the same attestations has the same key wherever it lies.

    Raises :class:`~verify.errors.InvalidInputError` if a file cannot be read.
    """
    dist_file, attestations = _read_job(dist)
    return _key_of(dist_file, attestations)


def _task_id(key: str) -> str:
    # One id per request: a stored result is never mistaken for the answer to a new request
    # (workers may have a new policy since). Repeats are cheap: workers share verdicts by key.
    return f"pip-verify-screen-{key}-{uuid.uuid4().hex[:12]}"


def _check_filename(name: str) -> None:
    if unsafe_filename(name):
        raise ValueError(f"unsafe file name in a screening job: {name!r}")


def _check_dist_name(name: str) -> None:
    if not name.endswith(DIST_SUFFIXES):
        raise InvalidInputError(
            f"not a distribution file name (expected {', '.join(DIST_SUFFIXES)})", path=name
        )
    try:
        _check_filename(name)
    except ValueError as exc:
        raise InvalidInputError(str(exc), path=name) from None


def _encode_job(dist: _JobFile, attestations: tuple[_JobFile, ...]) -> dict[str, Any]:
    return {
        "version": PAYLOAD_VERSION,
        "filename": dist.name,
        "data": base64.b64encode(dist.data).decode("ascii"),
        "attestations": [
            {"filename": a.name, "data": base64.b64encode(a.data).decode("ascii")}
            for a in attestations
        ],
    }


def _decode_file(item: Any) -> _JobFile:
    if not isinstance(item, dict):
        raise ValueError("a file in a screening job is not an object")
    name, data = item.get("filename"), item.get("data")
    if not isinstance(name, str) or not isinstance(data, str):
        raise ValueError("a file in a screening job lacks its name or its data")
    _check_filename(name)
    if len(data) > (MAX_FILE_BYTES // 3 + 1) * 4:
        raise ValueError(f"{name} is larger than the screening queue carries")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{name}: data is not base64: {exc}") from None
    return _JobFile(name, raw)


def _decode_job(payload: Any) -> tuple[_JobFile, tuple[_JobFile, ...]]:
    """The files of a job message; ``ValueError`` if it is malformed or names unsafe files."""
    if not isinstance(payload, dict):
        raise ValueError("a screening job is not an object")
    if payload.get("version") != PAYLOAD_VERSION:
        raise ValueError(f"unsupported screening job version {payload.get('version')!r}")
    dist = _decode_file(payload)
    if not dist.name.endswith(DIST_SUFFIXES):
        raise ValueError(f"not a distribution file name: {dist.name!r}")
    attestations = payload.get("attestations", [])
    if not isinstance(attestations, list):
        raise ValueError("the attestations of a screening job are not a list")
    decoded = tuple(_decode_file(item) for item in attestations)
    names = {a.name for a in decoded}
    if len(names) != len(decoded):
        raise ValueError("a screening job names an attestation file twice")
    for item in decoded:
        if not _is_attestation_name(item.name, dist.name):
            raise ValueError(f"{item.name!r} is not an attestation file of {dist.name!r}")
    return dist, decoded


# ---------------------------------------------------------------------------------------------
# Celery and Redis, imported only when a queue is used


def _celery() -> Any:
    try:
        import celery
        import redis  # noqa: F401
    except ImportError:
        raise UsageError(_MISSING_EXTRA) from None
    return celery


def _check_broker_url(broker_url: str) -> None:
    scheme = broker_url.partition("://")[0].lower()
    if scheme not in _BROKER_SCHEMES or "://" not in broker_url:
        raise UsageError(
            f"unsupported broker URL {redact(broker_url)!r}",
            hint="use a Redis URL, e.g. redis://127.0.0.1:6379/0",
        )


def make_app(broker_url: str) -> celery.Celery:
    """A Celery app for the screening queue at ``broker_url`` (Redis; also the result store).

    Raises :class:`~verify.errors.UsageError` when the ``queue`` extra is not installed or the
    URL is not a Redis URL.
    """
    celery_module = _celery()
    _check_broker_url(broker_url)
    app = celery_module.Celery("pip-verify", broker=broker_url, backend=broker_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_default_queue=QUEUE_NAME,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        result_expires=RESULT_EXPIRES,
        task_track_started=True,
        # On a lost broker connection Redis gives unacknowledged jobs back to the queue:
        # stop screening them here rather than twice.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5.0,
        # A gate facing an unreachable broker fails within seconds instead of retrying.
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        broker_transport_options={"socket_connect_timeout": 5},
        redis_socket_connect_timeout=5,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
    )
    return app


def _connection_errors() -> tuple[type[BaseException], ...]:
    import kombu.exceptions
    import redis.exceptions

    return (kombu.exceptions.OperationalError, redis.exceptions.RedisError, OSError)


# ---------------------------------------------------------------------------------------------
# The gate's side


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
        dist, attestations = _read_job(path)
        key = _key_of(dist, attestations)
        task_id = _task_id(key)
        errors = _connection_errors()
        try:
            self._redis.ping()
            result = self._app.send_task(
                TASK_NAME,
                args=[_encode_job(dist, attestations)],
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


# ---------------------------------------------------------------------------------------------
# The worker's side


def config_digest(settings: ScreenSettings) -> str:
    """A hex sha256 over what decides a verdict besides the file: the pip-verify version, the
    policy file's bytes (``<default>`` for the embedded policy), the Sigstore trust config's
    and the trust store's bytes, and the settings that can change a verdict.

    Raises :class:`~verify.errors.PolicyError` if the policy file cannot be read.
    """
    digest = hashlib.sha256(f"pip-verify/{__version__}\0".encode())
    if settings.policy_path is None:
        digest.update(b"policy:<default>\0")
    else:
        try:
            policy = settings.policy_path.read_bytes()
        except OSError as exc:
            raise PolicyError(
                f"cannot read the policy file: {exc.strerror}", path=settings.policy_path
            ) from None
        digest.update(b"policy:" + hashlib.sha256(policy).digest() + b"\0")
    if settings.trust_config is not None:
        with contextlib.suppress(OSError):
            trust = settings.trust_config.read_bytes()
            digest.update(b"trust-config:" + hashlib.sha256(trust).digest() + b"\0")
    # The trusted publishers decide publisher-change: a store an admin edited (trust accept)
    # must not be answered with verdicts made under the old one.
    store = settings.trust_store or DEFAULT_TRUST_STORE
    with contextlib.suppress(OSError):
        digest.update(b"trust-store:" + hashlib.sha256(store.read_bytes()).digest() + b"\0")
    fields = tuple((name, getattr(settings, name)) for name in _VERDICT_FIELDS)
    digest.update(repr(fields).encode())
    return digest.hexdigest()


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
    dist: _JobFile, attestations: tuple[_JobFile, ...], settings: ScreenSettings
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
        dist, attestations = _decode_job(payload)
        key = _key_of(dist, attestations)
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


def _ping(broker_url: str) -> None:
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
    settings = dataclasses.replace(settings, record=False)
    app = make_app(broker_url)
    config_digest(settings)  # fail now, not in every job, on an unreadable policy file
    load_policy(settings.policy_path)
    _ping(broker_url)
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
    name = hostname or f"pip-verify.{os.getpid()}@{socket.gethostname()}"
    celery_worker = app.Worker(
        hostname=name,
        queues=[QUEUE_NAME],
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
        raise IncompleteError(f"the screening worker stopped with exit code {code}")
