"""Policy rules end to end: release age, project status, builds from source, overrides."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.cli import check_json
from verify._cli import main

pytestmark = pytest.mark.integration


def check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str
) -> tuple[int, dict[str, Any]]:
    return check_json(capsys, tmp_path, *argv)


def reasons(report: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    (package,) = [p for p in report["packages"] if p["name"] == name]
    return {r["rule"]: r for r in package["reasons"]}


@pytest.fixture
def young(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    now = datetime.now(timezone.utc)
    # A new release of a project first published long ago: release-age, not project-age.
    package_index.add(dist_factory.wheel("fresh", "0.9"))
    package_index.add(dist_factory.wheel("fresh", "1.0"), upload_time=now - timedelta(hours=5))
    package_index.add(dist_factory.wheel("aged", "1.0"), upload_time=now - timedelta(days=30))
    return package_index


def test_release_age_warns_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, young: PackageIndex
) -> None:
    code, report = check(capsys, tmp_path, "fresh==1.0", "aged==1.0", "--index-url", young.url)
    assert code == 0
    fresh = reasons(report, "fresh")["release-age"]
    assert fresh["decision"] == "warn"
    assert "uploaded 5 hours ago" in fresh["message"]
    assert "the policy wants 3 days" in fresh["message"]
    assert "release-age" not in reasons(report, "aged")


def test_release_age_strict_denies_and_overrides_exempt(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, young: PackageIndex
) -> None:
    code, report = check(
        capsys,
        tmp_path,
        "fresh==1.0",
        "--index-url",
        young.url,
        "--policy",
        str(Path(__file__).resolve().parents[2] / "policies" / "strict.toml"),
    )
    assert code == 1
    assert reasons(report, "fresh")["release-age"]["decision"] == "deny"
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'extends = "strict"\n'
        '[rules.provenance-required]\ndecision = "allow"\non-error = "allow"\n'
        '[[packages]]\nmatch = "fre*"\n'
        '[packages.rules.release-age]\ndecision = "allow"\n'
    )
    code, report = check(
        capsys, tmp_path, "fresh==1.0", "--index-url", young.url, "--policy", str(policy)
    )
    assert code == 0, report


def test_release_age_without_upload_time_is_noted_as_unchecked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, young: PackageIndex
) -> None:
    young.mode = "html-only"
    code, report = check(capsys, tmp_path, "fresh==1.0", "--index-url", young.url)
    assert code == 0
    reason = reasons(report, "fresh")["release-age"]
    assert reason["unchecked"] is True
    assert reason["decision"] == "allow"
    assert "gives no upload time" in reason["message"]


@pytest.mark.parametrize("status", ["archived", "deprecated", "quarantined"])
def test_project_status(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    status: str,
) -> None:
    package_index.add(dist_factory.wheel("old", "1.0"))
    package_index.project_status["old"] = status
    code, report = check(capsys, tmp_path, "old==1.0", "--index-url", package_index.url)
    assert code == 0
    reason = reasons(report, "old")["project-status"]
    assert reason["decision"] == "warn"
    assert f"old is {status}" in reason["message"]


def test_build_from_source(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(dist_factory.sdist("legacy", "1.0"))
    sdist = package_index.files["legacy-1.0.tar.gz"]
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"legacy==1.0 --hash=sha256:{sdist.sha256}\n")
    code, report = check(capsys, tmp_path, "-r", str(lock), "--index-url", package_index.url)
    assert code == 0
    reason = reasons(report, "legacy")["build-from-source"]
    assert reason["decision"] == "warn"
    assert "legacy-1.0.tar.gz" in reason["message"]
    code, report = check(
        capsys,
        tmp_path,
        "-r",
        str(lock),
        "--index-url",
        package_index.url,
        "--policy",
        str(Path(__file__).resolve().parents[2] / "policies" / "strict.toml"),
    )
    assert code == 1
    assert reasons(report, "legacy")["build-from-source"]["decision"] == "deny"


def test_invalid_policy_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[rules.yanky]\ndecision = "deny"\n')
    code = main(["check", "x==1", "--policy", str(policy)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0
    assert f"{policy}:1:" in err
    assert "did you mean 'yanked'" in err


@pytest.fixture
def public_and_private(
    tmp_path: Path, dist_factory: DistFactory
) -> Iterator[tuple[PackageIndex, PackageIndex]]:
    with PackageIndex(tmp_path / "public") as public, PackageIndex(tmp_path / "private") as private:
        private.add(dist_factory.wheel("acme-tools", "1.0"))
        # The attack: the same name on the public index, with a higher version.
        public.add(dist_factory.wheel("acme-tools", "99.0"))
        public.add(dist_factory.wheel("requests-lite", "1.0"))
        yield public, private


def test_dependency_confusion_is_caught(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    public_and_private: tuple[PackageIndex, PackageIndex],
) -> None:
    public, private = public_and_private
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[[indexes]]\nurl = "{private.url}"\npackages = ["acme-*"]\n'
        f'[[indexes]]\nurl = "{public.url}"\n'
    )
    code, report = check(
        capsys,
        tmp_path,
        "acme-tools",
        "--index-url",
        private.url,
        "--extra-index-url",
        public.url,
        "--policy",
        str(policy),
    )
    assert code == 1
    reason = reasons(report, "acme-tools")["index-pinning"]
    assert reason["decision"] == "deny"
    assert f"may only come from {private.url}" in reason["message"]
    assert f"{public.url} also serves it" in reason["message"]


def test_name_on_two_indexes_is_flagged_without_a_binding(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    public_and_private: tuple[PackageIndex, PackageIndex],
) -> None:
    public, private = public_and_private
    code, report = check(
        capsys,
        tmp_path,
        "acme-tools==1.0",
        "--index-url",
        private.url,
        "--extra-index-url",
        public.url,
    )
    assert code == 0
    reason = reasons(report, "acme-tools")["index-shadowing"]
    assert reason["decision"] == "warn"
    assert private.url in reason["message"]
    assert public.url in reason["message"]


def test_index_the_policy_does_not_list_is_denied(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    public_and_private: tuple[PackageIndex, PackageIndex],
) -> None:
    public, private = public_and_private
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[[indexes]]\nurl = "{private.url}"\n')
    code, report = check(
        capsys,
        tmp_path,
        "requests-lite",
        "--index-url",
        public.url,
        "--policy",
        str(policy),
    )
    assert code == 1
    assert reasons(report, "requests-lite")["index-unknown"]["decision"] == "deny"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[[indexes]]\nurl = "ftp://x.example/"\n', "not http(s):// or file://"),
        (
            '[[indexes]]\nurl = "https://x.example/simple/"\npackages = ["ACME"]\n',
            "bad package pattern",
        ),
        ('[[indexes]]\nuri = "https://x.example/simple/"\n', "did you mean 'url'"),
    ],
)
def test_bad_index_bindings_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, fragment: str
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(text)
    assert main(["policy", "check", str(policy)]) == 2
    err = capsys.readouterr().err
    assert f"{policy}:1:" in err
    assert fragment in err


def test_typosquat_is_flagged(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(dist_factory.wheel("reqeusts", "1.0"))
    package_index.add(dist_factory.wheel("requests", "2.0"))
    code, report = check(
        capsys, tmp_path, "reqeusts==1.0", "requests==2.0", "--index-url", package_index.url
    )
    assert code == 0
    reason = reasons(report, "reqeusts")["typosquat"]
    assert reason["decision"] == "warn"
    assert "reqeusts resembles requests" in reason["message"]
    assert "typosquat" not in reasons(report, "requests")
