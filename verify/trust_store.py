"""The trust store: the publisher first seen for each package (trust on first use).

A small, human-readable TOML file meant to be committed beside the lock file
(``pip-verify.trust.toml``). ``check`` records the verified publisher of a package the first
time it sees one; a later file from another publisher is denied until someone runs
``pip-verify trust accept``, which records who accepted which change, when and why.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import tomli_w
from packaging.utils import NormalizedName, canonicalize_name

from verify._documents import parse_toml
from verify._provenance.identity import ExpectedIdentity, PublisherIdentity
from verify.errors import InvalidInputError

__all__ = ["DEFAULT_TRUST_STORE", "Change", "TrustEntry", "TrustStore"]

DEFAULT_TRUST_STORE = Path("pip-verify.trust.toml")
_HEADER = (
    "# pip-verify trust store: the publisher trusted for each package.\n"
    "# Written by `pip-verify check` (first sight) and `pip-verify trust`; commit it.\n"
)


@dataclass(frozen=True, slots=True)
class Change:
    """A recorded change of a package's trusted publisher."""

    date: str
    by: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True, slots=True)
class TrustEntry:
    """The publisher trusted for one package."""

    identity: ExpectedIdentity
    #: ``first-seen`` (recorded by check), ``pinned`` or ``accepted`` (by a person).
    how: str
    since: str
    version: str | None = None
    changes: tuple[Change, ...] = ()


