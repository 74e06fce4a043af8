"""What ``pip-verify fix`` is asked to do, and what it did: its settings, one change per
package, and the outcome of a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from verify.check import CheckSettings
from verify.models import Decision, Report
from verify.policy import UpdateKind

__all__ = ["FixChange", "FixOutcome", "FixSettings", "UpdateKind"]


@dataclass(frozen=True, slots=True)
class FixSettings:
    """What to fix and how far it may go."""

    #: The check of the lock: one hashed requirements file as its input.
    check: CheckSettings
    allow: UpdateKind = UpdateKind.MINOR
    #: Where to write the fixed lock (default: over the input); ``dry_run`` writes nothing.
    output: Path | None = None
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class FixChange:
    """What ``fix`` did, or could not do, for one package."""

    name: NormalizedName
    old: Version
    #: The release chosen; ``None`` when no release within the limits passes.
    new: Version | None
    #: Why the package needed a fix (its reasons, one line).
    why: str
    #: Each release tried and why it did not pass, oldest first.
    tried: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FixOutcome:
    """The changes, the fixed lock's text, and the check of it."""

    changes: tuple[FixChange, ...]
    lock_text: str
    #: The check of the fixed lock (of the input when nothing changed).
    report: Report
    #: Where the fixed lock was written; ``None`` with ``dry_run`` or when nothing changed.
    written: Path | None = None
    #: For a lock its tool owns (``uv.lock``, ``poetry.lock``, ``Pipfile.lock``): the commands
    #: that make the changes, which ``fix`` prints instead of editing the file.
    commands: tuple[str, ...] = ()
    #: The lock's text as it was read, for :func:`lock_diff`.
    original: str = ""

    @property
    def fixed(self) -> bool:
        """Every package that needed a fix got one, and the fixed lock passes (for a lock
        changed by its tool's commands: every change has its command)."""
        if not all(c.new is not None for c in self.changes):
            return False
        return bool(self.commands) or self.report.decision in (Decision.ALLOW, Decision.WARN)
