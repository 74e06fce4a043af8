"""A verdict on one file, and where verdicts are kept: a directory, or Redis shared by
several proxies.

A verdict is keyed by the file's sha256 and the *verdict digest*: the pip-verify version and
the behaviour analyser's (which also changes between releases), the policy, trust config and
trust store files, the upstream and the settings that can change a decision. A policy change
therefore re-judges every file, and proxies that agree on all of these share their verdicts. A
verdict is used for ``max_age`` seconds after it was made; after that the file is verified
again (an advisory published since, a release that has come of age).

Only verdicts that rest on a complete verification are kept. A verification that could not
finish (the upstream down, a worker that died) answers the request that asked for it and is
then forgotten, so the next request tries again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from verify._behaviour.cache import ANALYSER_VERSION
from verify._records import read_record, write_record
from verify._upload.queue_digest import verification_files_digest
from verify._version import __version__
from verify.settings import NetworkSettings, VerificationSettings

__all__ = [
    "DirectoryVerdicts",
    "FileVerdict",
    "RedisVerdicts",
    "VerdictStore",
    "is_sha256",
    "verdict_digest",
]

logger = logging.getLogger(__name__)

_SHA256_HEX = frozenset("0123456789abcdef")


def is_sha256(text: str) -> bool:
    """``text`` is a sha256 digest as the proxy names files by: 64 lower-case hex digits."""
    return len(text) == 64 and _SHA256_HEX.issuperset(text)


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """What verifying one file decided."""

    sha256: str
    filename: str
    project: str
    version: str
    #: The file may be listed and served (the policy allowed it, possibly with warnings).
    allowed: bool
    #: One line: why it was denied, or that it was allowed (with how many warnings).
    reason: str
    #: The rules that denied it (none when allowed).
    rules: tuple[str, ...]
    judged_at: datetime
    #: The worst severity among the findings (``-`` when none), for the review list.
    severity: str = "-"
    #: Who published the file, as its provenance says (``none (absent)`` without any).
    publisher: str = "none"
    #: The sha256 of a wheel's core metadata file, which the proxy serves beside it (PEP 658);
    #: ``None`` for an sdist or a wheel without exactly one.
    metadata_sha256: str | None = None

    def fresh(self, now: datetime, max_age: timedelta) -> bool:
        """Made no longer than ``max_age`` before ``now`` (and not after it)."""
        return timedelta(0) <= now - self.judged_at <= max_age

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "sha256": self.sha256,
            "filename": self.filename,
            "project": self.project,
            "version": self.version,
            "allowed": self.allowed,
            "reason": self.reason,
            "rules": list(self.rules),
            "judged-at": self.judged_at.isoformat(),
            "severity": self.severity,
            "publisher": self.publisher,
            "metadata-sha256": self.metadata_sha256,
        }

    @classmethod
    def from_dict(cls, data: object) -> FileVerdict:
        """The inverse of :meth:`to_dict`; raises ``ValueError``, ``KeyError`` or ``TypeError``."""
        if not isinstance(data, dict):
            raise TypeError("a verdict is not an object")
        texts = (
            "sha256",
            "filename",
            "project",
            "version",
            "reason",
            "judged-at",
            "severity",
            "publisher",
        )
        if not all(isinstance(data[key], str) for key in texts):
            raise TypeError("a verdict's text field is not text")
        if not isinstance(data["allowed"], bool):
            raise TypeError("a verdict's 'allowed' is not a boolean")
        rules = data["rules"]
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise TypeError("a verdict's 'rules' is not a list of text")
        metadata = data.get("metadata-sha256")  # absent from verdicts kept before it was
        if metadata is not None and not is_sha256(metadata):
            raise ValueError("a verdict's 'metadata-sha256' is not a sha256")
        judged = datetime.fromisoformat(data["judged-at"])
        if judged.tzinfo is None:
            raise ValueError("a verdict's time has no time zone")
        return cls(
            sha256=data["sha256"],
            filename=data["filename"],
            project=data["project"],
            version=data["version"],
            allowed=data["allowed"],
            reason=data["reason"],
            rules=tuple(rules),
            judged_at=judged,
            severity=data["severity"],
            publisher=data["publisher"],
            metadata_sha256=metadata,
        )


def verdict_digest(
    upstream: str, verification: VerificationSettings, network: NetworkSettings
) -> str:
    """A hex sha256 over what decides a proxy's verdict besides the file.

    Raises :class:`~verify.errors.PolicyError` if the policy file cannot be read.
    """
    digest = hashlib.sha256(f"pip-verify/{__version__}/{ANALYSER_VERSION}\0proxy\0".encode())
    digest.update(verification_files_digest(verification))
    fields = (
        ("upstream", upstream),
        ("expect", verification.expect),
        ("osv_url", verification.osv_url),
        ("vulnerability_db", str(verification.vulnerability_db)),
        ("behaviour", verification.behaviour),
        ("offline", network.offline),
    )
    digest.update(json.dumps(fields).encode())
    return digest.hexdigest()


class VerdictStore(Protocol):
    """Where verdicts are kept, by file sha256, under one verdict digest."""

    def get(self, sha256: str) -> FileVerdict | None:
        """The verdict on the file with ``sha256``, or ``None``."""
        ...

    def put(self, verdict: FileVerdict, report_json: str) -> None:
        """Keep ``verdict`` and the verification's report (``--format json``); a store that
        cannot keep them only costs a verification later."""
        ...

    def report(self, sha256: str) -> str | None:
        """The report of the verification behind the verdict on ``sha256``, for a review."""
        ...

    def all(self) -> Iterator[FileVerdict]:
        """Every verdict kept (for the review page)."""
        ...


def _checked(sha256: str) -> str:
    if not is_sha256(sha256):
        raise ValueError(f"not a sha256 digest: {sha256[:80]!r}")
    return sha256


class DirectoryVerdicts:
    """Verdicts in one small JSON file each under ``root/<digest>/``, their reports beside
    them. What was read is kept in memory, found or not: this process is the only writer
    (proxies that share verdicts do it through Redis)."""

    #: Digests kept in memory at most (a verdict is a few hundred bytes).
    MEMORY = 500_000

    def __init__(self, root: Path, digest: str) -> None:
        self.root = root / digest[:32]
        self._base = str(self.root)
        #: Verdicts read or written, and digests found to have none: a page of a large
        #: project asks about thousands of files, most of them never verified.
        self._memory: dict[str, FileVerdict | None] = {}
        self._lock = threading.Lock()

    def _path(self, sha256: str, kind: str = "") -> Path:
        sha256 = _checked(sha256)
        return Path(f"{self._base}/{sha256[:2]}/{sha256}{kind}.json")

    def get(self, sha256: str) -> FileVerdict | None:
        """See :class:`VerdictStore`."""
        with self._lock:
            if sha256 in self._memory:
                return self._memory[sha256]
        verdict = read_record(self._path(sha256), FileVerdict.from_dict)
        if verdict is not None and verdict.sha256 != sha256:
            verdict = None
        self._remember(sha256, verdict)
        return verdict

    def _remember(self, sha256: str, verdict: FileVerdict | None) -> None:
        with self._lock:
            if len(self._memory) >= self.MEMORY:
                self._memory.pop(next(iter(self._memory)))
            self._memory[sha256] = verdict

    def put(self, verdict: FileVerdict, report_json: str) -> None:
        """See :class:`VerdictStore`."""
        write_record(self._path(verdict.sha256, ".report"), {"report": report_json})
        write_record(self._path(verdict.sha256), verdict.to_dict())
        self._remember(verdict.sha256, verdict)

    def report(self, sha256: str) -> str | None:
        """See :class:`VerdictStore`."""
        return read_record(self._path(sha256, ".report"), _report_text)

    def all(self) -> Iterator[FileVerdict]:
        """See :class:`VerdictStore`."""
        for path in sorted(self.root.glob("??/*.json")):
            if path.stem.endswith(".report"):
                continue
            verdict = self.get(path.stem) if is_sha256(path.stem) else None
            if verdict is not None:
                yield verdict


def _report_text(data: object) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("report"), str):
        raise TypeError("a kept report is not an object with the report's text")
    return str(data["report"])


class RedisVerdicts:
    """Verdicts in Redis, shared by every proxy given the same broker and digest.

    A Redis that cannot be reached reads as "no verdict" (the file is verified here) and a
    write that fails is logged: sharing saves work, it never decides.
    """

    #: How long Redis keeps a verdict: long past its use, so a review can still read it.
    KEEP = timedelta(days=30)

    def __init__(self, url: str, digest: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        self._prefix = f"pip-verify:proxy:{digest[:32]}:"
        self._reports = f"pip-verify:proxy-report:{digest[:32]}:"

    def get(self, sha256: str) -> FileVerdict | None:
        """See :class:`VerdictStore`."""
        import redis.exceptions

        try:
            raw = self._redis.get(self._prefix + _checked(sha256))
        except (redis.exceptions.RedisError, OSError) as exc:
            logger.warning("could not read a verdict from Redis: %s", exc)
            return None
        if not isinstance(raw, bytes):
            return None
        try:
            verdict = FileVerdict.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            logger.warning("ignoring an unreadable verdict in Redis: %s", exc)
            return None
        return verdict if verdict.sha256 == sha256 else None

    def put(self, verdict: FileVerdict, report_json: str) -> None:
        """See :class:`VerdictStore`."""
        import redis.exceptions

        key = self._prefix + _checked(verdict.sha256)
        try:
            self._redis.set(self._reports + verdict.sha256, report_json, ex=self.KEEP)
            self._redis.set(key, json.dumps(verdict.to_dict()), ex=self.KEEP)
        except (redis.exceptions.RedisError, OSError) as exc:
            logger.warning("could not share a verdict through Redis: %s", exc)

    def report(self, sha256: str) -> str | None:
        """See :class:`VerdictStore`."""
        import redis.exceptions

        try:
            raw = self._redis.get(self._reports + _checked(sha256))
        except (redis.exceptions.RedisError, OSError) as exc:
            logger.warning("could not read a report from Redis: %s", exc)
            return None
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else None

    def all(self) -> Iterator[FileVerdict]:
        """See :class:`VerdictStore`."""
        import redis.exceptions

        try:
            keys = sorted(self._redis.scan_iter(match=self._prefix + "*", count=500))
        except (redis.exceptions.RedisError, OSError) as exc:
            logger.warning("could not list the verdicts in Redis: %s", exc)
            return
        for key in keys:
            sha256 = key.decode("ascii", "replace")[len(self._prefix) :]
            if is_sha256(sha256):
                verdict = self.get(sha256)
                if verdict is not None:
                    yield verdict
