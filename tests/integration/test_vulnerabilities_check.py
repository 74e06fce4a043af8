"""Known vulnerabilities in ``check``: an offline OSV database the tests write, and a loopback
OSV-compatible API through ``--osv-url``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.cli import check_json
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

pytestmark = pytest.mark.integration


def osv_record(
    vuln_id: str,
    name: str,
    fixed: str,
    *,
    severity: str | None = "HIGH",
    aliases: tuple[str, ...] = (),
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": vuln_id,
        "modified": "2026-01-01T00:00:00Z",
        "aliases": list(aliases),
        "summary": f"{vuln_id} in {name}",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }
    if severity is not None:
        record["database_specific"] = {"severity": severity}
    return record


@pytest.fixture
def database(tmp_path: Path) -> Path:
    root = tmp_path / "osv"
    root.mkdir()
    records = [
        osv_record("GHSA-aaaa-bbbb-cccc", "vulnerable", "2.0", aliases=("CVE-2026-0001",)),
        osv_record("GHSA-low0-low0-low0", "mild", "2.0", severity="LOW"),
        osv_record("MAL-2026-1234", "evil", "99.0", severity=None),
    ]
    for record in records:
        (root / f"{record['id']}.json").write_text(json.dumps(record))
    return root


@pytest.fixture
def index(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    for name in ("vulnerable", "mild", "evil", "clean"):
        package_index.add(dist_factory.wheel(name, "1.0"))
    return package_index


def check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str
) -> tuple[int, dict[str, Any]]:
    return check_json(capsys, tmp_path, *argv, policy=without_provenance_requirement())


def package(report: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [p for p in report["packages"] if p["name"] == name]
    result: dict[str, Any] = found
    return result


def test_offline_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, database: Path, index: PackageIndex
) -> None:
    code, report = check(
        capsys,
        tmp_path,
        "vulnerable==1.0",
        "clean==1.0",
        "mild==1.0",
        "--index-url",
        index.url,
        "--vulnerability-db",
        str(database),
    )
    assert code == 0
    assert "vulnerabilities" in report["checks"]
    vulnerable = package(report, "vulnerable")
    assert vulnerable["decision"] == "warn"
    (vuln,) = vulnerable["vulnerabilities"]
    assert vuln["id"] == "GHSA-aaaa-bbbb-cccc"
    assert (vuln["severity"], vuln["fix_versions"]) == ("high", ["2.0"])
    (reason,) = vulnerable["reasons"]
    assert reason["rule"] == "vulnerability"
    assert "GHSA-aaaa-bbbb-cccc (high)" in reason["message"]
    assert "fixed in 2.0" in reason["message"]
    assert package(report, "clean")["vulnerabilities"] == []
    assert package(report, "clean")["decision"] == "allow"


def test_known_malicious_always_denies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, database: Path, index: PackageIndex
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'extends = "{without_provenance_requirement()}"\n'
        '[rules.vulnerability]\ndecision = "allow"\n'
    )
    code, report = check(
        capsys,
        tmp_path,
        "evil==1.0",
        "--index-url",
        index.url,
        "--vulnerability-db",
        str(database),
        "--policy",
        str(policy),
    )
    assert code == 1
    (reason,) = package(report, "evil")["reasons"]
    assert reason["rule"] == "known-malicious"
    assert "MAL-2026-1234" in reason["message"]
    lowered = tmp_path / "lowered.toml"
    lowered.write_text('[rules.known-malicious]\ndecision = "warn"\n')
    assert main(["policy", "check", str(lowered)]) == 2


def test_threshold_and_ignore_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, database: Path, index: PackageIndex
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'extends = "{without_provenance_requirement()}"\n'
        '[rules.vulnerability]\ndecision = "deny"\nmin-severity = "medium"\n'
        "ignore = [\n"
        '  { id = "CVE-2026-0001", reason = "not reachable from our code", '
        "expires = 2099-01-01 },\n"
        "]\n"
    )
    code, report = check(
        capsys,
        tmp_path,
        "vulnerable==1.0",
        "mild==1.0",
        "--index-url",
        index.url,
        "--vulnerability-db",
        str(database),
        "--policy",
        str(policy),
    )
    assert code == 0, report
    (vuln,) = package(report, "vulnerable")["vulnerabilities"]
    assert vuln["ignored"] == "ignored: not reachable from our code"
    assert package(report, "mild")["reasons"] == []  # low is under the threshold
    assert package(report, "mild")["vulnerabilities"][0]["severity"] == "low"
    # An expired ignore no longer applies, and the message says so.
    policy.write_text(policy.read_text().replace("2099-01-01", "2020-01-01"))
    code, report = check(
        capsys,
        tmp_path,
        "vulnerable==1.0",
        "--index-url",
        index.url,
        "--vulnerability-db",
        str(database),
        "--policy",
        str(policy),
    )
    assert code == 1
    assert (
        "ignore entry expired on 2020-01-01"
        in package(report, "vulnerable")["reasons"][0]["message"]
    )


@pytest.mark.parametrize(
    ("ignore", "fragment"),
    [
        ('[{ id = "X" }]', "needs a reason"),
        ('[{ id = "X", reason = "r", expires = "soon" }]', "must be a date"),
        ('[{ id = "X", reason = "r", until = 2026-01-01 }]', "unknown key 'until'"),
    ],
)
def test_bad_ignore_entries_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, ignore: str, fragment: str
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[rules.vulnerability]\nignore = {ignore}\n")
    assert main(["policy", "check", str(policy)]) == 2
    assert fragment in capsys.readouterr().err


class _Osv(BaseHTTPRequestHandler):
    records: ClassVar[dict[str, list[dict[str, Any]]]] = {}
    #: The package name of every query.
    asked: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.asked.append(body["package"]["name"])
        found = self.records.get(body["package"]["name"], [])
        payload = json.dumps({"vulns": found} if found else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def osv_server() -> Iterator[str]:
    _Osv.records = {"vulnerable": [osv_record("PYSEC-2026-1", "vulnerable", "2.0")]}
    _Osv.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Osv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_osv_api_through_osv_url(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    index: PackageIndex,
    osv_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PIP_VERIFY_VULNERABILITY_DB")
    code, report = check(
        capsys,
        tmp_path,
        "vulnerable==1.0",
        "clean==1.0",
        "--index-url",
        index.url,
        "--osv-url",
        osv_server,
    )
    assert code == 0
    assert [v["id"] for v in package(report, "vulnerable")["vulnerabilities"]] == ["PYSEC-2026-1"]
    assert package(report, "clean")["decision"] == "allow"


def test_a_re_check_reuses_the_apis_fresh_answers(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    index: PackageIndex,
    osv_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PIP_VERIFY_VULNERABILITY_DB")
    argv = ("vulnerable==1.0", "clean==1.0", "--index-url", index.url, "--osv-url", osv_server)

    def queried() -> list[str]:
        # The warm-up probe (a query about pip-verify itself) asks about no package.
        return sorted(name for name in _Osv.asked if name != "pip-verify")

    first = check(capsys, tmp_path, *argv)
    assert queried() == ["clean", "vulnerable"]
    again = check(capsys, tmp_path, *argv)
    assert queried() == ["clean", "vulnerable"]  # nothing asked the second time
    assert again[0] == first[0] == 0
    assert again[1]["packages"] == first[1]["packages"]
    assert [v["id"] for v in package(again[1], "vulnerable")["vulnerabilities"]] == ["PYSEC-2026-1"]


def test_the_api_is_reached_early_only_when_pip_resolves(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    index: PackageIndex,
    osv_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PIP_VERIFY_VULNERABILITY_DB")
    sha = index.files["clean-1.0-py3-none-any.whl"].sha256
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"clean==1.0 --hash=sha256:{sha}\n", encoding="utf-8")
    locked = check(capsys, tmp_path, "-r", str(lock), "-i", index.url, "--osv-url", osv_server)
    assert locked[0] == 0
    # A lock is not resolved: the audit asks as soon as verification starts, no probe first.
    assert _Osv.asked == ["clean"]
    _Osv.asked = []
    resolved = check(
        capsys, tmp_path / "loose", "clean==1.0", "-i", index.url, "--osv-url", osv_server
    )
    assert resolved[0] == 0
    # Loose requirements are resolved by pip: the probe reaches the API meanwhile.
    assert sorted(_Osv.asked) == ["clean", "pip-verify"]


def test_a_bad_osv_url_exits_2_before_resolving(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_resolver(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a usage error must stop the check before pip runs")

    monkeypatch.delenv("PIP_VERIFY_VULNERABILITY_DB")
    monkeypatch.setattr("verify.check.resolve_with_pip", no_resolver)
    code = main(["check", "demo==1.0", "--osv-url", "ftp://osv.example"])
    assert code == 2
    assert "must be an http(s) URL" in capsys.readouterr().err


def test_unreachable_vulnerability_service_is_unchecked_and_warns(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    index: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PIP_VERIFY_VULNERABILITY_DB")
    code, report = check(
        capsys,
        tmp_path,
        "clean==1.0",
        "--index-url",
        index.url,
        "--osv-url",
        "http://127.0.0.1:9",
        "--retries",
        "0",
    )
    assert code == 0  # on-error for vulnerabilities is warn
    (reason,) = package(report, "clean")["reasons"]
    assert reason["rule"] == "vulnerability"
    assert reason["unchecked"] is True
    assert reason["decision"] == "warn"
    assert "not checked" in reason["message"]


def test_missing_vulnerability_database_exits_2_before_resolving(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_resolver(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a usage error must stop the check before pip runs")

    monkeypatch.setattr("verify.check.resolve_with_pip", no_resolver)
    code = main(["check", "demo==1.0", "--vulnerability-db", str(tmp_path / "absent")])
    err = capsys.readouterr().err
    assert code == 2
    assert "vulnerability database" in err
    assert "does not exist" in err
