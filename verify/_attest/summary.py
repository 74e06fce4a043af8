"""A signed verification summary of a check: an in-toto Statement v1 whose predicate is a SLSA
Verification Summary v1, in a DSSE envelope signed with an ECDSA P-256 key.

The statement names every verified file as a subject (its name and sha256), pip-verify as the
verifier (id and version), the time, the resource that was checked, the policy (its name as a
URI and the sha256 of its bytes), the PEP 740 provenance that was verified as input
attestations, and the result (``PASSED`` or ``FAILED``) with every package's decision and
rule outcomes under ``pip-verify`` in the predicate. ``verifiedLevels`` holds pip-verify's own
track levels (the VSA allows custom ones that do not start with ``SLSA_``):
``PIP_VERIFY_POLICY_PASSED``, plus ``PIP_VERIFY_PROVENANCE_VERIFIED`` when every file's
provenance verified; ``FAILED`` when the check did not pass.

The envelope is what ``slsa-verifier verify-vsa`` reads with ``--public-key-path`` and
``--public-key-id``: DSSE v1 with payload type ``application/vnd.in-toto+json``, signed over
DSSE's pre-authentication encoding with ECDSA P-256 and SHA-256 (an ASN.1 DER signature),
each signature naming its ``keyid``. The signing and checking are the ``cryptography``
library's; this module only builds the bytes they sign. Keyless signing with Sigstore, of the
same statement, is :mod:`verify._attest.keyless`'s; both end in :func:`check_statement`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from verify._version import __version__
from verify.errors import InvalidInputError, UsageError
from verify.models import Decision, ProvenanceStatus, Report

__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "VERIFIER_ID",
    "KeySigner",
    "PolicyRef",
    "SignedSummary",
    "SummaryCheck",
    "SummaryProblem",
    "SummarySigner",
    "check_statement",
    "check_subjects",
    "encode_statement",
    "is_sigstore_bundle",
    "key_id",
    "open_envelope",
    "pae",
    "public_pem_of",
    "sign_envelope",
    "signed_statement",
    "subject_digests",
    "verification_summary",
    "verify_summary",
]

PAYLOAD_TYPE: Final = "application/vnd.in-toto+json"
STATEMENT_TYPE: Final = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE: Final = "https://slsa.dev/verification_summary/v1"
#: pip-verify's verifier id (``--verifier-id`` for slsa-verifier).
VERIFIER_ID: Final = "https://pip-verify.example/verifier/v1"
_BUNDLE_MEDIA_TYPE: Final = "application/vnd.dev.sigstore.bundle"


class SummaryProblem(InvalidInputError):
    """A summary that does not verify (the message says which check failed)."""


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """The policy a check ran under: a name (a URI) and the sha256 of its bytes."""

    uri: str
    sha256: str

    @classmethod
    def of(cls, name: str, text: bytes) -> PolicyRef:
        """The reference to the policy ``name`` whose bytes are ``text``."""
        return cls(name, hashlib.sha256(text).hexdigest())


def verification_summary(
    report: Report, *, policy: PolicyRef, resource_uri: str, now: datetime
) -> dict[str, Any]:
    """The in-toto Statement summarising ``report``."""
    subjects = []
    inputs = []
    all_verified = True
    for package in report.packages:
        for file in package.files:
            if file.sha256:
                subjects.append({"name": file.filename, "digest": {"sha256": file.sha256}})
            provenance = file.provenance
            if provenance is None or provenance.status is not ProvenanceStatus.VERIFIED:
                all_verified = False
            elif file.provenance_url and file.sha256:
                inputs.append({"uri": file.provenance_url, "digest": {"sha256": file.sha256}})
    passed = report.decision is not Decision.DENY and not report.incomplete
    levels = ["PIP_VERIFY_POLICY_PASSED"] if passed else ["FAILED"]
    if passed and all_verified and subjects:
        levels.append("PIP_VERIFY_PROVENANCE_VERIFIED")
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "verifier": {"id": VERIFIER_ID, "version": {"pip-verify": __version__}},
            "timeVerified": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resourceUri": resource_uri,
            "policy": {"uri": policy.uri, "digest": {"sha256": policy.sha256}},
            "inputAttestations": inputs,
            "verificationResult": "PASSED" if passed else "FAILED",
            "verifiedLevels": levels,
            "pip-verify": {
                "decision": report.decision.value,
                "packages": [
                    {
                        "name": package.name,
                        "version": str(package.version) if package.version else None,
                        "decision": package.decision.value,
                        "rules": {
                            reason.rule: reason.decision.value
                            + (" unchecked" if reason.unchecked else "")
                            for reason in package.reasons
                        },
                    }
                    for package in report.packages
                ],
            },
        },
    }


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1's pre-authentication encoding: what a signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def encode_statement(statement: Mapping[str, Any]) -> bytes:
    """The bytes of ``statement`` that get signed: compact JSON with sorted keys."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()


