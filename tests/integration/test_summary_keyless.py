"""``--attest`` without a key: the summary signed keyless with Sigstore, as on GitHub Actions
with ``id-token: write``, and ``verify-summary --cert-identity --cert-oidc-issuer``.

sigstore-python's signer runs unmodified: the job's OIDC token, Fulcio's certificate and
Rekor's log entry come from :class:`~tests.helpers.sigstore_service.SigstoreService` on
127.0.0.1, whose trust config ``--attest-trust-config`` and ``--trust-config`` name. Every
tampering case fails with its reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.agents import clean_and_hooked
from tests.helpers.sigstore import (
    GITHUB_ISSUER,
    GITLAB_ISSUER,
    GitHubIdentity,
    GitLabIdentity,
    TestSigstore,
)
from tests.helpers.sigstore_service import SigstoreService
from tests.helpers.summary import (
    check_with_summary,
    keypair,
    policy,
    rewrite,
    statement_of,
    verify,
)

pytestmark = pytest.mark.integration

WORKFLOW = GitHubIdentity(repository="acme/app", workflow="verify.yml")
#: Every variable through which sigstore-python's detect_credential finds a CI's token.
AMBIENT = (
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "BUILDKITE",
    "GITLAB_CI",
    "SIGSTORE_ID_TOKEN",
    "CIRCLECI",
)


@pytest.fixture(autouse=True)
def no_ambient_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CI's credential leaks in from the machine running the tests, Google Cloud's
    included (the ``id`` package reads its product file through ``_open``, its test hook)."""
    import id._internal.oidc.ambient as ambient

    for name in AMBIENT:
        monkeypatch.delenv(name, raising=False)

    def no_such_file(filename: str) -> None:
        raise FileNotFoundError(filename)

    monkeypatch.setattr(ambient, "_open", no_such_file)


