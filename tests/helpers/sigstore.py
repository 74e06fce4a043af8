"""A private, in-process Sigstore for tests: PEP 740 attestations the real verifier accepts.

:class:`TestSigstore` plays every Sigstore service at once, offline:

* a Fulcio-like CA (self-signed root + intermediate) that issues short-lived leaf
  certificates carrying the same OIDC claim extensions Fulcio writes for GitHub Actions,
  GitLab CI/CD or any other issuer (:class:`GitHubIdentity`, :class:`GitLabIdentity`,
  :class:`OtherIdentity`);
* a CT log whose key signs the SCT embedded in every leaf (a precertificate SCT, as
  Fulcio embeds them);
* a Rekor v1 log: each attestation gets a ``dsse``/``0.0.1`` entry with a signed entry
  timestamp (inclusion promise) and an RFC 6962 inclusion proof whose root is committed
  to by a signed checkpoint (a signed note).

Its trusted root (:meth:`TestSigstore.trusted_root_json`) is an ordinary protobuf-specs
``TrustedRoot``, so ``sigstore.verify.Verifier`` built from it verifies these attestations
exactly as it verifies production ones; nothing in sigstore or pypi-attestations is
patched. All keys are ECDSA P-256; log IDs are SHA-256 digests of the DER
SubjectPublicKeyInfo, as sigstore computes them.

:mod:`tests.helpers.sigstore_service` puts the same instance behind real HTTP on 127.0.0.1
(Fulcio's and Rekor's endpoints and a CI's OIDC token endpoint), so that sigstore-python's
own signer runs against it; :meth:`TestSigstore.append_log_entry` and
:func:`dsse_entry_body` are what its Rekor shares with :meth:`TestSigstore.attest`.

The OIDC issuers and repository URLs inside certificates are data: pypi-attestations'
publisher policies compare them with fixed strings, so they must be the real ones.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeAlias

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pypi_attestations import (
    Attestation,
    AttestationBundle,
    AttestationType,
    Envelope,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    Provenance,
    TransparencyLogEntry,
    VerificationMaterial,
)
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier

__all__ = [
    "DEFAULT_SHA",
    "FULCIO_LEAF_LIFETIME",
    "GITHUB_ISSUER",
    "GITLAB_ISSUER",
    "PUBLISH_V1",
    "SLSA_PROVENANCE_V1",
    "GitHubIdentity",
    "GitLabIdentity",
    "LoggedEntry",
    "OtherIdentity",
    "SigningIdentity",
    "TestSigstore",
    "dsse_entry_body",
]

#: The PEP 740 / PyPI publish attestation predicate type.
PUBLISH_V1: str = AttestationType.PYPI_PUBLISH_V1.value
#: The SLSA provenance v1 predicate type (the other type pypi-attestations knows).
SLSA_PROVENANCE_V1: str = AttestationType.SLSA_PROVENANCE_V1.value

#: The GitHub Actions OIDC issuer; ``GitHubPublisher`` policies require exactly this value.
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
#: The GitLab OIDC issuer; ``GitLabPublisher`` policies require exactly this value.
GITLAB_ISSUER = "https://gitlab.com"
_GITHUB = "https://github.com"
_GITLAB = "https://gitlab.com"

#: A fake commit id used for every digest claim unless a test sets one.
DEFAULT_SHA = "0123456789abcdef0123456789abcdef01234567"
#: Fulcio issues certificates valid for ten minutes.
FULCIO_LEAF_LIFETIME = timedelta(minutes=10)

_DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
_TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
_CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
_SIGNING_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
_KEY_DETAILS = "PKIX_ECDSA_P256_SHA_256"

# Fulcio certificate extensions: https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md
_FULCIO = "1.3.6.1.4.1.57264.1."
OID_ISSUER_LEGACY = _FULCIO + "1"  # raw string (deprecated, still issued)
OID_GITHUB_WORKFLOW_TRIGGER = _FULCIO + "2"  # raw string, GitHub only
OID_GITHUB_WORKFLOW_SHA = _FULCIO + "3"
OID_GITHUB_WORKFLOW_NAME = _FULCIO + "4"
OID_GITHUB_WORKFLOW_REPOSITORY = _FULCIO + "5"
OID_GITHUB_WORKFLOW_REF = _FULCIO + "6"
OID_ISSUER = _FULCIO + "8"  # DER UTF8String from here on
OID_BUILD_SIGNER_URI = _FULCIO + "9"
OID_BUILD_SIGNER_DIGEST = _FULCIO + "10"
OID_RUNNER_ENVIRONMENT = _FULCIO + "11"
OID_SOURCE_REPOSITORY_URI = _FULCIO + "12"
OID_SOURCE_REPOSITORY_DIGEST = _FULCIO + "13"
OID_SOURCE_REPOSITORY_REF = _FULCIO + "14"
OID_SOURCE_REPOSITORY_IDENTIFIER = _FULCIO + "15"
OID_SOURCE_REPOSITORY_OWNER_URI = _FULCIO + "16"
OID_SOURCE_REPOSITORY_OWNER_IDENTIFIER = _FULCIO + "17"
OID_BUILD_CONFIG_URI = _FULCIO + "18"
OID_BUILD_CONFIG_DIGEST = _FULCIO + "19"
OID_BUILD_TRIGGER = _FULCIO + "20"
OID_RUN_INVOCATION_URI = _FULCIO + "21"
OID_SOURCE_REPOSITORY_VISIBILITY = _FULCIO + "22"
# RFC 6962 embedded SCT list.
_OID_SCT_LIST = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


# --------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class GitHubIdentity:
    """A GitHub Actions workflow run, as Fulcio encodes its OIDC token in a certificate.

    ``repository`` is ``OWNER/REPO`` and ``workflow`` the workflow file name
    (``release.yml``), matching ``GitHubPublisher(repository=..., workflow=...)``.
    ``job_workflow_ref`` models a reusable workflow (``OWNER/REPO/.github/workflows/F@REF``):
    it becomes the SAN and Build Signer URI while Build Config URI stays the caller's.
    """

    repository: str
    workflow: str
    ref: str = "refs/heads/main"
    sha: str = DEFAULT_SHA
    environment: str | None = None
    event: str = "push"
    workflow_name: str = "Release"
    run_id: int = 1
    run_attempt: int = 1
    repository_id: str = "100001"
    owner_id: str = "200002"
    visibility: str = "public"
    runner_environment: str = "github-hosted"
    job_workflow_ref: str | None = None
    job_workflow_sha: str | None = None

    issuer = GITHUB_ISSUER

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def workflow_ref(self) -> str:
        """``OWNER/REPO/.github/workflows/FILE@REF`` (the token's ``workflow_ref``)."""
        return f"{self.repository}/.github/workflows/{self.workflow}@{self.ref}"

    @property
    def san(self) -> str:
        """The certificate's SAN URI (the token's ``job_workflow_ref`` as a URL)."""
        return f"{_GITHUB}/{self.job_workflow_ref or self.workflow_ref}"

    def publisher(self) -> GitHubPublisher:
        return GitHubPublisher(
            repository=self.repository, workflow=self.workflow, environment=self.environment
        )

    def legacy_claims(self) -> dict[str, str]:
        return {
            OID_ISSUER_LEGACY: self.issuer,
            OID_GITHUB_WORKFLOW_TRIGGER: self.event,
            OID_GITHUB_WORKFLOW_SHA: self.sha,
            OID_GITHUB_WORKFLOW_NAME: self.workflow_name,
            OID_GITHUB_WORKFLOW_REPOSITORY: self.repository,
            OID_GITHUB_WORKFLOW_REF: self.ref,
        }

    def claims(self) -> dict[str, str]:
        return {
            OID_ISSUER: self.issuer,
            OID_BUILD_SIGNER_URI: self.san,
            OID_BUILD_SIGNER_DIGEST: self.job_workflow_sha or self.sha,
            OID_RUNNER_ENVIRONMENT: self.runner_environment,
            OID_SOURCE_REPOSITORY_URI: f"{_GITHUB}/{self.repository}",
            OID_SOURCE_REPOSITORY_DIGEST: self.sha,
            OID_SOURCE_REPOSITORY_REF: self.ref,
            OID_SOURCE_REPOSITORY_IDENTIFIER: self.repository_id,
            OID_SOURCE_REPOSITORY_OWNER_URI: f"{_GITHUB}/{self.owner}",
            OID_SOURCE_REPOSITORY_OWNER_IDENTIFIER: self.owner_id,
            OID_BUILD_CONFIG_URI: f"{_GITHUB}/{self.workflow_ref}",
            OID_BUILD_CONFIG_DIGEST: self.sha,
            OID_BUILD_TRIGGER: self.event,
            OID_RUN_INVOCATION_URI: (
                f"{_GITHUB}/{self.repository}/actions/runs/{self.run_id}"
                f"/attempts/{self.run_attempt}"
            ),
            OID_SOURCE_REPOSITORY_VISIBILITY: self.visibility,
        }

    def san_name(self) -> x509.GeneralName:
        return x509.UniformResourceIdentifier(self.san)


@dataclass(frozen=True)
class GitLabIdentity:
    """A GitLab CI/CD pipeline job, as Fulcio encodes its OIDC token in a certificate.

    ``repository`` is ``NAMESPACE/PROJECT`` (subgroups allowed); matches
    ``GitLabPublisher(repository=..., workflow_filepath=...)``.
    """

    repository: str
    workflow_filepath: str = ".gitlab-ci.yml"
    ref: str = "refs/heads/main"
    sha: str = DEFAULT_SHA
    environment: str | None = None
    pipeline_source: str = "push"
    job_id: int = 1
    project_id: str = "300003"
    namespace_id: str = "400004"
    visibility: str = "public"
    runner_environment: str = "gitlab-hosted"

    issuer = GITLAB_ISSUER

    @property
    def namespace(self) -> str:
        return self.repository.rsplit("/", 1)[0]

    @property
    def ci_config_ref_uri(self) -> str:
        """``gitlab.com/NAMESPACE/PROJECT//FILE@REF`` (the token's ``ci_config_ref_uri``)."""
        host = _GITLAB.removeprefix("https://")
        return f"{host}/{self.repository}//{self.workflow_filepath}@{self.ref}"

    @property
    def san(self) -> str:
        return f"https://{self.ci_config_ref_uri}"

    def publisher(self) -> GitLabPublisher:
        return GitLabPublisher(
            repository=self.repository,
            workflow_filepath=self.workflow_filepath,
            environment=self.environment,
        )

    def legacy_claims(self) -> dict[str, str]:
        return {OID_ISSUER_LEGACY: self.issuer}

    def claims(self) -> dict[str, str]:
        return {
            OID_ISSUER: self.issuer,
            OID_BUILD_SIGNER_URI: self.san,
            OID_BUILD_SIGNER_DIGEST: self.sha,
            OID_RUNNER_ENVIRONMENT: self.runner_environment,
            OID_SOURCE_REPOSITORY_URI: f"{_GITLAB}/{self.repository}",
            OID_SOURCE_REPOSITORY_DIGEST: self.sha,
            OID_SOURCE_REPOSITORY_REF: self.ref,
            OID_SOURCE_REPOSITORY_IDENTIFIER: self.project_id,
            OID_SOURCE_REPOSITORY_OWNER_URI: f"{_GITLAB}/{self.namespace}",
            OID_SOURCE_REPOSITORY_OWNER_IDENTIFIER: self.namespace_id,
            OID_BUILD_CONFIG_URI: self.san,
            OID_BUILD_CONFIG_DIGEST: self.sha,
            OID_BUILD_TRIGGER: self.pipeline_source,
            OID_RUN_INVOCATION_URI: f"{_GITLAB}/{self.repository}/-/jobs/{self.job_id}",
            OID_SOURCE_REPOSITORY_VISIBILITY: self.visibility,
        }

    def san_name(self) -> x509.GeneralName:
        return x509.UniformResourceIdentifier(self.san)


@dataclass(frozen=True)
class OtherIdentity:
    """Any other OIDC identity: an issuer, a SAN and optional extra v2 claims.

    ``identity`` becomes an email SAN if it looks like one (``a@b``, no ``://``), else a
    URI SAN. ``extra_claims`` maps Fulcio claim OIDs (``OID_*`` constants, dotted strings) to
    values, encoded as Fulcio encodes 1.3.6.1.4.1.57264.1.8 and later (DER UTF8String).
    """

    issuer: str
    identity: str
    extra_claims: Mapping[str, str] = field(default_factory=dict)

    @property
    def san(self) -> str:
        return self.identity

    def legacy_claims(self) -> dict[str, str]:
        return {OID_ISSUER_LEGACY: self.issuer}

    def claims(self) -> dict[str, str]:
        return {OID_ISSUER: self.issuer, **self.extra_claims}

    def san_name(self) -> x509.GeneralName:
        if "@" in self.identity and "://" not in self.identity:
            return x509.RFC822Name(self.identity)
        return x509.UniformResourceIdentifier(self.identity)


SigningIdentity: TypeAlias = GitHubIdentity | GitLabIdentity | OtherIdentity
_PublisherModel: TypeAlias = GitHubPublisher | GitLabPublisher | GooglePublisher


# --------------------------------------------------------------------------- encodings


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_utf8string(value: str) -> bytes:
    raw = value.encode()
    return b"\x0c" + _der_length(len(raw)) + raw


def _der_octet_string(raw: bytes) -> bytes:
    return b"\x04" + _der_length(len(raw)) + raw


def _spki_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 6962 key/log ID: SHA-256 of the DER SubjectPublicKeyInfo."""
    return hashlib.sha256(_spki_der(key)).digest()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def _utc_seconds(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"timestamps must be timezone-aware: {moment!r}")
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _rfc3339(moment: datetime) -> str:
    return _utc_seconds(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    return b"DSSEv1 %d %s %d %s" % (
        len(payload_type),
        payload_type.encode(),
        len(payload),
        payload,
    )


def dsse_entry_body(envelope: bytes, payload: bytes, signature: bytes, pem: bytes) -> bytes:
    """The canonicalized body of a Rekor ``dsse``/``0.0.1`` entry: the envelope's and the
    payload's sha256, and the signature with the PEM certificate that verifies it."""
    return rfc8785.dumps(
        {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(envelope).hexdigest(),
                },
                "payloadHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(payload).hexdigest(),
                },
                "signatures": [{"signature": _b64(signature), "verifier": _b64(pem)}],
            },
        }
    )


