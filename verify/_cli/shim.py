"""``pip-verify shim``: route a virtual environment's ``pip install`` through pip-verify."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from verify.errors import UsageError

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``shim`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "shim",
        help="make a virtual environment's `pip install` go through pip-verify install",
        description="Wrap a virtual environment's pip scripts so that `pip install` is "
        "verified by `pip-verify install` first (every other pip command is pip's own), for "
        "the installs coding agents run in a terminal. `uninstall` restores the originals "
        "byte for byte.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = actions.add_parser("install", help="wrap the environment's pip scripts")
    _venv_argument(install)
    install.add_argument(
        "--proxy",
        metavar="URL",
        help="also make every pip of the environment, `python -m pip` included, read only "
        "this verified index (a `pip-verify proxy` simple URL), in the environment's pip.conf",
    )
    uninstall = actions.add_parser("uninstall", help="put the original pip scripts back")
    _venv_argument(uninstall)
    config = actions.add_parser(
        "print-config",
        help="print configuration for agent runners (an MCP server entry, a shell environment)",
    )
    _venv_argument(config, required=False)
    config.add_argument("--proxy", metavar="URL", help="the verified index agents should use")
    parser.set_defaults(handler=run, quiet=False)


def _venv_argument(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--venv",
        type=Path,
        metavar="PATH",
        help="the virtual environment (default: the active one, $VIRTUAL_ENV)"
        + ("" if required else "; none: the snippets name no environment"),
    )


def run(args: argparse.Namespace) -> int:
    """Install, uninstall or print."""
    from verify._cli.environment import virtual_env
    from verify._shim import agent_config, install_shim, uninstall_shim

    active = virtual_env()
    venv = args.venv or (Path(active) if active else None)
    if args.action == "print-config":
        document = agent_config(venv, args.proxy, sys.executable)
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return 0
    if venv is None:
        raise UsageError("no virtual environment: pass --venv PATH or activate one")
    if args.action == "install":
        state = install_shim(venv, proxy=args.proxy)
        print(
            f"pip-verify shim: `pip install` in {state.venv} now goes through pip-verify "
            f"install ({', '.join(state.wrapped)} wrapped"
            + (f"; every pip there reads only {state.proxy}" if state.proxy else "")
            + ")",
            file=sys.stderr,
        )
        return 0
    state = uninstall_shim(venv)
    print(f"pip-verify shim: restored {', '.join(state.wrapped)} in {state.venv}", file=sys.stderr)
    return 0
