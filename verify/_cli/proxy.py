"""``pip-verify proxy``: a verified pull-through index in front of an upstream index."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from verify._cli.check import add_verification_arguments
from verify._cli.serving import (
    add_review_arguments,
    event_log,
    listen_address,
    load_reviewers,
    seconds,
    stop_on_sigterm,
)
from verify._cli.settings import network_settings, verification_settings
from verify._proxy import DEFAULT_FILE_BUDGET, DEFAULT_PAGE_BUDGET, DEFAULT_VERDICT_MAX_AGE
from verify._upload import require_gate_extra
from verify.errors import UsageError

if TYPE_CHECKING:
    from verify.settings import VerificationSettings

__all__ = ["proxy_verification", "register", "upstream_url"]

_MODES = ("hide", "verify-on-request", "show-yanked")


def register(commands: Any) -> None:
    """Add the ``proxy`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "proxy",
        help="serve a verified pull-through index (point pip, uv or Poetry at it)",
        description="Serve the simple API (PEP 691 JSON and PEP 503 HTML) for --upstream, "
        "listing only files that passed verification, and serve those files from the content "
        "store: exactly the bytes that were verified. Denied files are left out (or listed as "
        "yanked with --show-denied), so an unmodified pip or uv resolves to the newest allowed "
        "release; a request for a file that did not pass gets HTTP 403 with the reason.",
    )
    parser.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="the upstream index's simple API root (https://index.example/simple/) or a "
        "file:// index",
    )
    parser.add_argument(
        "--listen",
        default="127.0.0.1:8088",
        metavar="HOST:PORT",
        help="where the proxy listens (default: 127.0.0.1:8088; port 0 picks a free one)",
    )
    parser.add_argument(
        "--unverified",
        choices=_MODES,
        default="hide",
        help="what a page does with files not verified yet: leave them out (hide, the "
        "default: only releases newer than the newest that passed; that release's other files "
        "and older releases stay listed, verified when asked for), list them and verify each "
        "when it is asked for (verify-on-request), or list them as yanked (show-yanked)",
    )
    parser.add_argument(
        "--show-denied",
        action="store_true",
        help="list denied files as yanked, with the reason, instead of leaving them out",
    )
    parser.add_argument(
        "--broker",
        metavar="URL",
        help="verify on `pip-verify worker --proxy-upstream` processes through this Celery "
        "broker (redis://host:6379/0), and share verdicts and reviewers' decisions there with "
        "every proxy on it",
    )
    parser.add_argument(
        "--page-budget",
        type=seconds,
        default=DEFAULT_PAGE_BUDGET,
        metavar="SECONDS",
        help="how long a page request waits for verification before answering with what is "
        f"verified; the rest carries on in the background (default: {DEFAULT_PAGE_BUDGET:g})",
    )
    parser.add_argument(
        "--file-budget",
        type=seconds,
        default=DEFAULT_FILE_BUDGET,
        metavar="SECONDS",
        help="how long a file request waits for that file's verification before answering "
        f"503 (default: {DEFAULT_FILE_BUDGET:g})",
    )
    parser.add_argument(
        "--verdict-max-age",
        type=seconds,
        default=DEFAULT_VERDICT_MAX_AGE,
        metavar="SECONDS",
        help="how long a verdict is used before the file is verified again "
        f"(default: {DEFAULT_VERDICT_MAX_AGE:g})",
    )
    add_review_arguments(parser, server="proxy")
    parser.add_argument(
        "--threads", type=int, default=16, metavar="N", help="requests served at once (default: 16)"
    )
    add_verification_arguments(parser, resolving=False)
    parser.add_argument(
        "--no-behaviour",
        action="store_true",
        help="skip the behaviour diff (what each release adds compared with the one before)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (repeat for debug)"
    )
    parser.set_defaults(handler=run, quiet=False)


def run(args: argparse.Namespace) -> int:
    """Run the proxy until interrupted."""
    require_gate_extra()
    from verify._index.urls import redact
    from verify._proxy.app import ProxyApp
    from verify._proxy.index import ProxySettings, UnverifiedMode, VerifiedIndex
    from verify._proxy.review import DeniedFiles
    from verify._serve.review import Review
    from verify._upload.server import serve

    upstream = upstream_url(args.upstream)
    host, port = listen_address(args.listen)
    if args.threads < 1:
        raise UsageError("--threads must be at least 1")
    reviewers = load_reviewers(args)
    settings = ProxySettings(
        upstream=upstream,
        verification=proxy_verification(args),
        network=network_settings(args),
        unverified=UnverifiedMode(args.unverified),
        show_denied=args.show_denied,
        broker=args.broker,
        page_budget=args.page_budget,
        file_budget=args.file_budget,
        verdict_max_age=args.verdict_max_age,
    )
    event_log("verify.proxy")
    index = VerifiedIndex(settings)
    review = (
        Review(
            DeniedFiles(index),
            index.decisions,
            reviewers,
            public=args.review_public,
            trust_store=settings.verification.trust_store,
        )
        if reviewers
        else None
    )
    app = ProxyApp(index, review)

    def ready(url: str) -> None:
        print(
            f"pip-verify proxy: listening on {url}simple/, verifying {redact(upstream)}",
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
                # Clients send GET requests only: no body worth more than headers.
                max_upload_bytes=64 * 1024,
                on_ready=ready,
                ident="pip-verify-proxy",
            )
    finally:
        index.close()
    return 0


def upstream_url(text: str) -> str:
    """``--upstream``, ending in a slash; a usage error for anything but http(s) or file."""
    from verify._index.urls import redact

    upstream = text if text.endswith("/") else text + "/"
    if urlsplit(upstream).scheme not in ("http", "https", "file"):
        raise UsageError(f"--upstream must be an http(s) or file:// URL, not {redact(upstream)}")
    return upstream


def proxy_verification(args: argparse.Namespace) -> VerificationSettings:
    """The verification settings of a proxy, and of the workers that verify for it."""
    verification = verification_settings(args, behaviour=not args.no_behaviour)
    # The proxy compares publishers with the trust store and never writes it: an admin
    # decides what it trusts (`pip-verify trust`), not the first client to ask.
    return dataclasses.replace(verification, record=False)
