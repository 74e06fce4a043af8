"""The review page's logic: who may review, what is blocked, one file's detail, and recording
a decision.

Reviewers are named in a file given at start-up (``--review-tokens``), one ``NAME:TOKEN`` per
line; they sign in with HTTP Basic authentication (the name and the token). Every page needs a
reviewer unless viewing was made public (``--review-public``); deciding always does, and each
form carries an anti-forgery token bound to the reviewer and the file, so another site cannot
make a signed-in browser decide.

The detail is read from the verdict's own report (what the verification found) and the file in
the content store (the lines around each flagged one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from verify._dist.excerpt import excerpts
from verify._format.html import DetailView, FindingView, HistoryEntry, ListRow
from verify._proxy.decisions import MAX_REASON, Action, Decision
from verify._proxy.index import VerifiedIndex
from verify._proxy.verdicts import FileVerdict
from verify.errors import UsageError
from verify.models import Decision as RuleDecision
from verify.models import Finding, Reason, Severity

__all__ = ["Review", "ReviewError", "Reviewers"]

_SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")


class ReviewError(ValueError):
    """A decision that cannot be recorded as asked (the message says why, for the reviewer)."""


@dataclass(frozen=True, slots=True)
class Reviewers:
    """The people who may review, by name, with their tokens."""

    tokens: Mapping[str, str]

    @classmethod
    def load(cls, path: Path) -> Reviewers:
        """Read ``NAME:TOKEN`` lines (``#`` comments and blank lines skipped).

        Raises :class:`~verify.errors.UsageError` for a file that cannot be read, a line
        that is not ``NAME:TOKEN``, a token shorter than 16 characters, or no reviewer at all.
        """
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise UsageError(
                f"cannot read the reviewers file {path}: {exc.strerror}",
                hint="one NAME:TOKEN per line",
            ) from exc
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"the reviewers file {path} is not UTF-8 text", hint="one NAME:TOKEN per line"
            ) from exc
        tokens: dict[str, str] = {}
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, token = line.partition(":")
            if not sep or not name.strip() or len(token.strip()) < 16:
                raise UsageError(
                    f"{path}:{number}: not NAME:TOKEN with a token of 16 characters or more",
                    hint="e.g. alice:$(python -c 'import secrets; print(secrets.token_urlsafe())')",
                )
            tokens[name.strip()] = token.strip()
        if not tokens:
            raise UsageError(f"{path} names no reviewer", hint="one NAME:TOKEN per line")
        return cls(tokens)

    def who(self, username: str | None, password: str | None) -> str | None:
        """The reviewer these credentials sign in, or ``None``."""
        if username is None or password is None:
            return None
        expected = self.tokens.get(username)
        if expected is None:
            # Compare anyway, so a wrong name takes as long as a wrong token.
            hmac.compare_digest(password.encode(), b"\0" * 32)
            return None
        return username if hmac.compare_digest(password.encode(), expected.encode()) else None


class Review:
    """The review of one verified index's blocked files."""

    def __init__(self, index: VerifiedIndex, reviewers: Reviewers, *, public: bool) -> None:
        self.index = index
        self.reviewers = reviewers
        #: Anyone who can reach the page may view it; deciding still needs a reviewer.
        self.public = public
        self._secret = secrets.token_bytes(32)

    def csrf(self, who: str, sha256: str) -> str:
        """The anti-forgery token of ``who``'s form about ``sha256``."""
        message = f"{who}\0{sha256}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def csrf_ok(self, who: str, sha256: str, token: str) -> bool:
        """``token`` is the one :meth:`csrf` gives ``who`` for ``sha256``."""
        return hmac.compare_digest(self.csrf(who, sha256), token)

    def rows(self, base: str) -> list[ListRow]:
        """Every denied file, newest verdict first; ``base`` is the review page's URL."""
        today = datetime.now(timezone.utc).date()
        rows = []
        for verdict in sorted(self._denied(), key=lambda v: v.judged_at, reverse=True):
            allowed = self.index.decisions.allowed(verdict.sha256, today)
            rows.append(
                ListRow(
                    url=f"{base}{verdict.sha256}",
                    when=verdict.judged_at.strftime("%Y-%m-%d %H:%M UTC"),
                    package=verdict.project,
                    version=verdict.version,
                    filename=verdict.filename,
                    rules=verdict.rules,
                    severity=verdict.severity,
                    publisher=verdict.publisher,
                    status=f"allowed by {allowed.by}" if allowed else "blocked",
                )
            )
        return rows

    def _denied(self) -> Iterable[FileVerdict]:
        return (v for v in self.index.verdicts.all() if not v.allowed)

    def detail(self, sha256: str) -> DetailView | None:
        """The detail of the file with ``sha256``, or ``None`` if it has no verdict."""
        verdict = self.index.verdicts.get(sha256)
        if verdict is None:
            return None
        package = _package(self.index.verdicts.report(sha256) or "")
        findings = [_finding(item) for item in package.get("findings", ())]
        path = self.index.store.lookup(sha256, verdict.filename).path
        lines = (
            excerpts(path, [(f.path, f.line) for f in findings if f.path and f.line])
            if path is not None
            else {}
        )
        behaviour = (package.get("behaviour") or [{}])[0]
        counts = behaviour.get("files") or {}
        return DetailView(
            title=f"{verdict.project} {verdict.version}",
            filename=verdict.filename,
            decision="allow" if verdict.allowed else "deny",
            reasons=tuple(_reason(r) for r in package.get("reasons", ())),
            baseline=behaviour.get("baseline"),
            baseline_reason=str(behaviour.get("reason") or ""),
            counts={k: int(v) for k, v in counts.items() if isinstance(v, int)},
            findings=tuple(
                FindingView(f, lines.get((f.path, f.line), ()) if f.path and f.line else ())
                for f in findings
            ),
            context=tuple(_finding(item) for item in behaviour.get("context", ())),
            provenance=_provenance_lines(package, verdict.publisher),
            history=tuple(
                HistoryEntry(
                    when=d.at.strftime("%Y-%m-%d %H:%M UTC"),
                    who=d.by,
                    action=d.action.value,
                    reason=d.reason,
                    expires=d.expires.isoformat() if d.expires else None,
                )
                for d in self.index.decisions.history(sha256)
            ),
        )

    def decide(self, sha256: str, who: str, action: str, reason: str, expires: str) -> Decision:
        """Record ``who``'s decision about the file; raises :class:`ReviewError` for a
        decision that cannot be recorded as asked, :class:`OSError` if the log cannot be
        written."""
        verdict = self.index.verdicts.get(sha256)
        if verdict is None:
            raise ReviewError("no verdict on this file")
        try:
            chosen = Action(action)
        except ValueError:
            raise ReviewError("the decision must be allow or keep-blocked") from None
        reason = " ".join(reason.split())
        if not reason:
            raise ReviewError("say why: a decision needs a reason")
        if len(reason) > MAX_REASON:
            raise ReviewError(f"the reason is longer than {MAX_REASON} characters")
        until: date | None = None
        if expires.strip():
            try:
                until = date.fromisoformat(expires.strip())
            except ValueError:
                raise ReviewError("the expiry must be a date (YYYY-MM-DD)") from None
            if until < datetime.now(timezone.utc).date():
                raise ReviewError("the expiry is in the past")
        decision = Decision(
            sha256=sha256,
            filename=verdict.filename,
            action=chosen,
            reason=reason,
            by=who,
            at=datetime.now(timezone.utc),
            expires=until if chosen is Action.ALLOW else None,
        )
        self.index.decisions.record(decision)
        return decision


def _package(report_json: str) -> dict[str, Any]:
    try:
        report = json.loads(report_json) if report_json else {}
        packages = report.get("packages") or [{}]
        package = packages[0]
    except (ValueError, AttributeError, IndexError, TypeError):
        return {}
    return package if isinstance(package, dict) else {}


def _finding(data: Mapping[str, Any]) -> Finding:
    severity = data.get("severity")
    line = data.get("line")
    return Finding(
        rule=str(data.get("rule", "")),
        severity=Severity(severity) if severity in _SEVERITY_ORDER else Severity.INFO,
        message=str(data.get("message", "")),
        path=data.get("path") if isinstance(data.get("path"), str) else None,
        line=line if isinstance(line, int) else None,
        snippet=data.get("snippet") if isinstance(data.get("snippet"), str) else None,
        why=data.get("why") if isinstance(data.get("why"), str) else None,
    )


def _reason(data: Mapping[str, Any]) -> Reason:
    decision = data.get("decision")
    return Reason(
        rule=str(data.get("rule", "")),
        decision=RuleDecision(decision)
        if decision in ("allow", "warn", "deny")
        else RuleDecision.DENY,
        message=str(data.get("message", "")),
        unchecked=bool(data.get("unchecked")),
    )


def _provenance_lines(package: Mapping[str, Any], publisher: str) -> tuple[tuple[str, str], ...]:
    provenance = package.get("provenance") or {}
    if not isinstance(provenance, dict):
        return (("publisher", publisher),)
    lines = [("status", str(provenance.get("status", "unknown"))), ("publisher", publisher)]
    if provenance.get("reason"):
        lines.append(("detail", str(provenance["reason"])))
    return tuple(lines)
