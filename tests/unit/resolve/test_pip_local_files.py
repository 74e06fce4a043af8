"""Issue 15: an http(s) index must not make pip-verify read local files through pip.

pip follows a ``file:`` link on an http(s) index page and records the ``file:`` URL in its
installation report. An index that serves pip (``User-Agent: pip/...``) another page than
pip-verify sees would otherwise get a local file of its choosing copied, hashed and reported.
A local file pip chose is verified only when the user named it or a local index or
``--find-links`` location the user gave may offer it.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest

from tests.helpers import DistFactory
from tests.helpers.cli import check_run
from tests.helpers.policies import without_provenance_requirement

WHEEL = "demo-1.0-py3-none-any.whl"


class _Server(ThreadingHTTPServer):
    """An index that shows pip one project page and everyone else another."""

    daemon_threads = True

    def __init__(self) -> None:
        #: path -> body, for any client
        self.routes: dict[str, bytes] = {}
        #: path -> body, for clients whose User-Agent starts with "pip/"
        self.pip_routes: dict[str, bytes] = {}
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass

    @property
    def index_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/simple/"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        server = cast(_Server, self.server)
        body = server.routes.get(self.path)
        if self.headers.get("User-Agent", "").startswith("pip/"):
            body = server.pip_routes.get(self.path, body)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
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


def link(url: str, sha256: str) -> bytes:
    return f'<html><body><a href="{url}#sha256={sha256}">{WHEEL}</a></body></html>'.encode()


@pytest.fixture
def published(dist_factory: DistFactory, server: _Server) -> Path:
    """demo 1.0 as the index publishes it to pip-verify."""
    wheel = dist_factory.wheel("demo", "1.0")
    server.routes["/files/" + WHEEL] = wheel.read_bytes()
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    server.routes["/simple/demo/"] = link("/files/" + WHEEL, sha)
    return wheel


@pytest.fixture
def secret(tmp_path: Path, dist_factory: DistFactory) -> Path:
    """A real wheel (so that pip resolves it) in a private directory, unlike the published one."""
    built = dist_factory.wheel("demo", "1.0", files={"demo/__init__.py": "TOKEN = 'private'\n"})
    path = tmp_path / "private" / WHEEL
    path.parent.mkdir()
    shutil.move(str(built), path)
    return path


def run_check(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> tuple[int, str]:
    """Run ``check`` with a JSON report; return the exit code and everything it wrote."""
    run = check_run(capsys, tmp_path, *argv, policy=without_provenance_requirement())
    return run.code, run.out + run.err + run.report


def assert_not_read(tmp_path: Path, output: str, secret: Path) -> None:
    assert hashlib.sha256(secret.read_bytes()).hexdigest() not in output
    cached = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert all(p.read_bytes() != secret.read_bytes() for p in cached)


def test_index_showing_pip_a_local_file_fails_closed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    server: _Server,
    published: Path,
    secret: Path,
) -> None:
    # pip computes the digest itself, so the page need not know it.
    server.pip_routes["/simple/demo/"] = (
        f'<html><body><a href="{secret.as_uri()}">{WHEEL}</a></body></html>'.encode()
    )
    code, output = run_check(capsys, tmp_path, "demo", "--index-url", server.index_url)
    assert code == 3
    [line] = [line for line in output.splitlines() if "local file" in line]
    assert "demo 1.0" in line
    assert secret.as_uri() in line
    assert "check what the index serves" in line
    assert_not_read(tmp_path, output, secret)


def test_local_file_pip_refused_for_its_digest_is_not_read_either(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    server: _Server,
    published: Path,
    secret: Path,
) -> None:
    # A wrong digest on the link: pip stops, names the file, and pip-verify would verify it.
    server.pip_routes["/simple/demo/"] = link(secret.as_uri(), "00" * 32)
    code, output = run_check(capsys, tmp_path, "demo", "--index-url", server.index_url)
    assert code == 3
    assert secret.as_uri() in output
    assert_not_read(tmp_path, output, secret)


def test_same_page_for_everyone_still_verifies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, server: _Server, published: Path
) -> None:
    code, output = run_check(capsys, tmp_path, "demo", "--index-url", server.index_url)
    assert code == 0, output
    assert hashlib.sha256(published.read_bytes()).hexdigest() in output


def test_local_find_links_directory_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, secret: Path
) -> None:
    code, output = run_check(
        capsys, tmp_path, "demo", "--no-index", "--find-links", str(secret.parent)
    )
    assert code != 3, output
    assert hashlib.sha256(secret.read_bytes()).hexdigest() in output


def test_find_links_in_a_requirements_file_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, secret: Path
) -> None:
    requirements = tmp_path / "requirements.txt"
    # Relative to the requirements file, as pip reads it.
    requirements.write_text("--find-links private\ndemo\n")
    code, output = run_check(capsys, tmp_path, "-r", str(requirements), "--no-index")
    assert code != 3, output
    assert hashlib.sha256(secret.read_bytes()).hexdigest() in output


def test_find_links_in_pips_configuration_is_read(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    secret: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nno-index = true\nfind-links = {secret.parent}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    code, output = run_check(capsys, tmp_path, "demo")
    assert code != 3, output
    assert hashlib.sha256(secret.read_bytes()).hexdigest() in output


def test_find_links_directory_does_not_vouch_for_files_outside_it(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    server: _Server,
    published: Path,
    secret: Path,
) -> None:
    server.pip_routes["/simple/demo/"] = (
        f'<html><body><a href="{secret.as_uri()}">{WHEEL}</a></body></html>'.encode()
    )
    elsewhere = tmp_path / "wheels"
    elsewhere.mkdir()
    code, output = run_check(
        capsys,
        tmp_path,
        "demo",
        "--index-url",
        server.index_url,
        "--find-links",
        str(elsewhere),
    )
    assert code == 3
    assert_not_read(tmp_path, output, secret)


def test_a_file_the_user_names_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, server: _Server, secret: Path
) -> None:
    code, output = run_check(
        capsys, tmp_path, f"demo @ {secret.as_uri()}", "--index-url", server.index_url
    )
    assert code != 3, output
    assert hashlib.sha256(secret.read_bytes()).hexdigest() in output
