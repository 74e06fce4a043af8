"""The ``pip-verify`` command line: argument parsing, logging, rendering and exit codes.

Only this package prints, configures logging or exits. Exit codes are the same for every
command: 0 allowed (warnings allowed), 1 denied by policy, 2 usage or invalid input,
3 verification could not complete.

Every run builds the whole parser, so its modules import only the standard library at the top
(tests/unit/cli/test_startup.py checks it); each command imports the library, rich and the
renderers in the function that runs it, so ``--version`` and ``--help`` cost little more than
starting Python and argparse.
"""

from __future__ import annotations

import argparse
import enum
import sys
from collections.abc import Sequence

from verify._version import __version__
from verify.errors import ArchiveError, VerifyError

__all__ = ["ExitCode", "console_main", "main"]


class ExitCode(enum.IntEnum):
    """The exit codes of every pip-verify command."""

    ALLOWED = 0
    DENIED = 1
    USAGE = 2
    INCOMPLETE = 3


def _with_remedy(error: VerifyError) -> VerifyError:
    """``error``, with what to do about it when the library left that to the caller."""
    if isinstance(error, ArchiveError) and error.hint is None:
        # A file named on the command line that cannot be read as an archive: the remedy
        # depends on who holds the file, so the library leaves it out (the upload gate tells
        # an uploader something else).
        error.hint = "check that it is a complete wheel or sdist, or download it again"
    return error


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command."""
    from verify._cli import (
        check,
        diff,
        fix,
        gate,
        install,
        mcp_server,
        policy,
        proxy,
        quarantine,
        screen,
        shim,
        trust,
        verify_summary,
        worker,
    )

    parser = _Parser(
        prog="pip-verify",
        description="Verify Python dependencies before they are installed: hashes, "
        "provenance, publisher identity, and what each release adds.",
        epilog="Exit codes: 0 allowed (warnings allowed), 1 denied by policy, "
        "2 usage or invalid input, 3 verification could not complete.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    check.register(commands)
    diff.register(commands)
    fix.register(commands)
    gate.register(commands)
    install.register(commands)
    mcp_server.register(commands)
    policy.register(commands)
    proxy.register(commands)
    quarantine.register(commands)
    screen.register(commands)
    shim.register(commands)
    trust.register(commands)
    verify_summary.register(commands)
    worker.register(commands)
    return parser


def _configure_logging(verbosity: int, quiet: bool) -> None:
    # Imported here: --version and --help exit before logging is configured.
    import logging

    from rich.console import Console
    from rich.logging import RichHandler

    logger = logging.getLogger("verify")
    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    elif verbosity == 1:
        level = logging.INFO
    elif verbosity >= 2:
        level = logging.DEBUG
    handler = RichHandler(
        console=Console(stderr=True),
        show_time=False,
        show_path=False,
        markup=False,
        rich_tracebacks=False,
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    # sigstore-python and TUF log routine notes (e.g. "loaded in offline mode") as
    # warnings; pip-verify reports what matters itself, so theirs show only with -v.
    for name in ("sigstore", "tuf"):
        library = logging.getLogger(name)
        library.handlers[:] = [handler]
        library.setLevel(logging.ERROR if verbosity == 0 else level)
        library.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run pip-verify with ``argv`` (``sys.argv[1:]`` by default); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    _configure_logging(getattr(args, "verbose", 0), getattr(args, "quiet", False))
    # rich is imported once a command runs: --version and --help exit before.
    from rich.console import Console

    stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        code: int = args.handler(args)
        return code
    except VerifyError as exc:
        stderr.print(f"[bold red]pip-verify: error:[/] {_escape(_with_remedy(exc).one_line())}")
        return exc.exit_code
    except KeyboardInterrupt:
        stderr.print("pip-verify: interrupted; nothing was verified")
        return ExitCode.INCOMPLETE
    except Exception as exc:  # a bug: fail closed, and say how to get details
        if getattr(args, "verbose", 0):
            stderr.print_exception()
        stderr.print(
            f"[bold red]pip-verify: internal error:[/] {_escape(type(exc).__name__)}: "
            f"{_escape(str(exc))}; verification did not complete (rerun with -v for details)"
        )
        return ExitCode.INCOMPLETE


def _escape(text: str) -> str:
    """``text`` as one inert line of rich markup.

    Error messages quote what packages and indexes provide (file names, archive members), so
    control characters and bidirectional overrides are shown escaped, never sent to the
    terminal; rich's markup escaping alone lets them through.
    """
    from rich.markup import escape

    from verify._format.untrusted import one_line

    return escape(one_line(text))


def console_main() -> None:
    """Entry point of the ``pip-verify`` console script."""
    sys.exit(main())
