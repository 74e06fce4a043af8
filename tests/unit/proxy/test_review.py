"""The proxy's review page (verify._proxy.review over verify._serve): its access, its list and
detail, and decisions that change what the proxy serves (Werkzeug's test client over a real
loopback upstream)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from werkzeug.test import Client

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.dists import DistSpec
from tests.helpers.policies import without_provenance_requirement
from verify._proxy.app import ProxyApp
from verify._proxy.index import ProxySettings, VerifiedIndex
from verify._proxy.review import DeniedFiles
from verify._serve.decisions import Decisions
from verify._serve.review import Review
from verify._serve.reviewers import Reviewers
from verify.settings import NetworkSettings, VerificationSettings

TOKEN = "correct-horse-battery-staple"
HOOKED = DistSpec(
    "acme",
    "1.1",
    files={
        "acme/__init__.py": "",
        "acme_hook.pth": "import os; os.environ.get('</pre><script>alert(1)</script>')\n",
    },
)


def basic(name: str = "alice", token: str = TOKEN) -> dict[str, str]:
    encoded = base64.b64encode(f"{name}:{token}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@pytest.fixture
def upstream(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    package_index.add(dist_factory.wheel("acme", "1.0"))
    package_index.add(dist_factory.wheel(HOOKED))
    return package_index


def start(
    upstream: PackageIndex, tmp_path: Path, *, public: bool = False
) -> tuple[Client, VerifiedIndex]:
    tokens = tmp_path / "reviewers"
    tokens.write_text(f"# who may decide\nalice:{TOKEN}\nbob:{'b' * 20}\n", encoding="utf-8")
    index = VerifiedIndex(
        ProxySettings(
            upstream=upstream.url,
            verification=VerificationSettings(
                policy_path=without_provenance_requirement(), record=False
            ),
            network=NetworkSettings(cache_dir=tmp_path / "cache", retries=0, timeout=10),
        )
    )
    review = Review(DeniedFiles(index), index.decisions, Reviewers.load(tokens), public=public)
    return Client(ProxyApp(index, review)), index


@pytest.fixture
def proxy(upstream: PackageIndex, tmp_path: Path) -> Iterator[tuple[Client, VerifiedIndex]]:
    client, index = start(upstream, tmp_path)
    client.get("/simple/acme/")  # verifies 1.1 (denied) and 1.0
    try:
        yield client, index
    finally:
        index.close()


def hooked_sha(upstream: PackageIndex) -> str:
    return upstream.files["acme-1.1-py3-none-any.whl"].sha256


def form_token(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match, page
    return match.group(1)


def test_without_reviewers_there_is_no_review_page(upstream: PackageIndex, tmp_path: Path) -> None:
    index = VerifiedIndex(
        ProxySettings(
            upstream=upstream.url,
            network=NetworkSettings(cache_dir=tmp_path / "cache", retries=0, timeout=10),
        )
    )
    try:
        response = Client(ProxyApp(index)).get("/-/review")
    finally:
        index.close()
    assert response.status_code == 404


def test_viewing_needs_a_reviewer(proxy: tuple[Client, VerifiedIndex]) -> None:
    client, _ = proxy
    anonymous = client.get("/-/review")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get("/-/review", headers=basic(token="wrong-token-wrong")).status_code == 401
    assert client.get("/-/review", headers=basic(name="mallory")).status_code == 401


def test_the_list_shows_what_was_blocked_and_why(
    proxy: tuple[Client, VerifiedIndex], upstream: PackageIndex
) -> None:
    client, _ = proxy
    response = client.get("/-/review", headers=basic())
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["X-Frame-Options"] == "DENY"
    page = response.get_data(as_text=True)
    assert "acme 1.1" in page
    assert "acme-1.1-py3-none-any.whl" in page
    assert "pth-exec" in page
    assert "critical" in page
    assert "blocked" in page
    assert f'href="/-/review/{hooked_sha(upstream)}"' in page
    assert "acme-1.0-py3-none-any.whl" not in page  # allowed: nothing to review


def test_the_detail_shows_the_flagged_line_escaped(
    proxy: tuple[Client, VerifiedIndex], upstream: PackageIndex
) -> None:
    client, _ = proxy
    page = client.get(f"/-/review/{hooked_sha(upstream)}", headers=basic()).get_data(as_text=True)
    flagged = re.findall(r'<span class="flagged">([^<]*)</span>', page)
    assert len(flagged) >= 1
    assert "acme_hook.pth" in page
    assert "1  import os; os.environ.get(&#x27;&lt;/pre&gt;&lt;script&gt;" in flagged[0]
    assert "<script>" not in page
    assert "Dangerous because" in page
    assert 'name="action" value="allow"' in page


def test_allowing_a_file_serves_it_and_keeps_the_history(
    proxy: tuple[Client, VerifiedIndex], upstream: PackageIndex, tmp_path: Path
) -> None:
    client, index = proxy
    sha = hooked_sha(upstream)
    url = f"/-/review/{sha}"
    refused = client.get(f"/files/{sha}/acme-1.1-py3-none-any.whl")
    assert refused.status_code == 403
    token = form_token(client.get(url, headers=basic()).get_data(as_text=True))
    decided = client.post(
        url,
        headers=basic(),
        data={"csrf": token, "action": "allow", "reason": "vendored hook, reviewed by security"},
    )
    assert decided.status_code == 303
    assert decided.headers["Location"] == url
    served = client.get(f"/files/{sha}/acme-1.1-py3-none-any.whl")
    assert served.status_code == 200
    page = client.get("/simple/acme/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert "acme-1.1-py3-none-any.whl" in [f["filename"] for f in page.get_json()["files"]]
    detail = client.get(url, headers=basic()).get_data(as_text=True)
    assert "vendored hook, reviewed by security" in detail
    assert "<td>alice</td><td>allow</td>" in detail
    listed = client.get("/-/review", headers=basic()).get_data(as_text=True)
    assert "allowed by alice" in listed
    # The decision survives a restart: it is in the log.
    assert Decisions(tmp_path / "cache" / "proxy" / "decisions.jsonl").history(sha)[0].by == "alice"
    # And "keep blocked" afterwards blocks it again.
    client.post(
        url,
        headers=basic("bob", "b" * 20),
        data={
            "csrf": form_token(
                client.get(url, headers=basic("bob", "b" * 20)).get_data(as_text=True)
            ),
            "action": "keep-blocked",
            "reason": "changed my mind",
        },
    )
    assert client.get(f"/files/{sha}/acme-1.1-py3-none-any.whl").status_code == 403
    assert index.decisions.allowed(sha, date.today()) is None


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"action": "allow", "reason": "fine"}, 403, "Stale or forged form"),
        ({"action": "allow", "reason": "fine", "csrf": "0" * 64}, 403, "Stale or forged form"),
        ({"action": "allow", "reason": "   ", "csrf": None}, 400, "say why"),
        ({"action": "promote", "reason": "x", "csrf": None}, 400, "allow or keep-blocked"),
        ({"action": "allow", "reason": "x", "expires": "soon", "csrf": None}, 400, "a date"),
        ({"action": "allow", "reason": "x", "expires": "2001-01-01", "csrf": None}, 400, "past"),
        ({"action": "allow", "reason": "x" * 501, "csrf": None}, 400, "longer than 500"),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(
    proxy: tuple[Client, VerifiedIndex],
    upstream: PackageIndex,
    fields: dict[str, str | None],
    status: int,
    message: str,
) -> None:
    client, index = proxy
    sha = hooked_sha(upstream)
    url = f"/-/review/{sha}"
    token = form_token(client.get(url, headers=basic()).get_data(as_text=True))
    data = {k: (token if v is None else v) for k, v in fields.items()}
    response = client.post(url, headers=basic(), data=data)
    assert response.status_code == status
    assert message in response.status
    assert index.decisions.history(sha) == []


def test_deciding_needs_a_reviewer_and_the_same_origin(
    upstream: PackageIndex, tmp_path: Path
) -> None:
    client, index = start(upstream, tmp_path, public=True)
    try:
        client.get("/simple/acme/")
        sha = hooked_sha(upstream)
        url = f"/-/review/{sha}"
        public_page = client.get(url).get_data(as_text=True)
        assert "acme_hook.pth" in public_page
        assert 'name="csrf"' not in public_page  # viewers get no form
        assert client.post(url, data={"action": "allow", "reason": "x"}).status_code == 401
        token = form_token(client.get(url, headers=basic()).get_data(as_text=True))
        forged = client.post(
            url,
            headers={**basic(), "Origin": "http://evil.example"},
            data={"csrf": token, "action": "allow", "reason": "x"},
        )
        assert forged.status_code == 403
        assert index.decisions.history(sha) == []
    finally:
        index.close()
