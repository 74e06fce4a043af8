"""Issue 15, defect 4: every request has a total deadline, whatever the server trickles.

``--timeout`` bounds each socket read; these servers answer every read in time with one
byte, or ask for a long Retry-After, so only the total deadline can end the request.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback
from verify._cli import main
from verify._index.deadline import allowed_seconds
from verify._index.session import HttpSession
from verify.errors import NetworkError

Responder = Callable[[BaseHTTPRequestHandler], None]

#: How long a trickling server keeps going at most, so that a client without a deadline
#: fails the time bound instead of hanging the test run.
TRICKLE_FOR = 30.0
#: A bound that --timeout 1 with 2 retries (a 4 s allowance) must meet with room to spare.
BOUND = 10.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.hits = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hanging up on a trickle is the point

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        server = cast(_Server, self.server)
        server.hits += 1
        server.responder(self)


@pytest.fixture
def serve() -> Iterator[Callable[[Responder], _Server]]:
    servers: list[_Server] = []

    def start(responder: Responder) -> _Server:
        server = _Server(responder)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def trickle(handler: BaseHTTPRequestHandler, data: bytes, every: float = 0.25) -> None:
    """Write ``data`` one byte at a time, for at most TRICKLE_FOR seconds."""
    stop = time.monotonic() + TRICKLE_FOR
    for byte in data:
        if time.monotonic() > stop:
            break
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(every)
    handler.close_connection = True


def trickled_body(handler: BaseHTTPRequestHandler) -> None:
    body = b"x" * 100_000
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    trickle(handler, body)


def trickled_headers(handler: BaseHTTPRequestHandler) -> None:
    trickle(handler, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 100_000 + b"\r\n\r\n")


def assert_deadline_error(exc: NetworkError, elapsed: float) -> None:
    assert elapsed < BOUND, f"took {elapsed:.1f} s"
    assert "127.0.0.1" in exc.one_line()
    assert "--timeout" in exc.one_line()


@pytest.mark.parametrize("responder", [trickled_body, trickled_headers])
def test_trickled_page_ends_at_the_deadline(
    serve: Callable[[Responder], _Server], responder: Responder
) -> None:
    server = serve(responder)
    started = time.monotonic()
    with HttpSession(timeout=1, retries=2) as session, pytest.raises(NetworkError) as caught:
        session.get_page(server.base + "/simple/demo/")
    assert_deadline_error(caught.value, time.monotonic() - started)


def test_trickled_download_ends_at_the_deadline(serve: Callable[[Responder], _Server]) -> None:
    server = serve(trickled_body)
    sink = io.BytesIO()
    started = time.monotonic()
    with HttpSession(timeout=1, retries=2) as session, pytest.raises(NetworkError) as caught:
        session.download(server.base + "/files/demo-1.0.tar.gz", sink)
    assert_deadline_error(caught.value, time.monotonic() - started)
    assert len(sink.getvalue()) < 1000


def test_retry_after_cannot_outlast_the_deadline(serve: Callable[[Responder], _Server]) -> None:
    def busy(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(503)
        handler.send_header("Retry-After", "20")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server = serve(busy)
    started = time.monotonic()
    with HttpSession(timeout=1, retries=2) as session:
        try:
            page = session.get_page(server.base + "/simple/demo/")
        except NetworkError as exc:
            assert_deadline_error(exc, time.monotonic() - started)
        else:
            assert page.status == 503
            assert time.monotonic() - started < BOUND


def test_slow_but_steady_download_outlives_the_grace_period(
    serve: Callable[[Responder], _Server],
) -> None:
    # 12 MiB at no more than about 4 MiB/s: longer than the 2 s allowed before any byte
    # arrives (--timeout 1, no retries), well within the 1 s per MiB received on top.
    size = 12 * 1024 * 1024
    piece = 64 * 1024

    def steady(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        for _ in range(size // piece):
            handler.wfile.write(b"z" * piece)
            time.sleep(piece / (4 * 1024 * 1024))

    server = serve(steady)
    sink = io.BytesIO()
    started = time.monotonic()
    with HttpSession(timeout=1, retries=0) as session:
        written = session.download(server.base + "/files/big-1.0.tar.gz", sink)
    assert written == size
    assert time.monotonic() - started > allowed_seconds(1, 0, received=0)


def test_allowance_formula() -> None:
    assert allowed_seconds(15, 3, received=0) == 75
    assert allowed_seconds(15, 3, received=2 * 1024 * 1024) == 105
    assert allowed_seconds(1, 0, received=0) == 2


def test_cli_exits_3_within_the_deadline(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    serve: Callable[[Responder], _Server],
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(dist_factory.wheel("demo", "1.0"))
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        f"demo==1.0 --hash=sha256:{package_index.files['demo-1.0-py3-none-any.whl'].sha256}\n"
    )
    server = serve(trickled_body)
    started = time.monotonic()
    code = main(
        [
            "check",
            "-r",
            str(lock),
            "--index-url",
            server.base + "/simple/",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--timeout",
            "1",
            "--retries",
            "2",
        ]
    )
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    assert code == 3
    assert elapsed < BOUND + 5  # the deadline, plus starting the check itself
    assert "did not finish" in captured.out + captured.err
