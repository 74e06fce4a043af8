"""``pip-verify check`` with PEP 740 provenance served by the loopback index, signed by the
tests' own Sigstore instance and verified by the real sigstore-python through ``--trust-config``.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import Provenance

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback
from tests.helpers.cli import check_json
from tests.helpers.sigstore import GitHubIdentity, GitLabIdentity, OtherIdentity, TestSigstore
from verify._cli import main

pytestmark = pytest.mark.integration

PUBLISHER = GitHubIdentity(repository="acme/demo", workflow="release.yml", environment="pypi")


@pytest.fixture(scope="module")
def sigstore() -> TestSigstore:
    return TestSigstore()


@pytest.fixture
def trust_config(sigstore: TestSigstore, tmp_path: Path) -> Path:
    path = tmp_path / "trust.json"
    path.write_text(sigstore.client_trust_config_json())
    return path


def check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str
) -> tuple[int, dict[str, Any]]:
    return check_json(capsys, tmp_path, *argv)


def only_package(report: dict[str, Any]) -> dict[str, Any]:
    (package,) = report["packages"]
    found: dict[str, Any] = package
    return found


def provenance_bytes(provenance: Provenance) -> bytes:
    return provenance.model_dump_json().encode()


@pytest.mark.parametrize("mode", ["json+html", "html-only"])
def test_attested_file_is_verified_with_its_publisher(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    mode: str,
) -> None:
    package_index.mode = mode  # type: ignore[assignment]
    wheel = dist_factory.wheel("demo", "1.0")
    package_index.add(
        wheel, provenance=provenance_bytes(sigstore.provenance(wheel, publisher=PUBLISHER))
    )
    code, report = check(
        capsys,
        tmp_path,
        "demo==1.0",
        "--index-url",
        package_index.url,
        "--trust-config",
        str(trust_config),
    )
    assert code == 0
    assert "provenance" in report["checks"]
    provenance = only_package(report)["provenance"]
    assert provenance["status"] == "verified"
    publisher = provenance["publisher"]
    assert publisher["kind"] == "GitHub"
    assert publisher["repository"] == "acme/demo"
    assert publisher["workflow"] == "release.yml"
    assert publisher["environment"] == "pypi"
    assert publisher["ref"] == "refs/heads/main"
    assert only_package(report)["files"][0]["provenance"]["status"] == "verified"


def test_gitlab_publisher(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    wheel = dist_factory.wheel("demo", "1.0")
    identity = GitLabIdentity(repository="acme/tools/demo")
    package_index.add(
        wheel, provenance=provenance_bytes(sigstore.provenance(wheel, publisher=identity))
    )
    code, report = check(
        capsys,
        tmp_path,
        "demo==1.0",
        "--index-url",
        package_index.url,
        "--trust-config",
        str(trust_config),
    )
    assert code == 0
    publisher = only_package(report)["provenance"]["publisher"]
    assert (publisher["kind"], publisher["repository"], publisher["workflow"]) == (
        "GitLab",
        "acme/tools/demo",
        ".gitlab-ci.yml",
    )


def test_absent_provenance(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(dist_factory.wheel("demo", "1.0"))
    code, report = check(
        capsys,
        tmp_path,
        "demo==1.0",
        "--index-url",
        package_index.url,
        "--trust-config",
        str(trust_config),
    )
    assert code == 0
    provenance = only_package(report)["provenance"]
    assert provenance["status"] == "absent"
    assert provenance["reason"]
    # provenance-required: warn by default, deny in strict, allow when turned off.
    (reason,) = only_package(report)["reasons"]
    assert (reason["rule"], reason["decision"]) == ("provenance-required", "warn")
    for text, expected_code, expected in (
        ('extends = "strict"\n[rules.provenance-required]\ndecision = "deny"\n', 1, "deny"),
        ('[rules.provenance-required]\ndecision = "allow"\n', 0, None),
    ):
        policy = tmp_path / "policy.toml"
        policy.write_text(text)
        code, report = check(
            capsys,
            tmp_path,
            "demo==1.0",
            "--index-url",
            package_index.url,
            "--trust-config",
            str(trust_config),
            "--policy",
            str(policy),
        )
        assert code == expected_code
        decisions = {r["rule"]: r["decision"] for r in only_package(report)["reasons"]}
        assert decisions.get("provenance-required") == expected


@pytest.mark.parametrize("decision", ["allow", "warn", "deny"])
def test_predecessor_attested_this_release_not(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    decision: str,
) -> None:
    # No trust store entry: the index's own history says 1.0 was attested and 1.1 is not.
    old = dist_factory.wheel("demo", "1.0")
    package_index.add(
        old, provenance=provenance_bytes(sigstore.provenance(old, publisher=PUBLISHER))
    )
    package_index.add(dist_factory.wheel("demo", "1.1"))
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[rules.provenance-required]\ndecision = "allow"\n'
        f'[rules.provenance-regression]\ndecision = "{decision}"\n'
    )
    code, report = check(
        capsys,
        tmp_path,
        "demo==1.1",
        "--index-url",
        package_index.url,
        "--trust-config",
        str(trust_config),
        "--policy",
        str(policy),
    )
    package = only_package(report)
    assert package["provenance"]["status"] == "absent"
    fired = [r for r in package["reasons"] if r["rule"] == "provenance-regression"]
    assert code == (1 if decision == "deny" else 0)
    assert package["decision"] == decision
    if decision == "allow":
        assert fired == []
    else:
        assert [r["decision"] for r in fired] == [decision]
        assert "demo-1.0-py3-none-any.whl (1.0)" in fired[0]["message"]
        assert "was published with provenance" in fired[0]["message"]


def test_an_unattested_history_is_no_regression(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(dist_factory.wheel("demo", "1.0"))
    package_index.add(dist_factory.wheel("demo", "1.1"))
    code, report = check(
        capsys,
        tmp_path,
        "demo==1.1",
        "--index-url",
        package_index.url,
        "--trust-config",
        str(trust_config),
    )
    assert code == 0
    assert not [r for r in only_package(report)["reasons"] if r["rule"] == "provenance-regression"]


def invalid_case(case: str, sigstore: TestSigstore, wheel: Path, other_wheel: Path) -> bytes:
    if case == "attestation-for-another-file":
        return provenance_bytes(sigstore.provenance(other_wheel, publisher=PUBLISHER))
    if case == "attestation-for-other-bytes":
        attestation = sigstore.attest(wheel, publisher=PUBLISHER, subject_sha256="0" * 64)
        return provenance_bytes(sigstore.provenance(wheel, [attestation], publisher=PUBLISHER))
    if case == "claims-another-repository":
        attestation = sigstore.attest(wheel, publisher=GitHubIdentity("evil/demo", "release.yml"))
        return provenance_bytes(sigstore.provenance(wheel, [attestation], publisher=PUBLISHER))
    if case == "claims-another-workflow":
        attestation = sigstore.attest(wheel, publisher=GitHubIdentity("acme/demo", "ci.yml"))
        return provenance_bytes(sigstore.provenance(wheel, [attestation], publisher=PUBLISHER))
    if case == "unknown-ca":
        stranger = TestSigstore(name="stranger")
        return provenance_bytes(stranger.provenance(wheel, publisher=PUBLISHER))
    if case == "certificate-expired-at-signing":
        # Fulcio leaves live 10 minutes; this one was issued an hour before the log entry.
        now = datetime.now(timezone.utc)
        attestation = sigstore.attest(
            wheel, publisher=PUBLISHER, signed_at=now, cert_issued_at=now - timedelta(hours=1)
        )
        return provenance_bytes(sigstore.provenance(wheel, [attestation], publisher=PUBLISHER))
    if case == "not-json":
        return b"{not json"
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("attestation-for-another-file", "is for 'other-1.0-py3-none-any.whl'"),
        ("attestation-for-other-bytes", "is for sha256:" + "0" * 64),
        ("claims-another-repository", "claims repository 'acme/demo'"),
        ("claims-another-workflow", "claims workflow 'release.yml'"),
        ("unknown-ca", "Sigstore verification failed"),
        ("certificate-expired-at-signing", "Sigstore verification failed"),
        ("not-json", "not JSON"),
    ],
)
def test_invalid_provenance_is_denied_with_a_reason(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    case: str,
    reason: str,
) -> None:
    wheel = dist_factory.wheel("demo", "1.0")
    other = dist_factory.wheel("other", "1.0")
    package_index.add(wheel, provenance=invalid_case(case, sigstore, wheel, other))
    code, report = check(
        capsys,
        tmp_path,
        "demo==1.0",
        "--index-url",
        package_index.url,
        "--trust-config",
        str(trust_config),
    )
    assert code == 1
    package = only_package(report)
    assert package["provenance"]["status"] == "invalid"
    assert reason in package["provenance"]["reason"]
    (denial,) = [r for r in package["reasons"] if r["decision"] == "deny"]
    assert denial["rule"] == "provenance-invalid"
    assert reason in denial["message"]


def test_unknown_publisher_kind_is_unchecked_not_a_crash(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    wheel = dist_factory.wheel("demo", "1.0")
    attestation = sigstore.attest(
        wheel, publisher=OtherIdentity(issuer="https://ci.example", identity="builder@ci.example")
    )
    document = {
        "version": 1,
        "attestation_bundles": [
            {
                "publisher": {"kind": "SomeNewCI", "project": "demo"},
                "attestations": [json.loads(attestation.model_dump_json())],
            }
        ],
    }
    package_index.add(wheel, provenance=json.dumps(document).encode())
    code, report = check(
        capsys,
        tmp_path,
        "demo==1.0",
        "--index-url",
        package_index.url,
        "--trust-config",
        str(trust_config),
    )
    assert code == 0
    provenance = only_package(report)["provenance"]
    assert provenance["status"] == "unchecked"
    assert "unknown publisher kind 'SomeNewCI'" in provenance["reason"]


def test_local_file_with_sidecar_provenance_offline_without_sockets(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    trust_config: Path,
    dist_factory: DistFactory,
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = dist / "demo-1.0-py3-none-any.whl"
    shutil.copy(dist_factory.wheel("demo", "1.0"), wheel)
    (dist / (wheel.name + ".publish.attestation")).write_text(
        sigstore.attest(wheel, publisher=PUBLISHER).model_dump_json()
    )
    pytest_socket = pytest.importorskip("pytest_socket")
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        code, report = check(
            capsys, tmp_path, str(wheel), "--offline", "--trust-config", str(trust_config)
        )
    finally:
        pytest_socket.enable_socket()
    assert code == 0
    provenance = only_package(report)["provenance"]
    assert provenance["status"] == "verified"
    assert provenance["publisher"]["repository"] == "acme/demo"


def test_invalid_trust_config_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex
) -> None:
    bad = tmp_path / "trust.json"
    bad.write_text('{"mediaType": "application/x-nothing"}')
    code = main(
        [
            "check",
            "demo==1.0",
            "--index-url",
            package_index.url,
            "--trust-config",
            str(bad),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert code == 2
    assert "neither a Sigstore ClientTrustConfig nor a TrustedRoot" in err


@pytest.mark.parametrize("mode", ["json-only", "html-only"])
def test_integrity_api_is_asked_when_pages_do_not_list_provenance(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    mode: str,
) -> None:
    package_index.mode = mode  # type: ignore[assignment]
    package_index.integrity_api = True
    wheel = dist_factory.wheel("demo", "1.0")
    package_index.add(
        wheel, provenance=provenance_bytes(sigstore.provenance(wheel, publisher=PUBLISHER))
    )
    package_index.add(dist_factory.wheel("plain", "1.0"))
    code, report = check(
        capsys,
        tmp_path,
        "demo==1.0",
        "plain==1.0",
        "--index-url",
        package_index.url,
        "--trust-config",
        str(trust_config),
    )
    assert code == 0
    by_name = {p["name"]: p for p in report["packages"]}
    assert by_name["demo"]["provenance"]["status"] == "verified"
    assert by_name["plain"]["provenance"]["status"] == "absent"
    asked = [
        path for _m, path, accept in package_index.requests_log if path.startswith("/integrity/")
    ]
    assert "/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance" in asked


def test_json_page_listing_no_provenance_is_not_asked_again(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.mode = "json-only"
    package_index.add(dist_factory.wheel("plain", "1.0"))
    code, report = check(
        capsys,
        tmp_path,
        "plain==1.0",
        "--index-url",
        package_index.url,
        "--trust-config",
        str(trust_config),
    )
    assert code == 0
    assert only_package(report)["provenance"]["status"] == "absent"
    assert not [p for _m, p, _a in package_index.requests_log if p.startswith("/integrity/")]


@pytest.fixture
def attested(
    sigstore: TestSigstore, dist_factory: DistFactory, package_index: PackageIndex
) -> PackageIndex:
    wheel = dist_factory.wheel("demo", "1.0")
    package_index.add(
        wheel, provenance=provenance_bytes(sigstore.provenance(wheel, publisher=PUBLISHER))
    )
    package_index.add(dist_factory.wheel("plain", "1.0"))
    return package_index


@pytest.mark.parametrize(
    ("expect", "allowed"),
    [
        ("demo:kind=GitHub,repository=acme/demo,workflow=release.yml", True),
        ("demo:kind=github,repository=ACME/demo", True),
        ("demo:kind=GitHub,repository=acme/demo,workflow=release.yml,environment=pypi", True),
        ("demo:kind=GitHub,repository=acme/demo,workflow=nightly.yml", False),
        ("demo:kind=GitHub,repository=evil/demo,workflow=release.yml", False),
        ("demo:kind=GitLab,repository=acme/demo", False),
        ("demo:kind=GitHub,repository=acme/demo,environment=staging", False),
    ],
)
def test_expect_pins_the_publisher(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    trust_config: Path,
    attested: PackageIndex,
    expect: str,
    allowed: bool,
) -> None:
    code, report = check(
        capsys,
        tmp_path,
        "demo==1.0",
        "--index-url",
        attested.url,
        "--trust-config",
        str(trust_config),
        "--expect",
        expect,
    )
    package = only_package(report)
    assert package["provenance"]["status"] == "verified"
    if allowed:
        assert code == 0
        assert package["decision"] == "allow"
    else:
        assert code == 1
        (reason,) = package["reasons"]
        assert reason["rule"] == "publisher-mismatch"
        assert "was published by GitHub acme/demo, workflow release.yml" in reason["message"]
        assert "(--expect)" in reason["message"]


def test_expect_on_a_package_without_provenance_is_denied(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, trust_config: Path, attested: PackageIndex
) -> None:
    code, report = check(
        capsys,
        tmp_path,
        "plain==1.0",
        "--index-url",
        attested.url,
        "--trust-config",
        str(trust_config),
        "--expect",
        "plain:kind=GitHub,repository=acme/plain",
    )
    assert code == 1
    (reason,) = [r for r in only_package(report)["reasons"] if r["decision"] == "deny"]
    assert reason["rule"] == "publisher-mismatch"
    assert "has no provenance" in reason["message"]


@pytest.mark.parametrize(
    "value", ["demo", "demo:kind=GitHub", "demo:kind=Jenkins,repository=a/b", "demo:colour=red"]
)
def test_malformed_expect_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, attested: PackageIndex, value: str
) -> None:
    code = main(
        [
            "check",
            "demo==1.0",
            "--index-url",
            attested.url,
            "--expect",
            value,
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "invalid --expect" in err


@pytest.mark.parametrize(("repository", "code"), [("acme/demo", 0), ("evil/demo", 1)])
def test_pylock_attestation_identities_pin_the_publisher(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    trust_config: Path,
    attested: PackageIndex,
    repository: str,
    code: int,
) -> None:
    wheel = attested.files["demo-1.0-py3-none-any.whl"]
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "tests"\n\n'
        '[[packages]]\nname = "demo"\nversion = "1.0"\n'
        f'wheels = [{{ url = "{attested.file_url(wheel.filename)}", '
        f'hashes = {{ sha256 = "{wheel.sha256}" }} }}]\n'
        "[[packages.attestation-identities]]\n"
        f'kind = "GitHub"\nrepository = "{repository}"\nworkflow = "release.yml"\n'
    )
    exit_code, report = check(
        capsys,
        tmp_path,
        str(lock),
        "--index-url",
        attested.url,
        "--trust-config",
        str(trust_config),
    )
    assert exit_code == code
    if code:
        (reason,) = only_package(report)["reasons"]
        assert reason["rule"] == "publisher-mismatch"
        assert f"{lock}:4" in reason["message"]


@pytest.mark.parametrize("decision", ["allow", "warn", "deny"])
@pytest.mark.parametrize("rule", ["provenance-invalid", "publisher-mismatch", "publisher-change"])
def test_provenance_rules_follow_the_policy(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    rule: str,
    decision: str,
) -> None:
    wheel = dist_factory.wheel("demo", "1.0")
    other = dist_factory.wheel("other", "1.0")
    extra: list[str] = []
    if rule == "provenance-invalid":
        provenance = invalid_case("attestation-for-another-file", sigstore, wheel, other)
    else:
        provenance = provenance_bytes(sigstore.provenance(wheel, publisher=PUBLISHER))
    if rule == "publisher-mismatch":
        extra = ["--expect", "demo:kind=GitHub,repository=acme/demo,workflow=nightly.yml"]
    if rule == "publisher-change":
        store = tmp_path / "trust.toml"
        store.write_text(
            '[packages.demo]\nkind = "GitHub"\nrepository = "acme/demo"\n'
            'workflow = "nightly.yml"\ntrusted = "pinned"\nsince = "2026-01-01"\n'
        )
        extra = ["--trust-store", str(store)]
    package_index.add(wheel, provenance=provenance)
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[rules.{rule}]\ndecision = "{decision}"\n')
    code, report = check(
        capsys,
        tmp_path,
        "demo==1.0",
        "--index-url",
        package_index.url,
        "--trust-config",
        str(trust_config),
        "--policy",
        str(policy),
        *extra,
    )
    package = only_package(report)
    fired = [r["decision"] for r in package["reasons"] if r["rule"] == rule]
    assert fired == ([] if decision == "allow" else [decision])
    assert package["decision"] == decision
    assert code == (1 if decision == "deny" else 0)


def test_a_recheck_reuses_verified_provenance_and_sees_new_documents(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    trust_config: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second check of the same file and documents takes the outcome the first verified
    (no signature is checked: the verifier is made to fail the test if it runs); documents
    that change are verified afresh, and what they say is what the report says."""
    from verify._provenance.checker import ProvenanceChecker

    wheel = dist_factory.wheel("demo", "1.0")
    package_index.add(
        wheel, provenance=provenance_bytes(sigstore.provenance(wheel, publisher=PUBLISHER))
    )
    argv = ("demo==1.0", "--index-url", package_index.url, "--trust-config", str(trust_config))
    code, first = check(capsys, tmp_path, *argv)
    assert code == 0
    assert only_package(first)["provenance"]["status"] == "verified"
    assert list((tmp_path / "cache" / "provenance").glob("*/*.json"))

    verified = ProvenanceChecker._verify

    def must_not_verify(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("provenance verified again")

    monkeypatch.setattr(ProvenanceChecker, "_verify", must_not_verify)
    code, second = check(capsys, tmp_path, *argv)
    assert code == 0
    assert only_package(second)["provenance"] == only_package(first)["provenance"]
    assert only_package(second)["files"] == only_package(first)["files"]

    # Another publisher's provenance for the same file: new bytes, so verified again, and
    # the report names the new publisher, not the remembered one.
    monkeypatch.setattr(ProvenanceChecker, "_verify", verified)
    other = GitLabIdentity(repository="acme/tools/demo")
    package_index.add(
        wheel, provenance=provenance_bytes(sigstore.provenance(wheel, publisher=other))
    )
    code, third = check(capsys, tmp_path, *argv)
    assert only_package(third)["provenance"]["status"] == "verified"
    assert only_package(third)["provenance"]["publisher"]["kind"] == "GitLab"

    # Provenance that no longer verifies is never answered from memory.
    package_index.add(wheel, provenance=b'{"version": 1, "attestation_bundles": []}')
    code, fourth = check(capsys, tmp_path, *argv)
    assert only_package(fourth)["provenance"]["status"] == "invalid"
    assert code == 1
