"""The review page's routes, served by the proxy and by the gate:

* ``GET /-/review``: the list of what was blocked;
* ``GET /-/review/<sha256>``: one file's detail, with the decision form for a reviewer;
* ``POST /-/review/<sha256>``: a decision (``action``, ``reason``, ``expires``, ``csrf``),
  answered with a redirect back to the detail (303), whose history then shows it.
"""

from __future__ import annotations

import json
import logging
import re

from werkzeug.wrappers import Request, Response

from verify._format.html import CSP, ActionForm, render_detail, render_list
from verify._serve.responses import challenge, html_response, text
from verify._serve.review import Review, ReviewError

__all__ = ["PREFIX", "ReviewPages"]

#: Where the review page is served.
PREFIX = "/-/review"

_SHA256 = re.compile(r"[0-9a-f]{64}")


class ReviewPages:
    """The routes under :data:`PREFIX`, over ``review`` (``None``: not configured, 404).

    Decisions are logged to ``logger`` as one JSON line each.
    """

    def __init__(self, review: Review | None, logger: logging.Logger) -> None:
        self.review = review
        self._logger = logger

    @staticmethod
    def serves(path: str) -> bool:
        """Whether ``path`` is one of the review page's."""
        return path == PREFIX or path.startswith(PREFIX + "/")

    def answer(self, request: Request) -> Response:
        """Answer a request for one of the review page's paths."""
        review = self.review
        if review is None:
            return text(404, "Not Found", "the review page is not configured\n")
        rest = request.path[len(PREFIX) :].lstrip("/")
        auth = request.authorization
        who = review.reviewers.who(auth.username if auth else None, auth.password if auth else None)
        if request.method == "POST":
            return self._decide(request, review, who, rest)
        if request.method not in ("GET", "HEAD"):
            return text(405, "Method Not Allowed", "GET or POST\n", headers={"Allow": "GET, POST"})
        if who is None and not review.public:
            return challenge()
        if not rest:
            return html_response(
                render_list(review.rows(PREFIX + "/"), title=review.source.title), CSP
            )
        view = review.detail(rest) if _SHA256.fullmatch(rest) else None
        if view is None:
            return text(404, "Not Found", "nothing blocked has that sha256\n")
        form = ActionForm(f"{PREFIX}/{rest}", review.csrf(who, rest)) if who else None
        return html_response(render_detail(view, form=form), CSP)

    def _decide(self, request: Request, review: Review, who: str | None, rest: str) -> Response:
        if who is None:
            return challenge()
        if not _SHA256.fullmatch(rest):
            return text(404, "Not Found", "nothing blocked has that sha256\n")
        origin = request.headers.get("Origin")
        if origin is not None and origin != request.host_url.rstrip("/"):
            return text(403, "Cross-origin decision refused", "cross-origin form refused\n")
        form = request.form
        if not review.csrf_ok(who, rest, form.get("csrf", "")):
            return text(403, "Stale or forged form", "reload the page and decide again\n")
        try:
            decision = review.decide(
                rest, who, form.get("action", ""), form.get("reason", ""), form.get("expires", "")
            )
        except ReviewError as exc:
            return text(400, str(exc), f"{exc}\n")
        except OSError as exc:
            # Not kept: the reviewer must not think it was.
            self._logger.error("could not keep a review decision: %s", exc)
            return text(503, "The decision was not kept", f"the decision was not kept: {exc}\n")
        self._logger.info(
            json.dumps(
                {
                    "event": "review",
                    "sha256": rest,
                    "by": who,
                    "action": decision.action.value,
                    "reason": decision.reason,
                    "expires": decision.expires.isoformat() if decision.expires else None,
                },
                sort_keys=True,
            )
        )
        return Response(status=303, headers={"Location": f"{PREFIX}/{rest}"})
