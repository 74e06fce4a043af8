"""The Celery app of the screening queue, on Redis, which the gate and the workers both build.

celery and redis are the ``queue`` extra: they are imported only when a queue is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verify._index.urls import redact
from verify.errors import UsageError

if TYPE_CHECKING:
    import celery  # type: ignore[import-untyped]

__all__ = ["QUEUE_NAME", "RESULT_EXPIRES", "TASK_NAME", "make_app"]

#: The Celery queue screening jobs travel on.
QUEUE_NAME = "pip-verify-screen"
#: The name the screening task is sent and registered under.
TASK_NAME = "pip_verify.screen"
#: How long Celery keeps a job's result, which the gate reuses for the same file (seconds).
#: The gate does not know the workers' configuration, so this bounds how long a verdict
#: outlives a policy change on the workers.
RESULT_EXPIRES = 24 * 60 * 60
_MISSING_EXTRA = "queue mode needs the 'queue' extra: pip install 'pip-verify[queue]'"
_BROKER_SCHEMES = ("redis", "rediss")


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
