"""Issue 15, defect 2: an http(s) index must not make pip-verify read local files.

A page on an http(s) index may link only to http(s) files; ``file:`` URLs are taken from
``file://`` indexes and local inputs alone. Every local copy is a bounded copy of a regular
file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.cli import check_run
from tests.helpers.policies import without_provenance_requirement
from verify._fetch import fetch as fetch_module
from verify._fetch.fetch import Fetcher, FetchRequest
from verify._fetch.store import ContentStore
from verify._index.session import HttpSession
from verify._index.simple import parse_html_page, parse_json_page
from verify.errors import IndexResponseError
from verify.models import ExpectedDigest

WHEEL = "demo-1.0-py3-none-any.whl"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        #: path -> (content type, body)
        self.routes: dict[str, tuple[str, bytes]] = {}
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        route = cast(_Server, self.server).routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        content_type, body = route
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server()
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def json_page(url: str, sha256: str, size: int | None = None) -> bytes:
    entry: dict[str, Any] = {"filename": WHEEL, "url": url, "hashes": {"sha256": sha256}}
    if size is not None:
        entry["size"] = size
    page = {"meta": {"api-version": "1.1"}, "name": "demo", "files": [entry]}
    return json.dumps(page).encode()


def html_page(url: str, sha256: str) -> bytes:
    return f'<html><body><a href="{url}#sha256={sha256}">{WHEEL}</a></body></html>'.encode()


def run_check(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> tuple[int, str]:
    """Run ``check`` with a JSON report; return the exit code and everything it wrote."""
    run = check_run(capsys, tmp_path, *argv, policy=without_provenance_requirement())
    return run.code, run.out + run.err + run.report


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    # Named like a distribution, as an HTML link must be for its file name to match.
    path = tmp_path / "private" / WHEEL
    path.parent.mkdir()
    path.write_bytes(os.urandom(64))
    return path


@pytest.mark.parametrize("served_as", ["json", "html"])
def test_http_index_linking_a_local_file_fails_closed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    server: _Server,
    secret: Path,
    served_as: str,
) -> None:
    secret_sha = hashlib.sha256(secret.read_bytes()).hexdigest()
    promised = "ab" * 32  # what the index claims; the lock pins it
    if served_as == "json":
        server.routes["/simple/demo/"] = (JSON_TYPE, json_page(secret.as_uri(), promised))
    else:
        server.routes["/simple/demo/"] = ("text/html", html_page(secret.as_uri(), promised))
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"demo==1.0 --hash=sha256:{promised}\n")
    code, output = run_check(
        capsys, tmp_path, "-r", str(lock), "--index-url", f"{server.base}/simple/"
    )
    assert code == 3
    assert secret_sha not in output
    assert "file:" in output
    assert "not http" in output
    # Nothing of the local file reached the cache either.
    assert not any(p.is_file() and p.name == WHEEL for p in (tmp_path / "cache").rglob("*"))


def test_http_index_linking_dev_zero_fails_fast(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, server: _Server
) -> None:
    promised = "cd" * 32
    server.routes["/simple/demo/"] = (JSON_TYPE, json_page("file:///dev/zero", promised))
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"demo==1.0 --hash=sha256:{promised}\n")
    started = time.monotonic()
    code, output = run_check(
        capsys, tmp_path, "-r", str(lock), "--index-url", f"{server.base}/simple/"
    )
    assert code == 3
    assert "file:///dev/zero" in output
    assert time.monotonic() - started < 60


def test_relative_link_resolving_to_a_local_file_is_refused() -> None:
    # A <base> element can move every relative link of an http page to file:.
    body = f'<base href="file:///srv/"><a href="{WHEEL}">{WHEEL}</a>'.encode()
    with pytest.raises(IndexResponseError, match="not http"):
        parse_html_page(
            body,
            page_url="https://index.example/simple/demo/",
            index_url="https://index.example/simple/",
            name="demo",
        )


def test_json_link_with_an_upper_case_file_scheme_is_refused() -> None:
    page = parse_json_page(
        json_page("FILE:///etc/hosts", "ab" * 32),
        page_url="https://index.example/simple/demo/",
        index_url="https://index.example/simple/",
        name="demo",
    )
    with pytest.raises(IndexResponseError, match="not http"):
        list(page.files)


def test_http_page_keeps_its_http_links() -> None:
    page = parse_json_page(
        json_page("../../files/" + WHEEL, "ab" * 32),
        page_url="https://index.example/simple/demo/",
        index_url="https://index.example/simple/",
        name="demo",
    )
    (entry,) = page.files
    assert entry.url == "https://index.example/files/" + WHEEL


def test_file_index_page_may_link_local_files() -> None:
    page = parse_html_page(
        html_page("file:///srv/dists/" + WHEEL, "ab" * 32),
        page_url="file:///srv/simple/demo/index.html",
        index_url="file:///srv/simple/",
        name="demo",
        served_as="file",
    )
    (entry,) = page.files
    assert entry.url == "file:///srv/dists/" + WHEEL


def test_file_index_still_works_through_the_cli(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(dist_factory.wheel("demo", "1.0"))
    file_index = package_index.write_file_index(tmp_path / "static")
    package_index.close()
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"demo==1.0 --hash=sha256:{package_index.files[WHEEL].sha256}\n")
    code, output = run_check(capsys, tmp_path, "-r", str(lock), "--index-url", file_index)
    assert code == 0, output
    assert '"hash_status": "verified"' in output


# -- local copies are bounded copies of regular files -------------------------------------


@pytest.fixture
def fetcher(tmp_path: Path) -> Iterator[Fetcher]:
    with HttpSession(offline=True) as session:
        yield Fetcher(session, ContentStore(tmp_path / "store"))


def test_character_device_is_refused_as_not_a_regular_file(fetcher: Fetcher) -> None:
    # A file:// index (trusted to name local files) can still name /dev/zero.
    started = time.monotonic()
    result = fetcher.fetch(FetchRequest(WHEEL, url="file:///dev/zero"))
    assert time.monotonic() - started < 5
    assert result.path is None
    assert result.error_kind == "input"
    assert result.error is not None
    assert "not a regular file" in result.error


def test_fifo_is_refused_without_waiting_for_a_writer(fetcher: Fetcher, tmp_path: Path) -> None:
    fifo = tmp_path / WHEEL
    os.mkfifo(fifo)
    result = fetcher.fetch(FetchRequest(WHEEL, path=fifo))
    assert result.path is None
    assert result.error is not None
    assert "not a regular file" in result.error


def test_local_file_larger_than_announced_is_refused(fetcher: Fetcher, tmp_path: Path) -> None:
    local = tmp_path / WHEEL
    local.write_bytes(b"x" * 100)
    result = fetcher.fetch(FetchRequest(WHEEL, url=local.as_uri(), size=99))
    assert result.path is None
    assert result.digests == {}
    assert result.error is not None
    assert "99" in result.error
    # The announced size itself is fine.
    exact = fetcher.fetch(FetchRequest(WHEEL, url=local.as_uri(), size=100))
    assert exact.error is None
    assert exact.size == 100


def test_local_copy_without_announced_size_has_the_download_cap(
    fetcher: Fetcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_module, "MAX_FILE_BYTES", 10)
    local = tmp_path / WHEEL
    local.write_bytes(b"x" * 11)
    result = fetcher.fetch(
        FetchRequest(WHEEL, path=local, expected=(ExpectedDigest("lock", "ab" * 32),))
    )
    assert result.path is None
    assert result.error is not None
    assert "10-byte" in result.error
