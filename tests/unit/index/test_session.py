"""verify._index.session: the HTTP chokepoint, against real servers on 127.0.0.1."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from pytest_socket import disable_socket, enable_socket

from tests.helpers import PackageIndex
from verify import __version__
from verify._index.session import HttpSession
from verify.errors import NetworkError, OfflineError

Responder = Callable[[BaseHTTPRequestHandler], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        #: (path, request headers) of every request, in order.
        self.hits: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up (timeouts, size limits) are expected here

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        server = cast(_Server, self.server)
        server.hits.append((self.path, dict(self.headers.items())))
        server.responder(self)


def reply(
    handler: BaseHTTPRequestHandler,
    body: bytes = b"ok",
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    length: bool = True,
) -> None:
    handler.send_response(status)
    if length:
        handler.send_header("Content-Length", str(len(body)))
    else:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


Serve = Callable[[Responder], _Server]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[_Server] = []

    def start(responder: Responder) -> _Server:
        server = _Server(responder)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.release.set()
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_user_agent_and_accept_are_sent(serve: Serve) -> None:
    server = serve(lambda h: reply(h, b"page"))
    with HttpSession(retries=0) as session:
        page = session.get_page(server.base + "/simple/demo/", accept="application/x-test")
    assert page.status == 200
    assert page.body == b"page"
    assert page.url == server.base + "/simple/demo/"
    ((path, headers),) = server.hits
    assert path == "/simple/demo/"
    agent = headers["User-Agent"]
    assert agent.startswith(f"pip-verify/{__version__} (")
    assert "python-requests" not in agent
    assert headers["Accept"] == "application/x-test"


def test_user_agent_on_downloads(serve: Serve) -> None:
    server = serve(lambda h: reply(h, b"file bytes"))
    sink = io.BytesIO()
    with HttpSession(retries=0) as session:
        written = session.download(server.base + "/files/x.whl", sink)
    assert written == len(b"file bytes")
    assert sink.getvalue() == b"file bytes"
    assert server.hits[0][1]["User-Agent"].startswith("pip-verify/")


def test_content_type_is_reported(serve: Serve) -> None:
    ctype = "application/vnd.pypi.simple.v1+json"
    server = serve(lambda h: reply(h, b"{}", headers={"Content-Type": ctype}))
    with HttpSession(retries=0) as session:
        assert session.get_page(server.base + "/").content_type == ctype


def test_non_200_pages_are_returned_for_the_caller_to_judge(serve: Serve) -> None:
    server = serve(lambda h: reply(h, b"nope", status=404))
    with HttpSession(retries=3) as session:
        page = session.get_page(server.base + "/simple/missing/")
    assert page.status == 404
    assert page.body == b"nope"
    assert len(server.hits) == 1  # a 404 is an answer, not a reason to retry


def test_retries_on_503_then_succeeds(package_index: PackageIndex) -> None:
    package_index.fail_next(1, 503)
    with HttpSession(retries=3) as session:
        page = session.get_page(package_index.url)
    assert page.status == 200
    assert b"Simple index" in page.body
    assert [path for _m, path, _a in package_index.requests_log] == ["/simple/", "/simple/"]


@pytest.mark.parametrize("status", [429, 500, 502, 504])
def test_retries_on_other_transient_statuses(package_index: PackageIndex, status: int) -> None:
    package_index.fail_next(1, status)
    with HttpSession(retries=1) as session:
        assert session.get_page(package_index.url).status == 200
    assert len(package_index.requests_log) == 2


def test_gives_up_with_the_last_status(package_index: PackageIndex) -> None:
    package_index.fail_next(1, 500)
    package_index.fail_next(1, 503)
    package_index.fail_next(5, 502)
    with HttpSession(retries=1) as session:
        page = session.get_page(package_index.url)
    assert page.status == 503
    assert page.body == b"injected failure\n"
    assert len(package_index.requests_log) == 2


def test_download_retries_then_reports_the_status(package_index: PackageIndex) -> None:
    package_index.fail_next(3, 503)
    with HttpSession(retries=1) as session, pytest.raises(NetworkError) as info:
        session.download(package_index.file_url("x-1.0.tar.gz"), io.BytesIO())
    assert "HTTP 503" in info.value.message
    assert len(package_index.requests_log) == 2


def test_connection_refused(serve: Serve) -> None:
    port = closed_port()
    with HttpSession(retries=0) as session, pytest.raises(NetworkError) as info:
        session.get_page(f"http://127.0.0.1:{port}/simple/")
    assert "connection refused" in info.value.message
    assert f"127.0.0.1:{port}" in info.value.message
    assert info.value.hint is not None


def test_connection_refused_on_download() -> None:
    port = closed_port()
    with HttpSession(retries=0) as session, pytest.raises(NetworkError, match="connection refused"):
        session.download(f"http://127.0.0.1:{port}/files/x.whl", io.BytesIO())


def _slow(handler: BaseHTTPRequestHandler) -> None:
    cast(_Server, handler.server).release.wait(5)
    reply(handler, b"too late")


@pytest.mark.parametrize("retries", [0, 1])
def test_read_timeout(serve: Serve, retries: int) -> None:
    server = serve(_slow)
    with HttpSession(timeout=0.2, retries=retries) as session, pytest.raises(NetworkError) as info:
        session.get_page(server.base + "/simple/")
    text = info.value.one_line().lower()
    assert "timed out" in text or "in time" in text
    assert "127.0.0.1" in text
    assert len(server.hits) == retries + 1


def test_read_timeout_hints_at_the_timeout_option(serve: Serve) -> None:
    # A timeout is not a wrong URL: the hint should point at --timeout.
    server = serve(_slow)
    with HttpSession(timeout=0.2, retries=0) as session, pytest.raises(NetworkError) as info:
        session.get_page(server.base + "/simple/")
    assert info.value.hint is not None
    assert "--timeout" in info.value.hint


@pytest.mark.parametrize("declared", [True, False])
def test_page_bigger_than_max_bytes(serve: Serve, declared: bool) -> None:
    server = serve(lambda h: reply(h, b"x" * 5000, length=declared))
    with HttpSession(retries=0) as session:
        with pytest.raises(NetworkError, match="1000-byte limit") as info:
            session.get_page(server.base + "/simple/", max_bytes=1000)
        assert server.base + "/simple/" in info.value.message
        assert session.get_page(server.base + "/simple/", max_bytes=5000).body == b"x" * 5000


@pytest.mark.parametrize("declared", [True, False])
def test_download_bigger_than_max_bytes(serve: Serve, declared: bool) -> None:
    server = serve(lambda h: reply(h, b"x" * 5000, length=declared))
    with HttpSession(retries=0) as session, pytest.raises(NetworkError, match="1000-byte limit"):
        session.download(server.base + "/f.whl", io.BytesIO(), max_bytes=1000)


def test_download_reports_total_and_bytes(serve: Serve) -> None:
    body = bytes(range(256)) * 100
    server = serve(lambda h: reply(h, body))
    totals: list[int] = []
    counts: list[int] = []
    sink = io.BytesIO()
    with HttpSession(retries=0) as session:
        written = session.download(
            server.base + "/f.whl", sink, on_total=totals.append, on_bytes=counts.append
        )
    assert written == len(body)
    assert sink.getvalue() == body
    assert totals == [len(body)]
    assert sum(counts) == len(body)


def test_redirects_are_followed(serve: Serve) -> None:
    def responder(handler: BaseHTTPRequestHandler) -> None:
        if handler.path == "/simple":
            reply(handler, b"", status=301, headers={"Location": "/simple/"})
        else:
            reply(handler, b"landed")

    server = serve(responder)
    with HttpSession(retries=0) as session:
        page = session.get_page(server.base + "/simple")
    assert page.body == b"landed"
    assert page.url == server.base + "/simple/"


def test_redirect_loop(serve: Serve) -> None:
    server = serve(lambda h: reply(h, b"", status=302, headers={"Location": "/loop"}))
    with HttpSession(retries=0) as session, pytest.raises(NetworkError) as info:
        session.get_page(server.base + "/loop")
    assert "redirected more than" in info.value.message
    assert 2 < len(server.hits) < 20


def test_offline_opens_no_socket() -> None:
    disable_socket()
    try:
        with HttpSession(offline=True) as session:
            with pytest.raises(OfflineError) as info:
                session.get_page("https://index.example/simple/demo/")
            assert "index.example" in info.value.message
            assert info.value.hint is not None
            with pytest.raises(OfflineError):
                session.download("https://files.example/demo-1.0.tar.gz", io.BytesIO())
    finally:
        enable_socket()


@pytest.mark.parametrize("offline", [True, False])
def test_errors_never_show_a_password(offline: bool) -> None:
    url = f"http://alice:s3cret@127.0.0.1:{closed_port()}/simple/"
    with HttpSession(retries=0, offline=offline) as session:
        with pytest.raises((OfflineError, NetworkError)) as info:
            session.get_page(url)
        assert "s3cret" not in str(info.value.one_line())
        with pytest.raises((OfflineError, NetworkError)) as info:
            session.download(url + "x.whl", io.BytesIO())
        assert "s3cret" not in str(info.value.one_line())


def _cacheable(handler: BaseHTTPRequestHandler) -> None:
    reply(handler, b"cached page", headers={"Cache-Control": "max-age=600", "ETag": '"v1"'})


def test_http_cache_serves_the_second_request(serve: Serve, tmp_path: Path) -> None:
    server = serve(_cacheable)
    with HttpSession(cache_dir=tmp_path / "http", retries=0) as session:
        first = session.get_page(server.base + "/simple/demo/")
        second = session.get_page(server.base + "/simple/demo/")
    assert first.from_cache is False
    assert second.from_cache is True
    assert second.body == first.body == b"cached page"
    assert second.status == 200
    assert len(server.hits) == 1
    # The cache is on disk: a new session (a new run) still uses it.
    with HttpSession(cache_dir=tmp_path / "http", retries=0) as later:
        assert later.get_page(server.base + "/simple/demo/").from_cache is True
    assert len(server.hits) == 1


def test_no_cache_dir_means_no_cache(serve: Serve) -> None:
    server = serve(_cacheable)
    with HttpSession(retries=0) as session:
        session.get_page(server.base + "/p/")
        assert session.get_page(server.base + "/p/").from_cache is False
    assert len(server.hits) == 2


def test_downloads_bypass_the_page_cache(serve: Serve, tmp_path: Path) -> None:
    server = serve(_cacheable)
    with HttpSession(cache_dir=tmp_path / "http", retries=0) as session:
        session.download(server.base + "/f.whl", io.BytesIO())
        session.download(server.base + "/f.whl", io.BytesIO())
    assert len(server.hits) == 2


def test_max_age_zero_is_revalidated(package_index: PackageIndex, tmp_path: Path) -> None:
    with HttpSession(cache_dir=tmp_path / "http", retries=0) as session:
        session.get_page(package_index.url)
        assert session.get_page(package_index.url).status == 200
    assert len(package_index.requests_log) == 2


def test_session_is_usable_from_threads(serve: Serve) -> None:
    server = serve(lambda h: reply(h, h.path.encode()))
    results: dict[int, bytes] = {}
    with HttpSession(retries=0) as session:

        def worker(n: int) -> None:
            results[n] = session.get_page(f"{server.base}/{n}").body

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    assert results == {n: f"/{n}".encode() for n in range(6)}
