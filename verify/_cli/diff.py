"""``pip-verify diff``: what a release adds compared with an earlier one."""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify._cli.defaults import DEFAULT_RETRIES, DEFAULT_TIMEOUT
from verify._cli.settings import network_settings
from verify.errors import UsageError
from verify.settings import ResolutionSettings

if TYPE_CHECKING:
    from verify.diff import DiffResult, DiffSettings

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``diff`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "diff",
        help="show what a release adds compared with an earlier one",
        description="Compare two releases of a package on the index (NAME OLD NEW) or two "
        "distribution files (OLD_FILE NEW_FILE): files, metadata, and new behaviour "
        "(install hooks, .pth files, decoded execution, network and process access, "
        "credential reads, binaries), each finding with file and line.",
    )
    parser.add_argument("args", nargs="+", metavar="ARG", help="NAME OLD NEW, or OLD_FILE NEW_FILE")
    parser.add_argument("--sdist", action="store_true", help="compare sdists, not wheels")
    parser.add_argument("-i", "--index-url", metavar="URL", help="simple API root")
    parser.add_argument(
        "--extra-index-url", action="append", default=[], metavar="URL", help="repeatable"
    )
    parser.add_argument("--policy", type=Path, metavar="FILE", help="policy for the decision")
    parser.add_argument("--offline", action="store_true", help="only the cache, no network")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="seconds any network connect or read may wait; a whole request, retries "
        "included, may take SECONDS*(N+2) with N = --retries, plus SECONDS per MiB received "
        f"(default: {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("--retries", type=int, default=DEFAULT_RETRIES, metavar="N")
    parser.add_argument(
        "--format",
        choices=["text", "json", "html"],
        default="text",
        help="text (default), JSON, or one standalone HTML page for the people who review",
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.set_defaults(handler=run)


def settings_from_args(args: argparse.Namespace) -> DiffSettings:
    """The library's settings from parsed arguments."""
    # Imported here: building the parser must not pay for the library (see check.py).
    from verify.diff import DiffSettings

    values: list[str] = args.args
    name: str | None = None
    if len(values) == 3:
        name, *values = values
    if len(values) != 2:
        raise UsageError("diff takes NAME OLD NEW, or OLD_FILE NEW_FILE")
    return DiffSettings(
        old=values[0],
        new=values[1],
        name=name,
        sdist=args.sdist,
        policy_path=args.policy,
        resolution=ResolutionSettings(
            index_url=args.index_url, extra_index_urls=tuple(args.extra_index_url)
        ),
        network=network_settings(args),
    )


def _write(result: DiffResult, args: argparse.Namespace) -> None:
    from rich.console import Console

    from verify._format.diff import render_diff_json, render_diff_text

    if args.format in ("json", "html"):
        text = render_diff_json(result) if args.format == "json" else _html(result)
        if args.output is None:
            sys.stdout.write(text)
            return
    else:
        buffer = io.StringIO()
        to_file = args.output is not None
        console = Console(
            file=buffer if to_file else sys.stdout,
            highlight=False,
            no_color=to_file,
            width=160 if to_file else None,
        )
        render_diff_text(result, console)
        if not to_file:
            return
        text = buffer.getvalue()
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the diff to {args.output}: {exc.strerror}") from exc


def _html(result: DiffResult) -> str:
    from verify._dist.excerpt import excerpts
    from verify._format.html import detail_from_diff, render_detail

    flagged = [(f.path, f.line) for f in result.diff.findings if f.path and f.line]
    lines = excerpts(result.new_path, flagged) if result.new_path is not None else {}
    return render_detail(detail_from_diff(result, lines))


def run(args: argparse.Namespace) -> int:
    """Run ``diff`` and print it; the exit code follows the policy's decision."""
    from rich.console import Console

    from verify._cli.progress import DownloadProgress
    from verify.diff import run_diff
    from verify.models import Decision

    settings = settings_from_args(args)
    stderr = Console(stderr=True)
    with contextlib.ExitStack() as stack:
        show = stderr.is_terminal and not args.quiet
        progress = stack.enter_context(DownloadProgress(stderr)) if show else None
        result = run_diff(settings, progress=progress)
    _write(result, args)
    return 1 if result.decision is Decision.DENY else 0
