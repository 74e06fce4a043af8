"""Publisher: who published each file, against the identities pinned beforehand, the trust
store's record, and the project's own history of provenance."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._index.urls import redact
from verify._provenance.checker import FileProvenance
from verify._provenance.identity import ExpectedIdentity
from verify._resolve.select import file_version, files_of, releases
from verify._rules.ids import RuleId
from verify._verifier.plan import Plan
from verify.models import Candidate, Finding, ProvenanceStatus, Severity
from verify.trust_store import TrustStore

__all__ = ["check_history", "check_pins", "check_trusted", "pins"]

#: How many releases before a candidate the provenance history looks at.
_HISTORY_RELEASES = 3


def pins(
    candidate: Candidate, expectations: Mapping[NormalizedName, Sequence[ExpectedIdentity]]
) -> tuple[ExpectedIdentity, ...]:
    """The identities decided beforehand: the input's own, then ``--expect``."""
    origin = str(candidate.source) if candidate.source else candidate.origin
    from_input = tuple(
        ExpectedIdentity.from_table(table, origin=origin)
        for table in candidate.attestation_identities
    )
    return from_input + tuple(expectations.get(candidate.name, ()))


def check_pins(
    plan: Plan, filename: str, provenance: FileProvenance, pinned: Sequence[ExpectedIdentity]
) -> None:
    """``publisher-mismatch``: the verified publisher is none of the pinned identities."""
    wanted = " or ".join(f"{pin} ({pin.origin})" for pin in pinned)
    status = provenance.status
    if status is ProvenanceStatus.VERIFIED and provenance.identity is not None:
        if any(pin.matches(provenance.identity) for pin in pinned):
            return
        identity = provenance.identity
        got = ExpectedIdentity(
            identity.kind.value,
            identity.repository or "?",
            identity.workflow,
            identity.environment,
        )
        plan.add(RuleId.PUBLISHER_MISMATCH, f"{filename} was published by {got}; expected {wanted}")
    elif status is ProvenanceStatus.ABSENT:
        plan.add(RuleId.PUBLISHER_MISMATCH, f"{filename} has no provenance; expected {wanted}")
    elif status is ProvenanceStatus.UNCHECKED:
        plan.add(
            RuleId.PUBLISHER_MISMATCH,
            f"{filename}: the pinned publisher could not be checked: {provenance.reason}",
            unchecked=True,
        )


def check_trusted(
    plan: Plan,
    filename: str,
    provenance: FileProvenance,
    store: TrustStore,
    *,
    record: bool,
) -> bool:
    """Trust on first use: compare with the recorded publisher, or record this one in the
    store in memory (the command saves it). Returns whether a publisher was recorded."""
    candidate = plan.candidate
    entry = store.get(candidate.name)
    status, identity = provenance.status, provenance.identity
    if entry is None:
        if status is ProvenanceStatus.VERIFIED and identity is not None and record:
            version = str(candidate.version) if candidate.version is not None else None
            store.record_first_seen(candidate.name, identity, version)
            plan.findings.append(
                Finding(
                    RuleId.PUBLISHER_FIRST_SEEN.value,
                    Severity.INFO,
                    f"first sight of {candidate.name}'s publisher: recorded in {store.path}",
                )
            )
            return True
        return False
    trusted = f"{entry.identity} ({entry.how} since {entry.since} in {store.path})"
    if status is ProvenanceStatus.VERIFIED and identity is not None:
        if entry.identity.matches(identity):
            return False
        new = ExpectedIdentity(
            identity.kind.value,
            identity.repository or "?",
            identity.workflow,
            identity.environment,
        )
        plan.add(
            RuleId.PUBLISHER_CHANGE,
            f"{filename} was published by {new}; the trust store trusts {trusted}. "
            f"If the change is expected: pip-verify trust accept {candidate.name} ...",
        )
    elif status is ProvenanceStatus.ABSENT:
        plan.add(
            RuleId.PROVENANCE_REGRESSION,
            f"{filename} has no provenance, but {candidate.name} was published with "
            f"provenance by {trusted}",
        )
    elif status is ProvenanceStatus.UNCHECKED:
        plan.add(
            RuleId.PUBLISHER_CHANGE,
            f"{filename}: could not compare with the trusted publisher {trusted}: "
            f"{provenance.reason}",
            unchecked=True,
        )
    return False


def check_history(plan: Plan, filename: str) -> None:
    """Provenance regression judged from the index: the releases just before this one were
    published with provenance, this file has none."""
    version = file_version(filename) or plan.candidate.version
    if version is None:
        return
    for page in plan.listing:
        files = page.files
        newest_first = _final_releases_before(releases(files.filenames()), version)
        for earlier, names in itertools.islice(newest_first, _HISTORY_RELEASES):
            attested = [
                entry.filename
                for entry in (files.named(n) for n in names)
                if entry is not None and entry.provenance_url and not entry.yanked
            ]
            if attested:
                plan.add(
                    RuleId.PROVENANCE_REGRESSION,
                    f"{filename} has no provenance, but {attested[0]} ({earlier}) on "
                    f"{redact(page.index_url)} was published with provenance",
                )
                return


def _final_releases_before(
    grouped: Mapping[Version, Sequence[str]], version: Version
) -> Iterator[tuple[Version, list[str]]]:
    """The final releases before ``version`` that have a valid file, newest first."""
    for earlier in sorted(grouped, reverse=True):
        if earlier < version and not earlier.is_prerelease:
            names = files_of(grouped, earlier)
            if names:
                yield earlier, names
