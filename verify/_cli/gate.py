"""``pip-verify gate``: an upload gate in front of a private index."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from verify._cli.check import add_verification_arguments
from verify._cli.defaults import DEFAULT_TRUST_STORE
from verify._cli.screen import add_screen_arguments, screen_settings
from verify._cli.serving import (
    add_review_arguments,
    event_log,
    listen_address,
    load_reviewers,
    seconds,
    stop_on_sigterm,
)
from verify._upload import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_UPLOAD,
    DEFAULT_REQUEST_DEADLINE,
    require_gate_extra,
)
from verify.errors import UsageError

if TYPE_CHECKING:
    from verify._upload.app import Screener

__all__ = ["parse_size", "register"]

_SIZE = re.compile(r"(?P<number>\d+)\s*(?P<unit>[kmg]?i?b?)?", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def register(commands: Any) -> None:
    """Add the ``gate`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "gate",
        help="run an upload gate in front of a private index (twine upload goes through it)",
        description="Serve the legacy upload API that twine and uv publish use. Each upload is "
        "screened as `pip-verify screen` would; accepted uploads are forwarded byte for byte "
        "to --upstream with the uploader's own credentials, refused ones get HTTP 403 with the "
        "reason and are kept in --quarantine.",
    )
    parser.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="the upstream index's upload URL (pypiserver: http://host:8080/)",
    )
    parser.add_argument(
        "--listen",
        default="127.0.0.1:8099",
        metavar="HOST:PORT",
        help="where the gate listens (default: 127.0.0.1:8099; port 0 picks a free one)",
    )
    parser.add_argument(
        "--quarantine",
        required=True,
        type=Path,
        metavar="DIR",
        help="where refused uploads are kept (see `pip-verify quarantine`)",
    )
    parser.add_argument(
        "--max-upload-size",
        type=parse_size,
        default=DEFAULT_MAX_UPLOAD,
        metavar="SIZE",
        help="largest upload accepted, e.g. 100M or 2G (default: 100M)",
    )
    parser.add_argument(
        "--threads", type=int, default=8, metavar="N", help="uploads served at once (default: 8)"
    )
    parser.add_argument(
        "--upload-idle-timeout",
        type=seconds,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help="answer 408 and close the connection when an upload sends no bytes for this long "
        f"(default: {DEFAULT_IDLE_TIMEOUT:g})",
    )
    parser.add_argument(
        "--upload-deadline",
        type=seconds,
        default=DEFAULT_REQUEST_DEADLINE,
        metavar="SECONDS",
        help="answer 408 and close the connection when an upload has not arrived in full this "
        f"long after it began (default: {DEFAULT_REQUEST_DEADLINE:g})",
    )
    parser.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="screen uploads that carry no credentials (by default they get 401 at once)",
    )
    parser.add_argument(
        "--broker",
        metavar="URL",
        help="screen on `pip-verify worker` processes through this Celery broker "
        "(redis://host:6379/0) instead of in the gate",
    )
    parser.add_argument(
        "--queue-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for a worker's verdict (default: 300)",
    )
    add_review_arguments(parser, server="gate")
    add_screen_arguments(parser)
    add_verification_arguments(parser, resolving=False)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (repeat for debug)"
    )
    parser.set_defaults(handler=run, quiet=False)


def parse_size(text: str) -> int:
    """``100M``, ``2G``, ``512k`` or a byte count."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 100M, 2G)")
    unit = (match["unit"] or "").lower().rstrip("b").rstrip("i")
    size = int(match["number"]) * _UNITS[unit]
    if size <= 0:
        raise argparse.ArgumentTypeError("the size must be positive")
    return size


def run(args: argparse.Namespace) -> int:
    """Run the gate until interrupted."""
    # Waitress and Werkzeug are the 'gate' extra: without them, one line saying so (exit 2).
    require_gate_extra()
    # Imported here: the server and its framework cost start-up time every other command
    # would pay.
    from verify._index.session import HttpSession
    from verify._index.urls import redact
    from verify._serve.decisions import Decisions
    from verify._serve.review import Review
    from verify._upload.app import GateConfig, LocalScreener, UploadGate
    from verify._upload.quarantine import Quarantine
    from verify._upload.review import DECISIONS_FILE, QuarantinedFiles
    from verify._upload.server import serve
    from verify.policy import load_policy
    from verify.screen import with_public_indexes, without_recording

    upstream = args.upstream if args.upstream.endswith("/") else args.upstream + "/"
    if urlsplit(upstream).scheme not in ("http", "https"):
        raise UsageError(f"--upstream must be an http(s) URL, not {redact(upstream)}")
    host, port = listen_address(args.listen)
    if args.threads < 1:
        raise UsageError("--threads must be at least 1")
    reviewers = load_reviewers(args)
    if args.index is None:
        args.index = urljoin(upstream, "simple/")
    # The gate records first-seen publishers itself, and only for uploads the upstream took.
    settings = without_recording(with_public_indexes(screen_settings(args, ())))
    trust_store = None if args.no_record else (args.trust_store or DEFAULT_TRUST_STORE)
    screener: Screener
    if args.broker:
        from verify._upload.queue import QueueScreener

        screener = QueueScreener(args.broker, timeout=args.queue_timeout)
    else:
        screener = LocalScreener(settings, load_policy(settings.verification.policy_path))
    event_log("verify.gate")
    quarantine = Quarantine(args.quarantine)
    # Read even without a review page: what reviewers allowed earlier still holds.
    decisions = Decisions(args.quarantine / DECISIONS_FILE)
    review = (
        Review(
            QuarantinedFiles(quarantine),
            decisions,
            reviewers,
            public=args.review_public,
            trust_store=trust_store,
        )
        if reviewers
        else None
    )
    with HttpSession(timeout=args.timeout, retries=max(0, args.retries)) as session:
        app = UploadGate(
            GateConfig(
                upstream_url=upstream,
                work_dir=args.quarantine / ".spool",
                max_upload_bytes=args.max_upload_size,
                require_auth=not args.allow_anonymous,
                trust_store=trust_store,
                idle_timeout=args.upload_idle_timeout,
                request_deadline=args.upload_deadline,
            ),
            screener=screener,
            quarantine=quarantine,
            session=session,
            decisions=decisions,
            review=review,
        )

        def ready(url: str) -> None:
            print(
                f"pip-verify gate: listening on {url}, forwarding to {redact(upstream)}, "
                f"screening against {redact(args.index)}",
                file=sys.stderr,
                flush=True,
            )

        try:
            with stop_on_sigterm():
                serve(
                    app,
                    host=host,
                    port=port,
                    threads=args.threads,
                    max_upload_bytes=args.max_upload_size,
                    on_ready=ready,
                    idle_timeout=app.config.idle_timeout,
                    request_deadline=app.config.request_deadline,
                )
        finally:
            app.close()
    return 0
