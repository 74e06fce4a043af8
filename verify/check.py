"""``check``: resolve inputs to pinned candidates, verify them, return a report.

This is the library entry point behind ``pip-verify check``::

    from verify.check import CheckSettings, run_check
    from verify.settings import InputSettings

    report = run_check(CheckSettings(InputSettings(requirements=("requests==2.32.3",))))
    report.decision  # Decision.ALLOW / WARN / DENY
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from verify._dist.archive import open_archive
from verify._fetch.fetch import ProgressSink
from verify._fetch.store import ContentStore
from verify._index.config import IndexSettings, pip_index_settings
from verify._index.session import HttpSession
from verify._index.urls import normalize_index_url
from verify._provenance.checker import ProvenanceChecker
from verify._provenance.identity import ExpectedIdentity, parse_expectation
from verify._provenance.remembered import RememberedProvenance, trust_identity
from verify._provenance.trust_root import load_trust_root
from verify._resolve.changes import changed_lock_files, compare_candidates, read_at_ref
from verify._resolve.local import is_distribution_path, local_candidate
from verify._resolve.lockfiles import lock_kind, read_lock
from verify._resolve.pip_report import PipResolveRequest, resolve_with_pip
from verify._resolve.requirements import RequirementsFile, hash_pinned_candidates, read_requirements
from verify._rules.ids import RuleId
from verify._verifier import CheckOptions, Verifier
from verify._vulnerabilities import AnswerCache, RememberedSource, VulnerabilitySource
from verify._vulnerabilities.remembered import osv_base_url
from verify.errors import ArchiveError, ResolutionError, UsageError
from verify.models import (
    Candidate,
    ChangeKind,
    Decision,
    LockChange,
    Report,
    ReportError,
    SourceLocation,
)
from verify.policy import Policy, load_policy
from verify.settings import (
    InputSettings,
    NetworkSettings,
    ResolutionSettings,
    VerificationSettings,
)
from verify.trust_store import TrustStore

__all__ = [
    "CheckSettings",
    "default_cache_dir",
    "gather_candidates",
    "network_session",
    "readable_candidate",
    "run_check",
    "sort_inputs",
]


def default_cache_dir() -> Path:
    """The platform's user cache directory for pip-verify (the CLI lets
    ``$PIP_VERIFY_CACHE_DIR`` override it)."""
    return Path(platformdirs.user_cache_dir("pip-verify", appauthor=False))


def network_session(network: NetworkSettings) -> HttpSession:
    """The one network session a command uses, as ``network`` configures it, with its HTTP
    cache in the cache directory."""
    cache_dir = network.cache_dir or default_cache_dir()
    return HttpSession(
        cache_dir=cache_dir / "http",
        timeout=network.timeout,
        retries=network.retries,
        offline=network.offline,
    )


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """Everything a check needs, in the four parts every command shares (see
    :mod:`verify.settings`); the CLI builds it from arguments, library users directly."""

    inputs: InputSettings = field(default_factory=InputSettings)
    resolution: ResolutionSettings = field(default_factory=ResolutionSettings)
    verification: VerificationSettings = field(default_factory=VerificationSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)


def sort_inputs(items: Sequence[str]) -> InputSettings:
    """Tell requirements, lock files, requirements files and distribution files apart.

    ``pylock*.toml``, ``uv.lock``, ``poetry.lock`` and ``Pipfile.lock`` (or another name whose
    content is one of those) are lock files; an existing ``*.txt`` file is a requirements file
    (as with ``-r``); a path ending in ``.whl``, ``.tar.gz`` or ``.zip`` is a distribution;
    anything else is a PEP 508 requirement for pip's resolver.
    """
    requirements: list[str] = []
    requirement_files: list[Path] = []
    locks: list[Path] = []
    dists: list[Path] = []
    for item in items:
        path = Path(item)
        if lock_kind(path) is not None:
            locks.append(path)
        elif item.endswith(".txt") and path.is_file():
            requirement_files.append(path)
        elif is_distribution_path(item):
            dists.append(path)
        else:
            requirements.append(item)
    return InputSettings(
        requirements=tuple(requirements),
        requirement_files=tuple(requirement_files),
        lock_files=tuple(locks),
        dist_files=tuple(dists),
    )


@dataclass(frozen=True, slots=True)
class Gathered:
    """Candidates from every input, and the index options the inputs carried."""

    candidates: tuple[Candidate, ...]
    #: Failures met while gathering that keep the check from being complete.
    errors: tuple[ReportError, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    #: With ``--base``: the lock file changes, and the version each changed package replaces.
    changes: tuple[LockChange, ...] = ()
    baselines: Mapping[NormalizedName, Version] = field(default_factory=dict)
    #: A requirements file said ``--no-index``: no index is consulted unless the command
    #: line names one, as pip does.
    no_index: bool = False
    #: pip found no release of one requirement (its candidate has ``unresolved`` set): raised
    #: after all unless no index serves the name (then it is ``name-unknown``).
    unresolved: ResolutionError | None = None


def readable_candidate(path: Path) -> Candidate:
    """The candidate for the distribution file at ``path``, named on the command line.

    Raises :class:`~verify.errors.InvalidInputError` (exit 2) when it is not a distribution
    that can be read: a file named by the user that is not an archive is bad input, as for
    ``screen`` and ``diff``, and never a package to allow. An sdist whose file name is no valid
    one is named by its metadata, as pip names it when installing it from a path.
    """
    candidate = local_candidate(path, named_by=_metadata_name)
    with open_archive(path):
        pass
    return candidate


def _metadata_name(path: Path) -> tuple[str, str] | None:
    """The name and version an sdist's own metadata gives, as pip names one installed from a
    path; ``None`` when it cannot be read or gives none."""
    # Only a misnamed sdist needs its metadata here: the metadata reader (and
    # packaging.metadata) stays out of every other check's start-up.
    from verify._dist.metadata import archive_metadata

    try:
        with open_archive(path) as archive:
            metadata, _ = archive_metadata(archive)
    except ArchiveError:
        return None
    if metadata is None or metadata.name is None or metadata.version is None:
        return None
    return metadata.name, metadata.version


def _file_index_options(files: Sequence[RequirementsFile]) -> tuple[str | None, tuple[str, ...]]:
    index_url = None
    extras: list[str] = []
    for parsed in files:
        index_url = parsed.index_url or index_url
        extras += parsed.extra_index_urls
    return index_url, tuple(dict.fromkeys(extras))


def _lock_candidates(path: Path) -> tuple[Candidate, ...]:
    if lock_kind(path) is not None:
        return tuple(package.candidate for package in read_lock(path))
    parsed = read_requirements(path)
    if not parsed.is_hash_pinned:
        raise UsageError(
            f"{path}: --base compares pinned inputs; this requirements file is not pinned "
            "with --hash on every line",
            hint="check it without --base, or pin it (pip-compile --generate-hashes)",
        )
    return tuple(hash_pinned_candidates(parsed))


def gather_changes(inputs: InputSettings, base: str) -> Gathered:
    """Only what the lock files changed since the git ref ``base`` (``check --base``)."""
    if inputs.requirements or inputs.dist_files:
        raise UsageError(
            "--base compares lock files: pass lock files or hashed requirements files, or none "
            "to use every lock file changed since the base"
        )
    paths = [*inputs.lock_files, *inputs.requirement_files] or changed_lock_files(base)
    candidates: list[Candidate] = []
    changes: list[LockChange] = []
    baselines: dict[NormalizedName, Version] = {}
    for path in paths:
        old = read_at_ref(path, base, _lock_candidates)
        todo, found = compare_candidates(old, _lock_candidates(path))
        candidates += todo
        for change in found:
            if change.kind is ChangeKind.REMOVED:
                change = dataclasses.replace(change, source=SourceLocation(str(path)))
            elif change.old_version is not None and change.old_version != change.new_version:
                baselines[change.name] = change.old_version
            changes.append(change)
    return Gathered(tuple(candidates), changes=tuple(changes), baselines=baselines)


def gather_candidates(
    settings: CheckSettings, before_resolving: Callable[[], None] = lambda: None
) -> Gathered:
    """Turn the inputs into pinned candidates, running pip's resolver only where needed;
    ``before_resolving`` is called just before pip's resolver starts, if it does."""
    inputs = settings.inputs
    if inputs.base is not None:
        return gather_changes(inputs, inputs.base)
    if inputs.is_empty:
        raise UsageError(
            "nothing to check", hint="name requirements, -r FILE, a lock file or distribution files"
        )
    candidates: list[Candidate] = [readable_candidate(path) for path in inputs.dist_files]
    errors: list[ReportError] = []
    unresolved: ResolutionError | None = None
    for path in inputs.lock_files:
        candidates.extend(package.candidate for package in read_lock(path))
    parsed = [read_requirements(path) for path in inputs.requirement_files]
    pinned = [reqs for reqs in parsed if reqs.is_hash_pinned]
    loose = [reqs for reqs in parsed if not reqs.is_hash_pinned]
    for reqs in pinned:
        candidates.extend(hash_pinned_candidates(reqs))
    file_index_url, file_extras = _file_index_options(parsed)
    if inputs.requirements or loose:
        if settings.network.offline:
            raise UsageError(
                "resolving loose requirements needs the network",
                hint="with --offline, check a lock file or a requirements file pinned with "
                "--hash, or drop --offline",
            )
        request = PipResolveRequest(
            requirements=inputs.requirements,
            requirement_files=tuple(reqs.path for reqs in loose),
            constraint_files=inputs.constraint_files,
            resolution=settings.resolution,
            timeout=settings.network.timeout,
            retries=settings.network.retries,
        )
        before_resolving()
        try:
            resolution = resolve_with_pip(request)
        except ResolutionError as exc:
            if exc.unresolved is None:
                raise
            # Whether any index serves the name is the engine's to find out.
            unresolved = exc
            candidates.append(_unresolved_candidate(exc.unresolved, exc, request))
        else:
            candidates.extend(resolution.candidates)
            if resolution.stopped:
                errors.append(ReportError("resolver", resolution.stopped))
    return Gathered(
        tuple(candidates),
        tuple(errors),
        file_index_url,
        file_extras,
        no_index=any(reqs.no_index for reqs in parsed),
        unresolved=unresolved,
    )


