"""``screen``: judge distribution files before they are published to a private index.

An upload is verified like any file ``check`` verifies (its bytes, its PEP 740 attestations
against the publisher pinned for the project, its behaviour against the newest earlier
release on the private index, the policy), plus what only matters at upload time:

* the file's name, version and metadata must agree (a wheel's ``METADATA`` or an sdist's
  ``PKG-INFO`` naming another project or version is ``metadata-malformed``);
* the project's name must not be one a public index serves, unless the policy binds it to
  the private index (``public-name``): that is how dependency confusion starts;
* a missing attestation counts (``provenance-required``), as it does for files from an index.

Attestations travel beside each file, as twine writes them (``<file>.<anything>.attestation``)
or as a PEP 740 provenance object (``<file>.provenance``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import NormalizedName

from verify._fetch.fetch import ProgressSink
from verify._index.client import IndexClient
from verify._index.config import pip_index_settings
from verify._index.urls import normalize_index_url, redact
from verify._resolve.local import DIST_SUFFIXES
from verify._rules.ids import RuleId
from verify.check import (
    CheckSettings,
    Gathered,
    network_session,
    readable_candidate,
    verify_gathered,
)
from verify.errors import IncompleteError, InvalidInputError, UsageError
from verify.models import Candidate, Decision, PackageResult, Reason, Report
from verify.policy import Policy, load_policy
from verify.settings import (
    InputSettings,
    NetworkSettings,
    ResolutionSettings,
    VerificationSettings,
)

__all__ = [
    "DIST_SUFFIXES",
    "ScreenSettings",
    "find_distributions",
    "run_screen",
    "with_public_indexes",
    "without_recording",
]


@dataclass(frozen=True, slots=True)
class ScreenSettings:
    """What ``screen`` needs; the CLI and the upload gate build it."""

    #: Distribution files, or directories whose distribution files are all screened.
    files: tuple[Path, ...]
    #: The private index the files are bound for: earlier releases there are the baseline
    #: for the behaviour diff and the provenance history. ``None``: no earlier release.
    index_url: str | None = None
    #: Public indexes whose names the private index must not take (``public-name``);
    #: ``None`` means the indexes pip is configured with, ``()`` turns the check off.
    public_index_urls: tuple[str, ...] | None = None
    verification: VerificationSettings = field(default_factory=VerificationSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)


def with_public_indexes(settings: ScreenSettings) -> ScreenSettings:
    """``settings`` with the public indexes read from pip's configuration now, if they were
    left to it: a gate or worker screens many files, and reading pip's configuration runs
    pip."""
    if settings.public_index_urls is not None or settings.network.offline:
        return settings
    return dataclasses.replace(settings, public_index_urls=pip_index_settings().urls)


def without_recording(settings: ScreenSettings) -> ScreenSettings:
    """``settings`` that record no first-seen publisher in the trust store: the upload gate
    records them itself, and only for uploads the upstream index took."""
    verification = dataclasses.replace(settings.verification, record=False)
    return dataclasses.replace(settings, verification=verification)


def find_distributions(paths: Sequence[Path]) -> tuple[Path, ...]:
    """The distribution files ``paths`` name: files as given, directories' files sorted.

    Raises :class:`~verify.errors.InvalidInputError` for a path that does not exist and
    :class:`~verify.errors.UsageError` when nothing is left to screen.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                child
                for child in path.iterdir()
                if child.is_file() and child.name.endswith(DIST_SUFFIXES)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidInputError("no such file or directory", path=path)
    if not found:
        raise UsageError(
            "nothing to screen: no wheel or sdist was found",
            hint="name distribution files, or a directory that holds them (dist/)",
        )
    return tuple(dict.fromkeys(found))


