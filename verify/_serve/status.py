"""What an HTTP status line may say: the reason phrase twine, pip and uv print when the gate
or the proxy refuses something. Pure text, so the queue's workers use it without a web
framework installed."""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_REASON", "reason_phrase"]

#: An HTTP reason phrase is one line of latin-1; twine, pip and uv print it as the reason.
MAX_REASON: Final = 300


def reason_phrase(text: str, limit: int = MAX_REASON) -> str:
    """``text`` as an HTTP reason phrase (RFC 9112): one line of latin-1, at most ``limit``
    characters; twine, pip and uv print it as the reason of a refusal."""
    flat = " ".join(text.split())
    flat = flat.encode("latin-1", "replace").decode("latin-1")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