def _unresolved_candidate(
    name: str, error: ResolutionError, request: PipResolveRequest
) -> Candidate:
    """The candidate for a requirement pip found no release of (it has no version)."""
    norm = canonicalize_name(name)
    asked = {_requirement_name(text) for text in request.requirements}
    return Candidate(
        name=norm,
        version=None,
        origin="resolver",
        # A name on neither the command line nor in a requirements file is a dependency.
        requested=norm in asked or (bool(request.requirement_files) and not asked),
        unresolved=error.one_line(),
    )


def _requirement_name(text: str) -> NormalizedName | None:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None


def index_settings(settings: CheckSettings, gathered: Gathered) -> IndexSettings:
    """The indexes to consult: the command line's, else the inputs', else pip's configuration."""
    resolution = settings.resolution
    if resolution.no_index:
        return IndexSettings(index_url=None, no_index=True)
    index_url, extras = resolution.index_url, resolution.extra_index_urls
    if not (index_url or extras):
        if gathered.no_index:
            return IndexSettings(index_url=None, no_index=True)
        index_url, extras = gathered.index_url, gathered.extra_index_urls
    if index_url or extras:
        # Like pip: extra indexes given without an index URL add to the configured one.
        primary = index_url or pip_index_settings().index_url
        return IndexSettings(
            index_url=normalize_index_url(primary) if primary else None,
            extra_index_urls=tuple(normalize_index_url(url) for url in extras),
        )
    if settings.network.offline:
        return IndexSettings(index_url=None)
    return pip_index_settings()


