"""``pip-verify mcp``: serve pip-verify's checks to coding agents over stdio (MCP)."""

from __future__ import annotations

import argparse
from typing import Any

from verify._cli.check import (
    NO_INPUTS_OR_TARGET,
    add_index_arguments,
    add_verification_arguments,
)

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``mcp`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "mcp",
        help="serve check, explain, suggest (and install) to coding agents over stdio (MCP)",
        description="Run a Model Context Protocol server on stdin/stdout for coding agents. "
        "Its tools check requirements, explain a release's findings, suggest the established "
        "project an unknown name meant, and (with --allow-install) install exactly the "
        "verified files. Every tool runs under this command's policy and indexes, which the "
        "agent cannot change. Needs the 'mcp' extra: pip install 'pip-verify[mcp]'.",
    )
    parser.add_argument(
        "--allow-install",
        action="store_true",
        help="offer the install tool (default: agents can check, explain and suggest only)",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="the environment the install tool installs into unless a call names one "
        "(default: the active virtual environment, else this interpreter's)",
    )
    add_index_arguments(parser)
    add_verification_arguments(parser)
    parser.set_defaults(handler=run, quiet=True, **NO_INPUTS_OR_TARGET)


def run(args: argparse.Namespace) -> int:
    """Serve until the client closes stdin."""
    from verify._cli.check import settings_from_args
    from verify._cli.environment import virtual_env
    from verify._mcp.server import build_server
    from verify._mcp.tools import AgentTools
    from verify.install import target_environment

    tools = AgentTools(
        settings=settings_from_args(args),
        python=target_environment(args.python, virtual_env=virtual_env()),
    )
    build_server(tools, allow_install=args.allow_install).run("stdio")
    return 0
