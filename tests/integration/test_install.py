"""``pip-verify install`` end to end: real, fresh virtual environments and the loopback index.

The target environments are made with ``venv --without-pip``; pip-verify runs its own pip
against them (pip's ``--python``), exactly as it does for a user's active environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main
from verify.models import Report

pytestmark = pytest.mark.integration


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """A fresh, empty virtual environment; returns its interpreter."""
    root = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(root)
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    assert python.exists()
    return python


def installed(python: Path) -> dict[str, str]:
    """name -> version of every distribution in ``python``'s environment."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )
    return {item["name"].lower(): item["version"] for item in json.loads(listing.stdout)}


def site_packages_digest(python: Path) -> str:
    """One digest over every file (path and bytes) under the environment's lib directory."""
    root = python.parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def install(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    python: Path,
    *argv: str,
    policy: Path | None = None,
) -> tuple[int, dict[str, Any] | None, str]:
    report = tmp_path / "report.json"
    code = main(
        [
            "install",
            *argv,
            "--python",
            str(python),
            "--policy",
            str(policy or without_provenance_requirement()),
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
    document = json.loads(report.read_text()) if report.exists() else None
    return code, document, captured.err


def publish_tree(dists: DistFactory, index: PackageIndex) -> None:
    index.add(dists.wheel("alpha", "1.0", requires_dist=("beta>=1",)))
    index.add(dists.wheel("beta", "1.0"))
    index.add(dists.wheel("beta", "2.0"))


def test_a_clean_tree_installs_exactly_the_verified_versions(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    target: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    publish_tree(dist_factory, package_index)
    code, report, err = install(capsys, tmp_path, target, "alpha", "-i", package_index.url)
    assert code == 0, err
    assert report is not None
    verified = {p["name"]: p["version"] for p in report["packages"]}
    assert verified == {"alpha": "1.0", "beta": "2.0"}
    assert installed(target) == verified
    assert "installed 2 package(s) into" in err


def test_a_denied_package_installs_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    target: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    publish_tree(dist_factory, package_index)
    package_index.add(dist_factory.wheel("gamma", "1.0"), yanked="compromised")
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'extends = "{without_provenance_requirement()}"\n[rules.yanked]\ndecision = "deny"\n'
    )
    before = site_packages_digest(target)
    code, report, err = install(
        capsys, tmp_path, target, "alpha", "gamma==1.0", "-i", package_index.url, policy=policy
    )
    assert code == 1
    assert report is not None
    assert report["decision"] == "deny"
    assert "denied: nothing was installed" in err
    assert site_packages_digest(target) == before
    assert installed(target) == {}


def test_dry_run_installs_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    target: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    publish_tree(dist_factory, package_index)
    before = site_packages_digest(target)
    code, report, err = install(
        capsys, tmp_path, target, "alpha", "-i", package_index.url, "--dry-run"
    )
    assert code == 0
    assert report is not None
    assert {p["name"] for p in report["packages"]} == {"alpha", "beta"}
    assert "--dry-run: nothing was installed" in err
    assert site_packages_digest(target) == before


def test_a_file_swapped_on_the_index_after_resolution_is_not_installed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    target: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish_tree(dist_factory, package_index)
    from verify._resolve.pip_report import resolve_with_pip as resolve

    def resolve_then_swap(*args: Any, **kwargs: Any) -> Any:
        resolution = resolve(*args, **kwargs)
        package_index.tamper("beta-2.0-py3-none-any.whl", b"PK\x05\x06" + b"\0" * 18)
        return resolution

    monkeypatch.setattr("verify.check.resolve_with_pip", resolve_then_swap)
    before = site_packages_digest(target)
    code, report, _err = install(capsys, tmp_path, target, "alpha", "-i", package_index.url)
    assert code == 1
    assert report is not None
    beta = next(p for p in report["packages"] if p["name"] == "beta")
    assert [r["rule"] for r in beta["reasons"] if r["decision"] == "deny"] == ["hash-mismatch"]
    assert site_packages_digest(target) == before


def test_bytes_changed_in_the_cache_after_the_check_are_not_installed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    target: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish_tree(dist_factory, package_index)
    from verify.check import run_check as check

    def check_then_corrupt(*args: Any, **kwargs: Any) -> Report:
        report = check(*args, **kwargs)
        for package in report.packages:
            for file in package.files:
                assert file.cache_path is not None
                file.cache_path.write_bytes(b"not the verified bytes")
        return report

    monkeypatch.setattr("verify.install.run_check", check_then_corrupt)
    before = site_packages_digest(target)
    code, _report, err = install(capsys, tmp_path, target, "alpha", "-i", package_index.url)
    assert code == 3
    assert "pip could not install the verified files" in err
    assert site_packages_digest(target) == before


def test_an_sdist_only_package_follows_the_policy(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    target: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(dist_factory.sdist("legacy", "1.0"))
    # Wheels only by default: pip's resolver cannot use the sdist, and says how to allow it.
    code, _report, err = install(capsys, tmp_path, target, "legacy", "-i", package_index.url)
    assert code == 3
    assert "--allow-source-builds" in err
    # A hashed lock names the sdist: the policy decides (here: deny builds from source).
    digest = hashlib.sha256(
        (package_index.directory / "legacy-1.0.tar.gz").read_bytes()
    ).hexdigest()
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"legacy==1.0 --hash=sha256:{digest}\n")
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'extends = "{without_provenance_requirement()}"\n'
        '[rules.build-from-source]\ndecision = "deny"\n'
    )
    code, report, err = install(
        capsys, tmp_path, target, "-r", str(lock), "-i", package_index.url, policy=policy
    )
    assert code == 1
    assert report is not None
    (package,) = report["packages"]
    assert [r["rule"] for r in package["reasons"] if r["decision"] == "deny"] == [
        "build-from-source"
    ]
    assert installed(target) == {}


def test_a_hashed_lock_installs_without_resolution(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    target: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish_tree(dist_factory, package_index)
    lines = []
    for name, version in (("alpha", "1.0"), ("beta", "1.0")):
        wheel = package_index.directory / f"{name}-{version}-py3-none-any.whl"
        lines.append(
            f"{name}=={version} --hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}"
        )
    lock = tmp_path / "requirements.txt"
    lock.write_text("\n".join(lines) + "\n")

    def no_resolver(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a hashed lock needs no resolver")

    monkeypatch.setattr("verify.check.resolve_with_pip", no_resolver)
    code, _report, err = install(capsys, tmp_path, target, "-r", str(lock), "-i", package_index.url)
    assert code == 0, err
    assert installed(target) == {"alpha": "1.0", "beta": "1.0"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-e", "."], "editable install"),
        (["demo", "--no-binary", ":all:"], "--no-binary needs --allow-source-builds"),
        (["demo", "--only-binary", "demo"], "already uses wheels only"),
        (["demo", "--target", "t", "--user"], "alternatives"),
        (["demo", "--platform", "win_amd64"], "pass --target DIR"),
        (["demo", "--frobnicate"], "unrecognized arguments"),
    ],
)
def test_bad_pip_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], target: Path, argv: list[str], message: str
) -> None:
    try:
        code = main(["install", *argv, "--python", str(target)])
    except SystemExit as exited:  # argparse's own usage errors
        code = int(exited.code or 0)
    assert code == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert_no_traceback(captured.out + captured.err)
