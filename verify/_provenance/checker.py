"""The provenance status of a file: find its evidence, verify it, compare identities."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify._index.session import HttpSession
from verify._provenance.evidence import (
    ClaimedBundle,
    Documents,
    EvidenceError,
    fetch_evidence,
    integrity_url,
    local_evidence,
)
from verify._provenance.identity import PublisherIdentity, PublisherKind
from verify._provenance.remembered import RememberedProvenance
from verify._provenance.trust_root import TrustRoot, load_trust_root
from verify.errors import IncompleteError, UsageError
from verify.models import IndexFile, ProvenanceStatus

__all__ = ["FileProvenance", "ProvenanceChecker"]

#: Claimed publisher kinds whose identity pip-verify can compare with a certificate.
_COMPARABLE = {kind.value: kind for kind in PublisherKind if kind is not PublisherKind.UNKNOWN}


@dataclass(frozen=True, slots=True)
class FileProvenance:
    """The provenance outcome for one file."""

    status: ProvenanceStatus
    identity: PublisherIdentity | None = None
    reason: str | None = None
    #: Where the evidence came from (a URL or a path).
    source: str | None = None


def _mismatch(claimed: Mapping[str, Any], actual: PublisherIdentity) -> str | None:
    """Why the certificate's identity is not the publisher the document claims, if it is not."""
    kind = claimed.get("kind")
    if not claimed:
        return None  # a bare attestation file claims nothing
    if kind != actual.kind.value:
        return (
            f"the provenance claims a {kind} publisher, the certificate is from {actual.kind.value}"
        )
    repository = claimed.get("repository")
    if isinstance(repository, str) and (actual.repository or "").lower() != repository.lower():
        return (
            f"the provenance claims repository {repository!r}, "
            f"the certificate says {actual.repository!r}"
        )
    workflow = claimed.get("workflow", claimed.get("workflow_filepath"))
    if isinstance(workflow, str) and actual.workflow != workflow:
        return (
            f"the provenance claims workflow {workflow!r}, the certificate says {actual.workflow!r}"
        )
    return None