@pytest.fixture
def index(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    return clean_and_hooked(dist_factory, package_index)


@pytest.fixture
def service() -> Iterator[SigstoreService]:
    with SigstoreService() as running:
        yield running


@pytest.fixture
def trust_config(service: SigstoreService, tmp_path: Path) -> Path:
    return service.write_trust_config(tmp_path / "sigstore.json")


@pytest.fixture
def github_job(service: SigstoreService, monkeypatch: pytest.MonkeyPatch) -> GitHubIdentity:
    """The environment of a GitHub Actions job of :data:`WORKFLOW` with ``id-token: write``."""
    for name, value in service.github_actions_environment(WORKFLOW).items():
        monkeypatch.setenv(name, value)
    return WORKFLOW


def keyless(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    tmp_path: Path,
    trust_config: Path,
    requirement: str,
    summary: Path,
) -> tuple[int, str]:
    return check_with_summary(
        capsys,
        index,
        tmp_path,
        requirement,
        "--attest",
        str(summary),
        "--attest-trust-config",
        str(trust_config),
    )


def test_a_keyless_summary_verifies_and_every_tampering_fails_with_its_reason(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    service: SigstoreService,
    trust_config: Path,
    github_job: GitHubIdentity,
    tmp_path: Path,
) -> None:
    summary = tmp_path / "summary.sigstore.json"
    code, err = keyless(capsys, index, tmp_path, trust_config, "cleanpkg==1.0", summary)
    assert code == 0, err
    assert f"written to {summary}, signed by {WORKFLOW.san} (issuer {GITHUB_ISSUER})" in " ".join(
        err.split()
    )
    # The job's token, then Fulcio, then Rekor: the signer's own requests, in its order.
    assert service.requests_log == [
        ("GET", "/oidc/token"),
        ("POST", "/api/v2/signingCert"),
        ("POST", "/api/v1/log/entries"),
    ]
    bundle = json.loads(summary.read_text())
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert bundle["dsseEnvelope"]["payloadType"] == "application/vnd.in-toto+json"
    assert bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"] == "dsse"
    statement = statement_of(summary)
    assert statement["predicateType"] == "https://slsa.dev/verification_summary/v1"
    assert statement["predicate"]["verificationResult"] == "PASSED"
    wheel = index.directory / "cleanpkg-1.0-py3-none-any.whl"
    (subject,) = statement["subject"]
    assert subject == {"name": wheel.name, "digest": {"sha256": index.files[wheel.name].sha256}}

    signer = ("--cert-identity", WORKFLOW.san, "--cert-oidc-issuer", GITHUB_ISSUER)
    trusted = ("--trust-config", trust_config)
    code, out = verify(capsys, summary, wheel, *signer, *trusted, "--policy", policy(tmp_path))
    assert code == 0, out
    assert "verified: PASSED, 1 file(s)" in out
    assert f"signed by {WORKFLOW.san} (issuer {GITHUB_ISSUER})" in " ".join(out.split())

    other_sigstore = TestSigstore(name="other-sigstore")
    other_root = other_sigstore.write_client_trust_config(tmp_path / "other-sigstore.json")
    _private, public = keypair(tmp_path, "signer")
    (tmp_path / "other.toml").write_text('extends = "strict"\n', encoding="utf-8")
    hooked = index.directory / "hookpkg-1.0-py3-none-any.whl"
    cases = {
        "a file it does not cover": (
            (summary, hooked, *signer, *trusted),
            "is not a subject of the summary",
        ),
        "another identity": (
            (
                summary,
                "--cert-identity",
                "https://github.com/acme/app/.github/workflows/other.yml@refs/heads/main",
                "--cert-oidc-issuer",
                GITHUB_ISSUER,
                *trusted,
            ),
            "Certificate's SANs do not match",
        ),
        "another issuer": (
            (
                summary,
                "--cert-identity",
                WORKFLOW.san,
                "--cert-oidc-issuer",
                GITLAB_ISSUER,
                *trusted,
            ),
            "Certificate's OIDCIssuer does not match",
        ),
        "another policy": (
            (summary, *signer, *trusted, "--policy", tmp_path / "other.toml"),
            "made under another policy",
        ),
        "an edited predicate": (
            (
                rewrite(
                    summary,
                    tmp_path / "edited.json",
                    lambda s: s["predicate"].update(verificationResult="PASSED", resourceUri="x"),
                ),
                *signer,
                *trusted,
            ),
            "the Sigstore bundle does not verify",
        ),
        "an edited subject digest": (
            (
                rewrite(
                    summary,
                    tmp_path / "digest.json",
                    lambda s: s["subject"][0]["digest"].update(sha256="0" * 64),
                ),
                *signer,
                *trusted,
            ),
            "the Sigstore bundle does not verify",
        ),
        "another Sigstore's trust root": (
            (summary, *signer, "--trust-config", other_root),
            "the Sigstore bundle does not verify",
        ),
        "production's trust root": (
            (summary, *signer, "--offline"),
            "the Sigstore bundle does not verify",
        ),
        "a public key": (
            (summary, "--key", public),
            "is a Sigstore bundle, signed keyless: check it with --cert-identity",
        ),
        "not JSON": ((tmp_path / "other.toml", *signer, *trusted), "is not JSON"),
        "not a bundle": ((trust_config, *signer, *trusted), "not a Sigstore bundle"),
    }
    for case, (argv, reason) in cases.items():
        code, out = verify(capsys, *argv)
        assert code == 2, (case, out)
        assert reason in out, (case, out)


def test_a_denied_check_is_summarised_as_failed_keyless(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    trust_config: Path,
    github_job: GitHubIdentity,
    tmp_path: Path,
) -> None:
    summary = tmp_path / "summary.sigstore.json"
    code, err = keyless(capsys, index, tmp_path, trust_config, "hookpkg==1.0", summary)
    assert code == 1, err
    assert statement_of(summary)["predicate"]["verificationResult"] == "FAILED"
    code, out = verify(
        capsys,
        summary,
        "--cert-identity",
        github_job.san,
        "--cert-oidc-issuer",
        GITHUB_ISSUER,
        "--trust-config",
        trust_config,
    )
    assert code == 1, out
    assert "verified: FAILED" in out


def test_a_key_summary_is_refused_where_an_identity_is_expected(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, trust_config: Path, tmp_path: Path
) -> None:
    private, _public = keypair(tmp_path, "signer")
    summary = tmp_path / "summary.json"
    code, err = check_with_summary(
        capsys,
        index,
        tmp_path,
        "cleanpkg==1.0",
        "--attest",
        str(summary),
        "--signing-key",
        str(private),
    )
    assert code == 0, err
    code, out = verify(
        capsys,
        summary,
        "--cert-identity",
        WORKFLOW.san,
        "--cert-oidc-issuer",
        GITHUB_ISSUER,
        "--trust-config",
        trust_config,
    )
    assert code == 2
    assert "is a DSSE envelope signed with a key, not a keyless summary" in out


def test_keyless_signing_without_a_credential_is_a_usage_error_before_checking(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    trust_config: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    summary = tmp_path / "summary.json"
    code, err = keyless(capsys, index, tmp_path, trust_config, "cleanpkg==1.0", summary)
    assert code == 2
    line = " ".join(err.split())
    assert "no ambient OIDC credential was found" in line
    assert (
        "pass --signing-key PEM for air-gapped use, or run where an OIDC token is available" in line
    )
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "report.json").exists()
    assert not summary.exists()

    # A GitHub job without id-token: write has no token to ask for.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, err = keyless(capsys, index, tmp_path, trust_config, "cleanpkg==1.0", summary)
    assert code == 2
    assert "ACTIONS_ID_TOKEN_REQUEST_TOKEN" in err
    assert "id-token: write" in err
    assert not (tmp_path / "report.json").exists()


def test_a_bad_token_or_trust_config_is_refused_before_checking(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    service: SigstoreService,
    trust_config: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    summary = tmp_path / "summary.json"
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", "not-a-token")
    code, err = keyless(capsys, index, tmp_path, trust_config, "cleanpkg==1.0", summary)
    assert code == 2
    assert "Malformed token" in err

    gitlab = GitLabIdentity(repository="acme/app")
    expired = service.identity_token(gitlab, lifetime=-timedelta(minutes=1))
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", expired)
    code, err = keyless(capsys, index, tmp_path, trust_config, "cleanpkg==1.0", summary)
    assert code == 2
    assert "the OIDC identity token cannot sign" in err

    monkeypatch.setenv("SIGSTORE_ID_TOKEN", service.identity_token(gitlab))
    trusted_root = service.sigstore.write_trusted_root(tmp_path / "root.json")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    for config, reason in (
        (trusted_root, "is not a Sigstore ClientTrustConfig"),
        (tmp_path / "broken.json", "invalid JSON"),
        (tmp_path / "missing.json", "cannot read the Sigstore trust config"),
    ):
        code, err = keyless(capsys, index, tmp_path, config, "cleanpkg==1.0", summary)
        assert code == 2, config
        assert reason in err, (config, err)
    assert not (tmp_path / "report.json").exists()
    assert service.requests_log == []


def test_a_refused_signature_is_an_incomplete_run(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    trust_config: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A token this Fulcio did not see issued: it refuses the certificate, so nothing is signed.
    with SigstoreService() as elsewhere:
        token = elsewhere.identity_token(GitLabIdentity(repository="acme/app"))
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", token)
    summary = tmp_path / "summary.json"
    code, err = keyless(capsys, index, tmp_path, trust_config, "cleanpkg==1.0", summary)
    assert code == 3
    assert "could not sign the summary with" in err
    assert "401" in err
    assert (tmp_path / "report.json").exists()  # the check ran; its summary was not signed
    assert not summary.exists()


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (("--signing-key-id", "k"), "--signing-key-id names the key of --signing-key"),
        (("--offline",), "keyless signing needs the network"),
    ],
)
def test_keyless_options_that_do_not_fit_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    trust_config: Path,
    github_job: GitHubIdentity,
    tmp_path: Path,
    argv: tuple[str, ...],
    reason: str,
) -> None:
    code, err = check_with_summary(
        capsys, index, tmp_path, "cleanpkg==1.0", "--attest", "s.json", *argv
    )
    assert code == 2
    assert reason in err