def run_screen(
    settings: ScreenSettings,
    *,
    policy: Policy | None = None,
    progress: ProgressSink | None = None,
) -> Report:
    """Screen every distribution file ``settings`` names and decide by ``policy``.

    Raises :class:`~verify.errors.UsageError` or
    :class:`~verify.errors.InvalidInputError` for unusable inputs (exit 2); failures while
    verifying are in the report, as for ``check``.
    """
    policy = policy or load_policy(settings.verification.policy_path)
    files = find_distributions(settings.files)
    candidates = tuple(_upload_candidate(path) for path in files)
    index_url = normalize_index_url(settings.index_url) if settings.index_url else None
    check = CheckSettings(
        inputs=InputSettings(dist_files=files),
        resolution=ResolutionSettings(index_url=index_url, no_index=index_url is None),
        # Every file named is verified, whatever environment it is for.
        verification=dataclasses.replace(settings.verification, all_files=True),
        network=settings.network,
    )
    # The public-name check needs neither the files nor their verification: it asks the
    # public indexes while the files are verified.
    with ThreadPoolExecutor(max_workers=1) as background:
        public = background.submit(_public_check, settings, index_url, candidates, policy)
        report = verify_gathered(
            check,
            lambda _settings, _before_resolving: Gathered(candidates),
            policy=policy,
            progress=progress,
        )
        reasons, not_checked = public.result()
    if not_checked is not None:
        report = dataclasses.replace(
            report, warnings=(*report.warnings, f"public-name was not checked: {not_checked}")
        )
    return _with_reasons(report, reasons)


def _public_check(
    settings: ScreenSettings,
    private: str | None,
    candidates: Sequence[Candidate],
    policy: Policy,
) -> tuple[dict[NormalizedName, Reason], str | None]:
    """``public-name`` reasons by package, or why the rule could not be evaluated."""
    public = _public_indexes(settings, private)
    if public:
        return _public_name_reasons(settings, public, private, candidates, policy), None
    if settings.network.offline:
        return {}, "--offline"
    if settings.public_index_urls == ():
        return {}, "turned off"
    return {}, "pip is configured with no index but the private one (pass --public-index)"


def _upload_candidate(path: Path) -> Candidate:
    # An upload that is not a readable archive is invalid input (exit 2), not a file whose
    # behaviour could not be checked: nothing about it can be trusted.
    return dataclasses.replace(readable_candidate(path), origin="upload")


def _public_indexes(settings: ScreenSettings, private: str | None) -> tuple[str, ...]:
    if settings.network.offline:
        return ()
    if settings.public_index_urls is None:
        urls = pip_index_settings().urls
    else:
        urls = tuple(normalize_index_url(url) for url in settings.public_index_urls)
    return tuple(url for url in dict.fromkeys(urls) if url != private)


def _public_name_reasons(
    settings: ScreenSettings,
    public: tuple[str, ...],
    private: str | None,
    candidates: Sequence[Candidate],
    policy: Policy,
) -> dict[NormalizedName, Reason]:
    """``public-name`` for every candidate a public index serves and the policy does not bind
    to the private index."""
    reasons: dict[NormalizedName, Reason] = {}
    # Only reached online: with --offline no public index is asked (_public_indexes).
    with network_session(settings.network) as session:
        client = IndexClient(session, public)
        for name in dict.fromkeys(c.name for c in candidates):
            config = policy.rule(RuleId.PUBLIC_NAME.value, package=name)
            bound = [b.url for b in policy.indexes if b.binds(name)]
            if private is not None and private in bound:
                continue  # the policy says the name is the private index's own
            try:
                serving = [url for url in public if _serves(client, url, name)]
            except IncompleteError as exc:
                reasons[name] = Reason(
                    RuleId.PUBLIC_NAME.value,
                    config.on_error,
                    f"could not ask the public index whether it serves {name}: {exc.one_line()}",
                    unchecked=True,
                )
                continue
            if serving:
                reasons[name] = Reason(
                    RuleId.PUBLIC_NAME.value,
                    config.decision,
                    f"{name} is a public project on {', '.join(map(redact, serving))}; "
                    "bind it to the private index ([[indexes]] packages) if it is yours",
                )
    return reasons


def _serves(client: IndexClient, index_url: str, name: str) -> bool:
    page = client.page(index_url, name)
    return page is not None and len(page.files) > 0


def _with_reasons(report: Report, reasons: dict[NormalizedName, Reason]) -> Report:
    if not reasons:
        return report
    packages: list[PackageResult] = []
    for package in report.packages:
        reason = reasons.get(package.name)
        if reason is not None:
            package = dataclasses.replace(
                package,
                reasons=(*package.reasons, reason),
                decision=Decision.worst((package.decision, reason.decision)),
            )
        packages.append(package)
    decision = Decision.worst(p.decision for p in packages)
    if report.errors:
        decision = Decision.DENY
    return dataclasses.replace(report, packages=tuple(packages), decision=decision)