class ProvenanceChecker:
    """Checks files' provenance; loads the Sigstore trust root only when evidence needs it."""

    def __init__(
        self,
        session: HttpSession,
        *,
        offline: bool = False,
        trust_config: Path | None = None,
        trust: TrustRoot | None = None,
        remembered: RememberedProvenance | None = None,
    ) -> None:
        self.session = session
        #: Outcomes verified by earlier checks, reused for the same documents and file.
        self.remembered = remembered
        self.offline = offline
        self.trust_config = trust_config
        self._trust = trust
        self._lock = threading.Lock()

    @property
    def trust(self) -> TrustRoot:
        """The trust root, loaded on first use (a TUF refresh may need the network)."""
        with self._lock:
            if self._trust is None:
                self._trust = load_trust_root(offline=self.offline, trust_config=self.trust_config)
            return self._trust

    def warning(self) -> str | None:
        """The trust root's warning, if it was loaded and had one."""
        return self._trust.warning if self._trust is not None else None

    def find(
        self,
        *,
        name: str,
        version: str | None,
        filename: str,
        entry: IndexFile | None,
        local_path: Path | None,
    ) -> tuple[Documents | None, str | None]:
        """The evidence for a file, or ``None`` with the reason there is none to check."""
        if local_path is not None:
            found = local_evidence(local_path)
            if found is not None or entry is None:
                return found, "no provenance beside the file"
        if entry is None:
            if self.offline:
                raise _Unchecked("the index was not consulted (--offline)")
            return None, "the file is not on an index that could serve provenance"
        if entry.provenance_url is not None:
            url = entry.provenance_url
        elif entry.provenance_listed:
            return None, "the index lists no provenance for this file"
        elif entry.index_url.startswith(("http://", "https://")) and version is not None:
            url = integrity_url(entry.index_url, name, version, filename)
        else:
            return None, "the index lists no provenance for this file"
        if self.offline:
            raise _Unchecked("provenance is on the index and --offline forbids fetching it")
        return fetch_evidence(self.session, url), "the index serves no provenance for this file"

    def check(
        self,
        *,
        name: str,
        version: str | None,
        filename: str,
        sha256: str,
        entry: IndexFile | None,
        local_path: Path | None = None,
    ) -> FileProvenance:
        """Verify every attestation of the file against its bytes' digest."""
        try:
            documents, absent_reason = self.find(
                name=name, version=version, filename=filename, entry=entry, local_path=local_path
            )
        except _Unchecked as exc:
            return FileProvenance(ProvenanceStatus.UNCHECKED, reason=str(exc))
        except IncompleteError as exc:
            return FileProvenance(
                ProvenanceStatus.UNCHECKED, reason=f"could not fetch provenance: {exc.one_line()}"
            )
        except EvidenceError as exc:
            return FileProvenance(ProvenanceStatus.INVALID, reason=str(exc))
        if documents is None:
            return FileProvenance(ProvenanceStatus.ABSENT, reason=absent_reason)
        remembered = self.remembered
        if remembered is not None:
            known = remembered.recall(filename, sha256, documents)
            if known is not None:
                return FileProvenance(
                    ProvenanceStatus.VERIFIED, identity=known, source=documents.where
                )
        outcome = self._verify(documents, filename, sha256)
        if (
            remembered is not None
            and outcome.status is ProvenanceStatus.VERIFIED
            and outcome.identity is not None
        ):
            remembered.remember(filename, sha256, documents, outcome.identity)
        return outcome

    def _verify(self, documents: Documents, filename: str, sha256: str) -> FileProvenance:
        """Parse the documents and verify every attestation against the file's digest."""
        try:
            evidence = documents.parse()
        except EvidenceError as exc:
            return FileProvenance(ProvenanceStatus.INVALID, reason=str(exc))
        try:
            verifier = self.trust.verifier
        except UsageError as exc:
            return FileProvenance(
                ProvenanceStatus.UNCHECKED, reason=exc.one_line(), source=evidence.source
            )
        identity: PublisherIdentity | None = None
        for bundle in evidence.bundles:
            outcome = self._check_bundle(bundle, verifier, filename, sha256, evidence.source)
            if isinstance(outcome, FileProvenance):
                return outcome
            identity = identity or outcome
        return FileProvenance(ProvenanceStatus.VERIFIED, identity=identity, source=evidence.source)

    def _check_bundle(
        self, bundle: ClaimedBundle, verifier: Any, filename: str, sha256: str, source: str
    ) -> PublisherIdentity | FileProvenance:
        # Imported on first use: sigstore and pypi-attestations cost a fifth of a second
        # of start-up, and most packages have no provenance to verify.
        from verify._provenance.attestation import AttestationInvalid, verify_attestation

        kind = bundle.publisher.get("kind")
        if bundle.publisher and kind not in _COMPARABLE:
            return FileProvenance(
                ProvenanceStatus.UNCHECKED,
                reason=f"unknown publisher kind {kind!r}: its identity cannot be verified",
                source=source,
            )
        environment = bundle.publisher.get("environment")
        identity: PublisherIdentity | None = None
        for attestation in bundle.attestations:
            try:
                verified = verify_attestation(
                    attestation,
                    verifier=verifier,
                    filename=filename,
                    sha256=sha256,
                    environment=environment if isinstance(environment, str) else None,
                )
            except AttestationInvalid as exc:
                return FileProvenance(ProvenanceStatus.INVALID, reason=str(exc), source=source)
            problem = _mismatch(bundle.publisher, verified.identity)
            if problem is not None:
                return FileProvenance(ProvenanceStatus.INVALID, reason=problem, source=source)
            identity = identity or verified.identity
        if identity is None:  # parse_provenance never yields an empty bundle
            return FileProvenance(ProvenanceStatus.INVALID, reason="no attestations", source=source)
        return identity


class _Unchecked(Exception):
    """Provenance exists but may not be fetched (``--offline``)."""