def test_signing_options_that_do_not_fit_are_usage_errors(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, trust_config: Path, tmp_path: Path
) -> None:
    private, _public = keypair(tmp_path, "signer")
    for argv, reason in (
        (("--attest-trust-config", str(trust_config)), "pass --attest FILE as well"),
        (("--signing-key", str(private)), "pass --attest FILE as well"),
        (
            ("--attest", "s.json", "--signing-key", str(private), "--attest-trust-config", "x"),
            "a summary signed with --signing-key has none",
        ),
    ):
        code, err = check_with_summary(capsys, index, tmp_path, "cleanpkg==1.0", *argv)
        assert code == 2, argv
        assert reason in err, (argv, err)


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        ((), "pass exactly one of --key"),
        (("--key", "k.pem"), "cannot read the summary summary.json"),
        (("--key", "k.pem", "--cert-identity", "i"), "pass exactly one of --key"),
        (("--key", "k.pem", "--cert-oidc-issuer", "u"), "--cert-oidc-issuer check a keyless"),
        (("--key", "k.pem", "--offline"), "--offline check a keyless"),
        (("--cert-identity", "i"), "--cert-identity needs --cert-oidc-issuer"),
        (
            ("--cert-identity", "i", "--cert-oidc-issuer", "u", "--key-id", "k"),
            "--key-id names the key of --key",
        ),
        (
            ("--cert-identity", "i", "--cert-oidc-issuer", "u", "--offline", "--trust-config", "t"),
            "--offline uses production's cached trust root",
        ),
    ],
)
def test_verify_summary_needs_exactly_one_kind_of_signer(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], reason: str
) -> None:
    code, out = verify(capsys, "summary.json", *argv)
    assert code == 2
    assert reason in out
