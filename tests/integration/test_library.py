"""pip-verify as a library: the public API, called as a user's program would call it."""

from __future__ import annotations

from pathlib import Path

import pytest

import verify
from tests.helpers import PackageIndex
from tests.helpers.corpus import BASE, MALICIOUS
from tests.helpers.dists import DistSpec, build_wheel
from tests.helpers.policies import without_provenance_requirement


def test_run_check_returns_a_typed_report(
    tmp_path: Path, package_index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    package_index.add(build_wheel(DistSpec("certifi", "2024.1"), tmp_path / "dists"))
    # Known vulnerabilities from an empty offline OSV database: tests reach no public service.
    osv = tmp_path / "osv"
    osv.mkdir()
    report = verify.run_check(
        verify.CheckSettings(
            inputs=verify.InputSettings(requirements=("certifi==2024.1",)),
            resolution=verify.ResolutionSettings(index_url=package_index.url),
            verification=verify.VerificationSettings(
                policy_path=without_provenance_requirement(), vulnerability_db=osv
            ),
            network=verify.NetworkSettings(cache_dir=tmp_path / "cache", jobs=2),
        )
    )
    assert isinstance(report, verify.Report)
    assert report.decision is verify.Decision.ALLOW
    assert not report.incomplete
    assert not report.denied_by_policy
    (package,) = report.packages
    assert isinstance(package, verify.PackageResult)
    assert (package.name, str(package.version)) == ("certifi", "2024.1")
    (file,) = package.files
    assert isinstance(file, verify.FileResult)
    assert file.hash_status is verify.HashStatus.VERIFIED
    assert isinstance(package.provenance, verify.Provenance)
    assert all(isinstance(summary, verify.BehaviourSummary) for summary in package.behaviour)
    # The library names no trust store unless told, so it writes none into the working
    # directory (the CLI's ./pip-verify.trust.toml is the CLI's default).
    assert list(tmp_path.glob("*.trust.toml")) == []


def test_run_diff_of_two_files_returns_typed_findings(tmp_path: Path) -> None:
    variant = next(v for v in MALICIOUS if v.id == "pth-file")
    old = build_wheel(BASE, tmp_path / "old")
    new = build_wheel(variant.build(), tmp_path / "new")
    result = verify.run_diff(
        verify.DiffSettings(
            old=str(old),
            new=str(new),
            network=verify.NetworkSettings(cache_dir=tmp_path / "cache"),
        )
    )
    assert isinstance(result, verify.DiffResult)
    assert result.decision is verify.Decision.DENY
    pth = [f for f in result.diff.findings if f.rule == "pth-exec"]
    assert pth
    assert all(isinstance(f, verify.Finding) for f in pth)
    assert all(isinstance(f.severity, verify.Severity) for f in pth)
    assert all(isinstance(r, verify.Reason) for r in result.reasons)
    assert any(r.rule == "pth-exec" for r in result.reasons)


def test_failures_are_typed_errors_with_exit_codes(tmp_path: Path) -> None:
    with pytest.raises(verify.UsageError) as nothing:
        verify.run_check(verify.CheckSettings())
    assert nothing.value.exit_code == 2
    empty = tmp_path / "demo-1.0-py3-none-any.whl"
    empty.write_bytes(b"")
    with pytest.raises(verify.ArchiveError) as unreadable:
        verify.run_screen(
            verify.ScreenSettings(
                files=(empty,),
                public_index_urls=(),
                network=verify.NetworkSettings(offline=True, cache_dir=tmp_path / "cache"),
            )
        )
    assert isinstance(unreadable.value, verify.InvalidInputError)
    assert unreadable.value.exit_code == 2
