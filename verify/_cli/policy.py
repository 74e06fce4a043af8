"""``pip-verify policy check FILE`` and ``pip-verify policy show``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``policy`` command group."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "policy", help="validate or show a policy", description="Validate or show a policy."
    )
    actions = parser.add_subparsers(
        dest="policy_command", metavar="ACTION", parser_class=type(parser)
    )
    actions.required = True
    check = actions.add_parser("check", help="validate policy files (exit 2 if one is invalid)")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(handler=run_check)
    show = actions.add_parser("show", help="print the effective policy")
    show.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="policy file (default: the embedded default policy)",
    )
    show.add_argument(
        "--package", metavar="NAME", help="show the rules as they apply to this package"
    )
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.set_defaults(handler=run_show)


def run_check(args: argparse.Namespace) -> int:
    """Validate each file; the first invalid one raises PolicyError (exit 2)."""
    # Imported here: building the parser must not pay for the library (see check.py).
    from rich.console import Console

    from verify.policy import load_policy

    console = Console(highlight=False, soft_wrap=True)
    for path in args.files:
        policy = load_policy(path)
        based = f" (extends {' -> '.join(policy.chain[:-1])})" if len(policy.chain) > 1 else ""
        console.print(f"{path}: valid{based}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print the effective policy."""
    import json

    from packaging.utils import canonicalize_name
    from rich.console import Console
    from rich.table import Table

    from verify.policy import load_policy
    from verify.policy.describe import describe_fix, describe_policy, effective_rules

    policy = load_policy(args.policy)
    package = canonicalize_name(args.package) if args.package else None
    if args.format == "json":
        sys.stdout.write(json.dumps(describe_policy(policy, package=package), indent=2) + "\n")
        return 0
    console = Console(highlight=False)
    title = policy.origin + (f", for {package}" if package else "")
    table = Table(title=title, show_edge=False, header_style="bold")
    for column in ("rule", "decision", "on error", "parameters"):
        table.add_column(column)
    for rule in effective_rules(policy, package=package):
        params = ", ".join(f"{k} = {v}" for k, v in rule.params.items())
        table.add_row(rule.id, rule.decision, rule.on_error, params or "-")
    console.print(table)
    if policy.packages and package is None:
        console.print("package overrides: " + ", ".join(o.match for o in policy.packages))
    fix = describe_fix(policy, package=package)
    shown = {key: str(value).lower() for key, value in fix.items() if key != "cooldown-from"}
    shown["cooldown-days"] += f" (from {fix['cooldown-from']})"
    console.print("fix: " + ", ".join(f"{key} = {value}" for key, value in shown.items()))
    return 0