@dataclass(slots=True)
class TrustStore:
    """The trust store file, loaded; :meth:`save` writes it back atomically."""

    path: Path
    entries: dict[NormalizedName, TrustEntry] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> TrustStore:
        """Read ``path``; a missing file is an empty store."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"cannot read the trust store: {exc}", path=path) from exc
        hint = "fix the file, or remove the broken entry with `pip-verify trust forget`"
        document = parse_toml(text, path, hint=hint)
        try:
            return cls(path, _entries(document))
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"invalid trust store: {exc}", path=path, hint=hint) from exc

    def get(self, name: str) -> TrustEntry | None:
        """The entry for ``name``, if any."""
        return self.entries.get(canonicalize_name(name))

    def record_first_seen(
        self, name: str, identity: PublisherIdentity, version: str | None
    ) -> None:
        """Trust ``identity`` for ``name`` because it is the first one seen."""
        self.entries[canonicalize_name(name)] = TrustEntry(
            _expected(identity), "first-seen", date.today().isoformat(), version
        )

    def record_from_report(self, report: Mapping[str, Any]) -> list[NormalizedName]:
        """Record, as first seen, the verified publisher of every package in a JSON report
        (``pip-verify/report/v1``) that the store does not know yet; return their names.

        The upload gate screens without recording and calls this only once the upstream
        index has taken the upload: a publisher is trusted for what was published, not for
        an upload anyone could attempt.
        """
        recorded: list[NormalizedName] = []
        packages = report.get("packages")
        for package in packages if isinstance(packages, list) else ():
            provenance = package.get("provenance") if isinstance(package, dict) else None
            if not isinstance(provenance, dict) or provenance.get("status") != "verified":
                continue
            publisher = provenance.get("publisher")
            name = canonicalize_name(str(package.get("name", "")))
            if not isinstance(publisher, dict) or not name or self.get(name) is not None:
                continue
            table = {
                key: publisher[key]
                for key in ("kind", "repository", "workflow", "environment")
                if isinstance(publisher.get(key), str)
            }
            try:
                identity = ExpectedIdentity.from_table(table, origin="trust store")
            except ValueError:
                continue  # a publisher the store cannot pin (no repository): nothing to record
            version = package.get("version")
            self.entries[name] = TrustEntry(
                identity,
                "first-seen",
                date.today().isoformat(),
                str(version) if version is not None else None,
            )
            recorded.append(name)
        return recorded

    def pin(self, name: str, identity: ExpectedIdentity) -> None:
        """Trust ``identity`` for ``name`` because a person said so."""
        previous = self.get(name)
        self.entries[canonicalize_name(name)] = TrustEntry(
            identity,
            "pinned",
            date.today().isoformat(),
            changes=previous.changes if previous else (),
        )

    def accept(self, name: str, identity: ExpectedIdentity, *, reason: str, by: str) -> Change:
        """Replace the trusted publisher of ``name``, recording who did it and why."""
        previous = self.get(name)
        change = Change(
            date=date.today().isoformat(),
            by=by,
            old=str(previous.identity) if previous else "(none)",
            new=str(identity),
            reason=reason,
        )
        changes = (previous.changes if previous else ()) + (change,)
        self.entries[canonicalize_name(name)] = TrustEntry(
            identity, "accepted", change.date, changes=changes
        )
        return change

    def forget(self, name: str) -> bool:
        """Drop ``name``; whether it was there."""
        return self.entries.pop(canonicalize_name(name), None) is not None

    def to_toml(self) -> str:
        """The store as TOML, packages sorted by name."""
        packages = {name: _table(self.entries[name]) for name in sorted(self.entries)}
        return _HEADER + tomli_w.dumps({"version": 1, "packages": packages})

    def save_recorded(self, names: Iterable[NormalizedName]) -> None:
        """Add the first-seen records for ``names`` to the file as it is now, and write it.

        Checks may run side by side on one store (the upload gate screens uploads in
        parallel): each re-reads the file under an exclusive lock and adds only its own
        first-seen records, so none is lost and none replaces what another recorded first.
        """
        with _locked(self.path):
            current = TrustStore.load(self.path)
            for name in names:
                if name in self.entries and name not in current.entries:
                    current.entries[name] = self.entries[name]
            current.save()
            self.entries = current.entries

    def save(self) -> None:
        """Write the store atomically (a temporary file, then a rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=".trust-", suffix=".toml")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(self.to_toml())
            os.replace(name, self.path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock beside ``path`` (``<path>.lock``), where the platform has flock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no flock; a lost first-seen record is recorded again
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _table(entry: TrustEntry) -> dict[str, Any]:
    optional = {
        "workflow": entry.identity.workflow,
        "environment": entry.identity.environment,
        "trusted": entry.how,
        "since": entry.since,
        "version": entry.version,
    }
    table: dict[str, Any] = {
        "kind": entry.identity.kind,
        "repository": entry.identity.repository,
        **{key: value for key, value in optional.items() if value is not None},
    }
    if entry.changes:
        table["changes"] = [
            {"date": c.date, "by": c.by, "old": c.old, "new": c.new, "reason": c.reason}
            for c in entry.changes
        ]
    return table


def _expected(identity: PublisherIdentity) -> ExpectedIdentity:
    return ExpectedIdentity(
        kind=identity.kind.value,
        repository=identity.repository or identity.subject or "",
        workflow=identity.workflow,
        environment=identity.environment,
        origin="trust store",
    )


def _entries(document: dict[str, Any]) -> dict[NormalizedName, TrustEntry]:
    if document.get("version", 1) != 1:
        raise ValueError(f"trust store version {document.get('version')!r} is not supported")
    packages = document.get("packages", {})
    if not isinstance(packages, dict):
        raise ValueError("'packages' must be a table")
    entries: dict[NormalizedName, TrustEntry] = {}
    for name, table in packages.items():
        if not isinstance(table, dict):
            raise ValueError(f"packages.{name} must be a table")
        identity = ExpectedIdentity.from_table(
            {
                k: v
                for k, v in table.items()
                if k in ("kind", "repository", "workflow", "environment")
            },
            origin="trust store",
        )
        changes = tuple(
            Change(str(c["date"]), str(c["by"]), str(c["old"]), str(c["new"]), str(c["reason"]))
            for c in table.get("changes", [])
        )
        entries[canonicalize_name(name)] = TrustEntry(
            identity=replace(identity, origin="trust store"),
            how=str(table.get("trusted", "first-seen")),
            since=str(table.get("since", "")),
            version=str(table["version"]) if "version" in table else None,
            changes=changes,
        )
    return entries
