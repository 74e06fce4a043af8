"""``pip-verify gate`` as a real subprocess on 127.0.0.1, and a twine-like upload client."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
from packaging.utils import parse_sdist_filename, parse_wheel_filename
from typing_extensions import Self

from tests.helpers.processes import stop_process

__all__ = ["GateProcess", "gate_args", "post_upload", "twine_upload", "write_htpasswd"]

_READY = re.compile(r"listening on (http://\S+?), forwarding")


def write_htpasswd(path: Path, user: str, password: str) -> Path:
    """An htpasswd file for pypiserver, with an Apache ``{SHA}`` entry (which passlib reads).

    Written here rather than with passlib, whose import warns about the deprecated ``crypt``.
    """
    digest = base64.b64encode(hashlib.sha1(password.encode(), usedforsecurity=False).digest())
    path.write_text(f"{user}:{{SHA}}{digest.decode()}\n", encoding="utf-8")
    return path


class GateProcess:
    """``python -m verify gate ...`` with ``--listen 127.0.0.1:0``; its stderr is collected."""

    #: The subcommand, and the line it prints once it listens (group 1: its URL).
    command = "gate"
    ready_line = _READY

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.env = env
        self.url = ""
        self.lines: list[str] = []
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> Self:
        environment = dict(os.environ if self.env is None else self.env)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "verify", self.command, "--listen", "127.0.0.1:0", *self.args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout=60) or not self.url:
            self.stop()
            raise RuntimeError(
                f"pip-verify {self.command} did not start:\n" + "\n".join(self.lines[-30:])
            )
        return self

    def _read(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self.lines.append(line.rstrip("\n"))
            match = self.ready_line.search(line)
            if match:
                self.url = match.group(1)
                self._ready.set()
        self._ready.set()

    def decisions(self) -> list[dict[str, Any]]:
        """The structured lines (decisions, requests) logged so far."""
        import json

        return [json.loads(line) for line in list(self.lines) if line.startswith("{")]

    def wait_for_decisions(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.decisions()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.decisions()

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self._process is not None and self._process.stderr is not None:
            self._process.stderr.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def post_upload(
    url: str,
    dist: Path,
    *,
    auth: tuple[str, str] | None = ("uploader", "secret"),
    fields: dict[str, str] | None = None,
    filename: str | None = None,
    timeout: float = 60,
) -> requests.Response:
    """POST ``dist`` the way twine does (the legacy upload API's multipart form)."""
    data = dist.read_bytes()
    if dist.name.endswith(".whl"):
        name, version, _build, _tags = parse_wheel_filename(dist.name)
        filetype, pyversion = "bdist_wheel", "py3"
    else:
        name, version = parse_sdist_filename(dist.name)
        filetype, pyversion = "sdist", "source"
    form = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "name": str(name),
        "version": str(version),
        "filetype": filetype,
        "pyversion": pyversion,
        "md5_digest": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "sha256_digest": hashlib.sha256(data).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(data, digest_size=32).hexdigest(),
        **(fields or {}),
    }
    return requests.post(
        url,
        data=form,
        files={"content": (filename or dist.name, data, "application/octet-stream")},
        auth=auth,
        timeout=timeout,
    )


def gate_args(tmp_path: Path, upstream_url: str, *extra: str) -> tuple[str, ...]:
    """The arguments of a gate in front of ``upstream_url`` for a test: its quarantine, cache
    and trust store under ``tmp_path``, the default policy without the provenance requirement
    (the tests' uploads carry none), no public-name check and no retries."""
    from tests.helpers.policies import without_provenance_requirement

    return (
        "--upstream",
        upstream_url,
        "--quarantine",
        str(tmp_path / "quarantine"),
        "--policy",
        str(without_provenance_requirement()),
        "--no-public-check",
        "--cache-dir",
        str(tmp_path / "gate-cache"),
        "--trust-store",
        str(tmp_path / "trust.toml"),
        "--retries",
        "0",
        *extra,
    )


def twine_upload(
    url: str,
    *files: Path,
    auth: tuple[str, str] = ("uploader", "secret"),
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``twine upload`` of ``files`` to ``url``, without any ``TWINE_*`` setting of the caller's,
    and wide enough that a refusal's reason stays on one line."""
    environment = {
        key: value
        for key, value in (os.environ if env is None else env).items()
        if not key.startswith("TWINE_")
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--repository-url",
            url,
            "--username",
            auth[0],
            "--password",
            auth[1],
            "--non-interactive",
            "--disable-progress-bar",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        env={**environment, "COLUMNS": "500"},
        timeout=120,
        check=False,
    )
