"""``pip-verify quarantine list | show | release | drop``: decide on uploads the gate refused."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from verify._cli.defaults import DEFAULT_RETRIES, DEFAULT_TIMEOUT
from verify.errors import UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from verify._upload.quarantine import Quarantine, QuarantineEntry

__all__ = ["register"]

#: Where the quarantine is when ``--quarantine`` is not given.
QUARANTINE_ENV = "PIP_VERIFY_QUARANTINE"
#: The upstream index's password (or API token) for ``release --username``.
PASSWORD_ENV = "PIP_VERIFY_UPSTREAM_PASSWORD"  # noqa: S105 - the variable's name, not a secret
_REASON_WIDTH = 60


def _quarantine_argument(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument(
        "--quarantine",
        type=Path,
        default=default,
        metavar="DIR",
        help=f"the gate's quarantine directory (default: ${QUARANTINE_ENV})",
    )


def register(commands: Any) -> None:
    """Add the ``quarantine`` command group."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "quarantine",
        help="list, inspect, release or drop uploads the gate refused",
        description="Uploads refused by `pip-verify gate` are kept in its quarantine directory "
        "with their reports. Release one to the upstream index (recording who and why), or "
        "drop it.",
    )
    _quarantine_argument(parser, default=None)
    actions = parser.add_subparsers(
        dest="quarantine_command", metavar="ACTION", parser_class=type(parser)
    )
    actions.required = True
    # --quarantine is accepted after the action too; given there, it wins.
    listing = actions.add_parser("list", help="list quarantined uploads, newest first")
    _quarantine_argument(listing, default=argparse.SUPPRESS)
    listing.add_argument("--format", choices=["text", "json"], default="text")
    listing.set_defaults(handler=run_list)
    show = actions.add_parser("show", help="show one quarantined upload")
    _quarantine_argument(show, default=argparse.SUPPRESS)
    show.add_argument("id", metavar="ID", help="an id (at least 6 hex digits) or a filename")
    show.add_argument("--report", action="store_true", help="print the stored JSON report verbatim")
    show.set_defaults(handler=run_show)
    release = actions.add_parser(
        "release",
        help="forward a quarantined upload to the upstream index, recording who and why",
        description="Forward the upload, byte for byte, to the upstream index's upload URL. "
        f"The password (or API token) for --username comes from ${PASSWORD_ENV}, else a "
        "prompt on a terminal.",
    )
    _quarantine_argument(release, default=argparse.SUPPRESS)
    release.add_argument("id", metavar="ID", help="an id (at least 6 hex digits) or a filename")
    release.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="the upstream upload URL (legacy API, e.g. https://index.example/legacy/)",
    )
    release.add_argument("--by", required=True, metavar="NAME", help="who releases it")
    release.add_argument(
        "--reason", required=True, metavar="TEXT", help="why the upload is safe to publish"
    )
    release.add_argument(
        "--username", metavar="USER", help="user name at the upstream index (__token__ for a token)"
    )
    release.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"network timeout (default: {DEFAULT_TIMEOUT:g})",
    )
    release.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        metavar="N",
        help="retries on connections that could not be opened; a sent upload is never "
        f"retried (default: {DEFAULT_RETRIES})",
    )
    release.set_defaults(handler=run_release)
    drop = actions.add_parser("drop", help="delete a quarantined upload")
    _quarantine_argument(drop, default=argparse.SUPPRESS)
    drop.add_argument("id", metavar="ID", help="an id (at least 6 hex digits) or a filename")
    drop.set_defaults(handler=run_drop)


def _open(args: argparse.Namespace) -> Quarantine:
    # Imported here, as rich and the network below: building the parser must not pay for
    # them (see check.py).
    from verify._upload.quarantine import Quarantine

    root: Path | None = args.quarantine
    if root is None:
        value = os.environ.get(QUARANTINE_ENV, "")
        root = Path(value) if value else None
    if root is None:
        raise UsageError(
            "no quarantine directory given",
            hint=f"pass --quarantine DIR (the gate's) or set {QUARANTINE_ENV}",
        )
    if not root.is_dir():
        raise UsageError(
            f"the quarantine directory {root} does not exist",
            hint="pass the directory the gate was started with",
        )
    return Quarantine(root)


