"""The settings every command shares, built from parsed arguments.

:mod:`verify.settings` defines them; the commands' parsers add the arguments
(``add_verification_arguments`` in :mod:`verify._cli.check`), and this module reads them back,
with the environment variables the CLI alone consults.
"""

from __future__ import annotations

import argparse

from verify._cli.defaults import DEFAULT_TRUST_STORE
from verify._cli.environment import CACHE_DIR_ENV, env_path, env_text
from verify.settings import DEFAULT_JOBS, NetworkSettings, VerificationSettings

__all__ = ["network_settings", "verification_settings"]


def verification_settings(
    args: argparse.Namespace, *, behaviour: bool = True, all_files: bool = False
) -> VerificationSettings:
    """The verification settings :func:`add_verification_arguments` collects, which
    ``check``, ``install``, ``screen`` and ``gate`` share."""
    return VerificationSettings(
        policy_path=args.policy,
        trust_config=args.trust_config,
        expect=tuple(args.expect),
        trust_store=args.trust_store or DEFAULT_TRUST_STORE,
        record=not args.no_record,
        osv_url=args.osv_url or env_text("PIP_VERIFY_OSV_URL"),
        vulnerability_db=args.vulnerability_db or env_path("PIP_VERIFY_VULNERABILITY_DB"),
        behaviour=behaviour,
        all_files=all_files,
    )


def network_settings(args: argparse.Namespace) -> NetworkSettings:
    """The network settings from ``--offline``, ``--cache-dir``, ``--timeout``,
    ``--retries`` and ``--jobs`` (where the command has them), for every command."""
    return NetworkSettings(
        offline=args.offline,
        cache_dir=args.cache_dir or env_path(CACHE_DIR_ENV),
        timeout=args.timeout,
        retries=max(0, args.retries),
        # diff downloads two files and has no --jobs.
        jobs=max(1, getattr(args, "jobs", DEFAULT_JOBS)),
    )
