"""``check`` output for code review: SARIF, markdown, and GitHub Actions annotations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def lock(tmp_path: Path, dist_factory: DistFactory, package_index: PackageIndex) -> Path:
    good = package_index.add(dist_factory.wheel("good", "1.0"))
    old = package_index.add(dist_factory.wheel("old", "1.0"), yanked="broken")
    path = tmp_path / "requirements.txt"
    path.write_text(f"good==1.0 --hash=sha256:{good.sha256}\nold==1.0 --hash=sha256:{old.sha256}\n")
    return path


def run(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, lock: Path, *extra: str
) -> tuple[int, str, str]:
    code = main(
        [
            "check",
            "-r",
            str(lock),
            "-i",
            index.url,
            "--policy",
            str(without_provenance_requirement()),
            "--cache-dir",
            str(lock.parent / "cache"),
            *extra,
        ]
    )
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    return code, captured.out, captured.err


def test_sarif_locates_results_at_the_lock_line(
    capsys: pytest.CaptureFixture[str], package_index: PackageIndex, lock: Path
) -> None:
    code, out, _err = run(capsys, package_index, lock, "--format", "sarif")
    assert code == 0
    sarif = json.loads(out)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "yanked"
    assert result["level"] == "warning"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 2
    assert result["partialFingerprints"]
    assert sarif["runs"][0]["automationDetails"]["id"].startswith("pip-verify/")


def test_markdown_summary(
    capsys: pytest.CaptureFixture[str], package_index: PackageIndex, lock: Path
) -> None:
    code, out, _err = run(capsys, package_index, lock, "--format", "markdown")
    assert code == 0
    assert "pip-verify" in out
    assert "WARN" in out
    assert "old" in out
    assert "yanked" in out


def test_github_actions_annotations_and_step_summary(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    package_index: PackageIndex,
    lock: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, err = run(
        capsys, package_index, lock, "--format", "json", "-o", str(tmp_path / "r.json")
    )
    assert code == 0
    (annotation,) = [line for line in out.splitlines() if line.startswith("::warning ")]
    assert f"file={lock}" in annotation
    assert "line=2" in annotation
    assert "yanked" in annotation
    assert "yanked" in summary.read_text()
    # A machine-readable report on standard output keeps the annotations off it.
    code, out, err = run(capsys, package_index, lock, "--format", "json")
    json.loads(out)
    assert "::warning " in err
