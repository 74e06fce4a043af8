"""A policy can require provenance of local files too, and strict does (issue 15, defect 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import check_json
from tests.helpers.dists import DistSpec, build_wheel
from verify._cli import main

pytestmark = pytest.mark.integration

STRICT = Path(__file__).resolve().parents[2] / "policies" / "strict.toml"


def _reasons(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (package,) = report["packages"]
    return {r["rule"]: r for r in package["reasons"]}


def test_strict_denies_an_unattested_local_wheel_by_policy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    wheel = build_wheel(DistSpec("plain", "1.0"), tmp_path / "dist")
    code, report = check_json(capsys, tmp_path, str(wheel), "--offline", policy=STRICT)
    # 1, not 3: a rule that ran denied it, whatever the offline sources left unchecked.
    assert code == 1, report
    required = _reasons(report)["provenance-required"]
    assert required["decision"] == "deny"
    assert required["unchecked"] is False
    assert "has no provenance" in str(required["message"])


def test_the_default_policy_still_spares_local_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    wheel = build_wheel(DistSpec("plain", "1.0"), tmp_path / "dist")
    _code, report = check_json(capsys, tmp_path, str(wheel), "--offline")
    assert "provenance-required" not in _reasons(report)


def test_any_policy_can_require_provenance_of_local_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[rules.provenance-required]\ndecision = "deny"\nlocal-files = true\n'
        '[rules.index-metadata]\non-error = "allow"\n'
        '[rules.vulnerability]\non-error = "allow"\n'
    )
    wheel = build_wheel(DistSpec("plain", "1.0"), tmp_path / "dist")
    code, report = check_json(capsys, tmp_path, str(wheel), "--offline", policy=policy)
    assert code == 1, report
    assert _reasons(report)["provenance-required"]["decision"] == "deny"


def test_local_files_must_be_a_boolean(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[rules.provenance-required]\nlocal-files = "yes"\n')
    assert main(["policy", "check", str(policy)]) == 2
    err = capsys.readouterr().err
    assert "local-files" in err
    assert "expected boolean" in err
