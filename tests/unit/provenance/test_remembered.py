"""Remembered provenance outcomes: keyed by everything verification depends on, and bounded
in age."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.helpers.sigstore import TestSigstore
from verify._provenance.evidence import Documents
from verify._provenance.identity import PublisherIdentity, PublisherKind
from verify._provenance.remembered import (
    PRODUCTION,
    VERDICT_MAX_AGE,
    RememberedProvenance,
    trust_identity,
)
from verify._provenance.trust_root import load_trust_root

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
IDENTITY = PublisherIdentity(
    kind=PublisherKind.GITHUB,
    issuer="https://token.actions.example",
    repository="acme/demo",
    workflow="release.yml",
    ref="refs/tags/v1.0",
)
DOCUMENTS = Documents((("https://index.example/integrity/demo/1.0/demo.whl", b"{}"),), single=False)
FILE = ("demo-1.0-py3-none-any.whl", "a" * 64)


def memory(root: Path, *, trust: str = "production", now: datetime = NOW) -> RememberedProvenance:
    return RememberedProvenance(root, trust, now=now)


def test_an_outcome_is_recalled_for_the_same_file_documents_and_trust(tmp_path: Path) -> None:
    memory(tmp_path).remember(*FILE, DOCUMENTS, IDENTITY)
    assert memory(tmp_path, now=NOW + timedelta(hours=1)).recall(*FILE, DOCUMENTS) == IDENTITY


@pytest.mark.parametrize(
    "change",
    ["filename", "sha256", "document", "where", "kind", "trust"],
)
def test_anything_verification_depends_on_is_part_of_the_key(tmp_path: Path, change: str) -> None:
    memory(tmp_path).remember(*FILE, DOCUMENTS, IDENTITY)
    filename, sha256 = FILE
    documents, trust = DOCUMENTS, "production"
    if change == "filename":
        filename = "demo-1.0.tar.gz"
    elif change == "sha256":
        sha256 = "b" * 64
    elif change == "document":
        documents = Documents(((DOCUMENTS.documents[0][0], b"{ }"),), single=False)
    elif change == "where":
        documents = Documents((("https://other.example/p", b"{}"),), single=False)
    elif change == "kind":
        documents = Documents(DOCUMENTS.documents, single=True)
    else:
        trust = "config:" + "c" * 64
    assert memory(tmp_path, trust=trust).recall(filename, sha256, documents) is None


@pytest.mark.parametrize(
    "age", [VERDICT_MAX_AGE, VERDICT_MAX_AGE + timedelta(days=3), timedelta(minutes=-5)]
)
def test_an_outcome_too_old_or_from_the_future_is_verified_again(
    tmp_path: Path, age: timedelta
) -> None:
    memory(tmp_path).remember(*FILE, DOCUMENTS, IDENTITY)
    assert memory(tmp_path, now=NOW + age).recall(*FILE, DOCUMENTS) is None


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"format": "0", "verified": "2026-12-06T12:00:00+00:00", "identity": {}}',
        '{"format": "1", "verified": "yesterday", "identity": {}}',
        '{"format": "1", "verified": "2026-12-06T12:00:00+00:00", "identity": []}',
        '{"format": "1", "verified": "2026-12-06T12:00:00+00:00", "identity": {"kind": "x"}}',
    ],
)
def test_an_unusable_record_is_discarded(tmp_path: Path, content: str) -> None:
    memory(tmp_path).remember(*FILE, DOCUMENTS, IDENTITY)
    (record,) = tmp_path.glob("*/*.json")
    record.write_text(content)
    assert memory(tmp_path).recall(*FILE, DOCUMENTS) is None
    assert not record.exists()


def test_identity_fields_must_be_strings(tmp_path: Path) -> None:
    memory(tmp_path).remember(*FILE, DOCUMENTS, IDENTITY)
    (record,) = tmp_path.glob("*/*.json")
    record.write_text(record.read_text().replace('"acme/demo"', "7"))
    assert memory(tmp_path).recall(*FILE, DOCUMENTS) is None


def test_a_private_trust_root_is_named_by_its_bytes(tmp_path: Path) -> None:
    sigstore = TestSigstore()
    config = tmp_path / "trust.json"
    config.write_text(sigstore.client_trust_config_json())
    first = trust_identity(load_trust_root(trust_config=config))
    config.write_text(sigstore.trusted_root_json())
    second = trust_identity(load_trust_root(trust_config=config))
    assert first.startswith("config:")
    assert second.startswith("config:")
    assert first != second
    assert trust_identity(None) == PRODUCTION


def test_attestation_files_digest_by_every_document() -> None:
    one = Documents((("a.attestation", b"1"),), single=True, source="dir")
    two = Documents((("a.attestation", b"1"), ("b.attestation", b"2")), single=True, source="dir")
    split = Documents((("a.attestation", b"12"),), single=True, source="dir")
    assert len({one.digest(), two.digest(), split.digest()}) == 3
    assert two.where == "dir"
    assert DOCUMENTS.where == DOCUMENTS.documents[0][0]
