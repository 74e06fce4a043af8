"""``pip-verify check``: verify what would be installed, and report."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify._cli.attest import add_attest_arguments, attestation_from
from verify._cli.defaults import DEFAULT_JOBS, DEFAULT_RETRIES, DEFAULT_TIMEOUT
from verify._cli.output import add_output_arguments, emit_report, exit_code_for, input_file
from verify._cli.settings import network_settings, verification_settings

# The settings module is standard library only, cheap enough for building the parser.
from verify.settings import ResolutionSettings, TargetEnvironment

if TYPE_CHECKING:
    from verify.check import CheckSettings

__all__ = ["register", "settings_from_args"]


def register(commands: Any) -> None:
    """Add the ``check`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "check",
        help="verify requirements, a lock file or distribution files",
        description="Resolve what would be installed (with pip's own resolver, or from a lock "
        "file), fetch every file, verify its bytes against the lock file's and the index's "
        "digests, and decide by the policy.",
    )
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="a requirement ('requests==2.32.3', 'flask>=3'), a lock file (pylock.toml), "
        "or a wheel/sdist path",
    )
    parser.add_argument(
        "-r",
        "--requirement",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a requirements file (pinned with --hash, or loose)",
    )
    parser.add_argument(
        "-c",
        "--constraint",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a constraints file for pip's resolver",
    )
    add_index_arguments(parser)
    add_target_arguments(parser)
    add_verification_arguments(parser)
    add_output_arguments(parser)
    add_attest_arguments(parser)
    parser.set_defaults(handler=run)


def settings_from_args(args: argparse.Namespace) -> CheckSettings:
    """Build the library's settings from parsed arguments."""
    # Imported here, as in every command: building the parser (for every command, --help
    # and --version) must not pay for the library.
    import dataclasses

    from verify.check import CheckSettings, sort_inputs

    inputs = sort_inputs(args.inputs)
    return CheckSettings(
        inputs=dataclasses.replace(
            inputs,
            requirement_files=(*args.requirement, *inputs.requirement_files),
            constraint_files=tuple(args.constraint),
            base=args.base,
        ),
        resolution=ResolutionSettings(
            index_url=args.index_url,
            extra_index_urls=tuple(args.extra_index_url),
            find_links=tuple(args.find_links),
            no_index=args.no_index,
            pre=args.pre,
            target=TargetEnvironment(
                python_version=args.python_version,
                platforms=tuple(args.platform),
                implementation=args.implementation,
                abis=tuple(args.abi),
            ),
            allow_source_builds=args.allow_source_builds,
        ),
        verification=verification_settings(
            args, behaviour=not args.no_behaviour, all_files=args.all_files
        ),
        network=network_settings(args),
    )


#: What :func:`settings_from_args` reads that a command without check's inputs and target
#: options (``mcp``, ``fix``) does not parse: nothing given, this interpreter as the target.
NO_INPUTS_OR_TARGET: dict[str, Any] = {
    "inputs": [],
    "requirement": [],
    "constraint": [],
    "python_version": None,
    "platform": [],
    "implementation": None,
    "abi": [],
}


def run(args: argparse.Namespace) -> int:
    """Run ``check`` and print its report."""
    from rich.console import Console

    from verify.check import run_check

    settings = settings_from_args(args)
    attestation = attestation_from(args, input_file(args))
    stderr = Console(stderr=True)
    show_progress = stderr.is_terminal and not args.quiet
    with contextlib.ExitStack() as stack:
        progress = None
        if show_progress:
            # Imported only for a terminal: rich's progress display is most of its import.
            from verify._cli.progress import DownloadProgress

            progress = stack.enter_context(DownloadProgress(stderr))
        report = run_check(settings, progress=progress)
    emit_report(report, args, stdout=sys.stdout)
    if attestation is not None:
        attestation.write(report)
    return exit_code_for(report)


def add_index_arguments(parser: argparse.ArgumentParser) -> None:
    """Where packages come from: the index options pip has."""
    index = parser.add_argument_group("indexes (default: pip's configuration)")
    index.add_argument(
        "-i", "--index-url", metavar="URL", help="simple API root (http(s):// or file://)"
    )
    index.add_argument(
        "--extra-index-url",
        action="append",
        default=[],
        metavar="URL",
        help="another index; repeatable",
    )
    index.add_argument(
        "-f",
        "--find-links",
        action="append",
        default=[],
        metavar="URL",
        help="passed to pip's resolver; files found there are flagged index-unlisted",
    )
    index.add_argument("--no-index", action="store_true", help="no index: local files only")
    index.add_argument("--pre", action="store_true", help="let pip pick pre-releases")


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """The environment files are selected for."""
    target = parser.add_argument_group("target environment (default: this interpreter)")
    target.add_argument(
        "--python-version", metavar="X.Y", help="resolve and select files for this Python"
    )
    target.add_argument(
        "--platform", action="append", default=[], metavar="TAG", help="platform tag; repeatable"
    )
    target.add_argument("--implementation", metavar="IMPL")
    target.add_argument("--abi", action="append", default=[], metavar="ABI")


def add_verification_arguments(parser: argparse.ArgumentParser, *, resolving: bool = True) -> None:
    """How files are verified and judged: policy, provenance, vulnerabilities, cache.

    ``resolving=False`` leaves out what only applies to resolved inputs and lock files
    (``screen`` judges the files it is given, always with the behaviour diff).
    """
    behaviour = parser.add_argument_group("verification")
    if resolving:
        behaviour.add_argument(
            "--allow-source-builds",
            action="store_true",
            help="let pip's resolver build sdists to learn their dependencies (runs their "
            "code); by default it uses wheels only",
        )
        behaviour.add_argument(
            "--all-files",
            action="store_true",
            help="verify every file a lock allows, not only the one this environment would install",
        )
    behaviour.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="policy file (default: the embedded default policy)",
    )
    behaviour.add_argument(
        "--trust-config",
        type=Path,
        metavar="FILE",
        help="Sigstore ClientTrustConfig or TrustedRoot JSON of a private Sigstore instance "
        "(default: production Sigstore)",
    )
    behaviour.add_argument(
        "--osv-url",
        metavar="URL",
        help="OSV-compatible API for known vulnerabilities (default: OSV, as pip-audit uses)",
    )
    behaviour.add_argument(
        "--vulnerability-db",
        type=Path,
        metavar="PATH",
        help="a directory or zip of OSV records (OSV's all.zip layout) for air-gapped use",
    )
    behaviour.add_argument(
        "--trust-store",
        type=Path,
        metavar="FILE",
        help="trust store of first-seen publishers (default: ./pip-verify.trust.toml)",
    )
    behaviour.add_argument(
        "--no-record",
        action="store_true",
        help="compare with the trust store but do not record first-seen publishers",
    )
    behaviour.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="NAME:kind=K,repository=R[,workflow=W][,environment=E]",
        help="the publisher a package must come from (repeatable; any listed one matches)",
    )
    if resolving:
        behaviour.add_argument(
            "--base",
            metavar="REF",
            help="verify only what the lock files changed since this git ref (all changed "
            "lock files when none are named); upgrades are diffed against the version they "
            "replace",
        )
        behaviour.add_argument(
            "--no-behaviour",
            action="store_true",
            help="skip the behaviour diff (what each release adds compared with the one before)",
        )
    behaviour.add_argument(
        "--offline", action="store_true", help="no network at all: only local files and the cache"
    )
    behaviour.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="cache directory (default: $PIP_VERIFY_CACHE_DIR or the user cache directory)",
    )
    behaviour.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="seconds any network connect or read may wait; a whole request, retries "
        "included, may take SECONDS*(N+2) with N = --retries, plus SECONDS per MiB received "
        f"(default: {DEFAULT_TIMEOUT:g})",
    )
    behaviour.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        metavar="N",
        help=f"retries on connection errors and HTTP 429/5xx (default: {DEFAULT_RETRIES})",
    )
    behaviour.add_argument(
        "--jobs", type=int, default=DEFAULT_JOBS, metavar="N", help="parallel downloads"
    )
