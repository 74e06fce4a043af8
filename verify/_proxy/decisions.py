"""What reviewers decided about blocked files: an overlay on the policy, by sha256.

Each decision is one line of a JSON-lines log (who, when, why, until when), appended and never
rewritten, so the log is the file's history. A file's latest decision counts: ``allow`` lets
the proxy list and serve it although its verdict denies it, until ``expires`` (a date,
inclusive) if one was given; ``keep-blocked`` records that someone looked and said no.

The allow is by sha256: those exact bytes, not the release, the project or its name.
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
from typing import Any

from verify.errors import UsageError

__all__ = ["Action", "Decision", "Decisions"]

logger = logging.getLogger(__name__)

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


class Decisions:
    """The decision log at ``path``, read once and appended to; safe between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._by_sha: dict[str, list[Decision]] = {}
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise UsageError(
                f"cannot read the review decisions {self.path}: {exc.strerror}",
                hint="pass a readable --cache-dir",
            ) from exc
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                decision = Decision.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                # A torn last line (a crash mid-append) or a hand edit: the rest still counts.
                logger.warning("%s:%d: skipping an unreadable decision: %s", self.path, number, exc)
                continue
            self._by_sha.setdefault(decision.sha256, []).append(decision)

    def record(self, decision: Decision) -> None:
        """Append ``decision`` to the log (flushed to disk before this returns).

        Raises :class:`OSError` when the log cannot be written: a decision that was not kept
        must not look as if it had been.
        """
        line = json.dumps(decision.to_dict()) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as log:
                log.write(line)
                log.flush()
                os.fsync(log.fileno())
            self._by_sha.setdefault(decision.sha256, []).append(decision)

    def history(self, sha256: str) -> list[Decision]:
        """Every decision about the file, oldest first."""
        with self._lock:
            return list(self._by_sha.get(sha256, ()))

    def allowed(self, sha256: str, today: date) -> Decision | None:
        """The decision that allows the file today, if its latest decision does."""
        with self._lock:
            decisions = self._by_sha.get(sha256)
            latest = decisions[-1] if decisions else None
        return latest if latest is not None and latest.allows(today) else None
