"""When pip's resolver crashes on a malformed index page, say what it crashed on (issue 15).

pip reports a crash as ``ERROR: Exception:`` and a traceback; the error used to be that
header alone. A real pip runs against an index on 127.0.0.1 that serves a broken page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from verify._resolve.pip_report import PipResolveRequest, resolve_with_pip
from verify.errors import ResolutionError
from verify.settings import ResolutionSettings

JSON_TYPE = "application/vnd.pypi.simple.v1+json"

#: Project pages pip cannot read, and the exception pip (26.x) ends its traceback with.
PAGES = {
    "truncated JSON": (
        b'{"meta": {"api-version": "1.0"}, "name": "demo", "files": [',
        "JSONDecodeError",
    ),
    "files not a list": (
        b'{"meta": {"api-version": "1.0"}, "name": "demo", "files": 5}',
        "TypeError",
    ),
    "deeply nested": (b"[" * 50_000, "RecursionError"),
}


class _Broken(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def broken_index(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an index whose every page is ``request.param``."""
    handler = type("Handler", (_Broken,), {"body": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    ("broken_index", "exception"),
    list(PAGES.values()),
    ids=list(PAGES),
    indirect=["broken_index"],
)
def test_pip_crash_names_the_exception(broken_index: str, exception: str) -> None:
    request = PipResolveRequest(
        requirements=("demo",), resolution=ResolutionSettings(index_url=broken_index), retries=1
    )
    with pytest.raises(ResolutionError) as info:
        resolve_with_pip(request)
    message = info.value.message
    assert message.startswith("pip could not resolve the requirements: pip failed with ")
    assert exception in message
    assert not message.rstrip().endswith("Exception:")
    assert "\n" not in info.value.one_line()
    assert info.value.hint is not None
    assert "malformed page" in info.value.hint


# Captured from pip 26.3 against the "files not a list" page (paths shortened).
CAPTURED = """\
ERROR: Exception:
Traceback (most recent call last):
  File "/venv/site-packages/pip/_internal/cli/base_command.py", line 110, in _run_wrapper
    status = _inner_run()
             ^^^^^^^^^^^^
  File "/venv/site-packages/pip/_internal/index/collector.py", line 229, in parse_links
    for file in data.get("files", []):
TypeError: 'int' object is not iterable
"""

CHAINED = """\
ERROR: Exception:
Traceback (most recent call last):
  File "/venv/site-packages/pip/_internal/network/session.py", line 1, in get
    raise KeyError("x")
KeyError: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/venv/site-packages/pip/_internal/cli/base_command.py", line 110, in _run_wrapper
    status = _inner_run()
ValueError: page of https://bot:s3cret@index.example/simple/demo/ is broken
"""


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (CAPTURED, "pip failed with TypeError: 'int' object is not iterable"),
        (
            CHAINED,
            "pip failed with ValueError: page of https://bot:***@index.example/simple/demo/ "
            "is broken",
        ),
        # Ordinary errors keep pip's own first error line.
        (
            "ERROR: Could not find a version that satisfies the requirement demo\n"
            "ERROR: No matching distribution found for demo\n",
            "Could not find a version that satisfies the requirement demo",
        ),
        ("WARNING: something\nlast words\n", "last words"),
        ("", "no error message"),
    ],
    ids=["crash", "chained crash", "pip error", "no ERROR line", "silent"],
)
def test_error_line_of_captured_stderr(
    monkeypatch: pytest.MonkeyPatch, stderr: str, expected: str
) -> None:
    import subprocess

    def fake_run(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 2, stdout="", stderr=stderr)

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(ResolutionError) as info:
        resolve_with_pip(PipResolveRequest(requirements=("demo",)))
    assert info.value.message == f"pip could not resolve the requirements: {expected}"
