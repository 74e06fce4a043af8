"""Tests of the test-only Sigstore: its attestations pass (and fail) sigstore's real verifier."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import (
    Attestation,
    Distribution,
    GitHubPublisher,
    GitLabPublisher,
    Provenance,
)
from pypi_attestations import VerificationError as AttestationVerificationError
from sigstore.errors import CertValidationError, VerificationError
from sigstore.models import ClientTrustConfig, TrustedRoot
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity, VerificationPolicy

from tests.helpers.dists import DistSpec, build_sdist, build_wheel, sha256_file
from tests.helpers.sigstore import (
    GITHUB_ISSUER,
    GITLAB_ISSUER,
    OID_BUILD_CONFIG_URI,
    OID_ISSUER,
    OID_SOURCE_REPOSITORY_URI,
    PUBLISH_V1,
    SLSA_PROVENANCE_V1,
    GitHubIdentity,
    GitLabIdentity,
    OtherIdentity,
    TestSigstore,
)

GITHUB = GitHubIdentity(repository="acme/demo", workflow="release.yml", environment="pypi")
GITLAB = GitLabIdentity(repository="acme/tools/demo", workflow_filepath="ci/release.yml")
OTHER = OtherIdentity(issuer="https://oidc.ci.example", identity="https://ci.example/acme/demo")
DSSE_TYPE = "application/vnd.in-toto+json"


@pytest.fixture
def sigstore() -> TestSigstore:
    return TestSigstore()


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return build_wheel(DistSpec("demo", "1.0"), tmp_path)


def policy_of(publisher: GitHubPublisher | GitLabPublisher) -> VerificationPolicy:
    # pypi-attestations exposes publisher policies only through this (private) hook.
    return publisher._as_policy()


def verify_subject(
    verifier: Verifier, attestation: Attestation, policy: VerificationPolicy, dist: Path
) -> dict[str, Any]:
    """Verify like the product will: real DSSE verification, then the subject checks."""
    payload_type, payload = verifier.verify_dsse(attestation.to_bundle(), policy)
    assert payload_type == DSSE_TYPE
    statement: dict[str, Any] = json.loads(payload)
    subjects = statement["subject"]
    if len(subjects) != 1:
        raise AssertionError(f"expected one subject, got {len(subjects)}")
    if subjects[0]["name"] != dist.name:
        raise AssertionError(f"subject name {subjects[0]['name']!r} is not {dist.name!r}")
    if subjects[0]["digest"].get("sha256") != sha256_file(dist):
        raise AssertionError("subject digest does not match the file")
    if statement["predicateType"] != PUBLISH_V1:
        raise AssertionError(f"unexpected predicate type {statement['predicateType']!r}")
    return statement


def entry_of(attestation: Attestation) -> dict[str, Any]:
    return attestation.verification_material.transparency_entries[0]


# ------------------------------------------------------------------------------ acceptance


def test_github_attestation_verifies_with_the_real_verifier(
    sigstore: TestSigstore, wheel: Path
) -> None:
    attestation = sigstore.attest(wheel, publisher=GITHUB)

    statement = verify_subject(
        sigstore.verifier(),
        attestation,
        policy_of(GitHubPublisher(repository="acme/demo", workflow="release.yml")),
        wheel,
    )

    assert statement["subject"] == [
        {"name": "demo-1.0-py3-none-any.whl", "digest": {"sha256": sha256_file(wheel)}}
    ]
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    # A genuine, non-trivial Rekor v1 dsse entry: the log has other entries before it.
    entry = entry_of(attestation)
    assert entry["kindVersion"] == {"kind": "dsse", "version": "0.0.1"}
    assert int(entry["logIndex"]) > 0
    assert entry["inclusionProof"]["hashes"]
    assert base64.b64decode(entry["logId"]["keyId"]) == sigstore.rekor_log_id


def test_wire_format_round_trip_still_verifies(sigstore: TestSigstore, tmp_path: Path) -> None:
    sdist = build_sdist(DistSpec("demo", "1.0"), tmp_path)
    attestation = sigstore.attest(sdist, publisher=GITHUB)

    reloaded = Attestation.model_validate_json(attestation.model_dump_json())

    policy = policy_of(GITHUB.publisher())
    verify_subject(sigstore.verifier(), reloaded, policy, sdist)
    assert reloaded.certificate_claims[OID_ISSUER] == GITHUB_ISSUER
    assert reloaded.certificate_claims[OID_BUILD_CONFIG_URI] == (
        "https://github.com/acme/demo/.github/workflows/release.yml@refs/heads/main"
    )


def test_pypi_attestations_verify_with_our_verifier_patched_in(
    sigstore: TestSigstore, wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Attestation.verify (0.0.30) takes no Verifier: it calls Verifier.production().
    verifier = sigstore.verifier()
    monkeypatch.setattr(Verifier, "production", lambda **_: verifier)
    attestation = sigstore.attest(wheel, publisher=GITHUB)

    assert attestation.verify(GITHUB.publisher(), Distribution.from_file(wheel)) == (
        PUBLISH_V1,
        None,
    )
    wrong = Distribution(name=wheel.name, digest="0" * 64)
    with pytest.raises(AttestationVerificationError, match="digest"):
        attestation.verify(GITHUB.publisher(), wrong)


def test_github_certificate_carries_fulcio_claims(sigstore: TestSigstore, wheel: Path) -> None:
    identity = GitHubIdentity(
        repository="acme/demo",
        workflow="release.yml",
        ref="refs/tags/v1.0",
        job_workflow_ref="acme/shared/.github/workflows/publish.yml@refs/heads/main",
    )
    attestation = sigstore.attest(wheel, publisher=identity)
    verifier = sigstore.verifier()

    # The reusable workflow is the SAN; the trusted publisher is still the caller.
    san = "https://github.com/acme/shared/.github/workflows/publish.yml@refs/heads/main"
    verify_subject(verifier, attestation, Identity(identity=san, issuer=GITHUB_ISSUER), wheel)
    policy = policy_of(GitHubPublisher(repository="acme/demo", workflow="release.yml"))
    verify_subject(verifier, attestation, policy, wheel)
    claims = attestation.certificate_claims
    assert claims[OID_SOURCE_REPOSITORY_URI] == "https://github.com/acme/demo"
    assert claims["1.3.6.1.4.1.57264.1.14"] == "refs/tags/v1.0"
    assert claims["1.3.6.1.4.1.57264.1.21"] == (
        "https://github.com/acme/demo/actions/runs/1/attempts/1"
    )
    assert len(claims) == 15


def test_gitlab_identity_verifies_with_gitlab_publisher(
    sigstore: TestSigstore, wheel: Path
) -> None:
    attestation = sigstore.attest(wheel, publisher=GITLAB)
    verifier = sigstore.verifier()

    publisher = GitLabPublisher(repository="acme/tools/demo", workflow_filepath="ci/release.yml")
    verify_subject(verifier, attestation, policy_of(publisher), wheel)
    assert attestation.certificate_claims[OID_ISSUER] == GITLAB_ISSUER

    with pytest.raises(VerificationError, match="OIDCIssuerV2"):
        verifier.verify_dsse(attestation.to_bundle(), policy_of(GITHUB.publisher()))
    other_file = GitLabPublisher(repository="acme/tools/demo", workflow_filepath=".gitlab-ci.yml")
    with pytest.raises(VerificationError, match="Build Config URI"):
        verifier.verify_dsse(attestation.to_bundle(), policy_of(other_file))


def test_other_identity_verifies_only_as_itself(sigstore: TestSigstore, wheel: Path) -> None:
    attestation = sigstore.attest(wheel, publisher=OTHER)
    verifier = sigstore.verifier()
    bundle = attestation.to_bundle()

    policy = Identity(identity="https://ci.example/acme/demo", issuer="https://oidc.ci.example")
    verify_subject(verifier, attestation, policy, wheel)
    for publisher in (GITHUB.publisher(), GITLAB.publisher()):
        with pytest.raises(VerificationError, match="OIDCIssuerV2"):
            verifier.verify_dsse(bundle, policy_of(publisher))
    with pytest.raises(VerificationError, match="SANs do not match"):
        verifier.verify_dsse(bundle, Identity(identity="https://ci.example/acme/other"))


def test_other_identity_email_san(sigstore: TestSigstore, wheel: Path) -> None:
    identity = OtherIdentity(issuer="https://accounts.example", identity="builder@acme.example")
    attestation = sigstore.attest(wheel, publisher=identity)

    policy = Identity(identity="builder@acme.example", issuer="https://accounts.example")
    verify_subject(sigstore.verifier(), attestation, policy, wheel)


# ------------------------------------------------------------------------------ rejections


def test_tampered_file_fails_the_subject_check(sigstore: TestSigstore, wheel: Path) -> None:
    attestation = sigstore.attest(wheel, publisher=GITHUB)
    wheel.write_bytes(wheel.read_bytes() + b"\0")

    with pytest.raises(AssertionError, match="subject digest"):
        verify_subject(sigstore.verifier(), attestation, policy_of(GITHUB.publisher()), wheel)


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ({"subject_name": "demo-2.0-py3-none-any.whl"}, "subject name"),
        ({"subject_sha256": "0" * 64}, "subject digest"),
        ({"extra_subjects": [("demo-1.0.tar.gz", "0" * 64)]}, "one subject"),
        ({"predicate_type": SLSA_PROVENANCE_V1}, "predicate type"),
    ],
)
def test_statement_overrides_are_signed_but_fail_subject_checks(
    sigstore: TestSigstore, wheel: Path, subject: dict[str, Any], message: str
) -> None:
    attestation = sigstore.attest(wheel, publisher=GITHUB, **subject)
    verifier = sigstore.verifier()
    policy = policy_of(GITHUB.publisher())

    verifier.verify_dsse(attestation.to_bundle(), policy)  # the signature itself is fine
    with pytest.raises(AssertionError, match=message):
        verify_subject(verifier, attestation, policy, wheel)


@pytest.mark.parametrize(
    ("publisher", "message"),
    [
        (GitHubPublisher(repository="acme/other", workflow="release.yml"), "SourceRepositoryURI"),
        (GitHubPublisher(repository="acme/demo", workflow="ci.yml"), "Build Config URI"),
    ],
    ids=["wrong-repository", "wrong-workflow"],
)
def test_policy_rejects_other_publishers(
    sigstore: TestSigstore, wheel: Path, publisher: GitHubPublisher, message: str
) -> None:
    attestation = sigstore.attest(wheel, publisher=GITHUB)

    with pytest.raises(VerificationError, match=message):
        sigstore.verifier().verify_dsse(attestation.to_bundle(), policy_of(publisher))


def test_certificate_from_another_instance_fails_the_chain(
    sigstore: TestSigstore, wheel: Path
) -> None:
    attestation = TestSigstore().attest(wheel, publisher=GITHUB)

    with pytest.raises(CertValidationError):
        sigstore.verifier().verify_dsse(attestation.to_bundle(), policy_of(GITHUB.publisher()))


@pytest.mark.parametrize("offset", [timedelta(hours=-1), timedelta(hours=1)])
def test_leaf_not_valid_at_signing_time(
    sigstore: TestSigstore, wheel: Path, offset: timedelta
) -> None:
    signed_at = datetime.now(timezone.utc) - timedelta(hours=2)
    attestation = sigstore.attest(
        wheel, publisher=GITHUB, signed_at=signed_at, cert_issued_at=signed_at + offset
    )

    with pytest.raises(CertValidationError, match="not valid at validation time"):
        sigstore.verifier().verify_dsse(attestation.to_bundle(), policy_of(GITHUB.publisher()))


def test_signed_outside_ca_validity(wheel: Path) -> None:
    now = datetime.now(timezone.utc)
    expired_ca = TestSigstore(not_before=now - timedelta(days=10), validity=timedelta(days=5))
    policy = policy_of(GITHUB.publisher())

    for signed_at in (now - timedelta(days=11), now - timedelta(days=1)):
        attestation = expired_ca.attest(wheel, publisher=GITHUB, signed_at=signed_at)
        with pytest.raises(CertValidationError):
            expired_ca.verifier().verify_dsse(attestation.to_bundle(), policy)
    # ... while inside the validity period the same (expired) CA still verifies.
    attestation = expired_ca.attest(wheel, publisher=GITHUB, signed_at=now - timedelta(days=7))
    verify_subject(expired_ca.verifier(), attestation, policy, wheel)


def test_sct_signed_by_an_untrusted_ct_key_is_rejected(sigstore: TestSigstore, wheel: Path) -> None:
    verifier = sigstore.verifier()
    sigstore._ct_key = TestSigstore()._ct_key  # sign SCTs with a key the root does not list
    attestation = sigstore.attest(wheel, publisher=GITHUB)

    with pytest.raises(VerificationError, match="failed to verify SCT"):
        verifier.verify_dsse(attestation.to_bundle(), policy_of(GITHUB.publisher()))


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _tamper_proof_hash(entry: dict[str, Any]) -> None:
    entry["inclusionProof"]["hashes"][0] = _flip(entry["inclusionProof"]["hashes"][0])


def _tamper_root_hash(entry: dict[str, Any]) -> None:
    entry["inclusionProof"]["rootHash"] = _flip(entry["inclusionProof"]["rootHash"])


def _tamper_tree_size(entry: dict[str, Any]) -> None:
    entry["inclusionProof"]["treeSize"] = str(int(entry["inclusionProof"]["treeSize"]) + 1)


def _tamper_checkpoint_root(entry: dict[str, Any]) -> None:
    checkpoint = entry["inclusionProof"]["checkpoint"]
    origin, size, root, rest = checkpoint["envelope"].split("\n", 3)
    checkpoint["envelope"] = "\n".join([origin, size, _flip(root), rest])


def _tamper_checkpoint_signature(entry: dict[str, Any]) -> None:
    checkpoint = entry["inclusionProof"]["checkpoint"]
    note, signature_line = checkpoint["envelope"].split("\n\n")
    dash, name, signature = signature_line.rstrip("\n").split(" ")
    checkpoint["envelope"] = f"{note}\n\n{dash} {name} {_flip(signature)}\n"


def _tamper_set(entry: dict[str, Any]) -> None:
    promise = entry["inclusionPromise"]
    promise["signedEntryTimestamp"] = _flip(promise["signedEntryTimestamp"])


def _tamper_integrated_time(entry: dict[str, Any]) -> None:
    entry["integratedTime"] = str(int(entry["integratedTime"]) - 1)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_tamper_proof_hash, "inclusion proof contains invalid root hash"),
        (_tamper_root_hash, "inclusion proof contains invalid root hash"),
        (_tamper_tree_size, "inclusion proof has wrong size"),
        (_tamper_checkpoint_root, "checkpoint: invalid signature"),
        (_tamper_checkpoint_signature, "checkpoint: invalid signature"),
        (_tamper_set, "SET: invalid inclusion promise"),
        (_tamper_integrated_time, "SET: invalid inclusion promise"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[len("_tamper_") :] or None,
)
def test_tampered_log_entry_is_rejected(
    sigstore: TestSigstore,
    wheel: Path,
    tamper: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    attestation = sigstore.attest(wheel, publisher=GITHUB)
    tampered = attestation.model_copy(deep=True)
    tamper(entry_of(tampered))

    with pytest.raises(VerificationError, match=message):
        sigstore.verifier().verify_dsse(tampered.to_bundle(), policy_of(GITHUB.publisher()))


def test_swapped_statement_or_foreign_log_entry_is_rejected(
    sigstore: TestSigstore, wheel: Path, tmp_path: Path
) -> None:
    attestation = sigstore.attest(wheel, publisher=GITHUB)
    other = sigstore.attest(build_sdist(DistSpec("demo", "1.0"), tmp_path), publisher=GITHUB)
    verifier = sigstore.verifier()
    policy = policy_of(GITHUB.publisher())

    swapped_statement = attestation.model_copy(deep=True)
    swapped_statement.envelope.statement = other.envelope.statement
    with pytest.raises(VerificationError, match="DSSE: invalid signature"):
        verifier.verify_dsse(swapped_statement.to_bundle(), policy)

    # A genuine checkpoint, but for a later tree: it does not commit to this proof's root.
    later_checkpoint = attestation.model_copy(deep=True)
    entry_of(later_checkpoint)["inclusionProof"]["checkpoint"] = entry_of(other)["inclusionProof"][
        "checkpoint"
    ]
    with pytest.raises(VerificationError, match="invalid root hash signature"):
        verifier.verify_dsse(later_checkpoint.to_bundle(), policy)

    foreign_entry = attestation.model_copy(deep=True)
    foreign_entry.verification_material.transparency_entries = (
        other.verification_material.transparency_entries
    )
    with pytest.raises(VerificationError, match="log entry"):
        verifier.verify_dsse(foreign_entry.to_bundle(), policy)


# ------------------------------------------------------------------------------ trust root


def test_trusted_root_round_trips_through_sigstore_loaders(
    sigstore: TestSigstore, wheel: Path, tmp_path: Path
) -> None:
    document = json.loads(sigstore.trusted_root_json())
    assert document["mediaType"] == "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
    assert document["timestampAuthorities"] == []
    rekor_key = base64.b64decode(document["tlogs"][0]["publicKey"]["rawBytes"])
    assert hashlib.sha256(rekor_key).digest() == sigstore.rekor_log_id
    ct_key = base64.b64decode(document["ctlogs"][0]["publicKey"]["rawBytes"])
    assert base64.b64decode(document["ctlogs"][0]["logId"]["keyId"]) == sigstore.ct_log_id
    assert hashlib.sha256(ct_key).digest() == sigstore.ct_log_id

    from_file = TrustedRoot.from_file(str(sigstore.write_trusted_root(tmp_path / "root.json")))
    config_path = sigstore.write_client_trust_config(tmp_path / "config.json")
    config = ClientTrustConfig.from_json(config_path.read_text(encoding="utf-8"))
    assert config.signing_config is not None  # the embedded SigningConfig loads too
    policy = policy_of(GITHUB.publisher())
    attestation = sigstore.attest(wheel, publisher=GITHUB)
    for root in (from_file, config.trusted_root):
        assert root.get_fulcio_certs() == [
            sigstore.intermediate_certificate,
            sigstore.root_certificate,
        ]
        verify_subject(Verifier(trusted_root=root), attestation, policy, wheel)


# ------------------------------------------------------------------------------ provenance


def test_provenance_object(sigstore: TestSigstore, wheel: Path) -> None:
    provenance = Provenance.model_validate_json(
        sigstore.provenance(wheel, publisher=GITHUB).model_dump_json()
    )

    (bundle,) = provenance.attestation_bundles
    assert bundle.publisher == GitHubPublisher(
        repository="acme/demo", workflow="release.yml", environment="pypi"
    )
    wire = json.loads(provenance.model_dump_json())
    assert wire["attestation_bundles"][0]["publisher"]["kind"] == "GitHub"
    (attestation,) = bundle.attestations
    verify_subject(sigstore.verifier(), attestation, policy_of(bundle.publisher), wheel)

    explicit = sigstore.attest(wheel, publisher=GITLAB)
    provenance = sigstore.provenance(wheel, [explicit], publisher=GITLAB.publisher())
    assert provenance.attestation_bundles[0].attestations == [explicit]
    with pytest.raises(TypeError):
        sigstore.provenance(wheel, publisher=GITLAB.publisher())
