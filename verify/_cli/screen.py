"""``pip-verify screen``: judge distribution files before they are uploaded to an index."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify._cli.attest import add_attest_arguments, attestation_from
from verify._cli.check import add_verification_arguments
from verify._cli.output import add_output_arguments, emit_report, exit_code_for
from verify._cli.settings import network_settings, verification_settings

if TYPE_CHECKING:
    from verify.screen import ScreenSettings

__all__ = ["register", "screen_settings"]


def register(commands: Any) -> None:
    """Add the ``screen`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "screen",
        help="screen wheels and sdists before they are uploaded to a private index",
        description="Screen distribution files before they are published: name, version and "
        "metadata agree; attestations beside each file (twine's <file>.*.attestation) verify "
        "against the publisher pinned for the project; what the release adds compared with "
        "the newest earlier release on --index; that the name is not a public project's "
        "unless the policy binds it to the private index; and the policy. Exit codes as for "
        "check.",
    )
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="DIST",
        help="a wheel or sdist, or a directory of them (dist/)",
    )
    add_screen_arguments(parser)
    add_verification_arguments(parser, resolving=False)
    add_output_arguments(parser)
    add_attest_arguments(parser)
    parser.set_defaults(handler=run)


def add_screen_arguments(parser: argparse.ArgumentParser) -> None:
    """``--index``, ``--public-index`` and ``--no-public-check`` (``screen`` and ``gate``)."""
    group = parser.add_argument_group("indexes")
    group.add_argument(
        "--index",
        metavar="URL",
        help="simple API root of the private index the files are bound for; its earlier "
        "releases are the baseline (default: none, so no behaviour baseline)",
    )
    group.add_argument(
        "--public-index",
        action="append",
        default=None,
        metavar="URL",
        help="a public index whose project names the private index must not take "
        "(repeatable; default: the indexes pip is configured with)",
    )
    group.add_argument(
        "--no-public-check",
        action="store_true",
        help="do not ask any public index (the public-name rule is then not evaluated)",
    )


def screen_settings(args: argparse.Namespace, files: tuple[Path, ...]) -> ScreenSettings:
    """The library's settings from parsed ``screen`` or ``gate`` arguments."""
    # Imported here: building the parser must not pay for the library (see check.py).
    from verify.screen import ScreenSettings

    public: tuple[str, ...] | None = None
    if args.no_public_check:
        public = ()
    elif args.public_index:
        public = tuple(args.public_index)
    return ScreenSettings(
        files=files,
        index_url=args.index,
        public_index_urls=public,
        verification=verification_settings(args),
        network=network_settings(args),
    )


def run(args: argparse.Namespace) -> int:
    """Run ``screen`` and print its report."""
    from rich.console import Console

    from verify._cli.progress import DownloadProgress
    from verify.screen import run_screen

    settings = screen_settings(args, tuple(args.files))
    attestation = attestation_from(args, None)
    stderr = Console(stderr=True)
    show_progress = stderr.is_terminal and not args.quiet
    with contextlib.ExitStack() as stack:
        progress = stack.enter_context(DownloadProgress(stderr)) if show_progress else None
        report = run_screen(settings, progress=progress)
    emit_report(report, args, stdout=sys.stdout)
    if attestation is not None:
        attestation.write(report)
    return exit_code_for(report)
