"""verify._vulnerabilities.remembered: an OSV API's answers reused while fresh, never its
failures, and pip-audit left unimported while every answer is remembered."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.osv import OsvHandler, Serve
from verify._index.session import HttpSession
from verify._vulnerabilities import (
    AnswerCache,
    KnownVulnerability,
    OsvApiService,
    RememberedSource,
    SourceUnreachableError,
    VulnerabilitySource,
    audit,
)
from verify._vulnerabilities.remembered import ANSWER_MAX_AGE, osv_base_url
from verify.errors import UsageError

GHSA: dict[str, Any] = {
    "id": "GHSA-aaaa-bbbb-cccc",
    "modified": "2024-01-01T00:00:00Z",
    "aliases": ["CVE-2024-0001"],
    "summary": "demo-lib leaks tokens",
    "affected": [
        {
            "package": {"name": "demo-lib", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}],
        }
    ],
    "database_specific": {"severity": "HIGH"},
    "references": [{"type": "ADVISORY", "url": "https://advisories.example/GHSA-aaaa"}],
}


def one_record(handler: OsvHandler, _query: dict[str, Any]) -> None:
    handler.send_json({"vulns": [GHSA]})


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def remembered(
    session: HttpSession, base: str, root: Path, clock: Clock
) -> tuple[RememberedSource, list[int]]:
    builds: list[int] = []

    def build() -> VulnerabilitySource:
        builds.append(1)
        return OsvApiService(session, base)

    return RememberedSource(build, AnswerCache(root, base, clock=clock)), builds


def test_a_fresh_answer_is_reused_without_building_the_source(serve: Serve, tmp_path: Path) -> None:
    server = serve(one_record)
    clock = Clock()
    with HttpSession(retries=0) as session:
        first, _ = remembered(session, server.base, tmp_path, clock)
        asked = audit(first, "Demo_Lib", "1.0")
        clock.now += ANSWER_MAX_AGE - timedelta(seconds=1)
        again, builds = remembered(session, server.base, tmp_path, clock)
        reused = audit(again, "demo-lib", "1.0")
    assert len(server.hits) == 1
    assert builds == []  # the second source was never built
    assert reused == asked
    (vuln,) = reused.vulnerabilities
    assert (vuln.id, vuln.aliases, vuln.severity) == (
        "GHSA-aaaa-bbbb-cccc",
        ("CVE-2024-0001",),
        "high",
    )
    assert vuln.url == "https://advisories.example/GHSA-aaaa"


def test_an_answer_older_than_its_freshness_is_asked_again(serve: Serve, tmp_path: Path) -> None:
    server = serve(one_record)
    clock = Clock()
    with HttpSession(retries=0) as session:
        source, builds = remembered(session, server.base, tmp_path, clock)
        audit(source, "demo-lib", "1.0")
        clock.now += ANSWER_MAX_AGE + timedelta(seconds=1)
        audit(source, "demo-lib", "1.0")
    assert len(server.hits) == 2
    assert builds == [1]  # built once, on the first question


def test_an_answer_from_the_future_is_not_fresh(serve: Serve, tmp_path: Path) -> None:
    server = serve(one_record)
    clock = Clock()
    with HttpSession(retries=0) as session:
        source, _ = remembered(session, server.base, tmp_path, clock)
        audit(source, "demo-lib", "1.0")
        clock.now -= timedelta(hours=1)  # the clock was set back
        audit(source, "demo-lib", "1.0")
    assert len(server.hits) == 2


def test_answers_are_kept_per_api_and_per_version(serve: Serve, tmp_path: Path) -> None:
    one, other = serve(one_record), serve(one_record)
    clock = Clock()
    with HttpSession(retries=0) as session:
        for base in (one.base, other.base):
            source, _ = remembered(session, base, tmp_path, clock)
            audit(source, "demo-lib", "1.0")
            audit(source, "demo-lib", "1.0.1")
    assert [len(one.hits), len(other.hits)] == [2, 2]


def test_a_failure_is_never_remembered(serve: Serve, tmp_path: Path) -> None:
    state = {"up": False}

    def flaky(handler: OsvHandler, query: dict[str, Any]) -> None:
        if state["up"]:
            one_record(handler, query)
        else:
            handler.send_json({"code": 13, "message": "internal"}, status=500)

    server = serve(flaky)
    clock = Clock()
    with HttpSession(retries=0) as session:
        source, _ = remembered(session, server.base, tmp_path, clock)
        failed = audit(source, "demo-lib", "1.0")
        state["up"] = True
        answered = audit(source, "demo-lib", "1.0")
    assert not failed.checked
    assert answered.checked
    assert [v.id for v in answered.vulnerabilities] == ["GHSA-aaaa-bbbb-cccc"]
    assert len(server.hits) == 2


def test_an_unreachable_api_is_not_remembered_as_clean(tmp_path: Path) -> None:
    clock = Clock()
    with HttpSession(retries=0, offline=True) as session:
        source, _ = remembered(session, "http://osv.example", tmp_path, clock)
        with pytest.raises(SourceUnreachableError):
            source.known_vulnerabilities("demo-lib", "1.0")
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"asked": "yesterday", "vulnerabilities": []}',
        '{"asked": "2026-12-06T12:00:00+00:00", "vulnerabilities": {}}',
        '{"asked": "2026-12-06T12:00:00+00:00", "vulnerabilities": [{"id": 1}]}',
        '{"asked": "2026-12-06T12:00:00+00:00", "vulnerabilities": [{"id": "X"}]}',
        '{"asked": "2026-12-06T12:00:00+00:00", "vulnerabilities": [{"id": "X", '
        '"malicious": false, "aliases": "CVE-1", "fix_versions": []}]}',
    ],
)
def test_an_unreadable_entry_is_removed_and_asked_again(
    serve: Serve, tmp_path: Path, content: str
) -> None:
    server = serve(one_record)
    clock = Clock()
    with HttpSession(retries=0) as session:
        source, _ = remembered(session, server.base, tmp_path, clock)
        audit(source, "demo-lib", "1.0")
        (entry,) = tmp_path.rglob("*.json")
        entry.write_text(content, encoding="utf-8")
        outcome = audit(source, "demo-lib", "1.0")
    assert [v.id for v in outcome.vulnerabilities] == ["GHSA-aaaa-bbbb-cccc"]
    assert len(server.hits) == 2
    assert json.loads(entry.read_text("utf-8"))["vulnerabilities"][0]["id"] == (
        "GHSA-aaaa-bbbb-cccc"
    )


def test_an_unwritable_cache_only_costs_a_question(serve: Serve, tmp_path: Path) -> None:
    server = serve(one_record)
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    with HttpSession(retries=0) as session:
        source, _ = remembered(session, server.base, blocked / "answers", Clock())
        first = audit(source, "demo-lib", "1.0")
        second = audit(source, "demo-lib", "1.0")
    assert first == second
    assert first.checked
    assert len(server.hits) == 2


def test_a_malicious_report_survives_the_round_trip(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path, "", clock=Clock())
    report = KnownVulnerability(
        id="MAL-2026-1",
        aliases=(),
        summary=None,
        fix_versions=(),
        severity=None,
        malicious=True,
        url=None,
    )
    cache.put("Evil.Pkg", "0.0.1", [report])
    assert cache.get("evil-pkg", "0.0.1") == [report]
    assert cache.get("evil-pkg", "0.0.2") is None


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://osv.example", "https://osv.example"),
        ("https://osv.example/", "https://osv.example"),
        ("https://osv.example/v1/query", "https://osv.example"),
        ("http://127.0.0.1:8080/mirror/v1/query/", "http://127.0.0.1:8080/mirror"),
    ],
)
def test_osv_base_url(url: str, base: str) -> None:
    assert osv_base_url(url) == base


@pytest.mark.parametrize("url", ["ftp://osv.example", "osv.example", "file:///tmp/osv"])
def test_osv_base_url_refuses_what_is_not_http(url: str) -> None:
    with pytest.raises(UsageError, match="must be an http"):
        osv_base_url(url)


def test_pip_audit_is_not_imported_while_every_answer_is_remembered(tmp_path: Path) -> None:
    AnswerCache(tmp_path, "https://osv.example").put("demo-lib", "1.0", [])
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from verify._vulnerabilities import AnswerCache, RememberedSource

        def build():
            raise AssertionError("the source was built")

        cache = AnswerCache(Path({str(tmp_path)!r}), "https://osv.example")
        assert RememberedSource(build, cache).known_vulnerabilities("demo-lib", "1.0") == []
        import verify.check, verify._verifier.engine
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("pip_audit", "pip_api")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_warm_up_builds_the_source_and_reaches_the_api_in_the_background(
    serve: Serve, tmp_path: Path
) -> None:
    server = serve(one_record)
    with HttpSession(retries=0) as session:
        source, builds = remembered(session, server.base, tmp_path, Clock())
        source.warm_up()
        outcome = audit(source, "demo-lib", "1.0")
    assert builds == [1]
    assert outcome.checked
    probe, query = (body["package"]["name"] for _path, _headers, body in server.hits)
    assert (probe, query) == ("pip-verify", "demo-lib")
