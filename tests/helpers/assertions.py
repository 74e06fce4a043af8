"""Small assertion helpers shared by the tests."""

from __future__ import annotations

__all__ = ["assert_no_traceback"]

_MARKERS = ("Traceback (most recent call last)", "During handling of the above exception")


def assert_no_traceback(output: str) -> None:
    """Fail when ``output`` (a command's stdout/stderr) contains a Python traceback."""
    for marker in _MARKERS:
        if marker in output:
            raise AssertionError(f"unexpected Python traceback in output:\n{output}")
