"""``--attest`` and ``pip-verify verify-summary``: a signed SLSA verification summary of a
check, checked with the signer's public key, and every tampering case refused with its
reason. Keys are made here; nothing leaves the machine."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.agents import clean_and_hooked
from tests.helpers.summary import check_with_summary, keypair, policy, rewrite, verify

pytestmark = pytest.mark.integration


@pytest.fixture
def index(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    return clean_and_hooked(dist_factory, package_index)


def attest(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, tmp_path: Path, *argv: str
) -> tuple[int, str]:
    return check_with_summary(capsys, index, tmp_path, *argv)


def test_a_summary_verifies_and_every_tampering_fails_with_its_reason(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, tmp_path: Path
) -> None:
    private, public = keypair(tmp_path, "signer")
    _other_private, other_public = keypair(tmp_path, "other")
    summary = tmp_path / "summary.json"
    code, err = attest(
        capsys,
        index,
        tmp_path,
        "cleanpkg==1.0",
        "--attest",
        str(summary),
        "--signing-key",
        str(private),
    )
    assert code == 0
    envelope = json.loads(summary.read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    (signature,) = envelope["signatures"]
    assert signature["keyid"].startswith("sha256:")
    assert f"written to {summary}, signed by key {signature['keyid']}" in " ".join(err.split())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/verification_summary/v1"
    predicate = statement["predicate"]
    assert predicate["verificationResult"] == "PASSED"
    assert predicate["verifiedLevels"] == ["PIP_VERIFY_POLICY_PASSED"]
    assert predicate["policy"]["uri"] == str(policy(tmp_path))
    assert predicate["verifier"]["version"]["pip-verify"]
    assert predicate["pip-verify"]["packages"][0]["name"] == "cleanpkg"
    wheel = index.directory / "cleanpkg-1.0-py3-none-any.whl"
    (subject,) = statement["subject"]
    assert subject == {"name": wheel.name, "digest": {"sha256": index.files[wheel.name].sha256}}

    code, out = verify(capsys, summary, wheel, "--key", public, "--policy", policy(tmp_path))
    assert code == 0, out
    assert "verified: PASSED, 1 file(s)" in out
    assert f"signed by key {signature['keyid']}" in out
    code, out = verify(capsys, summary, "--key", public, "--key-id", signature["keyid"])
    assert code == 0, out

    hooked = index.directory / "hookpkg-1.0-py3-none-any.whl"
    cases = {
        "a file it does not cover": (
            (summary, hooked, "--key", public),
            "is not a subject of the summary",
        ),
        "another key": ((summary, "--key", other_public), "no signature verifies"),
        "another key id": (
            (summary, "--key", public, "--key-id", "sha256:0000"),
            "no signature with key id 'sha256:0000' verifies",
        ),
        "another policy": (
            (summary, "--key", public, "--policy", tmp_path / "other.toml"),
            "made under another policy",
        ),
        "an edited predicate": (
            (
                rewrite(
                    summary,
                    tmp_path / "edited.json",
                    lambda s: s["predicate"].update(resourceUri="elsewhere"),
                ),
                "--key",
                public,
            ),
            "no signature verifies",
        ),
        "an edited subject digest": (
            (
                rewrite(
                    summary,
                    tmp_path / "digest.json",
                    lambda s: s["subject"][0]["digest"].update(sha256="0" * 64),
                ),
                "--key",
                public,
            ),
            "no signature verifies",
        ),
    }
    (tmp_path / "other.toml").write_text('extends = "strict"\n', encoding="utf-8")
    for case, (argv, reason) in cases.items():
        code, out = verify(capsys, *argv)
        assert code == 2, case
        assert reason in out, (case, out)


def test_a_denied_check_is_summarised_as_failed(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, tmp_path: Path
) -> None:
    private, public = keypair(tmp_path, "signer")
    summary = tmp_path / "summary.json"
    code, err = attest(
        capsys,
        index,
        tmp_path,
        "hookpkg==1.0",
        "--attest",
        str(summary),
        "--signing-key",
        str(private),
        "--quiet",
    )
    assert code == 1
    assert "written to" not in err  # --quiet: the summary is written without a word
    statement = json.loads(base64.b64decode(json.loads(summary.read_text())["payload"]))
    assert statement["predicate"]["verificationResult"] == "FAILED"
    assert statement["predicate"]["verifiedLevels"] == ["FAILED"]
    rules = statement["predicate"]["pip-verify"]["packages"][0]["rules"]
    assert rules["pth-exec"] == "deny"
    code, out = verify(capsys, summary, "--key", public)
    assert code == 1
    assert "verified: FAILED" in out


def test_a_bad_signing_key_is_refused_before_checking(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, tmp_path: Path
) -> None:
    (tmp_path / "bad.pem").write_text("not a key", encoding="utf-8")
    code, err = attest(
        capsys,
        index,
        tmp_path,
        "cleanpkg==1.0",
        "--attest",
        "x.json",
        "--signing-key",
        str(tmp_path / "bad.pem"),
    )
    assert code == 2
    assert "not an unencrypted PEM private key" in err
    assert not (tmp_path / "report.json").exists()


def test_a_summary_that_cannot_be_written_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, tmp_path: Path
) -> None:
    private, _public = keypair(tmp_path, "signer")
    code, err = attest(
        capsys,
        index,
        tmp_path,
        "cleanpkg==1.0",
        "--attest",
        str(tmp_path),
        "--signing-key",
        str(private),
    )
    assert code == 2
    assert "cannot write the summary to" in err
