"""Trust on first use: first sight records, same publisher passes, a new one is denied until
``pip-verify trust accept``; a trusted package losing its provenance is a regression."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback
from tests.helpers.sigstore import GitHubIdentity, TestSigstore
from verify._cli import main
from verify.trust_store import TrustStore

pytestmark = pytest.mark.integration

ORIGINAL = GitHubIdentity(repository="acme/demo", workflow="release.yml")
HIJACKER = GitHubIdentity(repository="acme/demo", workflow="evil.yml")


@pytest.fixture(scope="module")
def sigstore() -> TestSigstore:
    return TestSigstore()


def check(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    index: PackageIndex,
    trust: Path,
    *argv: str,
) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    code = main(
        [
            "check",
            *argv,
            "--index-url",
            index.url,
            "--trust-config",
            str(trust),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--format",
            "json",
            "-o",
            str(report),
        ]
    )
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    return code, json.loads(report.read_text())


def test_tofu_cycle(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(sigstore.client_trust_config_json())
    store_path = Path("pip-verify.trust.toml")  # the default, in the working directory
    for version, publisher in (("1.0", ORIGINAL), ("1.1", ORIGINAL), ("1.2", HIJACKER)):
        wheel = dist_factory.wheel("demo", version)
        package_index.add(
            wheel,
            provenance=sigstore.provenance(wheel, publisher=publisher).model_dump_json().encode(),
        )

    # First sight: recorded.
    code, report = check(capsys, tmp_path, package_index, trust, "demo==1.0")
    assert code == 0
    (package,) = report["packages"]
    assert [f["rule"] for f in package["findings"]] == ["publisher-first-seen"]
    entry = TrustStore.load(store_path).get("demo")
    assert entry is not None
    assert (entry.identity.repository, entry.identity.workflow, entry.how, entry.version) == (
        "acme/demo",
        "release.yml",
        "first-seen",
        "1.0",
    )
    assert "[packages.demo]" in store_path.read_text()

    # Same publisher: passes, nothing new recorded.
    before = store_path.read_text()
    assert check(capsys, tmp_path, package_index, trust, "demo==1.1")[0] == 0
    assert store_path.read_text() == before

    # Another workflow of the same repository: denied, old and new side by side.
    code, report = check(capsys, tmp_path, package_index, trust, "demo==1.2")
    assert code == 1
    (reason,) = report["packages"][0]["reasons"]
    assert reason["rule"] == "publisher-change"
    assert "published by GitHub acme/demo, workflow evil.yml" in reason["message"]
    assert "trusts GitHub acme/demo, workflow release.yml (first-seen since" in reason["message"]

    # A person accepts the change, with a reason; the file records who and why.
    monkeypatch.setenv("PIP_VERIFY_USER", "alice")
    assert (
        main(
            [
                "trust",
                "accept",
                "demo",
                "--kind",
                "GitHub",
                "--repository",
                "acme/demo",
                "--workflow",
                "evil.yml",
                "--reason",
                "moved publishing to a new workflow",
            ]
        )
        == 0
    )
    assert "now trusts GitHub acme/demo, workflow evil.yml" in capsys.readouterr().out
    text = store_path.read_text()
    assert 'by = "alice"' in text
    assert 'reason = "moved publishing to a new workflow"' in text
    assert check(capsys, tmp_path, package_index, trust, "demo==1.2")[0] == 0
    # ... and the old publisher is now the stranger.
    assert check(capsys, tmp_path, package_index, trust, "demo==1.1")[0] == 1


def test_provenance_regression_and_trust_commands(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(sigstore.client_trust_config_json())
    package_index.add(dist_factory.wheel("demo", "2.0"))  # no provenance
    assert (
        main(
            [
                "trust",
                "pin",
                "demo",
                "--kind",
                "GitHub",
                "--repository",
                "acme/demo",
                "--workflow",
                "release.yml",
            ]
        )
        == 0
    )
    code, report = check(capsys, tmp_path, package_index, trust, "demo==2.0")
    assert code == 1
    (reason,) = [r for r in report["packages"][0]["reasons"] if r["decision"] == "deny"]
    assert reason["rule"] == "provenance-regression"
    assert "has no provenance" in reason["message"]

    assert main(["trust", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["demo"]["trusted"] == "pinned"
    assert main(["trust", "forget", "demo"]) == 0
    capsys.readouterr()
    assert check(capsys, tmp_path, package_index, trust, "demo==2.0")[0] == 0
    assert main(["trust", "forget", "demo"]) == 2


def test_no_record_leaves_the_store_alone(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sigstore: TestSigstore,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(sigstore.client_trust_config_json())
    wheel = dist_factory.wheel("demo", "1.0")
    package_index.add(
        wheel, provenance=sigstore.provenance(wheel, publisher=ORIGINAL).model_dump_json().encode()
    )
    assert check(capsys, tmp_path, package_index, trust, "demo==1.0", "--no-record")[0] == 0
    assert not Path("pip-verify.trust.toml").exists()


def test_corrupt_trust_store_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex
) -> None:
    Path("pip-verify.trust.toml").write_text("[packages.demo]\nkind = 3\n")
    code = main(["check", "demo==1.0", "--index-url", package_index.url])
    err = capsys.readouterr().err
    assert code == 2
    assert "invalid trust store" in err