def sign_envelope(statement: Mapping[str, Any], key_pem: bytes, *, keyid: str) -> dict[str, Any]:
    """``statement`` in a DSSE envelope signed with the ECDSA P-256 private key ``key_pem``.

    Raises :class:`~verify.errors.UsageError` for a key that is not an unencrypted P-256 PEM.
    """
    key = _private_key(key_pem)
    payload = encode_statement(statement)
    signature = key.sign(pae(PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256()))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(signature).decode()}],
    }


def open_envelope(envelope: Any, public_pem: bytes, *, keyid: str | None) -> dict[str, Any]:
    """The statement inside ``envelope`` once a signature by ``public_pem`` (and ``keyid``,
    when given) verifies over it; raises :class:`SummaryProblem` saying what failed."""
    if not isinstance(envelope, dict) or envelope.get("payloadType") != PAYLOAD_TYPE:
        raise SummaryProblem(f"not a DSSE envelope of an in-toto statement ({PAYLOAD_TYPE})")
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = [
            (str(s.get("keyid", "")), base64.b64decode(s["sig"], validate=True))
            for s in envelope["signatures"]
        ]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise SummaryProblem(f"the envelope is malformed: {exc}") from None
    key = _public_key(public_pem)
    message = pae(PAYLOAD_TYPE, payload)
    for signature_keyid, signature in signatures:
        if keyid is not None and signature_keyid != keyid:
            continue
        try:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            continue
        break
    else:
        wanted = f" with key id {keyid!r}" if keyid is not None else ""
        raise SummaryProblem(f"no signature{wanted} verifies with the given public key")
    return signed_statement(PAYLOAD_TYPE, payload)


def signed_statement(payload_type: str, payload: bytes) -> dict[str, Any]:
    """The summary statement in a payload whose signature verified; raises
    :class:`SummaryProblem` for a payload that is not one."""
    if payload_type != PAYLOAD_TYPE:
        raise SummaryProblem(f"the signed payload is {payload_type!r}, not {PAYLOAD_TYPE}")
    try:
        statement = json.loads(payload)
    except ValueError as exc:
        raise SummaryProblem(f"the signed payload is not JSON: {exc}") from None
    if not isinstance(statement, dict) or statement.get("predicateType") != PREDICATE_TYPE:
        raise SummaryProblem(f"the signed statement is not a {PREDICATE_TYPE} summary")
    return statement


def is_sigstore_bundle(document: Any) -> bool:
    """Whether ``document`` says it is a Sigstore bundle (a keyless summary), not a DSSE
    envelope signed with a key."""
    return isinstance(document, dict) and str(document.get("mediaType", "")).startswith(
        _BUNDLE_MEDIA_TYPE
    )


def subject_digests(statement: Mapping[str, Any]) -> dict[str, str]:
    """sha256 -> file name of every subject of ``statement``."""
    found: dict[str, str] = {}
    for subject in statement.get("subject") or ():
        if isinstance(subject, dict) and isinstance(subject.get("digest"), dict):
            digest = subject["digest"].get("sha256")
            if isinstance(digest, str):
                found[digest] = str(subject.get("name", ""))
    return found


def _private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"the signing key is not an unencrypted PEM private key: {exc}",
            hint="openssl ecparam -name prime256v1 -genkey -noout -out key.pem",
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise UsageError("the signing key is not an ECDSA P-256 key")
    return key


