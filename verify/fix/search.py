"""One package's search for the nearest release that passes, within the guardrails.

The releases come from the index the package is pinned to (``same-index``), are tried in the
order :func:`~verify.fix.guardrails.candidate_order` gives, and each is held, cheapest first,
to: the kinds of files a ``pylock.toml`` entry has, the cooldown (before anything is
downloaded), then ``check``'s engine over the release and what it depends on (the whole
policy, with no known vulnerability), then the index its checked bytes came from, the
cooldown of everything that check pulled in, and its publisher (``same-publisher``).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._index.client import IndexClient
from verify._index.urls import redact
from verify._resolve.pylock_write import PylockEntry, release_files
from verify._resolve.select import file_version
from verify.check import run_check
from verify.errors import ResolutionError
from verify.fix.dependencies import (
    constraints_text,
    dependency_moves,
    excluded_pins,
    nearest_allowed,
    requirement_of,
)
from verify.fix.guardrails import (
    PublisherReference,
    candidate_order,
    cooldown_of,
    cooldown_problem,
    index_problem,
    pinned_index,
    publisher_problem,
    publisher_reference,
)
from verify.fix.model import DependencyChange, FixChange, FixSettings, Guardrails
from verify.models import Decision, IndexFile, PackageResult, Report
from verify.policy import Policy
from verify.settings import InputSettings
from verify.trust_store import TrustStore

__all__ = ["Search", "needs_fix"]

#: Rules whose firing makes a package need a fix even when the policy only warns, and that a
#: candidate release (or anything it pulls in) must not fire either.
_VULNERABLE = ("vulnerability", "known-malicious")


def needs_fix(package: PackageResult) -> bool:
    """Whether the policy denies ``package`` or it has a known vulnerability."""
    if package.decision is Decision.DENY:
        return True
    return any(
        r.rule in _VULNERABLE and r.decision is not Decision.ALLOW and not r.unchecked
        for r in package.reasons
    )


@dataclass(frozen=True, slots=True)
class Search:
    """What every package's search shares: the run's settings, limits, policy, index client,
    trust store and clock."""

    settings: FixSettings
    guardrails: Guardrails
    policy: Policy
    client: IndexClient
    store: TrustStore | None
    now: datetime
    #: The lock's pins, held as constraints while a candidate is resolved so that its tree
    #: changes as little as possible; ``None``: the candidate is resolved alone (a lock whose
    #: dependencies fix does not rewrite).
    pins: Mapping[NormalizedName, Version] | None = None
    #: Pins left out of those constraints: packages this run fixes too.
    unpinned: frozenset[NormalizedName] = frozenset()
    #: The check of each package of the lock, whose publisher a moved dependency keeps
    #: (``same-publisher``).
    locked: Mapping[NormalizedName, PackageResult] = dataclasses.field(default_factory=dict)
    #: Whether the lock can take what a candidate adds or moves (a hashed requirements file);
    #: when not, a candidate that needs such a change is not taken.
    adds: bool = True

    def nearest(
        self,
        package: PackageResult,
        current: Version,
        entry: PylockEntry | None,
        lock_index: str | None,
    ) -> tuple[FixChange, tuple[IndexFile, ...]]:
        """The nearest release of ``package`` (pinned at ``current``; ``lock_index``: the
        index the lock names for it) that passes, and its files on the index; for a
        ``pylock.toml`` ``entry``, the files that replace the entry's."""
        name = package.name
        cooldown = cooldown_of(self.guardrails, self.policy, name)
        reference = None
        if self.guardrails.same_publisher:
            trusted = self.store.get(name) if self.store is not None else None
            reference = publisher_reference(package, trusted)
        change = FixChange(
            name,
            current,
            None,
            _why(package),
            cooldown=cooldown,
            publisher=reference.note if reference is not None else None,
        )
        sources = self._sources(package, entry, lock_index)
        if isinstance(sources, str):
            return dataclasses.replace(change, blocked=sources), ()
        releases = self._releases(name, sources)
        tried: list[tuple[str, str]] = []
        for version in candidate_order(current, releases, self.guardrails):
            index, listed = releases[version]
            reason, files, moved = self._judge(
                name, version, index, listed, entry, cooldown, reference
            )
            if reason is None:
                chosen = dataclasses.replace(
                    change,
                    new=version,
                    tried=tuple(tried),
                    index=redact(index),
                    dependencies=moved,
                )
                return chosen, files
            tried.append((str(version), reason))
        return dataclasses.replace(change, tried=tuple(tried), index=redact(sources[0])), ()

    def _sources(
        self, package: PackageResult, entry: PylockEntry | None, lock_index: str | None
    ) -> list[str] | str:
        """The indexes the releases come from, first first; or why none can be told.

        A ``pylock.toml`` entry that names its index keeps it whatever ``same-index`` says:
        the entry is rewritten in place, ``index`` included.
        """
        consulted = list(self.client.index_urls)
        keep = self.guardrails.same_index or (entry is not None and entry.index is not None)
        pinned = pinned_index(package.name, consulted, lock_index if keep else None, package.index)
        if not consulted:
            return "no index is consulted (--no-index), so there is no release to try"
        if not keep:
            first = [pinned] if pinned is not None else []
            return first + [url for url in consulted if url != pinned]
        if pinned is not None:
            return [pinned]
        where = ", ".join(redact(url) for url in consulted)
        return (
            f"[fix.same-index] cannot tell which index {package.name} is pinned to: the lock "
            f"names none, no index serves {package.name} {package.version}, and this run "
            f"consults several ({where})"
        )

    def _releases(
        self, name: NormalizedName, sources: Sequence[str]
    ) -> dict[Version, tuple[str, list[IndexFile]]]:
        """Each release's files with a sha256, not yanked, from the first of ``sources`` that
        serves it."""
        releases: dict[Version, tuple[str, list[IndexFile]]] = {}
        for index in sources:
            page = self.client.page(index, name)
            found: dict[Version, list[IndexFile]] = {}
            for file in page.files if page is not None else ():
                version = file_version(file.filename)
                if version is not None and file.hashes.get("sha256") and not file.yanked:
                    found.setdefault(version, []).append(file)
            for version, files in found.items():
                releases.setdefault(version, (index, files))
        return releases

    def _judge(
        self,
        name: NormalizedName,
        version: Version,
        index: str,
        listed: list[IndexFile],
        entry: PylockEntry | None,
        cooldown: int,
        reference: PublisherReference | None,
    ) -> tuple[str | None, tuple[IndexFile, ...], tuple[DependencyChange, ...]]:
        """Why ``name`` ``version`` does not pass, or ``None``, the files it brings and what
        it adds to or moves in the lock."""
        files: tuple[IndexFile, ...] | str = tuple(listed)
        if entry is not None:
            files = release_files(entry, listed)
        if isinstance(files, str):
            return files, (), ()
        problem = cooldown_problem(files, cooldown, self.now, where=redact(index))
        if problem is not None:
            return problem, (), ()
        report = self._check_candidate(name, version, index)
        if isinstance(report, str):
            return report, (), ()
        result = next((p for p in report.packages if p.name == name), None)
        failing = [p for p in report.packages if needs_fix(p)]
        if result is None or failing or report.incomplete:
            return _check_reason(report, failing or ([result] if result else [])), (), ()
        key = "fix.same-index" if self.guardrails.same_index else "fix"
        problem = index_problem(result, listed, index, key=key) or self._too_young(report)
        if problem is None and reference is not None:
            problem = publisher_problem(reference, result)
        if problem is not None:
            return problem, (), ()
        moved = self._dependencies(report, name, index, key, self.pins) if self.pins else ()
        if isinstance(moved, str):
            return moved, (), ()
        return None, files, moved

    def _dependencies(
        self,
        report: Report,
        name: NormalizedName,
        index: str,
        key: str,
        pins: Mapping[NormalizedName, Version],
    ) -> tuple[DependencyChange, ...] | str:
        """What the candidate's tree adds to the lock or moves in it, each with every file's
        sha256 from the candidate's index (``same-index``: the one the lock gets it from); or
        why one of them cannot be taken. The check already held each to the whole policy and
        :meth:`_too_young` to the cooldown."""
        changes = []
        for package, version, old in dependency_moves(report, name, pins):
            if not self.adds:
                what = "lacks" if old is None else f"pins at {old}"
                return (
                    f"needs {package.name} {version}, which the lock {what}; fix does not yet "
                    "add or move the dependencies of an entry of this kind of lock"
                )
            listed = self._releases(package.name, [index]).get(version, (index, []))[1]
            served = f"[{key}] {redact(index)} does not serve {package.name} {version}"
            problem = index_problem(package, listed, index, key=key) if listed else served
            problem = problem or self._dependency_publisher(package)
            if problem is not None:
                return problem
            needed_by, requirement = requirement_of(report, package.name)
            hashes = tuple(sorted({f.hashes["sha256"] for f in listed}))
            changes.append(
                DependencyChange(package.name, old, version, needed_by, requirement, hashes)
            )
        return tuple(changes)

    def _dependency_publisher(self, package: PackageResult) -> str | None:
        """``same-publisher`` for a dependency added or moved: the trust store's publisher for
        it, else its pinned release's; nothing to compare for a package the lock lacks and
        the store does not know, as for a pinned release without verified provenance."""
        if not self.guardrails.same_publisher:
            return None
        trusted = self.store.get(package.name) if self.store is not None else None
        pinned = self.locked.get(package.name)
        if pinned is not None:
            reference = publisher_reference(pinned, trusted)
        elif trusted is not None:
            reference = PublisherReference((trusted.identity,), note="trust store")
        else:
            return None
        return publisher_problem(reference, package)

    def _check_candidate(self, name: NormalizedName, version: Version, index: str) -> Report | str:
        """The check of one candidate and what it depends on, resolved with the lock's other
        pins as constraints when :attr:`pins` holds them; or why pip cannot resolve it so.

        When a pin conflicts with the candidate's tree, the tree resolved alone says which
        pins its ``Requires-Dist`` entries exclude; each is held to the release of ``index``
        nearest its pin that they admit, else let go, so the lock changes as little as it
        can.
        """
        requirement = f"{name}=={version}"
        if self.pins is None:
            return self._run(requirement, None)
        pins = dict(self.pins)
        skip = self.unpinned | {name}
        try:
            return self._run(requirement, (pins, skip))
        except ResolutionError:
            pass  # some pin is excluded by the candidate's tree: find which below
        try:
            excluded = excluded_pins(self._run(requirement, None), pins)
            for dependency, specifier in excluded.items():
                releases = self._releases(dependency, [index])
                nearest = nearest_allowed(pins[dependency], specifier, releases)
                if nearest is not None:
                    pins[dependency] = nearest
            try:
                return self._run(requirement, (pins, skip))
            except ResolutionError:
                return self._run(requirement, (pins, skip | set(excluded)))
        except ResolutionError as exc:
            return f"pip cannot resolve {requirement} with the lock's other pins: {exc}"

    def _run(
        self,
        requirement: str,
        constrained: tuple[Mapping[NormalizedName, Version], Collection[NormalizedName]] | None,
    ) -> Report:
        """The check of ``requirement``, with ``constrained``'s pins but those it skips as
        constraints (``None``: no constraints). It records no publisher in the trust store: a
        release tried is not a release taken."""
        check = self.settings.check
        verification = dataclasses.replace(check.verification, record=False)
        with tempfile.TemporaryDirectory(prefix="pip-verify-fix-") as scratch:
            constraints: tuple[Path, ...] = ()
            if constrained is not None:
                constraints = (Path(scratch) / "constraints.txt",)
                text = constraints_text(*constrained)
                constraints[0].write_text(text, encoding="utf-8")
            inputs = InputSettings(requirements=(requirement,), constraint_files=constraints)
            return run_check(
                dataclasses.replace(check, inputs=inputs, verification=verification),
                policy=self.policy,
            )

    def _too_young(self, report: Report) -> str | None:
        """The cooldown, for every release the candidate's check pulled in."""
        for package in report.packages:
            cooldown = cooldown_of(self.guardrails, self.policy, package.name)
            where = package.index or f"the index of {package.name}"
            problem = cooldown_problem(package.files, cooldown, self.now, where=where)
            if problem is not None:
                return problem
        return None


def _why(package: PackageResult) -> str:
    return "; ".join(
        f"[{r.rule}] {r.message}" for r in package.reasons if r.decision is not Decision.ALLOW
    )


def _check_reason(report: Report, failing: Sequence[PackageResult]) -> str:
    """The first reason the candidate's check gives against it (or what it pulled in)."""
    for package in failing:
        for reason in package.reasons:
            if reason.decision is not Decision.ALLOW:
                return f"{package.name} {package.version}: [{reason.rule}] {reason.message}"
    return "verification did not complete"
