"""Issue 15: JSON nested deeper than the parser can follow, in the Sigstore trust config and
in provenance, is a clean error or a provenance finding, never an internal error.

The trust config is the user's file: exit 2, one line naming it. Provenance comes from the
index or beside a file: malformed provenance is reported as invalid, as it always was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.cli import check_run
from tests.helpers.policies import without_provenance_requirement
from verify._provenance.attestation import AttestationInvalid, _statement

#: Far deeper than the recursion limit.
DEEP = "[" * 50_000


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    """Run ``check`` with a JSON report; the exit code, stderr and the report's text."""
    run = check_run(capsys, tmp_path, *argv, policy=without_provenance_requirement())
    assert "internal error" not in run.out + run.err
    return run.code, run.err, run.report


def provenance_of(report: str) -> dict[str, Any]:
    [package] = json.loads(report)["packages"]
    found: dict[str, Any] = package["files"][0]["provenance"]
    return found


def test_deep_trust_config_is_a_usage_error_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, dist_factory: DistFactory
) -> None:
    config = tmp_path / "trust.json"
    config.write_text(DEEP)
    wheel = dist_factory.wheel("demo", "1.0")
    code, err, _ = run(capsys, tmp_path, str(wheel), "--offline", "--trust-config", str(config))
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith("pip-verify: error: cannot read the Sigstore trust config")
    assert str(config) in line
    assert "nested too deeply" in line


@pytest.mark.parametrize("suffix", [".provenance", ".publish.attestation"])
def test_deep_provenance_beside_a_local_file_is_invalid_provenance(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    dist_factory: DistFactory,
    suffix: str,
) -> None:
    wheel = dist_factory.wheel("demo", "1.0")
    beside = wheel.with_name(wheel.name + suffix)
    beside.write_text(DEEP)
    _code, _err, report = run(capsys, tmp_path, str(wheel), "--offline")
    provenance = provenance_of(report)
    assert provenance["status"] == "invalid"
    assert str(beside) in provenance["reason"]
    assert "nested too deeply" in provenance["reason"]


def test_deep_provenance_from_the_index_is_invalid_provenance(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(dist_factory.wheel("demo", "1.0"), provenance=DEEP.encode())
    _code, _err, report = run(capsys, tmp_path, "demo==1.0", "--index-url", package_index.url)
    provenance = provenance_of(report)
    assert provenance["status"] == "invalid"
    assert "nested too deeply" in provenance["reason"]


def test_deep_signed_statement_is_an_invalid_attestation() -> None:
    # Anyone can get a valid signature over any statement: its shape is still untrusted.
    with pytest.raises(AttestationInvalid, match="nested too deeply"):
        _statement(DEEP.encode())
