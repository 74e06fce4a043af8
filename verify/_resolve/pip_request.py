"""What to ask pip's resolver for: the requirements, the indexes and the target environment.

:mod:`verify._resolve.pip_report` runs the resolution and :mod:`verify._resolve.pip_local`
checks the local files it may pick; both read the request from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from verify.settings import ResolutionSettings

__all__ = ["PipResolveRequest"]


@dataclass(frozen=True, slots=True)
class PipResolveRequest:
    """Everything pip needs to resolve a set of requirements."""

    requirements: tuple[str, ...] = ()
    requirement_files: tuple[Path, ...] = ()
    constraint_files: tuple[Path, ...] = ()
    #: The indexes, the target environment and the rest of what pip resolves with.
    resolution: ResolutionSettings = field(default_factory=ResolutionSettings)
    #: pip's own network settings, so ``--timeout``/``--retries`` mean the same everywhere.
    timeout: float | None = None
    retries: int | None = None
