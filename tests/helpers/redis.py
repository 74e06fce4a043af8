"""A real ``redis-server`` on 127.0.0.1, started as a subprocess for the queue tests.

It keeps nothing on disk (``--save ''``, ``--appendonly no``) and lives in its own
temporary directory. Tests that need it are skipped, with the reason, when the binary is
missing or does not start.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest

from tests.helpers.processes import stop_process
from tests.helpers.pypiserver import free_port

__all__ = ["RedisServer", "ping"]

#: How long the server may take to answer its first PING (seconds).
START_TIMEOUT = 10.0


def ping(port: int, *, timeout: float = 1.0) -> bool:
    """Whether a Redis server on 127.0.0.1:``port`` answers PING (no client library needed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """``redis-server`` on a free port of 127.0.0.1; a context manager that stops it on exit.

    :meth:`start` calls :func:`pytest.skip` when ``redis-server`` is not installed or does
    not start.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def url(self, db: int = 0) -> str:
        """The Redis URL of database ``db``."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING (or skip the test)."""
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed: apt-get install redis-server")
        if self.directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="pip-verify-redis-")
            self.directory = Path(self._tmp.name)
        self.directory.mkdir(parents=True, exist_ok=True)
        atexit.register(self.close)
        failure = ""
        for _attempt in range(3):  # another process may take the free port first
            failure = self._start_once(binary, self.directory)
            if not failure:
                return self
        self.close()
        pytest.skip(f"redis-server did not start: {failure}")

    def _start_once(self, binary: str, directory: Path) -> str:
        self.port = free_port()
        log = directory / f"redis-{self.port}.log"
        self._process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
                "--logfile",
                str(log),
                "--daemonize",
                "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if ping(self.port, timeout=0.5):
                return ""
            time.sleep(0.05)
        self._stop()
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        return "; ".join(tail) or f"no answer on port {self.port} within {START_TIMEOUT:g} s"

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        stop_process(process)

    def close(self) -> None:
        """Stop the server and remove its directory (if this object made it)."""
        self._stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
