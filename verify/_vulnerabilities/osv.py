"""An OSV-compatible API (``POST {base}/v1/query``) as a source of known vulnerabilities.

The API is asked through pip-verify's one network chokepoint,
:class:`~verify._index.session.HttpSession`. Its default base URL is pip-audit's own OSV
default, read from pip-audit when the service is built.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Final

from packaging.utils import canonicalize_name

from verify._index.session import HttpSession
from verify._index.urls import redact
from verify._vulnerabilities.fields import short
from verify._vulnerabilities.interface import SourceUnreachableError, VulnerabilitySourceError
from verify._vulnerabilities.pip_audit_boundary import PipAuditOsvService, default_osv_url
from verify._vulnerabilities.ranges import ECOSYSTEM
from verify._vulnerabilities.records import OsvRecord, record_problem
from verify._vulnerabilities.remembered import QUERY_PATH, osv_base_url
from verify.errors import VerifyError

__all__ = ["MAX_API_PAGES", "OsvApiService"]

logger = logging.getLogger(__name__)

#: How many pages of one OSV API answer are followed before giving up.
MAX_API_PAGES: Final = 100


#: What :meth:`OsvApiService.warm_up` asks: any well-formed query does.
_PROBE: Final[dict[str, object]] = {
    "package": {"name": "pip-verify", "ecosystem": ECOSYSTEM},
    "version": "0",
}


class OsvApiService(PipAuditOsvService):
    """An OSV-compatible API (``POST {base}/v1/query``), asked through an :class:`HttpSession`.

    ``base_url`` defaults to pip-audit's OSV URL. Like pip-audit's ``--osv-url``, it may be
    given with or without the ``/v1/query`` endpoint. Failures raise
    :class:`~verify._vulnerabilities.interface.SourceUnreachableError` (unreachable, offline)
    or :class:`~verify._vulnerabilities.interface.VulnerabilitySourceError` (a bad answer);
    pip-audit's ``ConnectionError`` or ``ServiceError`` from ``query()``.
    """

    def __init__(
        self,
        session: HttpSession,
        base_url: str | None = None,
        *,
        max_pages: int = MAX_API_PAGES,
    ) -> None:
        self.session = session
        self.base_url = osv_base_url(default_osv_url() if base_url is None else base_url)
        self.query_url = self.base_url + QUERY_PATH
        self.max_pages = max_pages
        #: Set once the API could not be reached: later queries fail at once with the same
        #: message instead of each waiting out its own retries (a check asks once per
        #: release, and an unreachable service would cost every one of them the back-off).
        self._unreachable: list[str] = []
        #: Set while :meth:`warm_up`'s probe is in flight; queries wait for it to end.
        self._warming: threading.Event | None = None

    def __repr__(self) -> str:
        return f"OsvApiService({redact(self.base_url)!r})"

    def records_for(self, name: str, version: str) -> list[OsvRecord]:
        """See :class:`~verify._vulnerabilities.records.OsvRecordSource`; follows
        ``next_page_token`` pagination."""
        query: dict[str, object] = {
            "package": {"name": canonicalize_name(name), "ecosystem": ECOSYSTEM},
            "version": version,
        }
        records: dict[str, OsvRecord] = {}
        tokens: set[str] = set()
        payload = query
        for _page in range(self.max_pages):
            answer = self._post(payload)
            for record in _api_records(answer, self.query_url):
                records.setdefault(str(record["id"]), record)
            token = answer.get("next_page_token")
            if token is None or token == "":
                return list(records.values())
            if not isinstance(token, str):
                raise VulnerabilitySourceError(
                    f"the OSV API at {self._where} sent a non-string page token"
                )
            if token in tokens:
                raise VulnerabilitySourceError(
                    f"the OSV API at {self._where} repeated a page token"
                )
            tokens.add(token)
            payload = {**query, "page_token": token}
        raise VulnerabilitySourceError(
            f"the OSV API at {self._where} answered {name} {version} "
            f"in more than {self.max_pages} pages"
        )

    def warm_up(self) -> None:
        """Reach the API now, in the background, while the caller does other work.

        ``check`` calls this before pip resolves, which takes seconds. The probe (a query
        for pip-verify itself, whose answer is discarded) opens and pools the connection, so
        the audit's first query pays no name lookup or TLS handshake on the critical path.
        If the API cannot be reached, the probe records that, and the audit's queries fail
        at once with its message instead of each waiting for the same lookup to fail.
        Queries made while the probe is in flight wait for it. Calling it again does nothing.
        """
        if self._warming is not None:
            return
        warming = threading.Event()
        self._warming = warming

        def probe() -> None:
            try:
                self._post(_PROBE, wait=False)
            except Exception:  # the probe only warms; the queries report any failure
                logger.debug("OSV warm-up probe failed", exc_info=True)
            finally:
                warming.set()

        threading.Thread(target=probe, name="osv-warm-up", daemon=True).start()

    @property
    def _where(self) -> str:
        return redact(self.query_url)

    def _post(self, payload: dict[str, object], *, wait: bool = True) -> dict[str, object]:
        if wait and self._warming is not None:
            self._warming.wait()
        if self._unreachable:
            raise SourceUnreachableError(self._unreachable[0])
        try:
            page = self.session.post_json(self.query_url, payload)
        except VerifyError as exc:
            message = f"OSV API unavailable: {exc.message}"
            # list.append is atomic; the first failure's message is what later queries repeat.
            self._unreachable.append(message)
            raise SourceUnreachableError(message) from exc
        if page.status != 200:
            detail = _api_error_message(page.body)
            raise VulnerabilitySourceError(
                f"the OSV API at {self._where} answered HTTP {page.status}"
                + (f": {detail}" if detail else "")
            )
        try:
            answer: object = json.loads(page.body)
        except (ValueError, RecursionError) as exc:
            raise VulnerabilitySourceError(
                f"the OSV API at {self._where} did not answer with JSON"
            ) from exc
        if not isinstance(answer, dict):
            raise VulnerabilitySourceError(
                f"the OSV API at {self._where} did not answer with a JSON object"
            )
        return answer


def _api_records(answer: Mapping[str, object], where: str) -> Iterator[OsvRecord]:
    vulns = answer.get("vulns", [])
    if not isinstance(vulns, list):
        raise VulnerabilitySourceError(
            f"the OSV API at {redact(where)} sent 'vulns' that is not a list"
        )
    for item in vulns:
        problem = record_problem(item)
        if problem is not None:
            raise VulnerabilitySourceError(
                f"the OSV API at {redact(where)} sent a bad record: {problem}"
            )
        assert isinstance(item, dict)  # noqa: S101  (checked by record_problem)
        if item.get("withdrawn") is None:
            yield item


def _api_error_message(body: bytes) -> str | None:
    try:
        decoded: object = json.loads(body)
    except (ValueError, RecursionError):
        return None
    message = decoded.get("message") if isinstance(decoded, dict) else None
    return short(message) if isinstance(message, str) and message else None
