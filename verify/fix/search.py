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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._index.client import IndexClient
from verify._index.urls import redact
from verify._resolve.pylock_write import PylockEntry, release_files
from verify._resolve.select import file_version
from verify.check import CheckSettings, run_check
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
from verify.fix.model import FixChange, FixSettings, Guardrails
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
            reason, files = self._judge(name, version, index, listed, entry, cooldown, reference)
            if reason is None:
                chosen = dataclasses.replace(
                    change, new=version, tried=tuple(tried), index=redact(index)
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
    ) -> tuple[str | None, tuple[IndexFile, ...]]:
        """Why ``name`` ``version`` does not pass, or ``None`` and the files it brings."""
        files: tuple[IndexFile, ...] | str = tuple(listed)
        if entry is not None:
            files = release_files(entry, listed)
        if isinstance(files, str):
            return files, ()
        problem = cooldown_problem(files, cooldown, self.now, where=redact(index))
        if problem is not None:
            return problem, ()
        report = run_check(self._candidate_check(name, version), policy=self.policy)
        result = next((p for p in report.packages if p.name == name), None)
        failing = [p for p in report.packages if needs_fix(p)]
        if result is None or failing or report.incomplete:
            return _check_reason(report, failing or ([result] if result else [])), ()
        key = "fix.same-index" if self.guardrails.same_index else "fix"
        problem = index_problem(result, listed, index, key=key) or self._too_young(report)
        if problem is None and reference is not None:
            problem = publisher_problem(reference, result)
        return problem, (files if problem is None else ())

    def _candidate_check(self, name: NormalizedName, version: Version) -> CheckSettings:
        """The check of one candidate and what it depends on. It records no publisher in the
        trust store: a release tried is not a release taken."""
        check = self.settings.check
        return dataclasses.replace(
            check,
            inputs=InputSettings(requirements=(f"{name}=={version}",)),
            verification=dataclasses.replace(check.verification, record=False),
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