# --------------------------------------------------------------------------- Merkle tree


def _leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _merkle_root(hashes_: Sequence[bytes]) -> bytes:
    if len(hashes_) == 1:
        return hashes_[0]
    k = _split(len(hashes_))
    return _node_hash(_merkle_root(hashes_[:k]), _merkle_root(hashes_[k:]))


def _audit_path(index: int, hashes_: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 ``PATH(m, D[n])``, bottom-up, as sigstore's inclusion check expects."""
    if len(hashes_) == 1:
        return []
    k = _split(len(hashes_))
    if index < k:
        return [*_audit_path(index, hashes_[:k]), _merkle_root(hashes_[k:])]
    return [*_audit_path(index - k, hashes_[k:]), _merkle_root(hashes_[:k])]


# --------------------------------------------------------------------------- log entries


@dataclass(frozen=True)
class LoggedEntry:
    """One entry of the test Rekor log and what proves it is there, in the two forms
    sigstore reads: a bundle's ``TransparencyLogEntry`` and Rekor v1's API answer."""

    body: bytes
    index: int
    tree_size: int
    root_hash: bytes
    proof: tuple[bytes, ...]
    integrated_time: int
    log_id: bytes
    signed_entry_timestamp: bytes
    checkpoint: str

    def transparency_log_entry(self) -> dict[str, Any]:
        """The protobuf-specs ``TransparencyLogEntry`` (JSON object form) a bundle holds."""
        return {
            "logIndex": str(self.index),
            "logId": {"keyId": _b64(self.log_id)},
            "kindVersion": {"kind": "dsse", "version": "0.0.1"},
            "integratedTime": str(self.integrated_time),
            "inclusionPromise": {"signedEntryTimestamp": _b64(self.signed_entry_timestamp)},
            "inclusionProof": {
                "logIndex": str(self.index),
                "rootHash": _b64(self.root_hash),
                "treeSize": str(self.tree_size),
                "hashes": [_b64(h) for h in self.proof],
                "checkpoint": {"envelope": self.checkpoint},
            },
            "canonicalizedBody": _b64(self.body),
        }

    def rekor_v1_response(self) -> dict[str, Any]:
        """Rekor v1's answer to ``POST /api/v1/log/entries``: the entry under its UUID,
        digests in hex where the v1 API writes them so."""
        return {
            _leaf_hash(self.body).hex(): {
                "body": _b64(self.body),
                "integratedTime": self.integrated_time,
                "logID": self.log_id.hex(),
                "logIndex": self.index,
                "verification": {
                    "inclusionProof": {
                        "checkpoint": self.checkpoint,
                        "hashes": [h.hex() for h in self.proof],
                        "logIndex": self.index,
                        "rootHash": self.root_hash.hex(),
                        "treeSize": self.tree_size,
                    },
                    "signedEntryTimestamp": _b64(self.signed_entry_timestamp),
                },
            }
        }


# --------------------------------------------------------------------------- the instance


class TestSigstore:
    """A private Sigstore instance: a Fulcio-like CA (root + intermediate), a CT log key
    and a Rekor log key, all valid from ``not_before`` for ``validity``.

    ``not_before`` defaults to one day ago. It must not be in the future when a verifier
    is built: sigstore ignores trusted-root entries whose ``validFor.start`` is later
    than the current time.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        *,
        not_before: datetime | None = None,
        validity: timedelta = timedelta(days=365),
        name: str = "test-sigstore",
    ) -> None:
        start = datetime.now(timezone.utc) - timedelta(days=1) if not_before is None else not_before
        self.not_before = _utc_seconds(start)
        self.not_after = self.not_before + validity
        self.name = name
        self.fulcio_url = f"https://fulcio.{name}.example"
        self.rekor_url = f"https://rekor.{name}.example"
        self.ctfe_url = f"https://ctfe.{name}.example/test"

        self._root_key = ec.generate_private_key(ec.SECP256R1())
        self._intermediate_key = ec.generate_private_key(ec.SECP256R1())
        self._ct_key = ec.generate_private_key(ec.SECP256R1())
        self._rekor_key = ec.generate_private_key(ec.SECP256R1())
        self.ct_log_id = _key_id(self._ct_key.public_key())
        self.rekor_log_id = _key_id(self._rekor_key.public_key())
        self._rekor_origin = f"rekor.{name}.example - {secrets.randbits(62)}"
        self._rekor_signer_name = f"rekor.{name}.example"

        root_name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"{name}.example"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{name} root"),
            ]
        )
        intermediate_name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"{name}.example"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{name} intermediate"),
            ]
        )
        ca_usage = x509.KeyUsage(
            digital_signature=False,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )
        root_public = self._root_key.public_key()
        self.root_certificate = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(self.not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(ca_usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_public), critical=False)
            .sign(self._root_key, hashes.SHA256())
        )
        intermediate_public = self._intermediate_key.public_key()
        self.intermediate_certificate = (
            x509.CertificateBuilder()
            .subject_name(intermediate_name)
            .issuer_name(root_name)
            .public_key(intermediate_public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(self.not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(ca_usage, critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(intermediate_public), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_public), critical=False
            )
            .sign(self._root_key, hashes.SHA256())
        )
        # The Rekor log: leaf hashes of every entry, seeded with a few unrelated entries
        # so that log indices and inclusion proofs are never trivial.
        self._log_leaves: list[bytes] = [_leaf_hash(b"seed entry %d" % i) for i in range(5)]

    # ------------------------------------------------------------------ trust material

    def trusted_root(self) -> dict[str, Any]:
        """The protobuf-specs ``TrustedRoot`` (JSON object form)."""
        start = _rfc3339(self.not_before)

        def log(url: str, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
            public = key.public_key()
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": _b64(_spki_der(public)),
                    "keyDetails": _KEY_DETAILS,
                    "validFor": {"start": start},
                },
                "logId": {"keyId": _b64(_key_id(public))},
            }

        chain = [self.intermediate_certificate, self.root_certificate]
        return {
            "mediaType": _TRUSTED_ROOT_MEDIA_TYPE,
            "tlogs": [log(self.rekor_url, self._rekor_key)],
            "certificateAuthorities": [
                {
                    "subject": {"organization": f"{self.name}.example", "commonName": self.name},
                    "uri": self.fulcio_url,
                    "certChain": {
                        "certificates": [
                            {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))}
                            for cert in chain
                        ]
                    },
                    "validFor": {"start": start, "end": _rfc3339(self.not_after)},
                }
            ],
            "ctlogs": [log(self.ctfe_url, self._ct_key)],
            "timestampAuthorities": [],
        }

    def trusted_root_json(self) -> str:
        return json.dumps(self.trusted_root(), indent=2)

    def signing_config(
        self, *, fulcio_url: str | None = None, rekor_url: str | None = None
    ) -> dict[str, Any]:
        """A ``SigningConfig`` v0.2 naming this instance's service URLs: the fictional ones,
        or ``fulcio_url`` and ``rekor_url`` where a loopback service answers for them."""

        def service(url: str) -> dict[str, Any]:
            return {
                "url": url,
                "majorApiVersion": 1,
                "validFor": {"start": _rfc3339(self.not_before)},
                "operator": f"{self.name}.example",
            }

        return {
            "mediaType": _SIGNING_CONFIG_MEDIA_TYPE,
            "caUrls": [service(fulcio_url or self.fulcio_url)],
            "oidcUrls": [service(f"https://oauth2.{self.name}.example/auth")],
            "rekorTlogUrls": [service(rekor_url or self.rekor_url)],
            "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        }

    def client_trust_config_json(
        self, *, fulcio_url: str | None = None, rekor_url: str | None = None
    ) -> str:
        """A ``ClientTrustConfig`` wrapping :meth:`trusted_root` and :meth:`signing_config`."""
        config = {
            "mediaType": _CLIENT_TRUST_CONFIG_MEDIA_TYPE,
            "trustedRoot": self.trusted_root(),
            "signingConfig": self.signing_config(fulcio_url=fulcio_url, rekor_url=rekor_url),
        }
        return json.dumps(config, indent=2)

    def write_trusted_root(self, path: Path) -> Path:
        path.write_text(self.trusted_root_json(), encoding="utf-8")
        return path

    def write_client_trust_config(self, path: Path) -> Path:
        path.write_text(self.client_trust_config_json(), encoding="utf-8")
        return path

    def verifier(self) -> Verifier:
        """A real ``sigstore.verify.Verifier`` trusting only this instance.

        Built through public API only: ``ClientTrustConfig.from_json(...).trusted_root``
        (``TrustedRoot.from_file(path)`` is the equivalent for a bare trusted root file).
        """
        config = ClientTrustConfig.from_json(self.client_trust_config_json())
        return Verifier(trusted_root=config.trusted_root)

    # ------------------------------------------------------------------ Fulcio + CT

    def issue_certificate(
        self,
        identity: SigningIdentity,
        public_key: ec.EllipticCurvePublicKey,
        *,
        issued_at: datetime,
        lifetime: timedelta = FULCIO_LEAF_LIFETIME,
    ) -> x509.Certificate:
        """Issue a Fulcio-style leaf for ``public_key`` with an embedded, CT-signed SCT."""
        not_before = _utc_seconds(issued_at)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate_certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + lifetime)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self._intermediate_key.public_key()
                ),
                critical=False,
            )
            # Fulcio leaves have an empty subject, so the SAN is critical.
            .add_extension(x509.SubjectAlternativeName([identity.san_name()]), critical=True)
        )
        for oid, value in identity.legacy_claims().items():
            ext = x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value.encode())
            builder = builder.add_extension(ext, critical=False)
        for oid, value in identity.claims().items():
            ext = x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), _der_utf8string(value))
            builder = builder.add_extension(ext, critical=False)

        # The SCT signs the TBS certificate *without* the SCT extension, so build once
        # with a placeholder to learn those bytes, then again with the real SCT.
        placeholder = builder.add_extension(
            x509.UnrecognizedExtension(_OID_SCT_LIST, self._sct_list(b"", not_before)),
            critical=False,
        ).sign(self._intermediate_key, hashes.SHA256())
        tbs = placeholder.tbs_precertificate_bytes
        cert = builder.add_extension(
            x509.UnrecognizedExtension(_OID_SCT_LIST, self._sct_list(tbs, not_before)),
            critical=False,
        ).sign(self._intermediate_key, hashes.SHA256())
        if cert.tbs_precertificate_bytes != tbs:  # pragma: no cover - a helper bug
            raise AssertionError("precertificate TBS changed between builds")
        return cert

    def _sct_list(self, tbs_precertificate: bytes, timestamp: datetime) -> bytes:
        """The DER extension value holding one RFC 6962 precertificate SCT."""
        # Whole seconds only: sigstore recomputes milliseconds via float arithmetic.
        timestamp_ms = int(timestamp.timestamp()) * 1000
        issuer_key_id = _key_id(self._intermediate_key.public_key())
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp_ms, 1)  # v1, certificate_timestamp, precert
            + issuer_key_id
            + len(tbs_precertificate).to_bytes(3, "big")
            + tbs_precertificate
            + struct.pack("!H", 0)  # no extensions
        )
        signature = _sign(self._ct_key, signed) if tbs_precertificate else b"\x00"
        sct = (
            struct.pack("!B32sQH", 0, self.ct_log_id, timestamp_ms, 0)
            + struct.pack("!BBH", 4, 3, len(signature))  # sha256, ecdsa
            + signature
        )
        serialized = struct.pack("!H", len(sct)) + sct
        return _der_octet_string(struct.pack("!H", len(serialized)) + serialized)

    # ------------------------------------------------------------------ Rekor

    def append_log_entry(self, body: bytes, integrated_time: int) -> LoggedEntry:
        """Append ``body`` (a canonicalized Rekor entry body) to the log, integrated at
        ``integrated_time`` (Unix seconds); the entry with its inclusion proof, signed
        checkpoint and signed entry timestamp."""
        self._log_leaves.append(_leaf_hash(body))
        index = len(self._log_leaves) - 1
        size = len(self._log_leaves)
        root = _merkle_root(self._log_leaves)
        set_payload = rfc8785.dumps(
            {
                "body": _b64(body),
                "integratedTime": integrated_time,
                "logID": self.rekor_log_id.hex(),
                "logIndex": index,
            }
        )
        note = f"{self._rekor_origin}\n{size}\n{_b64(root)}\n"
        note_sig = _b64(self.rekor_log_id[:4] + _sign(self._rekor_key, note.encode()))
        return LoggedEntry(
            body=body,
            index=index,
            tree_size=size,
            root_hash=root,
            proof=tuple(_audit_path(index, self._log_leaves)),
            integrated_time=integrated_time,
            log_id=self.rekor_log_id,
            signed_entry_timestamp=_sign(self._rekor_key, set_payload),
            checkpoint=f"{note}\n\u2014 {self._rekor_signer_name} {note_sig}\n",
        )

    # ------------------------------------------------------------------ attestations

    def attest(
        self,
        dist: Path,
        *,
        publisher: SigningIdentity,
        predicate_type: str = PUBLISH_V1,
        subject_name: str | None = None,
        subject_sha256: str | None = None,
        signed_at: datetime | None = None,
        cert_issued_at: datetime | None = None,
        predicate: Mapping[str, Any] | None = None,
        extra_subjects: Sequence[tuple[str, str]] = (),
    ) -> Attestation:
        """A PEP 740 attestation for ``dist`` signed as ``publisher``.

        ``subject_name``/``subject_sha256`` override the statement's subject (default:
        the file's name and SHA-256); ``extra_subjects`` appends ``(name, sha256)``
        subjects. ``signed_at`` (default: now) is the Rekor integration time, the only
        verified time; the leaf is valid for ten minutes from ``cert_issued_at``
        (default: five seconds before ``signed_at``).
        """
        signed = _utc_seconds(signed_at or datetime.now(timezone.utc))
        issued = _utc_seconds(cert_issued_at or signed - timedelta(seconds=5))
        subjects = [
            {
                "name": subject_name if subject_name is not None else dist.name,
                "digest": {
                    "sha256": subject_sha256
                    if subject_sha256 is not None
                    else hashlib.sha256(dist.read_bytes()).hexdigest()
                },
            }
        ]
        subjects += [
            {"name": name, "digest": {"sha256": digest}} for name, digest in extra_subjects
        ]
        statement = json.dumps(
            {
                "_type": _STATEMENT_TYPE,
                "subject": subjects,
                "predicateType": predicate_type,
                "predicate": dict(predicate) if predicate is not None else None,
            },
            separators=(",", ":"),
        ).encode()

        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.issue_certificate(publisher, key.public_key(), issued_at=issued)
        signature = _sign(key, _pae(_DSSE_PAYLOAD_TYPE, statement))

        envelope_json = rfc8785.dumps(
            {
                "payload": _b64(statement),
                "payloadType": _DSSE_PAYLOAD_TYPE,
                "signatures": [{"sig": _b64(signature)}],
            }
        )
        body = dsse_entry_body(
            envelope_json, statement, signature, cert.public_bytes(serialization.Encoding.PEM)
        )
        entry = self.append_log_entry(body, int(signed.timestamp())).transparency_log_entry()
        return Attestation(
            version=1,
            verification_material=VerificationMaterial(
                certificate=base64.b64encode(cert.public_bytes(serialization.Encoding.DER)),
                transparency_entries=[TransparencyLogEntry(entry)],
            ),
            envelope=Envelope(
                statement=base64.b64encode(statement),
                signature=base64.b64encode(signature),
            ),
        )

    def provenance(
        self,
        dist: Path,
        attestations: Sequence[Attestation] | None = None,
        *,
        publisher: GitHubIdentity | GitLabIdentity | _PublisherModel,
    ) -> Provenance:
        """A PEP 740 provenance object with one attestation bundle.

        Without ``attestations``, ``dist`` is attested as ``publisher`` (an identity);
        ``publisher`` may also be a pypi-attestations publisher model, recorded as is.
        """
        if isinstance(publisher, GitHubIdentity | GitLabIdentity):
            model: _PublisherModel = publisher.publisher()
            identity: SigningIdentity | None = publisher
        else:
            model, identity = publisher, None
        if attestations is None:
            if identity is None:
                raise TypeError("attesting needs a GitHubIdentity or GitLabIdentity publisher")
            attestations = [self.attest(dist, publisher=identity)]
        return Provenance(
            attestation_bundles=[
                AttestationBundle(publisher=model, attestations=list(attestations))
            ]
        )
