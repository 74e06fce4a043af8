"""The check of a lock after its tool made ``fix``'s changes (``pip-verify fix --apply``).

The command line runs the tool; this reads what the tool wrote and holds it to what ``fix``
verified: every package ``fix`` moved is at the release it chose and from the index the lock
had it from, whatever else the tool moved is named, and the whole lock passes ``check``'s
engine.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._index.urls import redact
from verify._resolve.lockfiles import read_lock
from verify._resolve.pylock import LockedPackage
from verify.check import run_check
from verify.fix.model import FixOutcome, FixSettings
from verify.models import Decision, Report
from verify.policy import Policy
from verify.settings import InputSettings

__all__ = ["AppliedCheck", "check_applied"]


@dataclass(frozen=True, slots=True)
class AppliedCheck:
    """What the tool's commands left in the lock."""

    #: The check of the new lock.
    report: Report
    #: Where the new lock is not what ``fix`` verified (a package at another release, or
    #: from another index).
    problems: tuple[str, ...] = ()
    #: What else the tool changed (``bar 1.0 -> 1.1``, ``baz 2.0 added``).
    also: tuple[str, ...] = ()

    @property
    def passes(self) -> bool:
        """Every change is as verified and the new lock passes the policy."""
        allowed = self.report.decision in (Decision.ALLOW, Decision.WARN)
        return not self.problems and allowed and not self.report.incomplete


def check_applied(
    settings: FixSettings, outcome: FixOutcome, lock: Path, *, policy: Policy | None = None
) -> AppliedCheck:
    """Hold the lock at ``lock``, as its tool rewrote it, to ``outcome`` (the run of ``fix``
    whose commands the tool ran, with ``settings``)."""
    before = _versions(_read_text(outcome.original, lock.name))
    after = _versions(read_lock(lock))
    problems = []
    for change in outcome.changes:
        if change.new is None:
            continue
        old_index = before.get(change.name, (None, None))[1]
        version, index = after.get(change.name, (None, None))
        if version != change.new:
            found = f"at {version}" if version is not None else "out of the lock"
            problems.append(f"{change.name} is {found}, not at {change.new} as fix verified")
        elif index != old_index:
            problems.append(
                f"{change.name} {version} comes from {_shown(index)}, not from "
                f"{_shown(old_index)} as before"
            )
    moved = {change.name for change in outcome.changes}
    check = dataclasses.replace(settings.check, inputs=InputSettings(lock_files=(lock,)))
    return AppliedCheck(
        run_check(check, policy=policy), tuple(problems), _also(before, after, moved)
    )


Versions = Mapping[NormalizedName, tuple[Version | None, str | None]]


def _versions(
    packages: Sequence[LockedPackage],
) -> dict[NormalizedName, tuple[Version | None, str | None]]:
    """Each package's release and index in a lock (the first entry of a name that has
    several, one per environment)."""
    found: dict[NormalizedName, tuple[Version | None, str | None]] = {}
    for package in packages:
        candidate = package.candidate
        found.setdefault(candidate.name, (candidate.version, candidate.index_url))
    return found


def _read_text(text: str, name: str) -> tuple[LockedPackage, ...]:
    """The lock ``text`` read as a lock named ``name`` (as it was before the tool ran)."""
    with tempfile.TemporaryDirectory(prefix="pip-verify-fix-") as scratch:
        path = Path(scratch) / name
        path.write_bytes(text.encode("utf-8"))
        return read_lock(path)


def _also(before: Versions, after: Versions, moved: set[NormalizedName]) -> tuple[str, ...]:
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, (None, None))[0], after.get(name, (None, None))[0]
        if name in moved or old == new:
            continue
        if name not in after:
            changes.append(f"{name} {old} removed")
        elif name not in before:
            changes.append(f"{name} {new} added")
        else:
            changes.append(f"{name} {old} -> {new}")
    return tuple(changes)


def _shown(index: str | None) -> str:
    return redact(index) if index is not None else "no index"
