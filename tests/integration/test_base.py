"""``check --base REF``: only what a change to the lock files adds or alters is verified."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.cli import check_json
from tests.helpers.policies import without_provenance_requirement

pytestmark = pytest.mark.integration


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def lock_line(index: PackageIndex, filename: str) -> str:
    name, version = filename.split("-")[:2]
    return f"{name}=={version} --hash=sha256:{index.files[filename].sha256}\n"


@pytest.fixture
def repo(tmp_path: Path, dist_factory: DistFactory, package_index: PackageIndex) -> Path:
    for name, version in (("alpha", "1.0"), ("alpha", "1.1"), ("beta", "1.0"), ("gamma", "1.0")):
        package_index.add(dist_factory.wheel(name, version))
    package_index.add(
        dist_factory.wheel(
            "delta", "2.0", files={"delta/__init__.py": "", "delta.pth": "import os\n"}
        )
    )
    package_index.add(dist_factory.wheel("delta", "1.0", files={"delta/__init__.py": ""}))
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "requirements.txt").write_text(
        lock_line(package_index, "alpha-1.0-py3-none-any.whl")
        + lock_line(package_index, "beta-1.0-py3-none-any.whl")
        + lock_line(package_index, "delta-1.0-py3-none-any.whl")
    )
    git(root, "add", "requirements.txt")
    git(root, "commit", "-q", "-m", "base")
    # The change under review: alpha upgraded, beta removed, gamma added, delta upgraded to a
    # release that adds a .pth file (against 1.0, the version it replaces).
    (root / "requirements.txt").write_text(
        lock_line(package_index, "alpha-1.1-py3-none-any.whl")
        + lock_line(package_index, "gamma-1.0-py3-none-any.whl")
        + lock_line(package_index, "delta-2.0-py3-none-any.whl")
    )
    return root


def test_only_changed_packages_are_verified(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    repo: Path,
    package_index: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(repo)
    code, report = check_json(
        capsys,
        tmp_path,
        "--base",
        "HEAD",
        "-i",
        package_index.url,
        policy=without_provenance_requirement(),
    )
    changes = {
        c["name"]: (c["change"], c["old_version"], c["new_version"]) for c in report["changes"]
    }
    assert changes == {
        "alpha": ("upgraded", "1.0", "1.1"),
        "gamma": ("added", None, "1.0"),
        "delta": ("upgraded", "1.0", "2.0"),
        "beta": ("removed", "1.0", None),
    }
    assert {p["name"] for p in report["packages"]} == {"alpha", "gamma", "delta"}
    delta = next(p for p in report["packages"] if p["name"] == "delta")
    assert delta["behaviour"][0]["baseline"] == "delta-1.0-py3-none-any.whl"
    assert delta["behaviour"][0]["reason"].startswith("named 1.0")
    assert any(r["rule"] == "pth-exec" and r["decision"] == "deny" for r in delta["reasons"])
    assert code == 1
    added = next(c for c in report["changes"] if c["name"] == "gamma")
    # Found by git, named relative to the working directory (a repository path).
    assert added["source"]["path"] == "requirements.txt"
    assert added["source"]["line"] == 2


def test_no_changed_lock_file_checks_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "commit", "-q", "-am", "the change")
    monkeypatch.chdir(repo)
    code, report = check_json(capsys, tmp_path, "--base", "HEAD")
    assert code == 0
    assert report["packages"] == []
    assert report["changes"] == []


@pytest.mark.parametrize("ref", ["no-such-ref", "--upload-pack=x"])
def test_an_unknown_base_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    ref: str,
) -> None:
    from verify._cli import main

    monkeypatch.chdir(repo)
    assert main(["check", f"--base={ref}"]) == 2
    assert "--base" in capsys.readouterr().err


def test_base_outside_a_git_checkout_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from verify._cli import main

    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert main(["check", "--base", "HEAD"]) == 2
    assert "is not inside a git checkout" in capsys.readouterr().err


def test_a_name_new_to_the_lock_that_no_index_serves_is_name_unknown(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    repo: Path,
    package_index: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An assistant added a dependency whose name nobody ever published: "numpyy".
    lines = (repo / "requirements.txt").read_text()
    digest = "0" * 64
    (repo / "requirements.txt").write_text(lines + f"numpyy==1.0 --hash=sha256:{digest}\n")
    monkeypatch.chdir(repo)
    code, report = check_json(
        capsys,
        tmp_path,
        "--base",
        "HEAD",
        "-i",
        package_index.url,
        policy=without_provenance_requirement(),
    )
    assert code == 1
    added = next(p for p in report["packages"] if p["name"] == "numpyy")
    unknown = next(r for r in added["reasons"] if r["rule"] == "name-unknown")
    assert unknown["decision"] == "deny"
    assert "did you mean numpy" in unknown["message"]
    # The names the index serves are not called unknown.
    others = [r for p in report["packages"] if p["name"] != "numpyy" for r in p["reasons"]]
    assert all(r["rule"] != "name-unknown" for r in others)
