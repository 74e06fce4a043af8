"""The settings the commands share, as four composed parts.

Each command's settings are built from the same parts, so one option means one thing
everywhere and is documented once:

* :class:`InputSettings`: what to verify (requirements, requirements files, lock files,
  distribution files);
* :class:`ResolutionSettings`: how pip's resolver turns inputs into files (indexes, target
  environment, pre-releases, source builds);
* :class:`VerificationSettings`: what a file is verified against (the policy, publisher pins,
  the trust store, vulnerability sources, the behaviour diff);
* :class:`NetworkSettings`: how the network is used (offline, cache, timeouts, retries,
  parallel downloads).

``check`` and ``install`` take all four; ``screen`` takes the last two (its inputs are upload
files and its index is the private one); ``diff`` takes the network part.

This module imports only the standard library: the CLI reads the defaults from here while it
builds its parser, before any of the library is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "InputSettings",
    "NetworkSettings",
    "ResolutionSettings",
    "TargetEnvironment",
    "VerificationSettings",
]

#: Seconds a network request may wait for the server between bytes.
DEFAULT_TIMEOUT: Final = 15.0
#: Retries of a request that failed in a way worth retrying (connection errors, 429, 5xx).
DEFAULT_RETRIES: Final = 3
#: Files downloaded in parallel.
DEFAULT_JOBS: Final = 8


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
class InputSettings:
    """What to verify."""

    #: PEP 508 requirements, resolved with pip's resolver.
    requirements: tuple[str, ...] = ()
    #: Requirements files: read directly when fully pinned with hashes, else given to pip.
    requirement_files: tuple[Path, ...] = ()
    constraint_files: tuple[Path, ...] = ()
    #: Lock files (pylock.toml, uv.lock, poetry.lock, Pipfile.lock), read directly.
    lock_files: tuple[Path, ...] = ()
    #: Local wheels and sdists, verified as they are.
    dist_files: tuple[Path, ...] = ()
    #: A git ref: verify only what the lock files changed since it (``--base``).
    base: str | None = None

    @property
    def is_empty(self) -> bool:
        """Whether nothing at all was given to verify."""
        return not (
            self.requirements or self.requirement_files or self.lock_files or self.dist_files
        )


@dataclass(frozen=True, slots=True)
class ResolutionSettings:
    """How inputs become files: the indexes and the environment pip resolves for."""

    #: The index (PEP 503/691 or ``file://``); ``None``: the one pip is configured with.
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    #: Allow pre-releases.
    pre: bool = False
    target: TargetEnvironment = field(default_factory=TargetEnvironment)
    #: Let pip build sdists to read their metadata; runs their build backend.
    allow_source_builds: bool = False
    #: The interpreter whose environment pip resolves for (pip's ``--python``); ``None``:
    #: pip's own.
    environment: str | None = None
    #: Resolve from scratch (``check``); ``install`` keeps what is installed, as pip does.
    ignore_installed: bool = True
    upgrade: bool = False
    #: Options that change where pip installs (``--target``, ``--prefix``, ``--user``) or
    #: what (``--no-deps``); passed through to pip unchanged.
    install_options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VerificationSettings:
    """What every file is verified against."""

    #: The TOML trust policy; ``None``: the embedded default.
    policy_path: Path | None = None
    #: A Sigstore ClientTrustConfig or TrustedRoot for a private Sigstore instance.
    trust_config: Path | None = None
    #: Publisher pins: ``NAME:kind=GitHub,repository=OWNER/REPO,workflow=FILE``.
    expect: tuple[str, ...] = ()
    #: The trust store of first-seen publishers (``None``: none; the CLI's default is
    #: ./pip-verify.trust.toml).
    trust_store: Path | None = None
    #: Record first-seen publishers in the trust store.
    record: bool = True
    #: An OSV-compatible API (``None``: pip-audit's OSV URL; the CLI also reads
    #: ``$PIP_VERIFY_OSV_URL``).
    osv_url: str | None = None
    #: A directory or zip of OSV records for air-gapped use (the CLI also reads
    #: ``$PIP_VERIFY_VULNERABILITY_DB``).
    vulnerability_db: Path | None = None
    #: Diff every file against its baseline release for new behaviour.
    behaviour: bool = True
    #: Verify every file of each release, not only those this environment would install.
    all_files: bool = False


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    """How the network is used."""

    #: Use only what the cache holds; anything else is unchecked, never fetched.
    offline: bool = False
    #: The cache directory (``None``: the platform's user cache directory; the CLI also reads
    #: ``$PIP_VERIFY_CACHE_DIR``).
    cache_dir: Path | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    jobs: int = DEFAULT_JOBS
