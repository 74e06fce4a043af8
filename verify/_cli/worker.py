"""``pip-verify worker``: screen uploads that ``pip-verify gate --broker`` puts on a queue, or,
with ``--proxy-upstream``, verify files for ``pip-verify proxy --broker``."""

from __future__ import annotations

import argparse
from typing import Any

from verify._cli.check import add_verification_arguments
from verify._cli.screen import add_screen_arguments, screen_settings
from verify.errors import UsageError

__all__ = ["register"]

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def register(commands: Any) -> None:
    """Add the ``worker`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "worker",
        help="screen uploads (pip-verify gate --broker) or verify files (pip-verify proxy "
        "--broker) from a queue (Celery on Redis)",
        description="Run a screening worker: take upload screening jobs from the queue at "
        "--broker, one at a time, screen each as pip-verify screen would, and answer the gate "
        "with its verdict. Verdicts are shared through Redis, so a file is analysed once "
        "across all workers with the same configuration. Stops cleanly on SIGTERM or "
        "Ctrl-C, after the job in progress; a job whose worker dies goes back on the queue. "
        "With --proxy-upstream it verifies files for pip-verify proxy --broker instead. "
        "Needs the 'queue' extra: pip install 'pip-verify[queue]'.",
    )
    queue = parser.add_argument_group("queue")
    queue.add_argument(
        "--broker",
        required=True,
        metavar="URL",
        help="Redis URL of the queue, also used for results and shared verdicts "
        "(e.g. redis://127.0.0.1:6379/0)",
    )
    queue.add_argument(
        "--concurrency",
        type=int,
        default=1,
        metavar="N",
        help="jobs screened at once, one process each (default: 1)",
    )
    queue.add_argument(
        "--loglevel",
        type=str.upper,
        choices=_LOG_LEVELS,
        default="INFO",
        metavar="LEVEL",
        help=f"worker log level: {', '.join(_LOG_LEVELS)} (default: INFO)",
    )
    queue.add_argument(
        "--name",
        metavar="NAME",
        help="worker name, unique per worker (default: pip-verify.<pid>@<host>)",
    )
    queue.add_argument(
        "--proxy-upstream",
        metavar="URL",
        help="verify files for `pip-verify proxy --broker` in front of this upstream index "
        "(the proxies' --upstream), instead of screening uploads; give the worker the "
        "proxies' verification options, or it refuses their jobs",
    )
    add_screen_arguments(parser)
    add_verification_arguments(parser, resolving=False)
    parser.add_argument(
        "--no-behaviour",
        action="store_true",
        help="with --proxy-upstream: skip the behaviour diff, as the proxies do",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run a worker until it is told to stop; 0 after a clean shutdown."""
    import logging

    from verify._upload.queue import run_worker
    from verify.screen import with_public_indexes

    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    verify_logger = logging.getLogger("verify")
    level = logging.getLevelName(args.loglevel)
    if isinstance(level, int) and level < verify_logger.getEffectiveLevel():
        verify_logger.setLevel(level)
    if args.proxy_upstream is not None:
        return _run_proxy_worker(args)
    if args.no_behaviour:
        raise UsageError("--no-behaviour is for --proxy-upstream workers")
    settings = with_public_indexes(screen_settings(args, files=()))
    run_worker(
        args.broker,
        settings,
        concurrency=args.concurrency,
        loglevel=args.loglevel,
        hostname=args.name,
    )
    return 0


def _run_proxy_worker(args: argparse.Namespace) -> int:
    from verify._cli.proxy import proxy_verification, upstream_url
    from verify._cli.settings import network_settings
    from verify._proxy.index import ProxySettings
    from verify._proxy.worker import run_proxy_worker

    settings = ProxySettings(
        upstream=upstream_url(args.proxy_upstream),
        verification=proxy_verification(args),
        network=network_settings(args),
    )
    run_proxy_worker(
        args.broker,
        settings,
        concurrency=args.concurrency,
        loglevel=args.loglevel,
        hostname=args.name,
    )
    return 0
