"""What reviewers decided about blocked files: an overlay on the policy, by sha256.

Each decision (who, when, why, until when) is appended to a log and never rewritten, so the
log is the file's history. A file's latest decision counts: ``allow`` lets the proxy list and
serve it, or the gate forward it, although its verdict denies it, until ``expires`` (a date,
inclusive) if one was given; ``keep-blocked`` records that someone looked and said no.

The allow is by sha256: those exact bytes, not the release, the project or its name.

Two logs: :class:`Decisions`, a JSON-lines file that several processes may share (each reads
what the others appended), and :class:`RedisDecisions`, for proxies that share a broker.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from verify.errors import UsageError

__all__ = ["MAX_REASON", "Action", "Decision", "DecisionLog", "Decisions", "RedisDecisions"]

logger = logging.getLogger(__name__)

#: Windows opens files in text mode unless told otherwise.
_BINARY = getattr(os, "O_BINARY", 0)

#: Longest reason kept: a sentence or two, not a document.
MAX_REASON = 500


class Action(str, enum.Enum):
    """What a reviewer decided."""

    ALLOW = "allow"
    KEEP_BLOCKED = "keep-blocked"


@dataclass(frozen=True, slots=True)
class Decision:
    """One reviewer's decision about one file."""

    sha256: str
    filename: str
    action: Action
    reason: str
    by: str
    at: datetime
    #: The last day an ``allow`` holds; ``None``: until someone decides otherwise.
    expires: date | None = None

    def allows(self, today: date) -> bool:
        """An allow that has not expired by ``today``."""
        return self.action is Action.ALLOW and (self.expires is None or today <= self.expires)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "sha256": self.sha256,
            "filename": self.filename,
            "action": self.action.value,
            "reason": self.reason,
            "by": self.by,
            "at": self.at.isoformat(),
            "expires": self.expires.isoformat() if self.expires else None,
        }

    @classmethod
    def from_dict(cls, data: object) -> Decision:
        """The inverse of :meth:`to_dict`; raises ``ValueError``, ``KeyError`` or ``TypeError``."""
        if not isinstance(data, dict):
            raise TypeError("a decision is not an object")
        texts = ("sha256", "filename", "action", "reason", "by", "at")
        if not all(isinstance(data[key], str) for key in texts):
            raise TypeError("a decision's text field is not text")
        expires = data["expires"]
        if expires is not None and not isinstance(expires, str):
            raise TypeError("a decision's 'expires' is not a date")
        return cls(
            sha256=data["sha256"],
            filename=data["filename"],
            action=Action(data["action"]),
            reason=data["reason"],
            by=data["by"],
            at=datetime.fromisoformat(data["at"]),
            expires=date.fromisoformat(expires) if expires else None,
        )


class DecisionLog(Protocol):
    """Where decisions are kept."""

    def record(self, decision: Decision) -> None:
        """Keep ``decision``; raises :class:`OSError` when it could not be kept."""

    def history(self, sha256: str) -> list[Decision]:
        """Every decision about the file, oldest first."""

    def allowed(self, sha256: str, today: date) -> Decision | None:
        """The decision that allows the file today, if its latest decision does."""


def _allowing(decisions: list[Decision], today: date) -> Decision | None:
    latest = decisions[-1] if decisions else None
    return latest if latest is not None and latest.allows(today) else None


def _parse(line: bytes, where: str) -> Decision | None:
    try:
        return Decision.from_dict(json.loads(line))
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        # A hand edit or a damaged line: the rest still counts.
        logger.warning("%s: skipping an unreadable decision: %s", where, exc)
        return None


class Decisions:
    """The decision log at ``path``: a JSON-lines file, appended to; safe between threads,
    and between processes that share the file (the gate's several workers, proxies sharing a
    cache directory): each reads what the others appended before it answers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._by_sha: dict[str, list[Decision]] = {}
        #: How far the file has been read: up to the end of its last complete line.
        self._read_to = 0
        with self._lock:
            self._catch_up()

    def _catch_up(self) -> None:
        """Read the lines appended since the last call (the caller holds the lock)."""
        try:
            with self.path.open("rb") as log:
                log.seek(self._read_to)
                tail = log.read()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise UsageError(
                f"cannot read the review decisions {self.path}: {exc.strerror}",
                hint="check the permissions of the directory that holds them",
            ) from exc
        # A line still being written by another process is read next time, whole.
        complete = tail.rfind(b"\n") + 1
        for line in tail[:complete].splitlines():
            if line.strip():
                decision = _parse(line, str(self.path))
                if decision is not None:
                    self._by_sha.setdefault(decision.sha256, []).append(decision)
        self._read_to += complete

    def record(self, decision: Decision) -> None:
        """Append ``decision`` to the log (flushed to disk before this returns).

        Raises :class:`OSError` when the log cannot be written: a decision that was not kept
        must not look as if it had been.
        """
        line = (json.dumps(decision.to_dict()) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write of one line, in append mode: lines of several writers never mix.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | _BINARY, 0o600)
            try:
                if _ends_torn(fd):
                    # A writer crashed mid-line: end that line, or this one would join it.
                    line = b"\n" + line
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            self._catch_up()

    def history(self, sha256: str) -> list[Decision]:
        """Every decision about the file, oldest first."""
        with self._lock:
            self._catch_up_quietly()
            return list(self._by_sha.get(sha256, ()))

    def allowed(self, sha256: str, today: date) -> Decision | None:
        """The decision that allows the file today, if its latest decision does."""
        with self._lock:
            self._catch_up_quietly()
            return _allowing(self._by_sha.get(sha256, []), today)

    def _catch_up_quietly(self) -> None:
        # The log was readable at start-up; a later read failure keeps what was read (an
        # allow read earlier still holds; a newer one waits until the file reads again).
        try:
            self._catch_up()
        except UsageError as exc:
            logger.warning("%s", exc.one_line())


def _ends_torn(fd: int) -> bool:
    """Whether the file ``fd`` is open on has bytes after its last newline."""
    size = os.fstat(fd).st_size
    if size == 0:
        return False
    # Appends go to the end whatever the position (O_APPEND), so seeking to read is safe.
    os.lseek(fd, size - 1, os.SEEK_SET)
    return os.read(fd, 1) != b"\n"


class RedisDecisions:
    """Decisions in Redis, one list per file, shared by every proxy given the same broker.

    Reading fails closed: a Redis that cannot be reached reads as "no decision", so nothing
    blocked is let through. Recording raises :class:`OSError`, so the reviewer is told the
    decision was not kept.
    """

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        self._prefix = "pip-verify:review:"

    def record(self, decision: Decision) -> None:
        """See :class:`DecisionLog`."""
        import redis.exceptions

        try:
            self._redis.rpush(self._prefix + decision.sha256, json.dumps(decision.to_dict()))
        except (redis.exceptions.RedisError, OSError) as exc:
            raise OSError(f"Redis did not keep the decision: {exc}") from exc

    def history(self, sha256: str) -> list[Decision]:
        """See :class:`DecisionLog`."""
        import redis.exceptions

        try:
            lines = self._redis.lrange(self._prefix + sha256, 0, -1)
        except (redis.exceptions.RedisError, OSError) as exc:
            logger.warning("could not read review decisions from Redis: %s", exc)
            return []
        parsed = (_parse(line, "Redis") for line in lines if isinstance(line, bytes))
        return [d for d in parsed if d is not None and d.sha256 == sha256]

    def allowed(self, sha256: str, today: date) -> Decision | None:
        """See :class:`DecisionLog`."""
        return _allowing(self.history(sha256), today)
