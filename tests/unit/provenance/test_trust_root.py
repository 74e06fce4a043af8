"""Loading Sigstore trust roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.sigstore import TestSigstore
from verify._provenance.trust_root import load_trust_root
from verify.errors import UsageError


def test_unreachable_tuf_falls_back_with_a_warning() -> None:
    # pytest-socket lets connections reach 127.0.0.1 only, so the TUF refresh cannot succeed.
    trust = load_trust_root(offline=False)
    assert trust.source == "production (offline)"
    assert trust.warning is not None
    assert "could not refresh Sigstore's trust root through TUF" in trust.warning
    assert "ago" in trust.warning
    assert "never accept" in trust.warning


def test_offline_uses_the_shipped_root_without_sockets() -> None:
    pytest_socket = pytest.importorskip("pytest_socket")
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        trust = load_trust_root(offline=True)
    finally:
        pytest_socket.enable_socket()
    assert trust.source == "production (offline)"
    assert trust.warning is None


@pytest.mark.parametrize("kind", ["client-trust-config", "trusted-root"])
def test_private_trust_config(tmp_path: Path, kind: str) -> None:
    sigstore = TestSigstore()
    path = tmp_path / "trust.json"
    if kind == "trusted-root":
        path.write_text(sigstore.trusted_root_json())
    else:
        path.write_text(sigstore.client_trust_config_json())
    trust = load_trust_root(trust_config=path)
    assert trust.source == str(path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not json", "cannot read the Sigstore trust config"),
        ('{"mediaType": "application/x-other"}', "neither a Sigstore ClientTrustConfig"),
        (
            '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", '
            '"tlogs": "nope"}',
            "invalid Sigstore trust config",
        ),
    ],
)
def test_bad_trust_config_is_a_usage_error(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "trust.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=fragment):
        load_trust_root(trust_config=path)