def parse_expectations(values: Sequence[str]) -> dict[NormalizedName, list[ExpectedIdentity]]:
    """``--expect`` values by package; several for one package mean any of them."""
    expectations: dict[NormalizedName, list[ExpectedIdentity]] = {}
    for value in values:
        try:
            name, identity = parse_expectation(value)
        except ValueError as exc:
            raise UsageError(
                f"invalid --expect {value!r}: {exc}",
                hint="e.g. --expect 'demo:kind=GitHub,repository=acme/demo,workflow=release.yml'",
            ) from exc
        expectations.setdefault(canonicalize_name(name), []).append(identity)
    return expectations


def vulnerability_database(settings: VerificationSettings) -> Path | None:
    """The offline OSV database to use, if any; checked before any slow work starts."""
    database = settings.vulnerability_db
    if database is not None and not database.exists():
        raise UsageError(
            f"vulnerability database {database} does not exist",
            hint="pass a directory or zip of OSV records",
        )
    return database


def vulnerability_service(
    settings: VerificationSettings,
    session: HttpSession,
    database: Path | None,
    cache_dir: Path,
) -> VulnerabilitySource:
    """The known-vulnerability source: an offline OSV database, else an OSV-compatible API
    whose answers are remembered under ``cache_dir`` for a few minutes."""
    if database is not None:
        from verify._vulnerabilities.offline import OsvOfflineService

        return OsvOfflineService(database)
    # A bad --osv-url is a usage error now, before anything slow; the API source itself (and
    # pip-audit, which it is built on) is made only if some answer is not remembered.
    base_url = osv_base_url(settings.osv_url) if settings.osv_url else None

    def build() -> VulnerabilitySource:
        from verify._vulnerabilities.osv import OsvApiService

        return OsvApiService(session, base_url)

    return RememberedSource(build, AnswerCache(cache_dir / "vulnerabilities", base_url or ""))


