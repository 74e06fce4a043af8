"""``pip-verify install``: a drop-in for ``pip install`` that installs the verified bytes."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify._cli.attest import add_attest_arguments, attestation_from
from verify._cli.check import (
    add_index_arguments,
    add_target_arguments,
    add_verification_arguments,
    settings_from_args,
)
from verify._cli.output import add_output_arguments, emit_report, exit_code_for, input_file
from verify.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from verify.install import InstallOutcome, InstallSettings
    from verify.models import Report

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``install`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "install",
        help="verify, then install exactly the verified files (instead of pip install)",
        description="Resolve like pip install (wheels only by default), verify every file "
        "exactly as check does, then install the verified files from the cache with pip in "
        "hash-checking mode, with no index and no dependency resolution at install time. "
        "Nothing is installed when anything is denied or could not be verified.",
    )
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="a requirement ('requests', 'flask>=3'), a lock file (pylock.toml), or a wheel path",
    )
    parser.add_argument("-r", "--requirement", action="append", default=[], type=Path)
    parser.add_argument("-c", "--constraint", action="append", default=[], type=Path)
    parser.add_argument("-e", "--editable", action="append", default=[], metavar="PATH")
    parser.add_argument("-U", "--upgrade", action="store_true", help="as pip install --upgrade")
    parser.add_argument("--no-deps", action="store_true", help="as pip install --no-deps")
    parser.add_argument("--target", metavar="DIR", help="as pip install --target")
    parser.add_argument("--prefix", metavar="DIR", help="as pip install --prefix")
    parser.add_argument("--user", action="store_true", help="as pip install --user")
    parser.add_argument(
        "--only-binary", action="append", default=[], metavar="FORMATS", help=":all: is the default"
    )
    parser.add_argument(
        "--no-binary",
        action="append",
        default=[],
        metavar="FORMATS",
        help="needs --allow-source-builds (building runs the package's code)",
    )
    parser.add_argument(
        "--no-build-isolation",
        action="store_true",
        help="build allowed sdists with the target environment's own build tools (pip-verify "
        "never lets pip download unverified build requirements)",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="the environment to install into (default: the active virtual environment, "
        "else this interpreter's)",
    )
    parser.add_argument("--dry-run", action="store_true", help="decide and report; install nothing")
    parser.add_argument(
        "-y", "--yes", action="store_true", help="install despite warnings without asking"
    )
    add_index_arguments(parser)
    add_target_arguments(parser)
    add_verification_arguments(parser)
    add_output_arguments(parser)
    add_attest_arguments(parser)
    parser.set_defaults(handler=run)


def _refuse_unsupported(args: argparse.Namespace) -> None:
    if args.editable:
        raise UsageError(
            f"-e {args.editable[0]}: an editable install runs the project's build backend and "
            "has no published bytes to verify",
            hint="pip-verify install the project's dependencies, then pip install -e it yourself",
        )
    if args.no_binary and not args.allow_source_builds:
        raise UsageError(
            "--no-binary needs --allow-source-builds: building from source runs the package's code",
        )
    if (args.python_version or args.platform or args.implementation or args.abi) and not (
        args.target or args.dry_run
    ):
        raise UsageError(
            "--python-version/--platform/--implementation/--abi install files for another "
            "environment: pass --target DIR (as pip requires) or --dry-run",
        )
    if sum(bool(x) for x in (args.target, args.prefix, args.user)) > 1:
        raise UsageError("--target, --prefix and --user are alternatives; pass one")
    for item in args.only_binary:
        if item != ":all:":
            raise UsageError(
                f"--only-binary {item}: pip-verify install already uses wheels only for "
                "every package (--only-binary :all:)",
            )


def _where(args: argparse.Namespace) -> tuple[str, ...]:
    options: list[str] = []
    if args.target:
        options += ["--target", args.target]
    if args.prefix:
        options += ["--prefix", args.prefix]
    if args.user:
        options.append("--user")
    return tuple(options)


def settings_from_install_args(args: argparse.Namespace) -> InstallSettings:
    """The library's settings from parsed ``install`` arguments."""
    # Imported here: building the parser must not pay for the library (see check.py).
    import dataclasses

    from verify._cli.environment import virtual_env
    from verify.install import InstallSettings, target_environment

    _refuse_unsupported(args)
    check = settings_from_args(args)
    where = _where(args)
    resolve_options = (*where, *(["--no-deps"] if args.no_deps else []))
    for item in args.no_binary:
        resolve_options += ("--no-binary", item)
    resolution = dataclasses.replace(
        check.resolution,
        ignore_installed=False,
        upgrade=args.upgrade,
        install_options=resolve_options,
        environment=target_environment(args.python, virtual_env=virtual_env()),
    )
    check = dataclasses.replace(check, resolution=resolution)
    install_options = (*where, *(["--no-build-isolation"] if args.no_build_isolation else []))
    return InstallSettings(
        check=check,
        python=resolution.environment,
        dry_run=args.dry_run,
        install_options=install_options,
    )


def _summary(outcome: InstallOutcome) -> str:
    from verify.models import Decision, ProvenanceStatus

    report = outcome.report
    attested = sum(1 for p in report.packages if p.provenance.status is ProvenanceStatus.VERIFIED)
    warnings = sum(1 for p in report.packages for r in p.reasons if r.decision is Decision.WARN)
    return (
        f"installed {len(outcome.installed)} package(s) into {outcome.python} "
        f"({attested} with verified provenance, {warnings} warning(s))"
    )


def _confirm(console: Console) -> Any:
    from verify._format.text import render_text

    def ask(report: Report) -> bool:
        render_text(report, console)
        console.print("Proceed? [y/N] ", end="")
        try:
            answer = input()
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")

    return ask


def run(args: argparse.Namespace) -> int:
    """Run ``install``: decide, then install or say why not."""
    from rich.console import Console

    from verify._cli.progress import DownloadProgress
    from verify._format.text import render_reasons
    from verify.install import run_install

    settings = settings_from_install_args(args)
    attestation = attestation_from(args, input_file(args))
    stderr = Console(stderr=True, highlight=False)
    interactive = sys.stdin.isatty() and stderr.is_terminal and not args.yes
    with contextlib.ExitStack() as stack:
        show = stderr.is_terminal and not args.quiet
        progress = stack.enter_context(DownloadProgress(stderr)) if show else None
        outcome = run_install(
            settings, confirm=_confirm(stderr) if interactive else None, progress=progress
        )
    report = outcome.report
    if attestation is not None:
        # Written whatever was installed: it says what was verified and decided.
        attestation.write(report)
    if outcome.installed:
        if args.format == "json" or args.output is not None:
            emit_report(report, args, stdout=sys.stdout)
        if not args.quiet:
            render_reasons(report, stderr)
            stderr.print(f"pip-verify: {_summary(outcome)}")
        return 0
    if report.packages or args.format == "json" or args.output is not None:
        emit_report(report, args, stdout=sys.stdout)
    from rich.markup import escape

    from verify._format.untrusted import one_line

    # Why nothing was installed can quote a package (its name, a reason the policy gave).
    skipped = escape(one_line(outcome.skipped or ""))
    stderr.print(f"pip-verify: {skipped} (environment: {escape(str(outcome.python))})")
    if outcome.skipped and outcome.skipped.startswith("not confirmed"):
        return 1
    return exit_code_for(report)
