"""``diff``: what one release of a package adds compared with another.

The library entry point behind ``pip-verify diff``::

    from verify.diff import DiffSettings, run_diff

    result = run_diff(DiffSettings(name="demo", old="1.0", new="1.1"))
    result.diff.findings  # new behaviour, rated
    result.decision       # what the policy makes of it

Two local files can be compared too (``DiffSettings(old="a.whl", new="b.whl")``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from verify._behaviour.baseline import choose_baseline
from verify._behaviour.diff import BehaviourDiff, DistFile, diff_distributions
from verify._behaviour.review import DiffResult, baseline_request, behaviour_reasons
from verify._checks.typosquat import PopularNames
from verify._fetch.fetch import Fetcher, ProgressSink
from verify._fetch.store import ContentStore
from verify._index.client import IndexClient
from verify._index.config import IndexSettings, pip_index_settings
from verify._index.urls import normalize_index_url
from verify._resolve.select import file_version, select_installable, supported_tags
from verify.check import default_cache_dir, network_session
from verify.errors import IncompleteError, InvalidInputError, UsageError
from verify.models import Decision, IndexFile, Reason
from verify.policy import Policy, load_policy
from verify.settings import NetworkSettings, ResolutionSettings

__all__ = ["DiffResult", "DiffSettings", "run_diff"]


@dataclass(frozen=True, slots=True)
class DiffSettings:
    """What to compare: two versions of ``name`` on the indexes, or two local files."""

    old: str
    new: str
    #: The project; ``None`` means ``old`` and ``new`` are paths of distribution files.
    name: str | None = None
    #: Compare sdists instead of the wheels this environment would install.
    sdist: bool = False
    #: The TOML trust policy the findings are judged by; ``None``: the embedded default.
    policy_path: Path | None = None
    #: Where the releases come from; ``diff`` reads the index URLs and the target.
    resolution: ResolutionSettings = field(default_factory=ResolutionSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)


def judge(
    diff: BehaviourDiff, policy: Policy, package: str | None
) -> tuple[Decision, tuple[Reason, ...]]:
    """The policy's decision for each of ``diff``'s findings, and overall."""
    reasons = behaviour_reasons(diff, policy, package)
    return Decision.worst(r.decision for r in reasons), tuple(reasons)


def _local(path_text: str) -> DistFile:
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(
            f"{path} is not a file",
            hint="pass two distribution files, or NAME OLD NEW to compare releases on the index",
        )
    return DistFile(path, path.name)


def _version(text: str, what: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion as exc:
        raise UsageError(
            f"{what} {text!r} is not a version",
            hint="give NAME OLD NEW with versions as the index lists them (demo 1.0 1.1), or "
            "two distribution files",
        ) from exc


def _indexes(settings: ResolutionSettings) -> IndexSettings:
    if settings.index_url or settings.extra_index_urls:
        primary = settings.index_url or pip_index_settings().index_url
        return IndexSettings(
            index_url=normalize_index_url(primary) if primary else None,
            extra_index_urls=tuple(normalize_index_url(u) for u in settings.extra_index_urls),
        )
    return pip_index_settings()


def _pick(files: list[IndexFile], version: Version, settings: DiffSettings, name: str) -> IndexFile:
    of_version = [f for f in files if file_version(f.filename) == version]
    if not of_version:
        raise InvalidInputError(f"the index serves no release {version} of {name}")
    names = [f.filename for f in of_version]
    if settings.sdist:
        chosen = [n for n in names if not n.endswith(".whl")][:1]
    else:
        chosen = select_installable(names, supported_tags(settings.resolution.target))
    if not chosen:
        raise InvalidInputError(
            f"release {version} of {name} has no file for this environment"
            + ("" if settings.sdist else " (try --sdist)")
        )
    return next(f for f in of_version if f.filename == chosen[0])


def run_diff(
    settings: DiffSettings,
    *,
    policy: Policy | None = None,
    progress: ProgressSink | None = None,
) -> DiffResult:
    """Compare the two releases or files ``settings`` names and judge the findings.

    Raises :class:`~verify.errors.UsageError` for unusable arguments or archives and
    :class:`~verify.errors.IncompleteError` when the index or a download fails.
    """
    policy = policy or load_policy(settings.policy_path)
    popular = PopularNames.load()
    if settings.name is None:
        old, new = _local(settings.old), _local(settings.new)
        diff = diff_distributions(new, old, popular=popular, strict_baseline=True, named=False)
        decision, reasons = judge(diff, policy, None)
        return DiffResult(diff, decision, reasons, new_path=new.path)
    name = canonicalize_name(settings.name)
    old_version = _version(settings.old, "OLD")
    new_version = _version(settings.new, "NEW")
    cache_dir = settings.network.cache_dir or default_cache_dir()
    with network_session(settings.network) as session:
        client = IndexClient(session, _indexes(settings.resolution).urls)
        pages = client.pages(name)
        files = [entry for page in pages for entry in page.files]
        if not files:
            raise InvalidInputError(f"no configured index serves {name}")
        new_entry = _pick(files, new_version, settings, name)
        choice = choose_baseline(files, new_entry.filename, version=old_version)
        if choice.entry is None:
            raise InvalidInputError(f"{name} {old_version}: {choice.reason}")
        fetcher = Fetcher(session, ContentStore(cache_dir / "files"), jobs=2, progress=progress)
        results = fetcher.fetch_all([baseline_request(choice.entry), baseline_request(new_entry)])
    paths = []
    for result in results:
        if result.path is None:
            raise IncompleteError(
                f"could not fetch {result.request.filename}: {result.error or 'unknown error'}"
            )
        paths.append(result.path)
    old_path, new_path = paths
    diff = diff_distributions(
        DistFile(new_path, new_entry.filename, new_entry.upload_time),
        DistFile(old_path, choice.entry.filename, choice.entry.upload_time),
        baseline_reason=choice.reason,
        popular=popular,
    )
    decision, reasons = judge(diff, policy, name)
    return DiffResult(
        diff, decision, reasons, name, str(old_version), str(new_version), new_path=new_path
    )
