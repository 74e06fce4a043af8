"""The key-signed summary's refusals that a check never produces: malformed envelopes, keys
of another kind, statements without a predicate or with odd subjects."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from verify._attest.summary import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    KeySigner,
    SummaryProblem,
    check_statement,
    open_envelope,
    subject_digests,
    verify_summary,
)
from verify.errors import UsageError


def pem_pair(key: Any) -> tuple[bytes, bytes]:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


P256 = pem_pair(ec.generate_private_key(ec.SECP256R1()))
P384 = pem_pair(ec.generate_private_key(ec.SECP384R1()))
ED25519 = pem_pair(ed25519.Ed25519PrivateKey.generate())
STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "a.whl", "digest": {"sha256": "ab" * 32}}],
    "predicateType": PREDICATE_TYPE,
    "predicate": {"verificationResult": "PASSED"},
}


def test_a_key_signed_summary_round_trips() -> None:
    signed = KeySigner.from_pem(P256[0]).sign(STATEMENT)
    check = verify_summary(json.loads(signed.text), P256[1])
    assert check.passed
    assert check.signer == signed.signer


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        ([], "not a DSSE envelope"),
        ({"payloadType": "text/plain"}, "not a DSSE envelope"),
        ({"payloadType": PAYLOAD_TYPE}, "the envelope is malformed"),
        ({"payloadType": PAYLOAD_TYPE, "payload": "!!", "signatures": []}, "malformed"),
    ],
)
def test_a_malformed_envelope_is_refused(envelope: Any, reason: str) -> None:
    with pytest.raises(SummaryProblem, match=reason):
        open_envelope(envelope, P256[1], keyid=None)


@pytest.mark.parametrize(
    ("private", "reason"),
    [
        (P384[0], "not an ECDSA P-256 key"),
        (ED25519[0], "not an ECDSA P-256 key"),
        (b"not a key", "not an unencrypted PEM private key"),
    ],
)
def test_a_signing_key_of_another_kind_is_refused(private: bytes, reason: str) -> None:
    with pytest.raises(UsageError, match=reason):
        KeySigner.from_pem(private)


@pytest.mark.parametrize(
    ("public", "reason"),
    [
        (P384[1], "not an ECDSA P-256 key"),
        (b"not a key", "not a PEM public key"),
    ],
)
def test_a_public_key_of_another_kind_is_refused(public: bytes, reason: str) -> None:
    envelope = json.loads(KeySigner.from_pem(P256[0]).sign(STATEMENT).text)
    with pytest.raises(UsageError, match=reason):
        verify_summary(envelope, public)


def test_a_statement_without_a_predicate_is_refused() -> None:
    with pytest.raises(SummaryProblem, match="has no predicate"):
        check_statement({**STATEMENT, "predicate": None}, signer="key k")


def test_odd_subjects_are_not_counted() -> None:
    subjects = [
        {"name": "a"},
        {"name": "b", "digest": {"sha512": "00"}},
        "c",
        *STATEMENT["subject"],
    ]
    assert subject_digests({"subject": subjects}) == {"ab" * 32: "a.whl"}


def test_an_unsigned_payload_swap_is_refused() -> None:
    envelope = json.loads(KeySigner.from_pem(P256[0]).sign(STATEMENT).text)
    envelope["payload"] = base64.b64encode(b"{}").decode()
    with pytest.raises(SummaryProblem, match=re.escape("no signature verifies")):
        verify_summary(envelope, P256[1])
