"""verify._vulnerabilities: the OSV sources (also pip-audit VulnerabilityServices), reading OSV
records, and the audit."""

from __future__ import annotations

import json
import logging
import socket
import stat
import struct
import threading
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version
from pip_audit._service import osv as pip_audit_osv
from pip_audit._service.interface import (
    Dependency,
    ResolvedDependency,
    ServiceError,
    SkippedDependency,
    VulnerabilityResult,
    VulnerabilityService,
)
from pytest_socket import disable_socket, enable_socket

from tests.helpers.osv import OsvHandler, Serve
from verify import __version__
from verify._index.session import HttpSession
from verify._vulnerabilities import (
    AuditOutcome,
    KnownVulnerability,
    OsvApiService,
    OsvOfflineService,
    PipAuditSource,
    audit,
    audit_many,
    ranges,
)
from verify._vulnerabilities.cvss import cvss3_base_score, osv_severity
from verify._vulnerabilities.pip_audit_boundary import default_osv_url
from verify._vulnerabilities.records import known_vulnerability
from verify.errors import InvalidInputError, NetworkError, OfflineError, UsageError

# --- Records, modelled on the layout of real OSV records for PyPI -----------------------------

PYSEC: dict[str, Any] = {
    "id": "PYSEC-2023-0001",
    "modified": "2023-06-01T12:00:00.123456789Z",
    "published": "2023-05-30T09:15:00Z",
    "aliases": ["CVE-2023-00001", "GHSA-abcd-1234-wxyz"],
    "details": "demo-lib before 1.4.2, and 2.x before 2.0.3,\nallows template injection.",
    "affected": [
        {
            "package": {"name": "demo-lib", "ecosystem": "PyPI", "purl": "pkg:pypi/demo-lib"},
            "ranges": [
                {
                    "type": "GIT",
                    "repo": "https://git.example/demo-lib",
                    "events": [{"introduced": "0"}, {"fixed": "8f3c2a1"}],
                },
                {
                    "type": "ECOSYSTEM",
                    "events": [
                        {"introduced": "0"},
                        {"fixed": "1.4.2"},
                        {"introduced": "2.0.0"},
                        {"fixed": "2.0.3"},
                    ],
                },
            ],
            "versions": ["1.0", "1.4.0", "1.4.1", "2.0.0", "2.0.1", "2.0.2"],
        }
    ],
    "references": [
        {"type": "FIX", "url": "https://git.example/demo-lib/commit/8f3c2a1"},
        {"type": "ADVISORY", "url": "https://advisories.example/PYSEC-2023-0001"},
    ],
    "schema_version": "1.4.0",
}

GHSA: dict[str, Any] = {
    "id": "GHSA-abcd-1234-wxyz",
    "summary": "Template injection in demo-lib",
    "details": "A crafted template can run code.",
    "aliases": ["CVE-2023-00001"],
    "modified": "2023-06-02T00:00:00Z",
    "published": "2023-05-30T18:30:12Z",
    "database_specific": {"severity": "CRITICAL", "cwe_ids": ["CWE-94"]},
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "Demo_Lib"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.4.2"}]}],
        },
        {
            "package": {"ecosystem": "PyPI", "name": "demo.lib"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "2.0.0"}, {"fixed": "2.0.3"}]}
            ],
        },
    ],
    "references": [
        {"type": "WEB", "url": "https://git.example/demo-lib/security/advisories/1"},
        {"type": "ADVISORY", "url": "https://advisories.example/GHSA-abcd-1234-wxyz"},
    ],
    "schema_version": "1.4.0",
}

MAL: dict[str, Any] = {
    "id": "MAL-2024-1234",
    "summary": "Malicious code in demo-lib-typo (PyPI)",
    "details": "\n---\n_-= Per source details. =-_\n---\nThe package steals credentials.",
    "modified": "2024-03-01T00:00:00Z",
    "published": "2024-02-28T00:00:00Z",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "demo-lib-typo"},
            "versions": ["0.0.1", "0.0.2"],
            "database_specific": {
                "malicious-packages-origins": [{"source": "ossf-package-analysis"}]
            },
        }
    ],
    "references": [
        {"type": "REPORT", "url": "https://reports.example/1"},
        {"type": "WEB", "url": "https://reports.example/2"},
    ],
    "schema_version": "1.5.0",
}

#: A GHSA record that flags a malicious package by alias only.
MAL_ALIAS: dict[str, Any] = {
    "id": "GHSA-mmmm-0000-mmmm",
    "aliases": ["MAL-2024-9999"],
    "summary": "Malicious package",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "evil-pkg"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
        }
    ],
}

