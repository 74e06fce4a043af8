"""A loopback OSV-compatible API (``POST /v1/query``) for the vulnerability tests.

Each test gives the answer function; the server records every request it gets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest

__all__ = ["Answer", "OsvHandler", "OsvServer", "Serve", "serve"]

Answer = Callable[["OsvHandler", dict[str, Any]], None]


class OsvServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        #: (path, headers, JSON body) of every request.
        self.hits: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        super().__init__(("127.0.0.1", 0), OsvHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class OsvHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        server = cast(OsvServer, self.server)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.hits.append((self.path, dict(self.headers.items()), body))
        if self.path != "/v1/query":
            self.send_json({"code": 5, "message": "Not Found"}, status=404)
            return
        server.answer(self, body)

    def send_json(self, payload: object, *, status: int = 200) -> None:
        self.send_raw(json.dumps(payload).encode(), status=status)

    def send_raw(
        self, body: bytes, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


Serve = Callable[[Answer], OsvServer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[OsvServer] = []

    def start(answer: Answer) -> OsvServer:
        server = OsvServer(answer)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
