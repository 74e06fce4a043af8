"""The upload gate: a WSGI application between uploaders and a private index.

For each upload (the legacy upload API's multipart POST), in this order:

1. the raw body is spooled to disk, at most ``max_upload_bytes`` (400 beyond);
2. it is parsed and validated (:mod:`verify._upload.form`; 400 for anything malformed);
3. the distribution is screened (:func:`verify._upload.verdict.screen_file`, or a worker
   through the queue);
4. accepted: the *same bytes* are forwarded to the upstream index with the uploader's own
   ``Authorization`` and ``Content-Type``, and the uploader gets the upstream's answer;
   refused: 403 with a one-line reason (twine prints the reason phrase) and the upload goes
   to the quarantine, unless a reviewer allowed these exact bytes on the review page (then it
   is forwarded as if accepted); screening incomplete or upstream unreachable: 503, nothing
   published.

The review page (``/-/review``, :mod:`verify._serve.review_pages`) lists the quarantine for
the reviewers named at start-up.

Refusals are never 409, nor a 400 that says "already exists": ``twine --skip-existing``
takes those for success. One JSON log line is written per decision.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

try:
    from werkzeug.datastructures import Authorization
    from werkzeug.wrappers import Request, Response
except ImportError:  # before the form parser, which needs Werkzeug too
    from verify._upload import gate_extra_missing

    raise gate_extra_missing() from None

from verify._index.session import HttpSession, UploadResponse
from verify._index.urls import redact
from verify._serve.decisions import Decision, DecisionLog
from verify._serve.review import Review
from verify._serve.review_pages import PREFIX, ReviewPages
from verify._serve.status import reason_phrase
from verify._upload import DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_UPLOAD, DEFAULT_REQUEST_DEADLINE
from verify._upload.form import BadUpload, UploadForm, copy_body, parse_upload
from verify._upload.quarantine import HeldUpload, Quarantine
from verify._upload.verdict import Outcome, Verdict, screen_file
from verify.errors import ArchiveError, IncompleteError, UsageError, VerifyError
from verify.policy import Policy
from verify.screen import ScreenSettings
from verify.trust_store import TrustStore

__all__ = ["GateConfig", "LocalScreener", "Screener", "UploadGate"]

logger = logging.getLogger("verify.gate")


class Screener(Protocol):
    """Screens one distribution file whose attestations lie beside it."""

    def screen(self, path: Path) -> Verdict:
        """The verdict; raises :class:`~verify.errors.VerifyError` when it cannot decide."""
        ...


class LocalScreener:
    """Screens in this process (the default; the queue's workers use the same call)."""

    def __init__(self, settings: ScreenSettings, policy: Policy) -> None:
        self.settings = settings
        self.policy = policy

    def screen(self, path: Path) -> Verdict:
        """See :class:`Screener`."""
        return screen_file(path, self.settings, policy=self.policy)


@dataclass(frozen=True, slots=True)
class GateConfig:
    """How the gate runs."""

    #: The upstream index's upload URL (pypiserver: its root; devpi: the index URL).
    upstream_url: str
    #: Where uploads are spooled while they are screened (emptied at start-up).
    work_dir: Path
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    #: Refuse uploads without credentials before doing any work (401).
    require_auth: bool = True
    #: The trust store that learns first-seen publishers, once the upstream took the upload
    #: (screening itself records nothing); ``None``: record nothing.
    trust_store: Path | None = None
    #: Seconds without a byte of an upload before the server answers 408 and closes the
    #: connection (see :func:`verify._upload.server.serve`, which enforces both limits).
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    #: Seconds an upload may take to arrive in full before the server answers 408.
    request_deadline: float = DEFAULT_REQUEST_DEADLINE


class UploadGate:
    """The WSGI application. Safe to call from many threads at once."""

    def __init__(
        self,
        config: GateConfig,
        *,
        screener: Screener,
        quarantine: Quarantine,
        session: HttpSession,
        decisions: DecisionLog | None = None,
        review: Review | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.screener = screener
        self.quarantine = quarantine
        self.session = session
        #: Reviewers' decisions: an upload whose bytes a reviewer allowed is forwarded
        #: although screening refuses it (``None``: no reviewer can overrule screening).
        self.decisions = decisions
        self.review = ReviewPages(review, logger)
        self._clock = clock
        self._spool = _Spool(config.work_dir)

    def close(self) -> None:
        """Release the spool (uploads in flight are abandoned, as in a crash)."""
        self._spool.close()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """WSGI entry point."""
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        if self.review.serves(request.path):
            # The review's forms are small; an upload is never posted here.
            request.max_content_length = 64 * 1024
            request.max_form_memory_size = 64 * 1024
            return self.review.answer(request)
        if request.method in ("GET", "HEAD"):
            if request.path in ("/health", "/healthz"):
                return _text(200, "OK", "ok\n")
            return _text(
                405,
                "Method Not Allowed",
                "pip-verify gate: POST uploads here (twine upload --repository-url URL)\n",
                headers={"Allow": "POST"},
            )
        if request.method != "POST":
            return _text(405, "Method Not Allowed", "only POST\n", headers={"Allow": "POST"})
        started = self._clock()
        record: dict[str, Any] = {
            "event": "upload",
            "client": _client(request),
            "uploader": _uploader(request.authorization),
        }
        response = self._upload(request, record)
        record["status"] = response.status_code
        record["seconds"] = round(self._clock() - started, 3)
        logger.info(json.dumps(record, sort_keys=True))
        return response

    def _upload(self, request: Request, record: dict[str, Any]) -> Response:
        if self.config.require_auth and request.authorization is None:
            record["decision"] = "unauthenticated"
            return _text(
                401,
                "Credentials required",
                "pip-verify gate: send the upstream index's credentials\n",
                headers={"WWW-Authenticate": 'Basic realm="pip-verify gate"'},
            )
        work = self._spool.path / uuid.uuid4().hex
        work.mkdir(mode=0o700)
        try:
            return self._screen_and_route(request, work, record)
        except Exception:  # a bug: fail closed, publish nothing, keep serving the others
            logger.exception("pip-verify gate: internal error while handling an upload")
            record["decision"] = "internal-error"
            return _refusal(
                500,
                "pip-verify gate internal error",
                "pip-verify gate: internal error; nothing was published (see the gate's log)",
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _screen_and_route(self, request: Request, work: Path, record: dict[str, Any]) -> Response:
        body = work / "request.body"
        content_type = request.headers.get("Content-Type", "")
        try:
            size = copy_body(
                request.stream,
                body,
                limit=self.config.max_upload_bytes,
                declared=request.content_length,
            )
            with body.open("rb") as stream:
                form = parse_upload(
                    stream, content_type=content_type, content_length=size, dest=work / "dist"
                )
        except BadUpload as exc:
            record["decision"] = "bad-request"
            record["reason"] = exc.one_line()
            return _refusal(400, "Bad upload: " + exc.message, exc.one_line())
        record.update(
            filename=form.filename,
            name=form.name,
            version=form.version,
            sha256=form.sha256,
            attestations=len(form.attestations),
        )
        try:
            verdict = self.screener.screen(form.path)
        except ArchiveError as exc:  # the file itself is unusable: not a valid archive
            record["decision"] = "bad-request"
            record["reason"] = exc.one_line()
            return _refusal(400, f"Bad upload: {exc.message}", exc.one_line())
        except VerifyError as exc:
            # The gate's own set-up (a trust store or trust root it cannot read) or a service
            # it needs: not the uploader's fault, and worth retrying once fixed.
            record["decision"] = "unavailable"
            record["reason"] = exc.one_line()
            if isinstance(exc, UsageError):
                logger.error("pip-verify gate: cannot screen uploads: %s", exc.one_line())
            return _refusal(
                503,
                f"pip-verify could not screen {form.filename}: {exc.message}",
                exc.one_line() + "\nnothing was published; try again later",
            )
        record["reason"] = verdict.reason
        if verdict.exit_code == 2:
            # A worker's answer for what screen_file raises here: the file is unusable.
            record["decision"] = "bad-request"
            return _refusal(400, f"Bad upload: {verdict.reason}", verdict.reason)
        if verdict.outcome is Outcome.REFUSE:
            allowed = self._allowed(form.sha256)
            if allowed is None:
                return self._hold(request, form, verdict, body, record)
            # A reviewer read this refusal's report and allowed these exact bytes.
            record["allowed_by"] = allowed.by
            record["allowed_because"] = allowed.reason
        if verdict.outcome is Outcome.UNAVAILABLE:
            record["decision"] = "unavailable"
            return _refusal(503, verdict.reason, verdict.reason + "\nnothing was published")
        return self._forward(request, body, content_type, verdict, record)

    def _allowed(self, sha256: str) -> Decision | None:
        if self.decisions is None:
            return None
        return self.decisions.allowed(sha256, datetime.now(timezone.utc).date())

    def _hold(
        self,
        request: Request,
        form: UploadForm,
        verdict: Verdict,
        body: Path,
        record: dict[str, Any],
    ) -> Response:
        try:
            entry = self.quarantine.hold(
                HeldUpload(
                    filename=form.filename,
                    name=form.name,
                    version=form.version,
                    sha256=form.sha256,
                    content_type=request.headers.get("Content-Type", ""),
                    uploader=record["uploader"],
                    client=record["client"],
                    reason=verdict.reason,
                    report_json=verdict.report_json,
                ),
                body,
            )
        except VerifyError as exc:
            # Refused either way; the uploader must not be told it was kept when it was not.
            record["decision"] = "refused"
            record["quarantine_error"] = exc.one_line()
            logger.error("could not quarantine %s: %s", form.filename, exc.one_line())
            return _refusal(403, verdict.reason, verdict.reason + "\n(not quarantined)")
        record["decision"] = "refused"
        record["quarantine"] = entry.id
        what_next = f"an admin can release it with `pip-verify quarantine release {entry.id[:12]}`"
        if self.review.review is not None:
            what_next += (
                f", or a reviewer can allow it at {PREFIX}/{entry.id} for you to upload again"
            )
        return _refusal(
            403, verdict.reason, f"{verdict.reason}\nquarantined as {entry.id[:12]}; {what_next}"
        )

    def _forward(
        self,
        request: Request,
        body: Path,
        content_type: str,
        verdict: Verdict,
        record: dict[str, Any],
    ) -> Response:
        headers = {"Content-Type": content_type}
        authorization = request.headers.get("Authorization")
        if authorization:
            headers["Authorization"] = authorization
        try:
            with body.open("rb") as stream:
                answer = self.session.post_upload(self.config.upstream_url, stream, headers=headers)
        except IncompleteError as exc:
            record["decision"] = "upstream-unavailable"
            record["reason"] = exc.one_line()
            return _refusal(
                503,
                f"upstream index {redact(self.config.upstream_url)} is unreachable",
                exc.one_line() + "\nnothing was published; try again later",
            )
        record["decision"] = "accepted"
        record["upstream_status"] = answer.status
        if 200 <= answer.status < 300 and self.config.trust_store is not None:
            record["recorded"] = self._record_publishers(verdict, self.config.trust_store)
        return _relay(answer)

    def _record_publishers(self, verdict: Verdict, path: Path) -> list[str]:
        """Trust on first use, for what was published: never fails the upload."""
        try:
            store = TrustStore.load(path)
            names = store.record_from_report(json.loads(verdict.report_json))
            if names:
                store.save_recorded(names)
        except (VerifyError, OSError, ValueError) as exc:
            logger.error("could not record first-seen publishers in %s: %s", path, exc)
            return []
        return [str(name) for name in names]


def _relay(answer: UploadResponse) -> Response:
    """The upstream's answer, as the uploader should see it."""
    response = Response(answer.body, content_type=answer.content_type or None)
    response.status = f"{answer.status} {reason_phrase(answer.reason) or 'Upstream'}"
    return response


def _refusal(status: int, reason: str, body: str) -> Response:
    # twine --skip-existing counts a 409, or a 400 saying "already exists", as success; text
    # the uploader controls (a project name) must not turn a refusal into one.
    return _text(status, _defuse(reason), _defuse(body) + "\n")


_ALREADY_EXISTS = re.compile(r"already(\W*)exist", re.IGNORECASE)


def _defuse(text: str) -> str:
    return _ALREADY_EXISTS.sub(r"already\1[sic] exist", text)


def _text(
    status: int, reason: str, body: str, *, headers: dict[str, str] | None = None
) -> Response:
    response = Response(body, content_type="text/plain; charset=utf-8", headers=headers)
    response.status = f"{status} {reason_phrase(reason)}"
    return response


def _client(request: Request) -> str | None:
    address = request.remote_addr
    port = request.environ.get("REMOTE_PORT")
    if address is None:
        return None
    return f"{address}:{port}" if port else address


def _uploader(authorization: Authorization | None) -> str | None:
    """Who uploads: the Basic user name, never the password or a token's value."""
    if authorization is None:
        return None
    if authorization.type == "basic":
        return authorization.username or None
    return f"<{authorization.type} token>"


if sys.platform != "win32":
    import fcntl


class _Spool:
    """This process's directory for uploads being screened, under the shared ``root``.

    Gates may share a quarantine (several processes behind one load balancer), so each claims
    its own ``<root>/<id>/`` and holds an exclusive lock on ``<root>/<id>.lock`` while it runs.
    At start-up, directories whose lock nobody holds are what crashed gates left: uploads that
    were never published nor quarantined, removed then. Without ``fcntl`` (Windows) only the
    process's own directory is managed.
    """

    def __init__(self, root: Path) -> None:
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
            name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
            self.path = root / name
            self._lock = (root / f"{name}.lock").open("a")
            if sys.platform != "win32":
                fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._remove_abandoned(root)
            self.path.mkdir(mode=0o700)
        except OSError as exc:
            raise UsageError(
                f"cannot set up the gate's spool directory {root}: {exc.strerror or exc}"
            ) from exc

    def close(self) -> None:
        """Remove this process's directory and lock (at a clean shutdown)."""
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.with_name(self.path.name + ".lock").unlink(missing_ok=True)
        self._lock.close()

    def _remove_abandoned(self, root: Path) -> None:
        if sys.platform == "win32":
            return
        for lock_path in root.glob("*.lock"):
            if lock_path.stem == self.path.name:
                continue
            with lock_path.open("a") as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live gate's
                shutil.rmtree(root / lock_path.stem, ignore_errors=True)
                lock_path.unlink(missing_ok=True)
        for child in root.iterdir():
            # A directory with no lock file: left by a crash between the two steps above.
            if child.is_dir() and not (root / f"{child.name}.lock").exists():
                shutil.rmtree(child, ignore_errors=True)
