"""What the two long-running commands, ``gate`` and ``proxy``, share on the command line:
the listen address, durations, their one-line-per-event log, and stopping on SIGTERM."""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from verify.errors import UsageError

if TYPE_CHECKING:
    from verify._serve.reviewers import Reviewers

__all__ = ["event_log", "listen_address", "seconds", "stop_on_sigterm"]


def listen_address(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8099`` for IPv6) as a host and a port."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--listen {value!r} is not HOST:PORT", hint="e.g. 127.0.0.1:8099")
    return host.strip("[]") or "127.0.0.1", int(port)


def seconds(text: str) -> float:
    """A positive, finite number of seconds (an argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError("the time must be a positive number of seconds")
    return value


def event_log(name: str) -> None:
    """Send logger ``name``'s lines, one per event, to stderr whatever the verbosity: they
    are the command's output."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    events = logging.getLogger(name)
    events.handlers[:] = [handler]
    events.setLevel(logging.INFO)
    events.propagate = False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """While the block runs, SIGTERM (how a service manager stops a server) stops it as
    Ctrl-C does."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def add_review_arguments(parser: argparse.ArgumentParser, *, server: str) -> None:
    """Add ``--review-tokens`` and ``--review-public`` (the review page) to ``parser``."""
    parser.add_argument(
        "--review-tokens",
        type=Path,
        metavar="FILE",
        help="serve the review page (/-/review) to the reviewers this file names, one "
        "NAME:TOKEN per line; they sign in with HTTP Basic authentication (default: no "
        "review page)",
    )
    parser.add_argument(
        "--review-public",
        action="store_true",
        help=f"let anyone who can reach the {server} view the review page (deciding still "
        "needs a reviewer)",
    )


def load_reviewers(args: argparse.Namespace) -> Reviewers | None:
    """The reviewers ``--review-tokens`` names, or ``None`` when there is no review page."""
    from verify._serve.reviewers import Reviewers

    if args.review_public and args.review_tokens is None:
        raise UsageError("--review-public needs --review-tokens (who may decide)")
    return Reviewers.load(args.review_tokens) if args.review_tokens else None
