"""``pip-verify trust list | pin | forget | accept``: manage the trust store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify._cli.defaults import DEFAULT_TRUST_STORE
from verify.errors import UsageError

if TYPE_CHECKING:
    from verify._provenance.identity import ExpectedIdentity

__all__ = ["register"]


def _identity_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--kind", required=True, help="GitHub, GitLab, Google or CircleCI")
    parser.add_argument("--repository", required=True, metavar="OWNER/REPO")
    parser.add_argument("--workflow", metavar="FILE", help="e.g. release.yml (recommended)")
    parser.add_argument("--environment", metavar="ENV")


def register(commands: Any) -> None:
    """Add the ``trust`` command group."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "trust",
        help="manage the trust store of package publishers",
        description="The trust store records the publisher trusted for each package: first "
        "seen by check, pinned, or accepted after a change.",
    )
    parser.add_argument(
        "--trust-store",
        type=Path,
        default=DEFAULT_TRUST_STORE,
        metavar="FILE",
        help=f"the store (default: ./{DEFAULT_TRUST_STORE})",
    )
    actions = parser.add_subparsers(
        dest="trust_command", metavar="ACTION", parser_class=type(parser)
    )
    actions.required = True
    listing = actions.add_parser("list", help="list trusted publishers")
    listing.add_argument("--format", choices=["text", "json"], default="text")
    listing.set_defaults(handler=run_list)
    pin = actions.add_parser("pin", help="trust a publisher for a package")
    _identity_arguments(pin)
    pin.set_defaults(handler=run_pin)
    forget = actions.add_parser("forget", help="forget a package's publisher")
    forget.add_argument("name", metavar="NAME")
    forget.set_defaults(handler=run_forget)
    accept = actions.add_parser(
        "accept", help="accept a new publisher for a package, recording who and why"
    )
    _identity_arguments(accept)
    accept.add_argument("--reason", required=True, help="why the change is legitimate")
    accept.set_defaults(handler=run_accept)


def _identity(args: argparse.Namespace, origin: str) -> ExpectedIdentity:
    # Imported here, as the store below: building the parser must not pay for the library
    # (see check.py).
    from verify._provenance.identity import ExpectedIdentity

    table = {"kind": args.kind, "repository": args.repository}
    if args.workflow:
        table["workflow"] = args.workflow
    if args.environment:
        table["environment"] = args.environment
    try:
        return ExpectedIdentity.from_table(table, origin=origin)
    except ValueError as exc:
        raise UsageError(f"invalid publisher: {exc}") from exc


def run_list(args: argparse.Namespace) -> int:
    """Print the store."""
    import json

    from rich.console import Console
    from rich.table import Table

    from verify.trust_store import TrustStore

    store = TrustStore.load(args.trust_store)
    if args.format == "json":
        rows = {
            name: {
                "kind": e.identity.kind,
                "repository": e.identity.repository,
                "workflow": e.identity.workflow,
                "environment": e.identity.environment,
                "trusted": e.how,
                "since": e.since,
                "version": e.version,
                "changes": len(e.changes),
            }
            for name, e in sorted(store.entries.items())
        }
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    from rich.markup import escape

    from verify._format.untrusted import one_line

    table = Table(title=escape(str(store.path)), show_edge=False, header_style="bold")
    for column in ("package", "publisher", "trusted", "since", "changes"):
        table.add_column(column)
    # Publishers were recorded from attestations, which the package's uploader wrote.
    for name, entry in sorted(store.entries.items()):
        cells = (name, str(entry.identity), entry.how, entry.since, str(len(entry.changes)))
        table.add_row(*(escape(one_line(cell)) for cell in cells))
    Console(highlight=False).print(table)
    return 0


def run_pin(args: argparse.Namespace) -> int:
    """Record a publisher chosen by a person."""
    from rich.console import Console

    from verify.trust_store import TrustStore

    store = TrustStore.load(args.trust_store)
    identity = _identity(args, "pinned")
    store.pin(args.name, identity)
    store.save()
    Console(highlight=False).print(f"{args.name}: pinned to {identity} in {store.path}")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    """Drop a package from the store."""
    from rich.console import Console

    from verify.trust_store import TrustStore

    store = TrustStore.load(args.trust_store)
    if not store.forget(args.name):
        raise UsageError(f"{args.name} is not in {store.path}")
    store.save()
    Console(highlight=False).print(
        f"{args.name}: forgotten; the next check records its publisher anew"
    )
    return 0


def run_accept(args: argparse.Namespace) -> int:
    """Replace a package's trusted publisher and record the change."""
    from rich.console import Console

    from verify._cli.environment import user
    from verify.trust_store import TrustStore

    store = TrustStore.load(args.trust_store)
    identity = _identity(args, "accepted")
    change = store.accept(args.name, identity, reason=args.reason, by=user())
    store.save()
    Console(highlight=False).print(
        f"{args.name}: now trusts {change.new} (was {change.old}); recorded by {change.by}"
    )
    return 0
