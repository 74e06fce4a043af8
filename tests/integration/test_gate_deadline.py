"""The upload gate bounds how long an upload may take to arrive (issue 15).

An upload that announces a body and never sends it used to hold its connection for minutes.
The gate runs as a subprocess on 127.0.0.1 with short limits; a raw socket plays the stalled
uploader.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers.dists import DistSpec, build_wheel
from tests.helpers.gate import GateProcess, post_upload
from tests.helpers.pypiserver import free_port

pytestmark = pytest.mark.integration

#: Headers of an upload that announces 100,000 bytes of body (Basic auth "u:p").
STALLED_HEADERS = (
    b"POST / HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\n"
    b"Authorization: Basic dTpw\r\n"
    b"Content-Type: multipart/form-data; boundary=xyz\r\n"
    b"Content-Length: 100000\r\n"
    b"\r\n"
)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "PIP_VERIFY_UP"))}


def _gate(tmp_path: Path, *extra: str, index: str | None = None) -> GateProcess:
    # Nothing listens upstream: no test here gets as far as forwarding.
    nowhere = f"http://127.0.0.1:{free_port()}/"
    return GateProcess(
        "--upstream",
        nowhere,
        "--quarantine",
        str(tmp_path / "quarantine"),
        "--no-public-check",
        "--cache-dir",
        str(tmp_path / "gate-cache"),
        "--no-record",
        "--retries",
        "0",
        *(["--index", index] if index else []),
        *extra,
        env=_env(),
    )


def _address(gate: GateProcess) -> tuple[str, int]:
    host, port = gate.url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    return host, int(port)


def _read_until_closed(conn: socket.socket) -> bytes:
    answer = b""
    while chunk := conn.recv(65536):
        answer += chunk
    return answer


@pytest.fixture
def stalled(tmp_path: Path) -> Iterator[GateProcess]:
    with _gate(tmp_path, "--upload-idle-timeout", "1") as gate:
        yield gate


def test_a_stalled_body_gets_408_and_the_connection_closes(stalled: GateProcess) -> None:
    with socket.create_connection(_address(stalled), timeout=30) as conn:
        conn.sendall(STALLED_HEADERS + b"--xyz\r\n")  # a little of the body, then nothing
        started = time.monotonic()
        answer = _read_until_closed(conn)  # returns once the gate closes the connection
        elapsed = time.monotonic() - started
    assert elapsed < 5, f"the gate held a stalled upload for {elapsed:.1f} s"
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"Connection: close" in answer
    assert b"no bytes of the request arrived for 1 s" in answer
    (logged,) = [d for d in stalled.wait_for_decisions(1) if d.get("event") == "timeout"]
    assert logged["status"] == 408


def test_headers_alone_without_a_body_get_408(stalled: GateProcess) -> None:
    with socket.create_connection(_address(stalled), timeout=30) as conn:
        conn.sendall(STALLED_HEADERS)
        started = time.monotonic()
        answer = _read_until_closed(conn)
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]


def test_a_trickled_body_meets_the_overall_deadline(tmp_path: Path) -> None:
    # One byte every 0.2 s is never idle for the 30 s default, but never done either.
    with (
        _gate(tmp_path, "--upload-deadline", "2") as gate,
        socket.create_connection(_address(gate), timeout=30) as conn,
    ):
        conn.sendall(STALLED_HEADERS)
        started = time.monotonic()
        answer = b""
        try:
            while time.monotonic() - started < 20 and not answer:
                conn.sendall(b"x")
                conn.settimeout(0.2)
                try:
                    answer = conn.recv(65536)
                except TimeoutError:
                    continue
            elapsed = time.monotonic() - started
            conn.settimeout(10)
            answer += _read_until_closed(conn)
        except (BrokenPipeError, ConnectionResetError):
            elapsed = time.monotonic() - started  # closed by the gate, answer or not
    assert elapsed < 8, f"the gate let a trickled upload run for {elapsed:.1f} s"
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"did not arrive in full within 2 s" in answer


def test_screening_longer_than_the_limits_is_not_cut_short(tmp_path: Path) -> None:
    # The deadlines are about the uploader's bytes: screening that waits on a silent index
    # for 3 s (--timeout) outlasts them and still gets its own answer, not 408.
    wheel = build_wheel(DistSpec("slowpkg", "1.0"), tmp_path / "dist")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        index = f"http://127.0.0.1:{silent.getsockname()[1]}/simple/"
        with (
            _gate(
                tmp_path,
                "--upload-idle-timeout",
                "1",
                "--upload-deadline",
                "1",
                "--timeout",
                "3",
                index=index,
            ) as gate,
            ThreadPoolExecutor(max_workers=1) as pool,
        ):
            started = time.monotonic()
            answer = pool.submit(post_upload, gate.url, wheel).result()
            elapsed = time.monotonic() - started
    assert elapsed >= 3
    assert answer.status_code != 408
    assert answer.status_code == 503, (answer.status_code, answer.reason)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
@pytest.mark.parametrize("option", ["--upload-idle-timeout", "--upload-deadline"])
def test_limits_must_be_positive_seconds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str, value: str
) -> None:
    from verify._cli import main

    argv = ["gate", "--upstream", "http://up.example/", "--quarantine", str(tmp_path)]
    with pytest.raises(SystemExit) as exited:
        main([*argv, option, value])
    assert exited.value.code == 2
    assert f"argument {option}" in capsys.readouterr().err
