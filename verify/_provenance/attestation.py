"""Verifying one PEP 740 attestation against the bytes we hold.

The Sigstore checks (certificate chain to the trusted root, signed certificate timestamp,
transparency log inclusion, DSSE signature, identity policy) are sigstore-python's; the PEP 740
subject checks (exactly one subject, its filename, its sha256, a known predicate type) are made
here, in the one place every trust root shares. pypi-attestations' own ``Attestation.verify``
knows only the production and staging instances, so it cannot serve a private Sigstore.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sigstore.errors
from cryptography import x509
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from pypi_attestations import Attestation, AttestationType
from sigstore.verify import Verifier
from sigstore.verify.policy import VerificationPolicy

from verify._documents import parse_json
from verify._provenance.identity import PublisherIdentity, identity_from_certificate
from verify.errors import InvalidInputError

__all__ = [
    "ANY_PUBLISHER",
    "AttestationInvalid",
    "VerifiedAttestation",
    "verify_attestation",
]

_DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_KNOWN_PREDICATES = frozenset(kind.value for kind in AttestationType)
_ISSUER_OIDS = (
    x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"),
    x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1"),
)


class AttestationInvalid(Exception):
    """The attestation does not verify; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class VerifiedAttestation:
    """An attestation that verified, and the identity its certificate vouches for."""

    predicate_type: str
    identity: PublisherIdentity


class _AnyPublisher:
    """Accepts any certificate that names an OIDC issuer.

    Used when no identity was decided beforehand (first sight): the chain, log and signature
    are still verified in full, and the identity read from the certificate is compared with
    pins and the trust store by the caller.
    """

    def verify(self, cert: x509.Certificate) -> None:
        for oid in _ISSUER_OIDS:
            try:
                cert.extensions.get_extension_for_oid(oid)
            except x509.ExtensionNotFound:
                continue
            return
        raise sigstore.errors.VerificationError("certificate names no OIDC issuer")


ANY_PUBLISHER: VerificationPolicy = _AnyPublisher()


def _same_distribution(subject: str, filename: str) -> bool:
    """Whether two filenames name the same distribution (normalised as PEP 740 allows)."""
    if subject == filename:
        return True
    try:
        if subject.endswith(".whl") and filename.endswith(".whl"):
            return parse_wheel_filename(subject) == parse_wheel_filename(filename)
        return parse_sdist_filename(subject) == parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return False


def _statement(payload: bytes) -> dict[str, Any]:
    try:
        text = payload.decode(json.detect_encoding(payload), "surrogatepass")
        # A valid signature says who signed, not that the statement is harmless: it may be
        # nested too deeply to parse, which parse_json reports like any other bad JSON.
        statement = parse_json(text, "statement")
    except UnicodeDecodeError as exc:
        raise AttestationInvalid(f"the signed statement is not JSON: {exc.reason}") from None
    except InvalidInputError as exc:
        raise AttestationInvalid(f"the signed statement is not JSON: {exc.message}") from None
    if not isinstance(statement, dict):
        raise AttestationInvalid("the signed statement is not a JSON object")
    return statement


def check_subject(statement: dict[str, Any], *, filename: str, sha256: str) -> str:
    """Apply PEP 740's subject checks; return the predicate type."""
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1:
        raise AttestationInvalid("the statement must have exactly one subject")
    subject = subjects[0]
    if not isinstance(subject, dict):
        raise AttestationInvalid("the statement's subject is malformed")
    name = subject.get("name")
    if not isinstance(name, str) or not _same_distribution(name, filename):
        raise AttestationInvalid(f"the attestation is for {name!r}, not {filename!r}")
    digest = subject.get("digest")
    attested = digest.get("sha256") if isinstance(digest, dict) else None
    if attested != sha256:
        raise AttestationInvalid(
            f"the attestation is for sha256:{attested}, but the file's bytes have sha256:{sha256}"
        )
    predicate = statement.get("predicateType")
    if predicate not in _KNOWN_PREDICATES:
        raise AttestationInvalid(f"unknown attestation predicate type {predicate!r}")
    return str(predicate)


def verify_attestation(
    attestation: Attestation,
    *,
    verifier: Verifier,
    filename: str,
    sha256: str,
    policy: VerificationPolicy | None = None,
    environment: str | None = None,
) -> VerifiedAttestation:
    """Verify ``attestation`` for the file ``filename`` whose bytes have ``sha256``.

    ``policy`` is the identity the certificate must match (a pin); without one any publisher
    is accepted and returned for the caller to judge. Raises :class:`AttestationInvalid`.
    """
    try:
        bundle = attestation.to_bundle()
    except Exception as exc:  # pypi-attestations raises several types for malformed input
        raise AttestationInvalid(f"the attestation is malformed: {exc}") from exc
    try:
        payload_type, payload = verifier.verify_dsse(bundle, policy or ANY_PUBLISHER)
    except sigstore.errors.VerificationError as exc:
        raise AttestationInvalid(f"Sigstore verification failed: {exc}") from exc
    if payload_type != _DSSE_PAYLOAD_TYPE:
        raise AttestationInvalid(f"unexpected DSSE payload type {payload_type!r}")
    predicate_type = check_subject(_statement(payload), filename=filename, sha256=sha256)
    identity = identity_from_certificate(bundle.signing_certificate, environment=environment)
    return VerifiedAttestation(predicate_type, identity)
