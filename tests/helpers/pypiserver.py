"""A real pypiserver on 127.0.0.1, started as a subprocess for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import requests

from tests.helpers.processes import stop_process

__all__ = ["PypiServer", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PypiServer:
    """``pypi-server run`` serving ``directory``, with no fallback to any public index."""

    def __init__(self, directory: Path, *, extra_args: tuple[str, ...] = ()) -> None:
        self.directory = directory
        self.port = free_port()
        self.extra_args = extra_args
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The simple API root."""
        return f"http://127.0.0.1:{self.port}/simple/"

    def start(self) -> PypiServer:
        """Start the server and wait until it answers."""
        if shutil.which("pypi-server") is None and not _module_available():
            raise RuntimeError("pypiserver is not installed")
        self.directory.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pypiserver",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--disable-fallback",
                "--log-stream",
                "none",
                *self.extra_args,
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"pypiserver exited early: {stderr[-2000:]}")
            try:
                if requests.get(self.url, timeout=1).status_code < 500:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError("pypiserver did not start within 30 s")

    def close(self) -> None:
        """Stop the server."""
        if self._process is not None:
            stop_process(self._process)
            if self._process.stderr is not None:
                self._process.stderr.close()
            self._process = None

    def __enter__(self) -> PypiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _module_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("pypiserver") is not None
