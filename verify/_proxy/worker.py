"""``pip-verify worker --proxy-upstream URL``: verifying files for ``pip-verify proxy --broker``.

The worker takes the proxy's jobs (:mod:`.remote`) from the queue, one at a time per pool
process, verifies each file with ``check``'s engine as the proxy itself would (the same
:class:`~verify._proxy.index.VerifiedIndex`, verifying in this process), keeps the verdict and
its report in Redis, and answers with the outcome. It acknowledges a job only once it is done,
so a job whose worker dies goes back on the queue.

A job from a proxy whose verdict digest differs from this worker's is refused, not verified:
the digest covers the pip-verify version, the policy, trust configuration and trust store
bytes, the upstream and the options that change a decision, so a verdict made here would not
be the one the proxy's settings give.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from typing import Any

from verify._proxy.index import ProxySettings, VerifiedIndex
from verify._proxy.remote import PROXY_QUEUE, PROXY_TASK, decode_job, judged_to_dict
from verify._proxy.verdicts import verdict_digest
from verify._upload.queue_app import make_app
from verify._upload.queue_worker import ping_broker, serve_queue
from verify.errors import UsageError
from verify.policy import load_policy

__all__ = ["run_proxy_worker"]

logger = logging.getLogger(__name__)

#: What a refused job's answer says when the digests differ.
DIGEST_DIFFERS = (
    "the worker's verdict digest differs from the proxy's: give both the same pip-verify "
    "version, --policy, trust files, upstream and verification options"
)


class _ProxyWorker:
    """What one worker shares with its task; the index is built in each pool process."""

    def __init__(self, settings: ProxySettings, digest: str) -> None:
        self.settings = settings
        self.digest = digest
        self._lock = threading.Lock()
        self._index: VerifiedIndex | None = None
        self._pid = 0

    def index(self) -> VerifiedIndex:
        # The prefork pool forks after start-up: threads and sockets are made per process.
        with self._lock:
            if self._index is None or self._pid != os.getpid():
                self._index = VerifiedIndex(self.settings, verify_locally=True)
                self._pid = os.getpid()
            return self._index

    def verify(self, payload: Any) -> dict[str, Any]:
        try:
            job, digest = decode_job(payload)
        except ValueError as exc:
            logger.warning("refused a malformed proxy job: %s", exc)
            return {"refused": str(exc)}
        if digest != self.digest:
            logger.warning("refused a job for %s: %s", job.filename, DIGEST_DIFFERS)
            return {"refused": DIGEST_DIFFERS}
        judged = self.index().verify_here(job)
        logger.info("verified %s: %s", job.filename, judged.reason)
        return judged_to_dict(judged)


def run_proxy_worker(
    broker_url: str,
    settings: ProxySettings,
    *,
    concurrency: int = 1,
    loglevel: str = "INFO",
    hostname: str | None = None,
) -> None:
    """Verify the jobs of proxies on the queue at ``broker_url`` until told to stop.

    ``settings`` must be the proxies' own (the same verdict digest); verdicts are kept in the
    broker's Redis. Raises :class:`~verify.errors.UsageError` when the ``queue`` extra is
    missing or the broker URL is not a Redis URL, :class:`~verify.errors.PolicyError` for an
    unusable policy, and :class:`~verify.errors.IncompleteError` when Redis cannot be reached
    at start-up or the worker stopped on an error.
    """
    if concurrency < 1:
        raise UsageError("the worker needs a concurrency of at least 1")
    settings = dataclasses.replace(settings, broker=broker_url)
    app = make_app(broker_url)
    # Fail now, not in every job, on an unreadable policy or trust file.
    digest = verdict_digest(settings.upstream, settings.verification, settings.network)
    load_policy(settings.verification.policy_path)
    ping_broker(broker_url)
    worker = _ProxyWorker(settings, digest)

    def verify(task: Any, payload: Any) -> dict[str, Any]:
        return worker.verify(payload)

    app.task(
        name=PROXY_TASK,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        typing=False,
    )(verify)
    serve_queue(
        app,
        PROXY_QUEUE,
        concurrency=concurrency,
        loglevel=loglevel,
        hostname=hostname,
        what="the proxy's verification worker",
    )