def _public_key(pem: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"the public key is not a PEM public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise UsageError("the public key is not an ECDSA P-256 key")
    return key


def check_subjects(statement: Mapping[str, Any], files: Sequence[tuple[str, bytes]]) -> None:
    """Raise :class:`SummaryProblem` unless every one of ``files`` (name, bytes) is a subject
    of ``statement`` with its sha256."""
    digests = subject_digests(statement)
    for name, data in files:
        digest = hashlib.sha256(data).hexdigest()
        if digest not in digests:
            raise SummaryProblem(f"{name} (sha256 {digest[:16]}…) is not a subject of the summary")


@dataclass(frozen=True, slots=True)
class SummaryCheck:
    """A summary that verified: its statement, what it says, and who signed it."""

    statement: Mapping[str, Any]
    passed: bool
    subjects: int
    #: The signer that verified: ``key <key id>``, or a Sigstore identity and its issuer.
    signer: str


def check_statement(
    statement: Mapping[str, Any],
    *,
    signer: str,
    files: Sequence[tuple[str, bytes]] = (),
    policy: PolicyRef | None = None,
) -> SummaryCheck:
    """Check what a summary whose signature verified (by ``signer``) says: that each of
    ``files`` is a subject with its sha256 and that it was made under ``policy``; raises
    :class:`SummaryProblem` naming the first check that failed."""
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        raise SummaryProblem("the summary has no predicate")
    if policy is not None:
        stated = predicate.get("policy") or {}
        digest = (stated.get("digest") or {}).get("sha256") if isinstance(stated, dict) else None
        if digest != policy.sha256:
            raise SummaryProblem(
                f"the summary was made under another policy (sha256 {str(digest)[:16]}…, "
                f"not {policy.sha256[:16]}… of {policy.uri})"
            )
    check_subjects(statement, files)
    return SummaryCheck(
        statement=statement,
        passed=predicate.get("verificationResult") == "PASSED",
        subjects=len(subject_digests(statement)),
        signer=signer,
    )


def verify_summary(
    envelope: Any,
    public_pem: bytes,
    *,
    keyid: str | None = None,
    files: Sequence[tuple[str, bytes]] = (),
    policy: PolicyRef | None = None,
) -> SummaryCheck:
    """Check a summary signed with a key: its signature (by ``public_pem``, and ``keyid``
    when given), then :func:`check_statement`; raises :class:`SummaryProblem` naming the
    first check that failed."""
    statement = open_envelope(envelope, public_pem, keyid=keyid)
    signer = f"key {keyid or key_id(public_pem)}"
    return check_statement(statement, signer=signer, files=files, policy=policy)


@dataclass(frozen=True, slots=True)
class SignedSummary:
    """A signed summary: the text of its file, and who signed it, as a check names them."""

    text: str
    signer: str


class SummarySigner(Protocol):
    """What signs a summary: a key (:class:`KeySigner`) or a Sigstore identity."""

    def sign(self, statement: Mapping[str, Any]) -> SignedSummary:
        """``statement``, signed."""
        ...


@dataclass(frozen=True, slots=True)
class KeySigner:
    """Signs summaries with an ECDSA P-256 private key, naming ``keyid`` beside each
    signature."""

    key_pem: bytes
    keyid: str

    @classmethod
    def from_pem(cls, key_pem: bytes, *, keyid: str | None = None) -> KeySigner:
        """A signer with ``key_pem``, checked now; ``keyid`` defaults to :func:`key_id` of
        its public key."""
        return cls(key_pem, keyid or key_id(public_pem_of(key_pem)))

    def sign(self, statement: Mapping[str, Any]) -> SignedSummary:
        envelope = sign_envelope(statement, self.key_pem, keyid=self.keyid)
        return SignedSummary(json.dumps(envelope, indent=2) + "\n", f"key {self.keyid}")


def key_id(public_pem: bytes) -> str:
    """The default key id of a public key: ``sha256:`` and the digest of its DER encoding."""
    der = _public_key(public_pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def public_pem_of(key_pem: bytes) -> bytes:
    """The PEM public key of the private key ``key_pem``."""
    return (
        _private_key(key_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
