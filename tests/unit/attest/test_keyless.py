"""Keyless signing and checking of summaries, the library's side: sigstore-python signs
through the loopback test Sigstore, and every refusal says why."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.sigstore import GITHUB_ISSUER, GitHubIdentity, TestSigstore
from tests.helpers.sigstore_service import SigstoreService
from verify._attest.keyless import KeylessSigner, open_bundle, verify_keyless_summary
from verify._attest.summary import (
    PREDICATE_TYPE,
    SummaryProblem,
    is_sigstore_bundle,
    signed_statement,
)
from verify.errors import InvalidInputError, NetworkError, UsageError

WORKFLOW = GitHubIdentity(repository="acme/app", workflow="verify.yml")
SUBJECT = {"name": "demo-1.0-py3-none-any.whl", "digest": {"sha256": "ab" * 32}}


def statement(**changes: Any) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [SUBJECT],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"verificationResult": "PASSED"},
        **changes,
    }


@pytest.fixture
def service() -> Iterator[SigstoreService]:
    with SigstoreService() as running:
        yield running


@pytest.fixture
def signer(service: SigstoreService, tmp_path: Path) -> KeylessSigner:
    config = service.write_trust_config(tmp_path / "sigstore.json")
    return KeylessSigner.prepare(service.identity_token(WORKFLOW), trust_config=config)


def test_a_signed_statement_verifies_as_its_signer(
    signer: KeylessSigner, service: SigstoreService
) -> None:
    signed = signer.sign(statement())
    assert signed.signer == f"{WORKFLOW.san} (issuer {GITHUB_ISSUER})"
    document = json.loads(signed.text)
    assert is_sigstore_bundle(document)
    check = verify_keyless_summary(
        document, service.sigstore.verifier(), identity=WORKFLOW.san, issuer=GITHUB_ISSUER
    )
    assert check.passed
    assert check.subjects == 1
    assert check.signer == signed.signer


def test_a_bundle_of_another_statement_is_not_a_summary(
    signer: KeylessSigner, service: SigstoreService
) -> None:
    document = json.loads(signer.sign(statement(predicateType="https://example/other")).text)
    with pytest.raises(SummaryProblem, match=re.escape(f"is not a {PREDICATE_TYPE} summary")):
        open_bundle(
            document, service.sigstore.verifier(), identity=WORKFLOW.san, issuer=GITHUB_ISSUER
        )


def test_a_bundle_from_another_sigstore_does_not_verify(signer: KeylessSigner) -> None:
    document = json.loads(signer.sign(statement()).text)
    with pytest.raises(SummaryProblem, match="the Sigstore bundle does not verify"):
        open_bundle(
            document, TestSigstore().verifier(), identity=WORKFLOW.san, issuer=GITHUB_ISSUER
        )


def test_what_in_toto_refuses_is_refused_before_signing(
    signer: KeylessSigner, service: SigstoreService
) -> None:
    with pytest.raises(UsageError, match="nothing was verified"):
        signer.sign(statement(subject=[]))
    with pytest.raises(InvalidInputError, match="not an in-toto statement"):
        signer.sign(statement(subject=[{"name": "no digest"}]))
    assert service.requests_log == []


def test_a_token_that_is_not_one_is_refused(service: SigstoreService, tmp_path: Path) -> None:
    config = service.write_trust_config(tmp_path / "sigstore.json")
    with pytest.raises(UsageError, match="the OIDC identity token cannot sign"):
        KeylessSigner.prepare("a.b.c", trust_config=config)


def test_a_trust_config_without_a_log_is_refused(service: SigstoreService, tmp_path: Path) -> None:
    config = json.loads(service.trust_config_json())
    config["signingConfig"]["rekorTlogUrls"] = []
    path = tmp_path / "no-rekor.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(UsageError, match=r"invalid Sigstore trust config .*Rekor"):
        KeylessSigner.prepare(service.identity_token(WORKFLOW), trust_config=path)


def test_production_needs_tuf_and_says_so(service: SigstoreService) -> None:
    # pytest-socket lets connections reach 127.0.0.1 only: TUF cannot refresh.
    with pytest.raises(NetworkError, match="through TUF"):
        KeylessSigner.prepare(service.identity_token(WORKFLOW))


@pytest.mark.parametrize(
    ("payload_type", "payload", "reason"),
    [
        ("text/plain", b"{}", "the signed payload is 'text/plain'"),
        ("application/vnd.in-toto+json", b"{", "the signed payload is not JSON"),
        ("application/vnd.in-toto+json", b"[]", "is not a https://slsa.dev/"),
    ],
)
def test_a_payload_that_is_not_a_summary(payload_type: str, payload: bytes, reason: str) -> None:
    with pytest.raises(SummaryProblem, match=re.escape(reason)):
        signed_statement(payload_type, payload)
