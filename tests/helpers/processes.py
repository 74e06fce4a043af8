"""Stopping the servers tests start as subprocesses."""

from __future__ import annotations

import subprocess

__all__ = ["stop_process"]


def stop_process(
    process: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 10
) -> None:
    """SIGTERM, then SIGKILL if ``process`` has not ended within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
