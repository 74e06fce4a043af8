"""``name-unknown``, ``project-age`` and ``project-thin`` through ``check``, against a loopback
index (PEP 691 JSON, with upload times) holding:

* ``requests-toolbelt-pro``: a week-old single release, no project URLs, a popular name with a
  word added: the shape of a registered hallucinated name;
* ``requestz``: the same, one letter away from ``requests``;
* ``acme-widget``: three days old with one release, but it names its home: young, not thin;
* ``acme``: an established project, three releases since 2024, with project URLs;

and names no index serves at all.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.cli import check_json
from tests.helpers.dists import DistSpec
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

pytestmark = pytest.mark.integration

NOW = datetime.now(timezone.utc)
URLS = {"Project-URL": "Source, https://git.example/acme/acme"}


@pytest.fixture
def index(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    week_ago = NOW - timedelta(days=7)
    package_index.add(dist_factory.wheel("requests-toolbelt-pro", "1.0"), upload_time=week_ago)
    package_index.add(dist_factory.wheel("requestz", "0.1"), upload_time=week_ago)
    package_index.add(
        dist_factory.wheel(DistSpec("acme-widget", "0.1", metadata_extra=URLS)),
        upload_time=NOW - timedelta(days=3),
    )
    for version, when in (("1.0", 2024), ("1.1", 2025), ("2.0", 2026)):
        package_index.add(
            dist_factory.wheel(DistSpec("acme", version, metadata_extra=URLS)),
            upload_time=datetime(when, 1, 1, tzinfo=timezone.utc),
        )
    return package_index


def check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, index: PackageIndex, *argv: str
) -> tuple[int, dict[str, Any]]:
    return check_json(
        capsys,
        tmp_path,
        *argv,
        "--index-url",
        index.url,
        "--no-record",
        policy=without_provenance_requirement(),
    )


def reasons(report: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    (package,) = [p for p in report["packages"] if p["name"] == name]
    return {reason["rule"]: reason for reason in package["reasons"]}


def test_a_young_thin_look_alike_is_denied_with_its_evidence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, index: PackageIndex
) -> None:
    code, report = check(capsys, tmp_path, index, "requests-toolbelt-pro", "requestz")
    assert code == 1
    thin = reasons(report, "requests-toolbelt-pro")["project-thin"]
    assert thin["decision"] == "deny"
    assert "1 week old" in thin["message"]
    assert "single release (1.0)" in thin["message"]
    assert "names no project URLs" in thin["message"]
    assert "requests-toolbelt (#" in thin["message"]
    assert "with 'pro' added" in thin["message"]
    age = reasons(report, "requests-toolbelt-pro")["project-age"]
    assert age["decision"] == "warn"
    assert f"({(NOW - timedelta(days=7)):%Y-%m-%d}" in age["message"]
    assert "1 release)" in age["message"]
    look_alike = reasons(report, "requestz")
    assert look_alike["project-thin"]["decision"] == "deny"
    assert "resembles requests (#" in look_alike["project-thin"]["message"]


def test_a_young_project_that_names_its_home_is_only_young(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, index: PackageIndex
) -> None:
    code, report = check(capsys, tmp_path, index, "acme-widget")
    assert code == 0
    found = reasons(report, "acme-widget")
    assert "project-thin" not in found
    assert found["project-age"]["decision"] == "warn"
    assert "3 days ago" in found["project-age"]["message"]
    strict, strict_report = check_json(
        capsys,
        tmp_path,
        "acme-widget",
        "--index-url",
        index.url,
        "--no-record",
        "--policy",
        str(strict_without_provenance(tmp_path)),
    )
    assert strict == 1
    assert reasons(strict_report, "acme-widget")["project-age"]["decision"] == "deny"


def strict_without_provenance(tmp_path: Path) -> Path:
    path = tmp_path / "strict.toml"
    path.write_text(
        'extends = "strict"\n\n[rules.provenance-required]\ndecision = "allow"\n'
        'on-error = "allow"\n\n[rules.release-age]\ndecision = "allow"\n'
        'on-error = "allow"\n',
        encoding="utf-8",
    )
    return path


def test_an_established_project_is_quiet(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, index: PackageIndex
) -> None:
    code, report = check(capsys, tmp_path, index, "acme")
    assert code == 0
    found = reasons(report, "acme")
    assert not {"name-unknown", "project-age", "project-thin"} & found.keys()


def test_a_name_no_index_serves_is_name_unknown_with_suggestions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, index: PackageIndex
) -> None:
    code, report = check(capsys, tmp_path, index, "requests-toolbelt-prox")
    assert code == 1
    (package,) = report["packages"]
    assert package["version"] is None
    unknown = reasons(report, "requests-toolbelt-prox")["name-unknown"]
    assert unknown["decision"] == "deny"
    assert unknown["message"].startswith("no index serves requests-toolbelt-prox (")
    assert "did you mean requests-toolbelt" in unknown["message"]
    # A name nothing resembles says so.
    code, report = check(capsys, tmp_path, index, "zqxv-wobble-frob")
    assert code == 1
    assert (
        "no popular project has a similar name"
        in (reasons(report, "zqxv-wobble-frob")["name-unknown"]["message"])
    )


def test_a_hashed_requirement_of_an_unknown_name_is_named_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, index: PackageIndex
) -> None:
    requirements = tmp_path / "requirements.txt"
    digest = hashlib.sha256(b"never served").hexdigest()
    requirements.write_text(f"numpyy==1.0 --hash=sha256:{digest}\n", encoding="utf-8")
    code, report = check(capsys, tmp_path, index, "-r", str(requirements))
    assert code == 1
    found = reasons(report, "numpyy")
    assert "did you mean numpy" in found["name-unknown"]["message"]
    assert found["not-found"]["decision"] == "deny"


def test_a_release_pip_cannot_use_is_not_called_unknown(
    capsys: pytest.CaptureFixture[str], index: PackageIndex
) -> None:
    # acme is served, but there is no acme 9: pip's failure (exit 3), not an unknown name.
    code = main(["check", "acme>=9", "--index-url", index.url, "--no-record"])
    err = capsys.readouterr().err
    assert code == 3
    assert "pip could not resolve the requirements" in err
    assert "name-unknown" not in err
