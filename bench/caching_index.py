"""A loopback package index that lets clients cache, for measuring warm checks.

The index this machine reaches serves its project pages with no ``Cache-Control`` and no
validators, so every warm check downloads them again; the public index sends both. This
server stands in for such an index on ``127.0.0.1``: it serves the distribution files of one
directory with PEP 691 JSON pages (``sha256`` and size for every file), an ``ETag`` on every
page (answering ``If-None-Match`` with 304) and ``Cache-Control: max-age``. Like the public
index, its pages speak PEP 740 (API version 1.3): every file lists its ``provenance``, here
``null`` since these files have none, so clients know there is nothing to ask the Integrity API
for. Standard library only, like the rest of the harness.

It also answers OSV API queries (``POST /v1/query``) with "no known vulnerabilities": the OSV
API is not reachable from the benchmark machine, and a warm check against an unreachable one
spends its time on the failure instead of reusing the answers it would have kept. This stands
in for a reachable API; it measures the warm path, not OSV.

    python bench/caching_index.py DIR [--port N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

#: How long clients may use a page without asking again.
PAGE_MAX_AGE = 600
_JSON = "application/vnd.pypi.simple.v1+json"
_SUFFIXES = (".whl", ".tar.gz", ".zip")


def _project(filename: str) -> str | None:
    """The normalized project name a distribution filename starts with."""
    if filename.endswith(".whl"):
        name = filename.split("-", 1)[0]
    elif filename.endswith(_SUFFIXES):
        name = filename.rsplit("-", 1)[0]
    else:
        return None
    return re.sub(r"[-_.]+", "-", name).lower()


class _Index:
    """The pages of every project in ``directory``, built once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        files: dict[str, list[dict[str, object]]] = {}
        for path in sorted(directory.iterdir()):
            project = _project(path.name)
            if project is None or not path.is_file():
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            files.setdefault(project, []).append(
                {
                    "filename": path.name,
                    "url": f"../../files/{path.name}",
                    "hashes": {"sha256": digest},
                    "size": path.stat().st_size,
                    "provenance": None,
                }
            )
        self.pages: dict[str, bytes] = {
            project: json.dumps(
                {"meta": {"api-version": "1.3"}, "name": project, "files": entries}
            ).encode()
            for project, entries in files.items()
        }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the benchmark prints its own progress

    def do_GET(self) -> None:
        path = unquote(self.path.split("?", 1)[0])
        index = self.server.index
        if path.startswith("/simple/") and path.endswith("/"):
            body = index.pages.get(path[len("/simple/") : -1])
            if body is None:
                self._send(404, b"not found\n", "text/plain")
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            headers = {"ETag": etag, "Cache-Control": f"max-age={PAGE_MAX_AGE}"}
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", None, headers)
            else:
                self._send(200, body, _JSON, headers)
        elif path.startswith("/files/") and "/" not in path[len("/files/") :]:
            file = index.directory / path[len("/files/") :]
            if not file.is_file():
                self._send(404, b"not found\n", "text/plain")
                return
            headers = {"Cache-Control": "max-age=31536000, immutable"}
            self._send(200, file.read_bytes(), "application/octet-stream", headers)
        else:
            self._send(404, b"not found\n", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(min(length, 1 << 20))
        if self.path == "/v1/query":
            self._send(200, b"{}", "application/json")
        else:
            self._send(404, b"not found\n", "text/plain")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, directory: Path, port: int) -> None:
        self.index = _Index(directory)
        super().__init__(("127.0.0.1", port), _Handler)


@contextmanager
def caching_index(directory: Path, port: int = 0) -> Iterator[str]:
    """Serve ``directory`` on loopback while the block runs; yield the index URL. The OSV
    stand-in is at the same host's root (``--osv-url http://127.0.0.1:PORT``)."""
    server = _Server(directory, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with caching_index(args.directory, args.port) as url:
        print(f"serving {args.directory} at {url} (Ctrl-C to stop)", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