def _printable(text: str | None) -> str:
    """``text`` safe for a terminal: control characters are shown escaped, never sent.

    Every character :func:`verify._format.untrusted.one_line` escapes is escaped here the same
    way; this also escapes what no terminal shows (zero-width and format characters, private
    and unassigned code points), because an operator releases uploads by these names and two
    that look alike must not read alike.
    """
    if text is None:
        return "-"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment is not None else "-"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def run_list(args: argparse.Namespace) -> int:
    """Print the quarantined uploads, newest first."""
    import json

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    quarantine = _open(args)
    entries = quarantine.list()
    if args.format == "json":
        sys.stdout.write(json.dumps([e.to_dict() for e in entries], indent=2) + "\n")
        return 0
    table = Table(title=str(quarantine.root), show_edge=False, header_style="bold")
    # The id, time and state stay whole; the file, the uploader and the reason share the rest.
    table.add_column("id", no_wrap=True)
    table.add_column("filename", overflow="fold", ratio=2, min_width=12)
    table.add_column("received", no_wrap=True)
    table.add_column("uploader", overflow="fold", ratio=1, min_width=8)
    table.add_column("state", no_wrap=True)
    table.add_column("reason", overflow="fold", ratio=3, min_width=16)
    for entry in entries:
        # The gate's reasons start "pip-verify refused FILE: "; the row names the file.
        reason = entry.reason.removeprefix(f"pip-verify refused {entry.filename}: ")
        table.add_row(
            entry.id[:12],
            Text(_printable(entry.filename)),
            _when(entry.received),
            Text(_printable(entry.uploader)),
            entry.state.value,
            Text(_shorten(_printable(reason), _REASON_WIDTH)),
        )
    console = Console(highlight=False)
    console.print(table)
    if not entries:
        console.print("no quarantined uploads", markup=False)
    return 0


def _details(entry: QuarantineEntry, root: Path) -> list[tuple[str, str]]:
    from verify._serve.decisions import Decisions
    from verify._upload.quarantine_entry import DECISIONS_FILE

    rows = [
        ("id", entry.id),
        ("filename", entry.filename),
        ("project", f"{entry.name} {entry.version}"),
        ("received", _when(entry.received)),
        ("uploader", entry.uploader or "-"),
        ("client", entry.client or "-"),
        ("attempts", str(entry.attempts)),
        ("state", entry.state.value),
        ("reason", entry.reason),
    ]
    if entry.released_at is not None:
        rows += [
            ("released", _when(entry.released_at)),
            ("released by", entry.released_by or "-"),
            ("release reason", entry.release_reason or "-"),
            ("released to", f"{entry.released_to or '-'} (HTTP {entry.upstream_status})"),
        ]
    for decision in Decisions(root / DECISIONS_FILE).history(entry.sha256):
        until = f" until {decision.expires.isoformat()}" if decision.expires else ""
        rows.append(
            (
                "review",
                f"{_when(decision.at)} {decision.by}: {decision.action.value}{until}: "
                f"{decision.reason}",
            )
        )
    rows.append(("path", str(entry.path)))
    return [(label, _printable(value)) for label, value in rows]


def run_show(args: argparse.Namespace) -> int:
    """Print one entry's details, or its stored report."""
    quarantine = _open(args)
    entry = quarantine.get(args.id)
    if args.report:
        sys.stdout.write(quarantine.report_json(entry))
        return 0
    details = _details(entry, quarantine.root)
    width = max(len(label) for label, _ in details)
    for label, value in details:
        sys.stdout.write(f"{label + ':':<{width + 1}} {value}\n")
    return 0


def _authorization(args: argparse.Namespace) -> str | None:
    import base64
    import getpass

    password = os.environ.get(PASSWORD_ENV)
    url = urlsplit(args.upstream)
    if args.username is None:
        if password:
            raise UsageError(
                f"{PASSWORD_ENV} is set but --username is not",
                hint="pass --username (__token__ for an API token)",
            )
        return None
    if url.username is not None:
        raise UsageError(
            "the upstream URL has credentials and --username was given",
            hint="give them one way only",
        )
    if ":" in args.username:
        raise UsageError("--username cannot contain ':'")
    if password is None:
        if not sys.stdin.isatty():
            raise UsageError(
                f"no password for {args.username}",
                hint=f"set {PASSWORD_ENV}",
            )
        password = getpass.getpass(f"password for {args.username} at {url.hostname}: ")
    token = base64.b64encode(f"{args.username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _check_upstream(url: str) -> None:
    from verify._index.urls import redact

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"upstream URL {redact(url)!r} is not an http(s):// URL with a host",
            hint="give the upstream index's upload URL, e.g. https://index.example/legacy/",
        )


def run_release(args: argparse.Namespace) -> int:
    """Forward an entry to the upstream index and record the release."""
    from verify._index.session import HttpSession
    from verify._index.urls import redact

    quarantine = _open(args)
    _check_upstream(args.upstream)
    authorization = _authorization(args)
    with HttpSession(timeout=args.timeout, retries=max(0, args.retries)) as session:
        entry = quarantine.release(
            args.id,
            upstream_url=args.upstream,
            session=session,
            by=args.by,
            why=args.reason,
            authorization=authorization,
        )
    sys.stdout.write(
        f"released {_printable(entry.filename)} to {redact(args.upstream)} "
        f"(HTTP {entry.upstream_status})\n"
    )
    return 0


def run_drop(args: argparse.Namespace) -> int:
    """Delete an entry."""
    quarantine = _open(args)
    entry = quarantine.drop(args.id)
    sys.stdout.write(
        f"dropped {_printable(entry.filename)} ({entry.id[:12]}, {entry.state.value}) "
        f"from {quarantine.root}\n"
    )
    return 0
