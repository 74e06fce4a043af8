"""The proxy's WSGI application: the simple API and the files, over :class:`VerifiedIndex`.

Routes (GET and HEAD only):

* ``/simple/``: the projects listed so far;
* ``/simple/<project>/``: the project's page, PEP 691 JSON or PEP 503 HTML by the ``Accept``
  header (HTML when the client states no preference, as PEP 691 says); a name that is not
  normalized is redirected to its normalized form, as the public index does;
* ``/files/<sha256>/<filename>``: the verified bytes, or 403 / 404 / 503 with the reason in
  the status line (pip and uv print it) and in the body; ``<filename>.metadata``: a verified
  wheel's core metadata file (PEP 658), read from the verified bytes;
* ``/-/review`` and ``/-/review/<sha256>``: the review page, when reviewers are configured
  (:mod:`verify._serve.review_pages`); a decision is a form POST to the detail page;
* ``/health``: 200.

Pages carry an ``ETag`` and ``Cache-Control: no-cache``: what a page lists changes as files
are verified, so clients revalidate every time (a 304 costs them almost nothing). One JSON
log line is written per request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

try:
    from werkzeug.wrappers import Request, Response
    from werkzeug.wsgi import wrap_file
except ImportError:
    from verify._upload import gate_extra_missing

    raise gate_extra_missing() from None

from verify._proxy.index import VerifiedIndex, project_name
from verify._proxy.pages import HTML_TYPE, JSON_TYPE, render_html, render_json, render_root
from verify._serve.responses import text as _text
from verify._serve.review import Review
from verify._serve.review_pages import ReviewPages
from verify.errors import IncompleteError

__all__ = ["ProxyApp"]

logger = logging.getLogger("verify.proxy")

#: What a client may ask for, best first when it has no preference of its own: HTML first,
#: as PEP 691 recommends for a server answering ``*/*``.
_OFFERED = (HTML_TYPE, "text/html", JSON_TYPE)


class ProxyApp:
    """The WSGI application serving ``index``."""

    def __init__(self, index: VerifiedIndex, review: Review | None = None) -> None:
        self.index = index
        self.review = ReviewPages(review, logger)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """WSGI entry point."""
        request = Request(environ)
        # The only bodies the proxy reads are the review's small forms.
        request.max_content_length = 64 * 1024
        request.max_form_memory_size = 64 * 1024
        started = time.monotonic()
        try:
            response = self.handle(request)
        except Exception:  # a bug: nothing unverified is served, and the next request runs
            logger.exception("pip-verify proxy: internal error answering %s", request.path)
            response = _text(500, "pip-verify proxy internal error", "internal error\n")
        logger.info(
            json.dumps(
                {
                    "event": "request",
                    "path": request.path[:300],
                    "status": response.status_code,
                    "seconds": round(time.monotonic() - started, 3),
                },
                sort_keys=True,
            )
        )
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        path = request.path
        if self.review.serves(path):
            return self.review.answer(request)
        if request.method not in ("GET", "HEAD"):
            return _text(405, "Method Not Allowed", "only GET\n", headers={"Allow": "GET, HEAD"})
        if path in ("/health", "/healthz"):
            return _text(200, "OK", "ok\n")
        if path in ("/simple", "/simple/"):
            return self._root(request)
        if path.startswith("/simple/"):
            return self._page(request, path[len("/simple/") :])
        if path.startswith("/files/"):
            return self._file(request, path[len("/files/") :])
        return _text(404, "Not Found", "not found\n")

    def _root(self, request: Request) -> Response:
        kind = _negotiate(request)
        if kind is None:
            return _not_acceptable()
        body = render_root(self.index.listings.projects(), as_json=kind == JSON_TYPE)
        return _page(request, body, kind)

    def _page(self, request: Request, rest: str) -> Response:
        requested = rest[:-1] if rest.endswith("/") else rest
        project = project_name(requested) if "/" not in requested else None
        if project is None:
            return _text(404, "Not Found", "not a project name\n")
        if requested != project or not rest.endswith("/"):
            response = Response(status=301, headers={"Location": f"/simple/{project}/"})
            return response
        kind = _negotiate(request)
        if kind is None:
            return _not_acceptable()
        try:
            view = self.index.page(project)
        except IncompleteError as exc:
            reason = f"pip-verify cannot reach the upstream: {exc.one_line()}"
            return _text(503, reason, reason + "\n")
        if view is None:
            return _text(404, "Not Found", f"no project named {project} on the upstream\n")
        body = render_json(view) if kind == JSON_TYPE else render_html(view)
        return _page(request, body, kind)

    def _file(self, request: Request, rest: str) -> Response:
        sha256, _, filename = rest.partition("/")
        if filename.endswith(".whl.metadata"):
            return self._metadata(sha256, filename.removesuffix(".metadata"))
        answer = self.index.file(sha256, filename)
        if answer.path is None:
            return _text(answer.status, answer.reason, answer.reason + "\n")
        handle = answer.path.open("rb")
        size = answer.path.stat().st_size
        response = Response(
            wrap_file(request.environ, handle),
            content_type="application/octet-stream",
            direct_passthrough=True,
            headers={
                "Content-Length": str(size),
                # The bytes behind a digest never change.
                "Cache-Control": "max-age=31536000, immutable",
            },
        )
        return response

    def _metadata(self, sha256: str, filename: str) -> Response:
        answer = self.index.metadata(sha256, filename)
        if answer.content is None:
            return _text(answer.status, answer.reason, answer.reason + "\n")
        return Response(
            answer.content,
            content_type="application/octet-stream",
            headers={"Cache-Control": "max-age=31536000, immutable"},
        )


def _negotiate(request: Request) -> str | None:
    """The page type to answer with, or ``None`` when the client accepts none of them."""
    if not request.accept_mimetypes:
        return HTML_TYPE
    best = request.accept_mimetypes.best_match(_OFFERED)
    if best is None:
        return None
    return HTML_TYPE if best == "text/html" else best


def _page(request: Request, body: bytes, kind: str) -> Response:
    etag = hashlib.sha256(body).hexdigest()[:32]
    response = Response(body, content_type=kind, headers={"Cache-Control": "no-cache"})
    response.set_etag(etag)
    response.vary.add("Accept")
    return response.make_conditional(request)


def _not_acceptable() -> Response:
    return _text(406, "Not Acceptable", f"ask for {JSON_TYPE} or text/html\n")
