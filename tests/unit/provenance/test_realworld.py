"""Real PEP 740 attestations signed on the production Sigstore instance (../shared/fixtures).

Verified offline with the production trusted root that sigstore-python ships; the test skips
when the shared fixtures are not beside the checkout.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import (
    Attestation,
    AttestationType,
    GitHubPublisher,
    GitLabPublisher,
    Provenance,
)

from verify._provenance.attestation import AttestationInvalid, verify_attestation
from verify._provenance.identity import PublisherKind
from verify._provenance.trust_root import TrustRoot, load_trust_root

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "realworld"

pytestmark = pytest.mark.skipif(
    not (FIXTURES / "MANIFEST.json").is_file(), reason="../shared/fixtures/realworld is absent"
)


@pytest.fixture(scope="module")
def manifest() -> dict[str, dict[str, Any]]:
    entries = json.loads((FIXTURES / "MANIFEST.json").read_text())["entries"]
    return {entry["distribution"]: entry for entry in entries}


@pytest.fixture(scope="module")
def trust() -> TrustRoot:
    pytest_socket = pytest.importorskip("pytest_socket")
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        return load_trust_root(offline=True)
    finally:
        pytest_socket.enable_socket()


def github_attestation(entry: dict[str, Any]) -> Attestation:
    provenance = Provenance.model_validate_json((FIXTURES / entry["evidence"]).read_bytes())
    (bundle,) = provenance.attestation_bundles
    (attestation,) = bundle.attestations
    return attestation


GITHUB = "pypi_attestations-0.0.19.tar.gz"
GITLAB = "gitlab_oidc_project-0.0.3.tar.gz"


def test_github_provenance_verifies_offline_with_its_publisher(
    manifest: dict[str, dict[str, Any]], trust: TrustRoot
) -> None:
    entry = manifest[GITHUB]
    expected = entry["publisher"]
    result = verify_attestation(
        github_attestation(entry),
        verifier=trust.verifier,
        filename=GITHUB,
        sha256=entry["sha256"],
        policy=GitHubPublisher(
            repository=expected["repository"], workflow=expected["workflow"]
        )._as_policy(),
    )
    assert result.predicate_type == AttestationType.PYPI_PUBLISH_V1.value
    identity = result.identity
    assert identity.kind is PublisherKind.GITHUB
    assert identity.repository == expected["repository"]
    assert identity.workflow == expected["workflow"]
    assert identity.ref == "refs/tags/v0.0.19"
    assert identity.trigger == "release"
    assert identity.run_url is not None
    assert identity.run_url.endswith("/actions/runs/12169989787/attempts/1")


def test_gitlab_attestation_verifies_with_its_publisher(
    manifest: dict[str, dict[str, Any]], trust: TrustRoot
) -> None:
    entry = manifest[GITLAB]
    expected = entry["publisher"]
    attestation = Attestation.model_validate_json((FIXTURES / entry["evidence"]).read_bytes())
    result = verify_attestation(
        attestation,
        verifier=trust.verifier,
        filename=GITLAB,
        sha256=entry["sha256"],
        policy=GitLabPublisher(
            repository=expected["repository"], workflow_filepath=expected["workflow_filepath"]
        )._as_policy(),
    )
    assert result.identity.kind is PublisherKind.GITLAB
    assert result.identity.repository == expected["repository"]
    assert result.identity.workflow == expected["workflow_filepath"]


def test_no_pin_still_verifies_and_reports_the_identity(
    manifest: dict[str, dict[str, Any]], trust: TrustRoot
) -> None:
    entry = manifest[GITHUB]
    result = verify_attestation(
        github_attestation(entry), verifier=trust.verifier, filename=GITHUB, sha256=entry["sha256"]
    )
    assert result.identity.repository == entry["publisher"]["repository"]


def test_wrong_digest_is_rejected(manifest: dict[str, dict[str, Any]], trust: TrustRoot) -> None:
    entry = manifest[GITHUB]
    with pytest.raises(AttestationInvalid, match="bytes have sha256:" + "0" * 64):
        verify_attestation(
            github_attestation(entry), verifier=trust.verifier, filename=GITHUB, sha256="0" * 64
        )


def test_wrong_filename_is_rejected(manifest: dict[str, dict[str, Any]], trust: TrustRoot) -> None:
    entry = manifest[GITHUB]
    with pytest.raises(
        AttestationInvalid, match=re.escape("is for 'pypi_attestations-0.0.19.tar.gz'")
    ):
        verify_attestation(
            github_attestation(entry),
            verifier=trust.verifier,
            filename="pypi_attestations-0.0.20.tar.gz",
            sha256=entry["sha256"],
        )


@pytest.mark.parametrize(
    ("repository", "workflow"),
    [
        ("trailofbits/not-pypi-attestations", "release.yml"),
        ("trailofbits/pypi-attestations", "ci.yml"),
    ],
)
def test_wrong_repository_or_workflow_is_rejected(
    manifest: dict[str, dict[str, Any]], trust: TrustRoot, repository: str, workflow: str
) -> None:
    entry = manifest[GITHUB]
    with pytest.raises(AttestationInvalid, match="Sigstore verification failed"):
        verify_attestation(
            github_attestation(entry),
            verifier=trust.verifier,
            filename=GITHUB,
            sha256=entry["sha256"],
            policy=GitHubPublisher(repository=repository, workflow=workflow)._as_policy(),
        )
