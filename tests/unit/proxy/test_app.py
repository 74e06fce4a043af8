"""verify._proxy: the application's routes, content negotiation, caching headers, bad input,
and what a page lists in each mode, over a real loopback upstream (Werkzeug's test client)."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from werkzeug.test import Client

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.dists import DistSpec
from tests.helpers.policies import without_provenance_requirement
from verify._proxy.app import ProxyApp
from verify._proxy.index import ProxySettings, UnverifiedMode, VerifiedIndex
from verify.settings import NetworkSettings, VerificationSettings

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"
PIP_ACCEPT = f"{JSON}, {HTML}; q=0.1, text/html; q=0.01"

HOOKED = DistSpec(
    "acme",
    "1.1",
    files={"acme/__init__.py": "", "acme_hook.pth": "import os; os.getcwd()\n"},
)


@pytest.fixture
def upstream(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    package_index.add(
        dist_factory.wheel("acme", "1.0"),
        requires_python='>=3.8,<"4"<script>',
        upload_time=datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    )
    package_index.add(dist_factory.wheel(HOOKED))
    package_index.add(dist_factory.wheel("acme", "0.9"), yanked="broken <b>build</b>")
    return package_index


@contextmanager
def make_client(
    upstream: PackageIndex, tmp_path: Path, **settings: object
) -> Iterator[tuple[Client, VerifiedIndex]]:
    index = VerifiedIndex(
        ProxySettings(
            upstream=upstream.url,
            verification=VerificationSettings(
                policy_path=without_provenance_requirement(), record=False
            ),
            network=NetworkSettings(cache_dir=tmp_path / "cache", retries=0, timeout=10),
            **settings,  # type: ignore[arg-type]
        )
    )
    try:
        yield Client(ProxyApp(index)), index
    finally:
        index.close()


@pytest.fixture
def client(upstream: PackageIndex, tmp_path: Path) -> Iterator[Client]:
    with make_client(upstream, tmp_path) as (made, _index):
        yield made


def names(page: dict[str, object]) -> list[str]:
    files = page["files"]
    assert isinstance(files, list)
    return [f["filename"] for f in files]


def test_json_page_lists_what_passed_with_the_upstreams_fields(
    client: Client, upstream: PackageIndex
) -> None:
    response = client.get("/simple/acme/", headers={"Accept": PIP_ACCEPT})
    assert response.status_code == 200
    assert response.mimetype == JSON
    page = response.get_json()
    assert page["meta"] == {"api-version": "1.1"}
    assert page["name"] == "acme"
    # 1.1 adds a .pth that runs code: left out. 0.9 is older than 1.0, which passed: only a
    # pin reaches it, so it is listed (yanked, as upstream says) and verified on request.
    assert names(page) == ["acme-0.9-py3-none-any.whl", "acme-1.0-py3-none-any.whl"]
    older, entry = page["files"]
    assert older["yanked"] == "broken <b>build</b>"
    sha = upstream.files["acme-1.0-py3-none-any.whl"].sha256
    assert entry["url"] == f"../../files/{sha}/acme-1.0-py3-none-any.whl"
    assert entry["hashes"] == {"sha256": sha}
    assert entry["requires-python"] == '>=3.8,<"4"<script>'
    assert entry["upload-time"] == "2025-01-02T03:04:05Z"
    assert entry["yanked"] is False
    assert entry["size"] == upstream.files["acme-1.0-py3-none-any.whl"].size
    assert page["versions"] == ["0.9", "1.0"]


def test_html_page_escapes_what_the_upstream_wrote(client: Client) -> None:
    response = client.get("/simple/acme/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == HTML
    text = response.get_data(as_text=True)
    assert "<script>" not in text
    assert 'data-requires-python="&gt;=3.8,&lt;&quot;4&quot;&lt;script&gt;"' in text
    assert 'data-yanked="broken &lt;b&gt;build&lt;/b&gt;"' in text
    _older, href = re.findall(r'href="([^"]+)"', text)
    assert href.startswith("../../files/")
    assert href.endswith("/acme-1.0-py3-none-any.whl#sha256=" + href.split("/")[3])


def test_no_accept_header_gets_html_and_an_unacceptable_one_406(client: Client) -> None:
    assert client.get("/simple/acme/").mimetype == HTML
    refused = client.get("/simple/acme/", headers={"Accept": "application/xml"})
    assert refused.status_code == 406


def test_pages_revalidate_with_an_etag(client: Client) -> None:
    first = client.get("/simple/acme/", headers={"Accept": JSON})
    assert first.headers["Cache-Control"] == "no-cache"
    assert "Accept" in first.headers["Vary"]
    etag = first.headers["ETag"]
    again = client.get("/simple/acme/", headers={"Accept": JSON, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_a_name_that_is_not_normalized_is_redirected(client: Client) -> None:
    for path in ("/simple/ACME/", "/simple/Acme", "/simple/acme"):
        response = client.get(path)
        assert response.status_code == 301
        assert response.headers["Location"] == "/simple/acme/"


@pytest.mark.parametrize(
    "path",
    [
        "/simple/../etc/passwd/",
        "/simple/%2e%2e/",
        "/simple/a/b/",
        "/simple/-acme/",
        "/simple/" + "a" * 300 + "/",
        "/simple/http:%2f%2fevil.example%2f/",
        "/files/../../etc/passwd",
        "/files/" + "0" * 64 + "/../../x.whl",
        "/files/" + "0" * 63 + "/acme-1.0-py3-none-any.whl",
        "/files/" + "0" * 64 + "/.hidden.whl",
        "/elsewhere",
    ],
)
def test_bad_paths_are_404_and_read_nothing(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404


def test_only_get_and_head(client: Client) -> None:
    assert client.post("/simple/acme/").status_code == 405
    assert client.delete("/files/x").status_code == 405
    head = client.head("/simple/acme/", headers={"Accept": JSON})
    assert head.status_code == 200
    assert head.get_data() == b""


def test_a_file_is_served_only_once_verified_and_allowed(
    client: Client, upstream: PackageIndex
) -> None:
    clean = upstream.files["acme-1.0-py3-none-any.whl"]
    hooked = upstream.files["acme-1.1-py3-none-any.whl"]
    served = client.get(f"/files/{clean.sha256}/{clean.filename}")
    assert served.status_code == 200
    assert served.get_data() == (upstream.directory / clean.filename).read_bytes()
    assert served.headers["Cache-Control"] == "max-age=31536000, immutable"
    refused = client.get(f"/files/{hooked.sha256}/{hooked.filename}")
    assert refused.status_code == 403
    assert refused.status.startswith("403 pip-verify denied acme-1.1-py3-none-any.whl: pth-exec")
    # A digest the upstream does not list under that name is not a file of this index.
    other = client.get(f"/files/{clean.sha256}/{hooked.filename}")
    assert other.status_code == 404
    unknown = client.get("/files/" + "a" * 64 + "/acme-1.0-py3-none-any.whl")
    assert unknown.status_code == 404


def test_a_verified_wheel_offers_its_core_metadata_read_from_the_verified_bytes(
    client: Client, upstream: PackageIndex
) -> None:
    clean = upstream.files["acme-1.0-py3-none-any.whl"]
    with zipfile.ZipFile(upstream.directory / clean.filename) as wheel:
        expected = wheel.read("acme-1.0.dist-info/METADATA")
    digest = hashlib.sha256(expected).hexdigest()
    page = client.get("/simple/acme/", headers={"Accept": JSON}).get_json()
    entry = next(f for f in page["files"] if f["filename"] == clean.filename)
    assert entry["core-metadata"] == {"sha256": digest}
    assert entry["dist-info-metadata"] == {"sha256": digest}
    html_page = client.get("/simple/acme/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'data-core-metadata="sha256={digest}"' in html_page
    served = client.get(f"/files/{clean.sha256}/{clean.filename}.metadata")
    assert served.status_code == 200
    assert served.get_data() == expected
    # Not verified yet (0.9, listed for pins): no metadata is offered on the page.
    older = next(f for f in page["files"] if f["filename"] == "acme-0.9-py3-none-any.whl")
    assert "core-metadata" not in older
    # A denied wheel's metadata is refused as the wheel is.
    hooked = upstream.files["acme-1.1-py3-none-any.whl"]
    assert client.get(f"/files/{hooked.sha256}/{hooked.filename}.metadata").status_code == 403


def test_unknown_project_is_404(client: Client) -> None:
    assert client.get("/simple/nothing-here/").status_code == 404


def test_root_lists_the_projects_seen(client: Client) -> None:
    client.get("/simple/acme/")
    page = client.get("/simple/", headers={"Accept": JSON}).get_json()
    assert page["projects"] == [{"name": "acme"}]
    assert "acme/" in client.get("/simple/").get_data(as_text=True)
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("mode", "show_denied", "expected"),
    [
        (
            UnverifiedMode.HIDE,
            False,
            {
                "acme-0.9-py3-none-any.whl": "broken <b>build</b>",
                "acme-1.0-py3-none-any.whl": False,
            },
        ),
        (
            UnverifiedMode.HIDE,
            True,
            {
                "acme-0.9-py3-none-any.whl": "broken <b>build</b>",
                "acme-1.0-py3-none-any.whl": False,
                "acme-1.1-py3-none-any.whl": "denied",
            },
        ),
        (
            UnverifiedMode.VERIFY_ON_REQUEST,
            False,
            {
                "acme-0.9-py3-none-any.whl": "broken <b>build</b>",
                "acme-1.0-py3-none-any.whl": False,
            },
        ),
        (
            UnverifiedMode.SHOW_YANKED,
            False,
            {
                "acme-0.9-py3-none-any.whl": "pip-verify: not verified yet",
                "acme-1.0-py3-none-any.whl": False,
            },
        ),
    ],
)
def test_what_a_page_lists_in_each_mode(
    upstream: PackageIndex,
    tmp_path: Path,
    mode: UnverifiedMode,
    show_denied: bool,
    expected: dict[str, object],
) -> None:
    with make_client(upstream, tmp_path, unverified=mode, show_denied=show_denied) as made:
        client, _index = made
        page = client.get("/simple/acme/", headers={"Accept": JSON}).get_json()
    listed = {f["filename"]: f["yanked"] for f in page["files"]}
    denied = listed.get("acme-1.1-py3-none-any.whl")
    if isinstance(denied, str):
        assert denied.startswith("pip-verify denied acme-1.1-py3-none-any.whl: pth-exec")
        listed["acme-1.1-py3-none-any.whl"] = "denied"
    assert listed == expected


def test_a_verdict_is_kept_and_reused(upstream: PackageIndex, tmp_path: Path) -> None:
    with make_client(upstream, tmp_path) as (client, _index):
        client.get("/simple/acme/")
    kept_files = sorted((tmp_path / "cache" / "proxy" / "verdicts").rglob("*.json"))
    verdict_files = [p for p in kept_files if not p.name.endswith(".report.json")]
    assert len(verdict_files) == 2  # 1.0 allowed, 1.1 denied; 0.9 never asked for
    assert len(kept_files) == 4  # each with its report beside it
    kept = [json.loads(p.read_text("utf-8")) for p in verdict_files]
    assert sorted(v["allowed"] for v in kept) == [False, True]
    assert {v["severity"] for v in kept} == {"-", "critical"}
    # A new proxy on the same cache lists the page from the verdicts, downloading nothing.
    for stored in (tmp_path / "cache" / "files").rglob("*.whl"):
        stored.unlink()
    with make_client(upstream, tmp_path) as (client, index):
        page = client.get("/simple/acme/", headers={"Accept": JSON}).get_json()
        assert names(page) == ["acme-0.9-py3-none-any.whl", "acme-1.0-py3-none-any.whl"]
        assert not list((tmp_path / "cache" / "files").rglob("*.whl"))
        assert index.listings.get("acme") is not None


def test_a_page_waits_for_the_likely_picks_and_verifies_the_rest_on_request(
    dist_factory: DistFactory, package_index: PackageIndex, tmp_path: Path
) -> None:
    pure = package_index.add(dist_factory.wheel("wide", "2.0"))
    sdist = package_index.add(dist_factory.sdist("wide", "2.0"))
    other = dist_factory.wheel("wide", "2.0", files={"wide/_native.py": "ARCH = 'arm64'\n"})
    elsewhere = other.with_name("wide-2.0-cp311-cp311-win_arm64.whl")
    other.rename(elsewhere)
    foreign = package_index.add(elsewhere)
    with make_client(package_index, tmp_path) as (client, index):
        page = client.get("/simple/wide/", headers={"Accept": JSON}).get_json()
        # The pure wheel was waited for; the sdist and the other platform's wheel are listed
        # (their release passed) and verified only when a client asks for one.
        assert sorted(names(page)) == sorted([pure.filename, sdist.filename, foreign.filename])
        assert index.verdicts.get(pure.sha256) is not None
        assert index.verdicts.get(foreign.sha256) is None
        assert index.verdicts.get(sdist.sha256) is None
        served = client.get(f"/files/{foreign.sha256}/{foreign.filename}")
        assert served.status_code == 200
        assert index.verdicts.get(foreign.sha256) is not None


def test_hide_lists_older_releases_for_pins_and_verifies_them_on_request(
    dist_factory: DistFactory, package_index: PackageIndex, tmp_path: Path
) -> None:
    package_index.add(dist_factory.wheel("slow", "1.0"))
    newest = package_index.add(dist_factory.wheel("slow", "2.0"))
    # 2.0 passed: 1.0 is listed for a lock that pins it, and verified when asked for.
    with make_client(package_index, tmp_path) as (client, index):
        page = client.get("/simple/slow/", headers={"Accept": JSON}).get_json()
        assert names(page) == ["slow-1.0-py3-none-any.whl", newest.filename]
        older = package_index.files["slow-1.0-py3-none-any.whl"]
        assert index.verdicts.get(older.sha256) is None
        served = client.get(f"/files/{older.sha256}/{older.filename}")
        assert served.status_code == 200
        assert index.verdicts.get(older.sha256) is not None


def test_pages_pass_on_the_upstreams_provenance_url_escaped() -> None:
    from verify._proxy.index import PageEntry, PageView
    from verify._proxy.listings import ListedFile, listed_files
    from verify._proxy.pages import render_html, render_json
    from verify.models import IndexFile as ModelIndexFile
    from verify.models import IndexFiles, ProjectPage

    url = 'https://files.example/acme-1.0.whl.provenance?a=1&b="2"'
    listed = ListedFile("acme-1.0-py3-none-any.whl", "a" * 64, provenance_url=url)
    view = PageView(canonicalize_name("acme"), (PageEntry(listed),))
    assert json.loads(render_json(view))["files"][0]["provenance"] == url
    assert 'data-provenance="https://files.example/acme-1.0.whl.provenance?a=1&amp;b=&quot;2' in (
        render_html(view).decode()
    )
    assert ListedFile.from_dict(listed.to_dict()) == listed
    # A file:// upstream's provenance is a path on the proxy's disk: not passed on.
    local = ModelIndexFile(
        filename="acme-1.0-py3-none-any.whl",
        url="file:///srv/index/acme-1.0-py3-none-any.whl",
        hashes={"sha256": "a" * 64},
        index_url="file:///srv/index/",
        provenance_url="file:///srv/index/acme-1.0-py3-none-any.whl.provenance",
    )
    page = ProjectPage(
        canonicalize_name("acme"), "file:///srv/index/", IndexFiles.of([local]), served_as="file"
    )
    assert listed_files(page)[0].provenance_url is None
