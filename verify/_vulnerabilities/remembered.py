"""An OSV API's answers, remembered for a short while so a re-check does not ask again.

A check asks the API once per release. Asking again a few minutes later, for the same
releases, gets the same answer: advisories are published on a scale of hours. So each answer
is kept on disk, keyed by the API's base URL, the package and the version, and reused while it
is younger than :data:`ANSWER_MAX_AGE`; after that the API is asked again. Only answers are
kept: a failure is never remembered, so an API that could not be reached is tried again on
the next check.

The API source itself is built on the first question the remembered answers cannot answer,
or in the background by :meth:`RememberedSource.warm_up`. Building it imports pip-audit (whose
import runs ``pip --version``): never on a re-check's critical path when every answer is
remembered.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from verify._index.urls import redact
from verify._records import read_record, write_record
from verify._vulnerabilities.interface import KnownVulnerability, VulnerabilitySource
from verify.errors import UsageError

__all__ = [
    "ANSWER_MAX_AGE",
    "QUERY_PATH",
    "AnswerCache",
    "RememberedSource",
    "osv_base_url",
]

#: How long an answer is reused: as long as an index page is fresh on the public index.
ANSWER_MAX_AGE: Final = timedelta(minutes=10)
#: Bumped whenever what an answer holds changes, so old entries are not read.
_FORMAT = "1"
QUERY_PATH: Final = "/v1/query"


def osv_base_url(url: str) -> str:
    """``url`` without a trailing ``/v1/query`` or slash; a usage error unless http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"the OSV API URL must be an http(s) URL, not {redact(url)!r}")
    base = url.rstrip("/")
    if base.endswith(QUERY_PATH):
        base = base[: -len(QUERY_PATH)]
    return base


def _dump(vulnerability: KnownVulnerability) -> dict[str, Any]:
    return {
        "id": vulnerability.id,
        "aliases": list(vulnerability.aliases),
        "summary": vulnerability.summary,
        "fix_versions": list(vulnerability.fix_versions),
        "severity": vulnerability.severity,
        "malicious": vulnerability.malicious,
        "url": vulnerability.url,
    }


def _optional_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"expected text, got {type(value).__name__}")


def _texts(value: object) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError("expected a list of text")


def _load(data: object) -> KnownVulnerability:
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise TypeError("an answer entry is not an object with an id")
    if not isinstance(data.get("malicious"), bool):
        raise TypeError("an answer entry has no 'malicious' flag")
    return KnownVulnerability(
        id=data["id"],
        aliases=_texts(data.get("aliases")),
        summary=_optional_text(data.get("summary")),
        fix_versions=_texts(data.get("fix_versions")),
        severity=_optional_text(data.get("severity")),
        malicious=data["malicious"],
        url=_optional_text(data.get("url")),
    )


class AnswerCache:
    """Answers of one API under ``root``, one JSON file per package version."""

    def __init__(
        self,
        root: Path,
        source: str,
        *,
        max_age: timedelta = ANSWER_MAX_AGE,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.root = root
        self.source = source
        self.max_age = max_age
        self._clock = clock

    def _path(self, name: str, version: str) -> Path:
        key = hashlib.sha256(
            f"{_FORMAT}\0{self.source}\0{canonicalize_name(name)}\0{version}".encode()
        ).hexdigest()
        return self.root / key[:2] / f"{key}.json"

    def get(self, name: str, version: str) -> list[KnownVulnerability] | None:
        """The answer about ``name`` at ``version`` if one is fresh, else ``None``.

        An entry that cannot be read is removed; one from the future (a clock set back) is
        not fresh.
        """
        answer = read_record(self._path(name, version), _load_answer)
        if answer is None:
            return None
        asked, vulnerabilities = answer
        return vulnerabilities if timedelta(0) <= self._clock() - asked <= self.max_age else None

    def put(self, name: str, version: str, answer: list[KnownVulnerability]) -> None:
        """Keep ``answer``; a cache that cannot be written only costs a question later."""
        entry = {
            "asked": self._clock().isoformat(),
            "vulnerabilities": [_dump(v) for v in answer],
        }
        write_record(self._path(name, version), entry)


def _load_answer(data: object) -> tuple[datetime, list[KnownVulnerability]]:
    if not isinstance(data, dict) or not isinstance(data.get("asked"), str):
        raise TypeError("an answer is not an object with the time it was asked")
    asked = datetime.fromisoformat(data["asked"])
    if asked.tzinfo is None:
        raise ValueError("an answer's time has no time zone")
    vulnerabilities = data.get("vulnerabilities")
    if not isinstance(vulnerabilities, list):
        raise TypeError("'vulnerabilities' is not a list")
    return asked, [_load(v) for v in vulnerabilities]


class RememberedSource(VulnerabilitySource):
    """A source whose answers are remembered in ``cache``; ``build`` makes the source itself,
    once, when a question is not answered by the cache."""

    def __init__(self, build: Callable[[], VulnerabilitySource], cache: AnswerCache) -> None:
        self._build = build
        self.cache = cache
        self._source: VulnerabilitySource | None = None
        self._lock = threading.Lock()

    @property
    def source(self) -> VulnerabilitySource:
        """The source itself, built (and prepared) on first use."""
        with self._lock:
            if self._source is None:
                source = self._build()
                source.prepare()
                self._source = source
            return self._source

    def warm_up(self) -> None:
        """Build the source and let it reach its service, on a background thread.

        A check calls this before pip resolves: if some answer turns out not to be
        remembered, the source is ready and its service reached (or found unreachable, the
        name lookup alone can take seconds) by then. If every answer is remembered, the only
        cost is building the source off the critical path.
        """

        def build_and_warm() -> None:
            try:
                source = self.source
            except Exception:  # the queries that need the source report why it cannot be built
                return
            source.warm_up()

        threading.Thread(target=build_and_warm, name="osv-build", daemon=True).start()

    def known_vulnerabilities(self, name: str, version: str) -> list[KnownVulnerability]:
        """The remembered answer while it is fresh, else the source's (then remembered)."""
        remembered = self.cache.get(name, version)
        if remembered is not None:
            return remembered
        answer = self.source.known_vulnerabilities(name, version)
        self.cache.put(name, version, answer)
        return answer