def run_check(
    settings: CheckSettings,
    *,
    policy: Policy | None = None,
    progress: ProgressSink | None = None,
) -> Report:
    """Verify everything ``settings`` names and decide by ``policy`` (default: the embedded one).

    Raises :class:`~verify.errors.UsageError` for unusable inputs and
    :class:`~verify.errors.IncompleteError` when resolution fails; per-package failures are
    reported in the returned report instead.
    """
    return verify_gathered(settings, gather_candidates, policy=policy, progress=progress)


def verify_gathered(
    settings: CheckSettings,
    gather: Callable[[CheckSettings, Callable[[], None]], Gathered],
    *,
    policy: Policy | None = None,
    progress: ProgressSink | None = None,
) -> Report:
    """Verify the candidates ``gather`` returns, with the session, caches and checks that
    ``settings`` configure; ``check`` gathers by resolving, ``screen`` from uploaded files.

    ``gather`` runs after the network session is open and gets a function to call before
    pip's resolver starts, so that the resolution overlaps with reaching the vulnerability
    service.
    """
    verification, network = settings.verification, settings.network
    policy = policy or load_policy(verification.policy_path)
    expectations = parse_expectations(verification.expect)
    database = vulnerability_database(verification)
    # No store unless one is named: the library never writes into the working directory on
    # its own (the CLI names ./pip-verify.trust.toml by default).
    store = TrustStore.load(verification.trust_store) if verification.trust_store else None
    # A private trust root is read up front so a bad file is a usage error (exit 2);
    # production's is loaded only if some file has provenance to verify.
    trust = (
        load_trust_root(trust_config=verification.trust_config)
        if verification.trust_config
        else None
    )
    cache_dir = network.cache_dir or default_cache_dir()
    remembered = RememberedProvenance(cache_dir / "provenance", trust_identity(trust))
    with network_session(network) as session:
        vulnerabilities = vulnerability_service(verification, session, database, cache_dir)
        # Reaching the API (or finding it unreachable) overlaps pip's resolution, when pip
        # resolves; a lock's check asks the API as soon as verification starts anyway.
        warm_up = (lambda: None) if network.offline else vulnerabilities.warm_up
        gathered = gather(settings, warm_up)
        indexes = index_settings(settings, gathered)
        verifier = Verifier(
            session=session,
            store=ContentStore(cache_dir / "files"),
            index_urls=indexes.urls,
            policy=policy,
            options=CheckOptions(
                offline=network.offline,
                all_files=verification.all_files,
                target=settings.resolution.target,
                jobs=network.jobs,
                behaviour=verification.behaviour,
                baselines=gathered.baselines,
            ),
            progress=progress,
            provenance=ProvenanceChecker(
                session, offline=network.offline, trust=trust, remembered=remembered
            ),
            expectations=expectations,
            trust_store=store,
            record=verification.record,
            vulnerabilities=vulnerabilities,
        )
        report = verifier.check(gathered.candidates)
        if verifier.recorded and store is not None:
            try:
                store.save_recorded(verifier.recorded)
            except OSError as exc:
                raise UsageError(
                    f"cannot write the trust store {store.path}: {exc.strerror}",
                    hint="pass a writable --trust-store, or --no-record",
                ) from exc
    if gathered.unresolved is not None and not _named_unknown(report, gathered.unresolved):
        # The index serves the name: pip's own failure (no usable release), as pip says it.
        raise gathered.unresolved
    if gathered.errors:
        report = dataclasses.replace(
            report, decision=Decision.DENY, errors=report.errors + gathered.errors
        )
    if gathered.changes:
        report = dataclasses.replace(report, changes=gathered.changes)
    return report


def _named_unknown(report: Report, error: ResolutionError) -> bool:
    """Whether the report says no index serves the name pip could not resolve."""
    name = canonicalize_name(error.unresolved or "")
    return any(
        reason.rule == RuleId.NAME_UNKNOWN.value
        for package in report.packages
        if package.name == name
        for reason in package.reasons
    )
