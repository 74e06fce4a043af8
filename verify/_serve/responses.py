"""HTTP answers the gate and the proxy both give: plain text with the reason in the status
line, the reviewers' sign-in challenge, and HTML with the headers a page of untrusted content
needs."""

from __future__ import annotations

from typing import Final

from werkzeug.wrappers import Response

from verify._serve.status import reason_phrase

__all__ = ["CHALLENGE_REALM", "challenge", "html_response", "text"]

#: The realm reviewers sign in to (HTTP Basic).
CHALLENGE_REALM: Final = "pip-verify review"


def text(status: int, reason: str, body: str, *, headers: dict[str, str] | None = None) -> Response:
    """A plain-text answer whose status line carries ``reason``."""
    response = Response(body, content_type="text/plain; charset=utf-8", headers=headers)
    response.status = f"{status} {reason_phrase(reason)}"
    return response


def challenge() -> Response:
    """401, asking for a reviewer's name and token."""
    return text(
        401,
        "Reviewer sign-in required",
        "sign in with a reviewer's name and token\n",
        headers={"WWW-Authenticate": f'Basic realm="{CHALLENGE_REALM}", charset="UTF-8"'},
    )


def html_response(body: str, csp: str) -> Response:
    """An HTML page that shows what packages hold: no scripts, frames or outside resources
    (``csp``), never framed, never sniffed, never cached."""
    return Response(
        body,
        content_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": csp,
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            # Not "no-referrer": with it, browsers send "Origin: null" on the form posts.
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        },
    )
