"""What a behaviour diff compares and what it finds, as data without the analysers.

The analysers (:mod:`~verify._behaviour.diff` and everything it reads with) take a while to
import. A check whose every diff is already in the cache, or that diffs nothing, needs only
these types, so the cache, the review and the worker pool import this module and load the
analysers only when a diff is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from verify._behaviour.census import FileDiff
from verify.models import Finding

__all__ = ["BehaviourDiff", "DistFile", "MetadataChange", "MetadataDiff"]


@dataclass(frozen=True, slots=True)
class MetadataChange:
    """One difference between two releases' metadata (an item added, removed or changed)."""

    #: ``requires-dist``, ``provides-extra``, ``entry-points``, ``people``, ``project-urls``,
    #: ``requires-python``, ``build-backend``, ``backend-path``, ``license``, ``name`` or
    #: ``version``.
    field: str
    #: The baseline's value (``None``: the item is new).
    old: str | None
    #: The new release's value (``None``: the item was removed).
    new: str | None


@dataclass(frozen=True, slots=True)
class MetadataDiff:
    """Every metadata change between two releases, and the findings the risky ones raise."""

    changes: tuple[MetadataChange, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class DistFile:
    """A distribution file on disk, by the name it is published under."""

    path: Path
    filename: str
    upload_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class BehaviourDiff:
    """What one file adds compared with its baseline."""

    filename: str
    #: The baseline's filename, or ``None`` (``baseline: none``).
    baseline: str | None
    baseline_reason: str
    files: FileDiff
    metadata: MetadataDiff
    #: New behaviour, at full severity: the verdict's input.
    findings: tuple[Finding, ...]
    #: Behaviour the baseline already had (rated low): context for a reader.
    context: tuple[Finding, ...] = ()
    analysed_files: int = 0
    analysed_bytes: int = 0
    #: Files found unchanged and never read.
    skipped_files: int = 0
    new_hosts: tuple[str, ...] = field(default_factory=tuple)
