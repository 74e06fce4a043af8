"""``pip-verify proxy`` as a real subprocess on 127.0.0.1, and the workers that verify for it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from typing_extensions import Self

from tests.helpers.gate import GateProcess
from tests.helpers.processes import stop_process

__all__ = ["ProxyProcess", "ProxyWorkerProcess"]


class ProxyProcess(GateProcess):
    """``python -m verify proxy ...`` with ``--listen 127.0.0.1:0``; ``url`` is its root,
    ``index_url`` its simple API."""

    command = "proxy"
    ready_line = re.compile(r"listening on (http://\S+?/)simple/, verifying")

    @property
    def index_url(self) -> str:
        return self.url + "simple/"


class ProxyWorkerProcess:
    """``python -m verify worker --broker URL --proxy-upstream URL ...``, its output in
    ``log``; entering waits until Celery says the worker is ready."""

    READY_TIMEOUT = 60.0

    def __init__(self, broker_url: str, upstream_url: str, log: Path, *args: str) -> None:
        self.name = f"proxy-worker-{os.getpid()}-{time.monotonic_ns()}@localhost"
        self.command = [
            sys.executable,
            "-m",
            "verify",
            "worker",
            "--broker",
            broker_url,
            "--proxy-upstream",
            upstream_url,
            "--name",
            self.name,
            *args,
        ]
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""

    def __enter__(self) -> Self:
        with self.log.open("wb") as output:
            self._process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + self.READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the proxy worker exited early:\n{self.output()[-3000:]}")
            if f"{self.name} ready." in self.output():
                return self
            time.sleep(0.1)
        stop_process(self._process)
        raise RuntimeError(f"the proxy worker was not ready:\n{self.output()[-3000:]}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            stop_process(self._process, timeout=20)
