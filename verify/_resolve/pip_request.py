"""What to ask pip's resolver for: the requirements, the indexes and the target environment.

:mod:`verify._resolve.pip_report` runs the resolution and :mod:`verify._resolve.pip_local`
checks the local files it may pick; both read the request from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PipResolveRequest", "TargetEnvironment"]


@dataclass(frozen=True, slots=True)
class TargetEnvironment:
    """pip's ``--python-version``, ``--platform``, ``--implementation`` and ``--abi``."""

    python_version: str | None = None
    platforms: tuple[str, ...] = ()
    implementation: str | None = None
    abis: tuple[str, ...] = ()

    @property
    def is_set(self) -> bool:
        """Whether any target option differs from the running interpreter."""
        return bool(self.python_version or self.platforms or self.implementation or self.abis)

    def pip_args(self) -> list[str]:
        """The options as pip takes them."""
        args: list[str] = []
        if self.python_version:
            args += ["--python-version", self.python_version]
        for platform in self.platforms:
            args += ["--platform", platform]
        if self.implementation:
            args += ["--implementation", self.implementation]
        for abi in self.abis:
            args += ["--abi", abi]
        return args


@dataclass(frozen=True, slots=True)
class PipResolveRequest:
    """Everything pip needs to resolve a set of requirements."""

    requirements: tuple[str, ...] = ()
    requirement_files: tuple[Path, ...] = ()
    constraint_files: tuple[Path, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    pre: bool = False
    target: TargetEnvironment = field(default_factory=TargetEnvironment)
    #: Let pip build sdists to read their metadata; runs their build backend.
    allow_source_builds: bool = False
    #: pip's own network settings, so ``--timeout``/``--retries`` mean the same everywhere.
    timeout: float | None = None
    retries: int | None = None
    #: Resolve for this interpreter's environment (pip's ``--python``) instead of pip's own.
    environment: str | None = None
    #: Resolve from scratch (``check``); ``install`` keeps what is installed, as pip does.
    ignore_installed: bool = True
    upgrade: bool = False
    #: Options that change where pip installs (``--target``, ``--prefix``, ``--user``) or
    #: what (``--no-deps``); passed through unchanged.
    install_options: tuple[str, ...] = ()
