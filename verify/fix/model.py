"""What ``pip-verify fix`` is asked to do, and what it did: its settings, one change per
package, and the outcome of a run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from verify.check import CheckSettings
from verify.models import Decision, Report
from verify.policy import UpdateKind

__all__ = [
    "DependencyChange",
    "FixChange",
    "FixOutcome",
    "FixSettings",
    "Guardrails",
    "UpdateKind",
]


@dataclass(frozen=True, slots=True)
class FixSettings:
    """What to fix and how far it may go. A guardrail left ``None`` is the policy's (its
    ``[fix]`` table, see :class:`~verify.policy.FixPolicy`); one set here overrides it, as
    ``fix``'s command-line options do."""

    #: The check of the lock: one lock file or hashed requirements file as its input.
    check: CheckSettings
    #: The largest update.
    allow: UpdateKind | None = None
    #: Never a release younger than this many days (0: no cooldown).
    cooldown_days: int | None = None
    #: Only releases from the index the package is pinned to.
    same_index: bool | None = None
    #: Only releases from the pinned release's (or the trust store's) publisher.
    same_publisher: bool | None = None
    #: When no upgrade passes, the nearest downgrade that does.
    downgrade: bool | None = None
    #: Where to write the fixed lock (default: over the input); ``dry_run`` writes nothing.
    output: Path | None = None
    dry_run: bool = False


#: Where a guardrail's value came from: :class:`FixSettings` (the command line), the policy's
#: ``[fix]`` table, or the default of a policy whose chain does not set it.
SET_BY = ("command line", "policy", "default")


@dataclass(frozen=True, slots=True)
class Guardrails:
    """The limits one run of ``fix`` kept, each from :class:`FixSettings` or the policy."""

    allow: UpdateKind = UpdateKind.MINOR
    #: Days; ``None``: each package's ``release-age`` ``min-age`` (see
    #: :meth:`~verify.policy.Policy.fix_cooldown`).
    cooldown_days: int | None = None
    same_index: bool = True
    same_publisher: bool = True
    downgrade: bool = False
    #: Each guardrail's key in ``[fix]`` -> one of :data:`SET_BY`.
    set_by: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DependencyChange:
    """A package the chosen release of another needs that the lock does not pin (``old`` is
    ``None``: added) or pins at a release its requirement excludes (moved)."""

    name: NormalizedName
    old: Version | None
    new: Version
    #: The package of the new tree whose ``Requires-Dist`` names it (``foo 1.2``).
    needed_by: str
    #: That ``Requires-Dist`` entry (``baz>=1.0``); empty when no verified wheel says.
    requirement: str
    #: The sha256 of each of the release's files on the index, sorted, as the lock gets them.
    hashes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FixChange:
    """What ``fix`` did, or could not do, for one package."""

    name: NormalizedName
    old: Version
    #: The release chosen; ``None`` when no release within the limits passes.
    new: Version | None
    #: Why the package needed a fix (its reasons, one line).
    why: str
    #: Each release tried and why it did not pass, in the order tried (upgrades from the
    #: smallest, then, when allowed, downgrades from the nearest).
    tried: tuple[tuple[str, str], ...] = ()
    #: Why no release could be tried at all (``new`` is ``None`` then).
    blocked: str | None = None
    #: The index the releases were taken from (credentials redacted).
    index: str | None = None
    #: The cooldown the package's releases were held to, in seconds.
    cooldown: int = 0
    #: The publisher the new release had to match (``same-publisher``), or why none was
    #: compared; ``None`` when the guardrail is off.
    publisher: str | None = None
    #: What the chosen release brings into the lock or moves in it (hashed requirements
    #: files only; see :mod:`verify.fix.dependencies`).
    dependencies: tuple[DependencyChange, ...] = ()

    @property
    def downgrade(self) -> bool:
        """Whether the release chosen is older than the pinned one."""
        return self.new is not None and self.new < self.old


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
    #: The limits the run kept.
    guardrails: Guardrails = field(default_factory=Guardrails)

    @property
    def fixed(self) -> bool:
        """Every package that needed a fix got one, and the fixed lock passes (for a lock
        changed by its tool's commands: every change has its command)."""
        if not all(c.new is not None for c in self.changes):
            return False
        return bool(self.commands) or self.report.decision in (Decision.ALLOW, Decision.WARN)