LAST_AFFECTED: dict[str, Any] = {
    "id": "GHSA-last-0000-aaaa",
    "summary": "Denial of service in Other_Pkg",
    "database_specific": {"severity": "HIGH"},
    # Only a CVSS v4 vector, which is not scored: the database's label is used.
    "severity": [
        {
            "type": "CVSS_V4",
            "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N",
        }
    ],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "Other_Pkg"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"last_affected": "1.5"}]}
            ],
        }
    ],
}

WITHDRAWN: dict[str, Any] = {
    "id": "GHSA-wdrn-0000-zzzz",
    "summary": "Withdrawn: not a vulnerability after all",
    "withdrawn": "2023-07-01T00:00:00Z",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "demo-lib"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
        }
    ],
}

NOT_PYPI: dict[str, Any] = {
    "id": "GHSA-npm0-0000-0000",
    "affected": [
        {
            "package": {"ecosystem": "npm", "name": "demo-lib"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
        }
    ],
}

RECORDS = [PYSEC, GHSA, MAL, MAL_ALIAS, LAST_AFFECTED, WITHDRAWN, NOT_PYPI]


def write_dir(root: Path, records: list[dict[str, Any]] = RECORDS) -> Path:
    """Records spread over nested directories, plus files that are not records."""
    for n, record in enumerate(records):
        sub = root / ("pysec" if record["id"].startswith("PYSEC") else "ghsa") / str(n % 2)
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")
    (root / "README.md").write_text("not a record", encoding="utf-8")
    return root


def write_zip(path: Path, records: list[dict[str, Any]] = RECORDS) -> Path:
    """OSV's all.zip layout: one ``<id>.json`` per record, at the top level."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    return path


@pytest.fixture(params=["directory", "zip"])
def offline(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OsvOfflineService]:
    if request.param == "directory":
        source = write_dir(tmp_path / "osv")
    else:
        source = write_zip(tmp_path / "all.zip")
    with OsvOfflineService(source) as service:
        yield service


def ids(outcome: AuditOutcome) -> list[str]:
    assert outcome.error is None, outcome.error
    return [v.id for v in outcome.vulnerabilities]


# --- Offline database -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("0.1", True),  # introduced "0"
        ("1.4.1", True),
        ("1.4.2", False),  # fixed
        ("1.9", False),
        ("2.0.0rc1", False),  # a pre-release sorts before the 2.0.0 that reintroduced it
        ("2.0.0", True),
        ("2.0.2.post1", True),
        ("2.0.3", False),
        ("3.0", False),
    ],
)
def test_offline_evaluates_ecosystem_ranges(
    offline: OsvOfflineService, version: str, affected: bool
) -> None:
    found = ids(audit(offline, "demo-lib", version))
    # PYSEC and GHSA describe one CVE: merged, PYSEC first as pip-audit does.
    assert found == (["PYSEC-2023-0001"] if affected else [])


def test_merged_record_keeps_the_best_of_both(offline: OsvOfflineService) -> None:
    (vuln,) = audit(offline, "demo-lib", "1.4.1").vulnerabilities
    assert vuln.aliases == ("CVE-2023-00001", "GHSA-abcd-1234-wxyz")
    assert vuln.severity == "critical"  # from the GHSA's CVSS vector; PYSEC has none
    assert vuln.summary is not None
    assert "\n" not in vuln.summary
    # Only fixes above the audited version count: 1.4.2 or the 2.0.3 of the other branch.
    assert vuln.fix_versions == ("1.4.2", "2.0.3")
    assert vuln.url == "https://advisories.example/PYSEC-2023-0001"
    assert vuln.malicious is False
    (on_two,) = audit(offline, "demo-lib", "2.0.1").vulnerabilities
    assert on_two.fix_versions == ("2.0.3",)


def test_names_are_normalized(offline: OsvOfflineService) -> None:
    assert ids(audit(offline, "Demo_Lib", "1.0")) == ["PYSEC-2023-0001"]
    assert ids(audit(offline, "demo.lib", "2.0.0")) == ["PYSEC-2023-0001"]
    assert ids(audit(offline, "OTHER-pkg", "1.2")) == ["GHSA-last-0000-aaaa"]


def test_withdrawn_and_other_ecosystems_are_ignored(offline: OsvOfflineService) -> None:
    records = offline.records_for("demo-lib", "0.1")
    assert sorted(str(r["id"]) for r in records) == ["GHSA-abcd-1234-wxyz", "PYSEC-2023-0001"]
    # The withdrawn record covers every version: nothing else may show up anywhere.
    assert ids(audit(offline, "demo-lib", "99")) == []


@pytest.mark.parametrize(
    ("version", "affected"),
    [("0.9", False), ("1.0", True), ("1.5", True), ("1.5.1", False), ("2.0", False)],
)
def test_last_affected(offline: OsvOfflineService, version: str, affected: bool) -> None:
    outcome = audit(offline, "other-pkg", version)
    assert ids(outcome) == (["GHSA-last-0000-aaaa"] if affected else [])
    if affected:
        # A CVSS v4 vector is not scored; the database's label is used.
        assert outcome.vulnerabilities[0].severity == "high"
        assert outcome.vulnerabilities[0].fix_versions == ()


def test_malicious_package_by_id_and_explicit_versions(offline: OsvOfflineService) -> None:
    (vuln,) = audit(offline, "demo-lib-typo", "0.0.2").vulnerabilities
    assert vuln.id == "MAL-2024-1234"
    assert vuln.malicious is True
    assert vuln.summary == "Malicious code in demo-lib-typo (PyPI)"
    assert vuln.url == "https://reports.example/2"  # the first ADVISORY/WEB reference
    assert vuln.severity is None
    # Only the listed versions are affected (no ranges in this record).
    assert ids(audit(offline, "demo-lib-typo", "0.0.3")) == []


def test_malicious_by_alias(offline: OsvOfflineService) -> None:
    (vuln,) = audit(offline, "evil-pkg", "5.0").vulnerabilities
    assert vuln.id == "GHSA-mmmm-0000-mmmm"
    assert vuln.aliases == ("MAL-2024-9999",)
    assert vuln.malicious is True


def test_unknown_package_is_clean_and_checked(offline: OsvOfflineService) -> None:
    outcome = audit(offline, "nothing-known", "1.0")
    assert outcome == AuditOutcome((), None)
    assert outcome.checked


def test_unparsable_version_is_unchecked_not_clean(offline: OsvOfflineService) -> None:
    outcome = audit(offline, "demo-lib", "not a version")
    assert outcome.vulnerabilities == ()
    assert outcome.error is not None
    assert "PEP 440" in outcome.error
    assert not outcome.checked


def test_query_speaks_pip_audit(offline: OsvOfflineService) -> None:
    spec = ResolvedDependency(name="demo-lib", version=Version("2.0.1"))
    returned, results = offline.query(spec)
    assert returned is spec
    # One result per record, as pip-audit's own OsvService gives (its auditor merges aliases);
    # VulnerabilityResult.create() makes a PYSEC, else a CVE id the primary one.
    assert {r.id for r in results} == {"PYSEC-2023-0001", "CVE-2023-00001"}
    by_id = {r.id: r for r in results}
    assert "GHSA-abcd-1234-wxyz" in by_id["PYSEC-2023-0001"].aliases
    assert by_id["PYSEC-2023-0001"].fix_versions == [Version("2.0.3")]
    assert by_id["PYSEC-2023-0001"].published == datetime(2023, 5, 30, 9, 15, tzinfo=timezone.utc)
    skipped = SkippedDependency(name="demo-lib", skip_reason="not resolved")
    assert offline.query(skipped) == (skipped, [])


def test_query_all_from_pip_audit(offline: OsvOfflineService) -> None:
    specs = [
        ResolvedDependency(name=n, version=Version(v)) for n, v in [("demo-lib", "1.0"), ("x", "1")]
    ]
    answers = list(offline.query_all(iter(specs)))
    assert [len(results) for _spec, results in answers] == [2, 0]  # PYSEC and GHSA


def test_bad_json_files_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = write_dir(tmp_path / "osv", [PYSEC])
    (root / "broken.json").write_text('{"id": "PYSEC-2099-1", "affected": [', encoding="utf-8")
    (root / "list.json").write_text("[]", encoding="utf-8")
    (root / "latin1.json").write_bytes(b'{"id": "\xff"}')
    (root / "future.json").write_text(json.dumps({**PYSEC, "schema_version": "2.0.0"}))
    with caplog.at_level(logging.WARNING, logger=OsvOfflineService.__module__):
        service = OsvOfflineService(root)
        assert ids(audit(service, "demo-lib", "1.0")) == ["PYSEC-2023-0001"]
    assert service.indexed == 1
    assert service.skipped == 4
    text = caplog.text
    assert "broken.json" in text
    assert "not valid JSON" in text
    assert "list.json" in text
    assert "not a JSON object" in text
    assert "unsupported OSV schema version" in text


def test_bad_members_of_a_zip_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_zip(tmp_path / "all.zip", [MAL])
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("BROKEN-1.json", "{")
        archive.writestr("notes.txt", "{")  # not *.json: not even looked at
    with caplog.at_level(logging.WARNING), OsvOfflineService(path) as service:
        assert ids(audit(service, "demo-lib-typo", "0.0.1")) == ["MAL-2024-1234"]
        assert service.skipped == 1
    assert "BROKEN-1.json" in caplog.text
    assert "notes.txt" not in caplog.text


def test_oversized_record_is_skipped(tmp_path: Path) -> None:
    root = write_dir(tmp_path / "osv", [PYSEC, MAL])
    with OsvOfflineService(root, max_record_bytes=len(json.dumps(MAL)) + 10) as service:
        service.load()
        assert service.skipped == 1  # PYSEC is the larger one
        assert ids(audit(service, "demo-lib", "1.0")) == []
        assert ids(audit(service, "demo-lib-typo", "0.0.1")) == ["MAL-2024-1234"]


def test_index_is_built_once_across_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = OsvOfflineService(write_zip(tmp_path / "all.zip"))
    calls: list[int] = []
    original = OsvOfflineService._build_index

    def counting(self: OsvOfflineService, members: Any) -> Any:
        calls.append(1)
        return original(self, members)

    monkeypatch.setattr(OsvOfflineService, "_build_index", counting)
    packages = [("demo-lib", f"1.{n}") for n in range(5)] + [("demo-lib-typo", "0.0.1")]
    with service:
        outcomes = audit_many(service, packages, jobs=8)
    assert calls == [1]
    assert [bool(outcomes[p].vulnerabilities) for p in packages] == [True] * 5 + [True]


def test_missing_source_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such OSV database"):
        OsvOfflineService(tmp_path / "missing.zip")


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "all.zip"
    path.write_bytes(b"this is not a zip archive")
    service = OsvOfflineService(path)
    with pytest.raises(InvalidInputError, match="not a readable zip archive"):
        service.load()


# --- Hostile archives ------------------------------------------------------------------------


def _zip_with(path: Path, name: str, *, mode: int | None = None) -> Path:
    write_zip(path, [PYSEC])
    info = zipfile.ZipInfo(name)
    if mode is not None:
        info.external_attr = mode << 16
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(info, json.dumps(MAL))
    return path


@pytest.mark.parametrize(
    ("name", "mode", "problem"),
    [
        ("../MAL-2024-1234.json", None, "parent-directory"),
        ("records/../../MAL-2024-1234.json", None, "parent-directory"),
        ("/tmp/MAL-2024-1234.json", None, "absolute path"),
        ("C:/MAL-2024-1234.json", None, "absolute path"),
        ("records\\MAL-2024-1234.json", None, "backslash"),
        ("link.json", stat.S_IFLNK | 0o777, "symbolic link"),
    ],
)
def test_zip_with_path_tricks_is_refused(
    tmp_path: Path, name: str, mode: int | None, problem: str
) -> None:
    service = OsvOfflineService(_zip_with(tmp_path / "all.zip", name, mode=mode))
    with pytest.raises(InvalidInputError) as info:
        service.load()
    assert problem in info.value.message
    assert "all.zip" in info.value.message
    # audit() does not turn an unusable database into per-package "unchecked" answers.
    with pytest.raises(InvalidInputError):
        audit(service, "demo-lib", "1.0")
    with pytest.raises(InvalidInputError):
        audit_many(service, [("demo-lib", "1.0"), ("x", "1")])


def test_zip_with_too_many_members_is_refused(tmp_path: Path) -> None:
    service = OsvOfflineService(write_zip(tmp_path / "all.zip"), max_members=3)
    with pytest.raises(InvalidInputError, match=r"declares 7 members, over 3"):
        service.load()


def test_directory_with_too_many_files_is_refused(tmp_path: Path) -> None:
    service = OsvOfflineService(write_dir(tmp_path / "osv"), max_members=3)
    with pytest.raises(InvalidInputError, match="more than 3 JSON files"):
        service.load()


def _end_record(data: bytes) -> tuple[int, tuple[Any, ...]]:
    at = data.rfind(b"PK\x05\x06")
    return at, struct.unpack_from("<4s4H2LH", data, at)


def test_zip64_claiming_two_million_members_is_refused_before_parsing(tmp_path: Path) -> None:
    # Rewrite the end records of a small archive as zip64 records declaring 2,000,000 members:
    # the default limit (1,000,000) refuses it from the end records alone.
    data = write_zip(tmp_path / "small.zip", [PYSEC]).read_bytes()
    at, (_sig, _d, _cd, _n, _total, cd_size, cd_offset, _c) = _end_record(data)
    members = 2_000_000
    zip64_end = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, members, members, cd_size, cd_offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, at, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, cd_size, cd_offset, 0)
    path = tmp_path / "all.zip"
    path.write_bytes(data[:at] + zip64_end + locator + end)
    with pytest.raises(InvalidInputError, match="declares 2000000 members, over 1000000"):
        OsvOfflineService(path).load()


def test_zip_expanding_past_two_gib_is_refused(tmp_path: Path) -> None:
    # Patch a member's uncompressed size in the central directory to 3 GiB.
    data = bytearray(write_zip(tmp_path / "small.zip", [PYSEC, MAL]).read_bytes())
    _at, fields = _end_record(bytes(data))
    cd_offset = fields[6]
    assert data[cd_offset : cd_offset + 4] == b"PK\x01\x02"
    struct.pack_into("<L", data, cd_offset + 24, 3 * 1024**3)
    path = tmp_path / "all.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidInputError, match=r"expand to \d+ bytes, over 2147483648"):
        OsvOfflineService(path).load()


# --- Severity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H/E:P/RL:O", 9.9),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", 3.3),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", None),  # A missing
        ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None),
        ("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None),  # repeated metric
        ("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", None),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", None),
    ],
)
def test_cvss3_base_score(vector: str, score: float | None) -> None:
    assert cvss3_base_score(vector) == score


def _with_severity(**extra: object) -> dict[str, object]:
    return {"id": "GHSA-x", **extra}


@pytest.mark.parametrize(
    ("record", "severity"),
    [
        (_with_severity(), None),
        (_with_severity(database_specific={"severity": "MODERATE"}), "medium"),
        (_with_severity(database_specific={"severity": "low"}), "low"),
        (_with_severity(database_specific={"severity": "UNKNOWN"}), None),
        (
            _with_severity(
                severity=[
                    {"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N"}
                ],
                database_specific={"severity": "CRITICAL"},
            ),
            "low",  # the vector wins over the label
        ),
        (
            _with_severity(
                severity=[
                    {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"}
                ]
            ),
            "high",
        ),
        (
            # A 0.0 score says nothing: fall back to the label.
            _with_severity(
                severity=[
                    {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"}
                ],
                database_specific={"severity": "MODERATE"},
            ),
            "medium",
        ),
        (
            _with_severity(affected=[{"ecosystem_specific": {"severity": "HIGH"}}]),
            "high",
        ),
        (_with_severity(severity="CVSS:3.1/garbage", database_specific="x"), None),
    ],
)
def test_osv_severity(record: dict[str, object], severity: str | None) -> None:
    assert osv_severity(record) == severity


def test_known_vulnerability_survives_odd_records() -> None:
    vuln = known_vulnerability(
        {
            "id": "PYSEC-1",
            "aliases": "not a list",
            "affected": [None, {"package": 3}],
            "references": [{}],
        },
        "x",
        "1",
    )
    assert vuln == KnownVulnerability(
        id="PYSEC-1",
        aliases=(),
        summary=None,
        fix_versions=(),
        severity=None,
        malicious=False,
        url=None,
    )


# --- A loopback OSV-compatible API -----------------------------------------------------------


def osv_database(handler: OsvHandler, query: dict[str, Any]) -> None:
    """An OSV API over RECORDS: one record per page, to exercise pagination."""
    name = query["package"]["name"]
    version = query["version"]
    assert query["package"]["ecosystem"] == "PyPI"
    found = [
        r
        for r in RECORDS
        if r.get("withdrawn") is None
        and any(
            a.get("package", {}).get("ecosystem") == "PyPI"
            and canonicalize_name(a["package"]["name"]) == name
            for a in r["affected"]
        )
        and ranges.affects(r, canonicalize_name(name), version, Version(version))
    ]
    page = int(query.get("page_token", "0"))
    answer: dict[str, Any] = {}
    if found:
        answer["vulns"] = found[page : page + 1]
        if page + 1 < len(found):
            answer["next_page_token"] = str(page + 1)
    handler.send_json(answer)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_api_follows_pages_through_http_session(serve: Serve) -> None:
    server = serve(osv_database)
    with HttpSession(retries=0) as session:
        service = OsvApiService(session, server.base)
        outcome = audit(service, "Demo_Lib", "2.0.1")
    assert ids(outcome) == ["PYSEC-2023-0001"]
    (vuln,) = outcome.vulnerabilities
    assert vuln.severity == "critical"
    assert vuln.fix_versions == ("2.0.3",)
    assert [body for _path, _headers, body in server.hits] == [
        {"package": {"name": "demo-lib", "ecosystem": "PyPI"}, "version": "2.0.1"},
        {
            "package": {"name": "demo-lib", "ecosystem": "PyPI"},
            "version": "2.0.1",
            "page_token": "1",
        },
    ]
    for path, headers, _body in server.hits:
        assert path == "/v1/query"
        assert headers["User-Agent"].startswith(f"pip-verify/{__version__} (")
        assert headers["Content-Type"] == "application/json"


def test_api_records_and_pip_audit_query(serve: Serve) -> None:
    server = serve(osv_database)
    with HttpSession(retries=0) as session:
        # Given like pip-audit's --osv-url, with the endpoint: the same service.
        service = OsvApiService(session, server.base + "/v1/query")
        assert service.query_url == server.base + "/v1/query"
        assert [r["id"] for r in service.records_for("demo-lib-typo", "0.0.1")] == ["MAL-2024-1234"]
        assert service.records_for("demo-lib", "1.4.2") == []
        _spec, results = service.query(ResolvedDependency(name="other-pkg", version=Version("1.5")))
    assert [r.id for r in results] == ["GHSA-last-0000-aaaa"]
    assert results[0].description == "Denial of service in Other_Pkg"


def test_api_default_url_comes_from_pip_audit() -> None:
    expected = pip_audit_osv.OsvService.DEFAULT_OSV_URL
    assert default_osv_url() == expected
    with HttpSession(offline=True) as session:
        assert OsvApiService(session).query_url == expected


def test_api_without_a_default_url_in_pip_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(pip_audit_osv.OsvService, "DEFAULT_OSV_URL")
    with HttpSession(offline=True) as session, pytest.raises(UsageError) as info:
        OsvApiService(session)
    assert "pip-audit" in info.value.message
    assert "--osv-url" in info.value.one_line()


def test_api_url_must_be_http() -> None:
    with HttpSession(offline=True) as session, pytest.raises(UsageError, match="http"):
        OsvApiService(session, "ftp://127.0.0.1/osv")


def test_api_server_down_is_unchecked_with_a_readable_reason() -> None:
    port = closed_port()
    with HttpSession(retries=0) as session:
        service = OsvApiService(session, f"http://127.0.0.1:{port}")
        outcome = audit(service, "demo-lib", "1.0")
        with pytest.raises(ServiceError):  # pip-audit's ConnectionError is a ServiceError
            service.query(ResolvedDependency(name="demo-lib", version=Version("1.0")))
    assert outcome.vulnerabilities == ()
    assert outcome.error is not None
    assert "OSV API unavailable" in outcome.error
    assert "connection refused" in outcome.error
    assert f"127.0.0.1:{port}" in outcome.error


def test_api_offline_opens_no_socket() -> None:
    disable_socket()
    try:
        with HttpSession(offline=True) as session:
            service = OsvApiService(session, "http://127.0.0.1:9")
            outcome = audit(service, "demo-lib", "1.0")
            with pytest.raises(OfflineError):
                session.post_json("http://127.0.0.1:9/v1/query", {})
    finally:
        enable_socket()
    assert outcome.error is not None
    assert "--offline" in outcome.error
    assert outcome.vulnerabilities == ()


def test_api_http_error_is_unchecked(serve: Serve) -> None:
    server = serve(
        lambda h, _q: h.send_json({"code": 3, "message": "Invalid\nversion"}, status=400)
    )
    with HttpSession(retries=0) as session:
        outcome = audit(OsvApiService(session, server.base), "demo-lib", "1.0")
    assert outcome.error is not None
    assert "HTTP 400" in outcome.error
    assert "Invalid version" in outcome.error


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>oops</html>", "did not answer with JSON"),
        (b"[]", "not answer with a JSON object"),
        (b'{"vulns": {}}', "not a list"),
        (b'{"vulns": [{"summary": "no id"}]}', "bad record: no id"),
        (b'{"vulns": [], "next_page_token": 7}', "non-string page token"),
    ],
)
def test_api_bad_answers_are_unchecked(serve: Serve, body: bytes, message: str) -> None:
    server = serve(lambda h, _q: h.send_raw(body))
    with HttpSession(retries=0) as session:
        outcome = audit(OsvApiService(session, server.base), "demo-lib", "1.0")
    assert outcome.error is not None
    assert message in outcome.error


def test_api_page_token_loop_is_cut(serve: Serve) -> None:
    server = serve(lambda h, _q: h.send_json({"vulns": [GHSA], "next_page_token": "again"}))
    with HttpSession(retries=0) as session:
        outcome = audit(OsvApiService(session, server.base), "demo-lib", "1.0")
    assert outcome.error is not None
    assert "repeated a page token" in outcome.error
    assert len(server.hits) == 2


def test_api_page_limit(serve: Serve) -> None:
    def endless(handler: OsvHandler, query: dict[str, Any]) -> None:
        handler.send_json({"next_page_token": str(int(query.get("page_token", "0")) + 1)})

    server = serve(endless)
    with HttpSession(retries=0) as session:
        outcome = audit(OsvApiService(session, server.base, max_pages=3), "demo-lib", "1.0")
    assert outcome.error is not None
    assert "more than 3 pages" in outcome.error
    assert len(server.hits) == 3


def test_api_withdrawn_records_from_the_server_are_dropped(serve: Serve) -> None:
    server = serve(lambda h, _q: h.send_json({"vulns": [WITHDRAWN, MAL]}))
    with HttpSession(retries=0) as session:
        assert ids(audit(OsvApiService(session, server.base), "x", "1")) == ["MAL-2024-1234"]


# --- HttpSession.post_json -------------------------------------------------------------------


def test_post_json_retries_transient_errors(serve: Serve) -> None:
    failures = [503]

    def flaky(handler: OsvHandler, query: dict[str, Any]) -> None:
        if failures:
            handler.send_json({"message": "busy"}, status=failures.pop())
        else:
            osv_database(handler, query)

    server = serve(flaky)
    with HttpSession(retries=2) as session:
        assert ids(audit(OsvApiService(session, server.base), "demo-lib-typo", "0.0.1")) == [
            "MAL-2024-1234"
        ]
    assert len(server.hits) == 2


def test_post_json_is_never_cached(serve: Serve, tmp_path: Path) -> None:
    server = serve(
        lambda h, _q: h.send_raw(b"{}", headers={"Cache-Control": "max-age=600", "ETag": '"1"'})
    )
    with HttpSession(cache_dir=tmp_path / "http", retries=0) as session:
        first = session.post_json(server.base + "/v1/query", {"q": 1})
        second = session.post_json(server.base + "/v1/query", {"q": 1})
    assert first.body == second.body == b"{}"
    assert second.from_cache is False
    assert len(server.hits) == 2


def test_post_json_size_cap(serve: Serve) -> None:
    server = serve(lambda h, _q: h.send_raw(b"{" + b" " * 5000 + b"}"))
    with HttpSession(retries=0) as session, pytest.raises(NetworkError, match="1000-byte limit"):
        session.post_json(server.base + "/v1/query", {}, max_bytes=1000)


# --- audit() over other pip-audit services (PipAuditSource), and audit_many() ----------------


class _FakeService(VulnerabilityService):  # type: ignore[misc]
    """A pip-audit service that is not an OSV record source (like pip-audit's PyPIService)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, Version]] = []

    def query(self, spec: Dependency) -> tuple[Dependency, list[VulnerabilityResult]]:
        self.asked.append((spec.name, spec.version))
        if spec.name == "gone":
            return SkippedDependency(name=spec.name, skip_reason="Dependency not found on PyPI"), []
        if spec.name == "broken":
            try:
                raise ValueError("HTTP 502 from the service")
            except ValueError as exc:
                raise ServiceError from exc
        if spec.name == "crash":
            raise KeyError("vulns")
        return spec, [
            VulnerabilityResult.create(
                ids=["GHSA-aaaa-bbbb-cccc", "PYSEC-2020-1"],
                description="N/A",
                fix_versions=[Version("1.10"), Version("1.9")],
                published=None,
            ),
            VulnerabilityResult.create(
                ids=["MAL-2020-1"], description="Malicious\ncode", fix_versions=[], published=None
            ),
        ]


def test_audit_falls_back_to_query_for_other_services() -> None:
    service = _FakeService()
    outcome = audit(PipAuditSource(service), "pkg", "1.0")
    assert service.asked == [("pkg", Version("1.0"))]
    assert outcome.error is None
    first, second = outcome.vulnerabilities
    assert first == KnownVulnerability(
        id="PYSEC-2020-1",
        aliases=("GHSA-aaaa-bbbb-cccc",),
        summary=None,
        fix_versions=("1.9", "1.10"),
        severity=None,
        malicious=False,
        url=None,
    )
    assert second.id == "MAL-2020-1"
    assert second.malicious is True
    assert second.summary == "Malicious code"


@pytest.mark.parametrize(
    ("name", "version", "error"),
    [
        ("gone", "1.0", "not found on PyPI"),
        ("broken", "1.0", "HTTP 502 from the service"),
        ("crash", "1.0", "KeyError"),
        ("pkg", "not-a-version", "not a PEP 440 version"),
    ],
)
def test_audit_turns_service_failures_into_errors(name: str, version: str, error: str) -> None:
    outcome = audit(PipAuditSource(_FakeService()), name, version)
    assert outcome.vulnerabilities == ()
    assert outcome.error is not None
    assert error in outcome.error


def test_audit_many_never_raises_per_package(serve: Serve) -> None:
    def answer(handler: OsvHandler, query: dict[str, Any]) -> None:
        if query["package"]["name"] == "flaky":
            handler.send_json({"message": "internal"}, status=500)
        else:
            osv_database(handler, query)

    server = serve(answer)
    packages = [
        ("demo-lib", "1.0"),
        ("flaky", "1.0"),
        ("demo-lib-typo", "0.0.1"),
        ("clean", "3.0"),
        ("demo-lib", "1.0"),  # asked once
    ]
    with HttpSession(retries=0) as session:
        outcomes = audit_many(OsvApiService(session, server.base), packages, jobs=4)
    assert set(outcomes) == set(packages)
    assert ids(outcomes["demo-lib", "1.0"]) == ["PYSEC-2023-0001"]
    assert ids(outcomes["demo-lib-typo", "0.0.1"]) == ["MAL-2024-1234"]
    assert ids(outcomes["clean", "3.0"]) == []
    flaky = outcomes["flaky", "1.0"]
    assert flaky.error is not None
    assert "HTTP 500" in flaky.error
    # demo-lib: two pages (PYSEC, GHSA); each other package one request.
    assert len(server.hits) == 5


def test_audit_many_sequential_and_empty(offline: OsvOfflineService) -> None:
    assert audit_many(offline, []) == {}
    outcomes = audit_many(offline, [("demo-lib", "1.0"), ("demo-lib", "bad version")], jobs=1)
    assert ids(outcomes["demo-lib", "1.0"]) == ["PYSEC-2023-0001"]
    assert outcomes["demo-lib", "bad version"].error is not None
    with pytest.raises(ValueError, match="jobs"):
        audit_many(offline, [("demo-lib", "1.0")], jobs=0)


def test_an_unreachable_api_is_asked_once_not_once_per_release(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    with HttpSession(retries=0) as session:

        def refuse(url: str, payload: object) -> object:
            calls.append(url)
            raise NetworkError("could not reach osv.example: connection refused")

        monkeypatch.setattr(session, "post_json", refuse)
        service = OsvApiService(session, "https://osv.example")
        outcomes = [audit(service, name, "1.0") for name in ("alpha", "beta", "gamma")]
    assert len(calls) == 1
    assert all(o.error is not None and "connection refused" in o.error for o in outcomes)


def test_warm_up_finds_an_unreachable_api_before_the_first_query() -> None:
    port = closed_port()
    with HttpSession(retries=0) as session:
        service = OsvApiService(session, f"http://127.0.0.1:{port}")
        service.warm_up()
        service.warm_up()  # a second call starts no second probe
        outcome = audit(service, "alpha", "1.0")
        assert len(service._unreachable) == 1
    assert outcome.error is not None
    assert outcome.error == service._unreachable[0]
    assert "127.0.0.1" in outcome.error


def test_queries_wait_for_the_warm_up_probe(serve: Serve) -> None:
    release = threading.Event()
    order: list[str] = []

    def answer(handler: OsvHandler, query: dict[str, Any]) -> None:
        name = query["package"]["name"]
        if name == "pip-verify":
            # Hold the probe until the query below has been sent, if it were sent.
            release.wait(timeout=0.5)
        order.append(name)
        osv_database(handler, query)

    server = serve(answer)
    with HttpSession(retries=0) as session:
        service = OsvApiService(session, server.base)
        service.warm_up()
        outcome = audit(service, "demo-lib", "1.0")
        release.set()
    assert outcome.checked
    assert order[0] == "pip-verify"
    assert set(order[1:]) == {"demo-lib"}
    assert server.hits[0][2]["package"] == {"name": "pip-verify", "ecosystem": "PyPI"}
