"""The review page's logic, over whatever blocked the files: the proxy's denied verdicts or the
gate's quarantine (a :class:`ReviewSource`). The list of what was blocked, one file's detail,
and recording a decision.

Every page needs a reviewer (:class:`~verify._serve.reviewers.Reviewers`) unless viewing was
made public; deciding always does, and each form carries an anti-forgery token bound to the
reviewer and the file, so another site cannot make a signed-in browser decide.

The detail is read from the verification's own report (what it found), the file's bytes (the
lines around each flagged one) and the trust store (who has published the project).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from verify._dist.excerpt import excerpts
from verify._format.html import DetailView, FindingView, HistoryEntry, ListRow
from verify._serve.decisions import MAX_REASON, Action, Decision, DecisionLog
from verify._serve.reviewers import Reviewers
from verify.errors import VerifyError
from verify.models import Decision as RuleDecision
from verify.models import Finding, Reason, Severity
from verify.trust_store import TrustStore

__all__ = ["Blocked", "Review", "ReviewError", "ReviewSource", "summary_of"]

_SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")


class ReviewError(ValueError):
    """A decision that cannot be recorded as asked (the message says why, for the reviewer)."""


@dataclass(frozen=True, slots=True)
class Blocked:
    """One file a reviewer may decide on."""

    sha256: str
    filename: str
    #: The project name, as the source has it (the gate's comes from the upload's filename
    #: and may hold any character but a slash: it is escaped like everything else).
    project: str
    version: str
    #: When it was blocked (UTC).
    when: datetime
    #: The rules that denied it, and the worst finding's severity (``-`` when none).
    rules: tuple[str, ...]
    severity: str
    #: Who published it (``none`` without provenance).
    publisher: str
    #: Where it stands apart from reviewers' decisions, e.g. "released upstream by alice".
    state: str = ""


class ReviewSource(Protocol):
    """What blocked the files: the proxy's verdicts or the gate's quarantine."""

    #: The list page's heading.
    title: str

    def blocked(self) -> Iterable[Blocked]:
        """Every file blocked so far."""

    def get(self, sha256: str) -> Blocked | None:
        """The blocked file with ``sha256``, or ``None``."""

    def report_json(self, sha256: str) -> str | None:
        """The verification's report on the file (``pip-verify/report/v1`` JSON), if kept."""

    def distribution(self, sha256: str) -> AbstractContextManager[Path | None]:
        """The file's bytes as a distribution file, while the context lasts (``None`` if
        they are not kept)."""


class Review:
    """The review of the files ``source`` blocked, with decisions kept in ``decisions``."""

    def __init__(
        self,
        source: ReviewSource,
        decisions: DecisionLog,
        reviewers: Reviewers,
        *,
        public: bool,
        trust_store: Path | None = None,
    ) -> None:
        self.source = source
        self.decisions = decisions
        self.reviewers = reviewers
        #: Anyone who can reach the page may view it; deciding still needs a reviewer.
        self.public = public
        #: Where the project's publisher history is read from, for the detail.
        self.trust_store = trust_store
        self._secret = secrets.token_bytes(32)

    def csrf(self, who: str, sha256: str) -> str:
        """The anti-forgery token of ``who``'s form about ``sha256``."""
        message = f"{who}\0{sha256}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def csrf_ok(self, who: str, sha256: str, token: str) -> bool:
        """``token`` is the one :meth:`csrf` gives ``who`` for ``sha256``."""
        return hmac.compare_digest(self.csrf(who, sha256), token)

    def rows(self, base: str) -> list[ListRow]:
        """Every blocked file, newest first; ``base`` is the review page's URL."""
        today = datetime.now(timezone.utc).date()
        rows = []
        for item in sorted(self.source.blocked(), key=lambda b: b.when, reverse=True):
            allowed = self.decisions.allowed(item.sha256, today)
            status = f"allowed by {allowed.by}" if allowed else "blocked"
            rows.append(
                ListRow(
                    url=f"{base}{item.sha256}",
                    when=item.when.strftime("%Y-%m-%d %H:%M UTC"),
                    package=item.project,
                    version=item.version,
                    filename=item.filename,
                    rules=item.rules,
                    severity=item.severity,
                    publisher=item.publisher,
                    status=f"{status}; {item.state}" if item.state else status,
                )
            )
        return rows

    def detail(self, sha256: str) -> DetailView | None:
        """The detail of the blocked file with ``sha256``, or ``None`` if there is none."""
        item = self.source.get(sha256)
        if item is None:
            return None
        package = _package(self.source.report_json(sha256) or "")
        findings = [_finding(entry) for entry in package.get("findings", ())]
        wanted = [(f.path, f.line) for f in findings if f.path and f.line]
        with self.source.distribution(sha256) as path:
            lines = excerpts(path, wanted) if path is not None and wanted else {}
        behaviour = (package.get("behaviour") or [{}])[0]
        counts = behaviour.get("files") or {}
        return DetailView(
            title=f"{item.project} {item.version}",
            filename=item.filename,
            decision="deny",
            reasons=tuple(_reason(r) for r in package.get("reasons", ())),
            baseline=behaviour.get("baseline"),
            baseline_reason=str(behaviour.get("reason") or ""),
            counts={k: int(v) for k, v in counts.items() if isinstance(v, int)},
            findings=tuple(
                FindingView(f, lines.get((f.path, f.line), ()) if f.path and f.line else ())
                for f in findings
            ),
            context=tuple(_finding(item) for item in behaviour.get("context", ())),
            provenance=_provenance_lines(package, item.publisher)
            + self._publisher_history(item.project),
            history=tuple(
                HistoryEntry(
                    when=d.at.strftime("%Y-%m-%d %H:%M UTC"),
                    who=d.by,
                    action=d.action.value,
                    reason=d.reason,
                    expires=d.expires.isoformat() if d.expires else None,
                )
                for d in self.decisions.history(sha256)
            ),
        )

    def decide(self, sha256: str, who: str, action: str, reason: str, expires: str) -> Decision:
        """Record ``who``'s decision about the file; raises :class:`ReviewError` for a
        decision that cannot be recorded as asked, :class:`OSError` if the log cannot be
        written."""
        item = self.source.get(sha256)
        if item is None:
            raise ReviewError("no blocked file with this sha256")
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
            filename=item.filename,
            action=chosen,
            reason=reason,
            by=who,
            at=datetime.now(timezone.utc),
            expires=until if chosen is Action.ALLOW else None,
        )
        self.decisions.record(decision)
        return decision

    def _publisher_history(self, project: str) -> tuple[tuple[str, str], ...]:
        """The trust store's record of who publishes ``project``, and each change of it."""
        if self.trust_store is None:
            return ()
        try:
            entry = TrustStore.load(self.trust_store).get(project)
        except VerifyError as exc:
            return (("trust store", f"unreadable: {exc.message}"),)
        if entry is None:
            return (("trust store", "no publisher recorded for this project"),)
        since = f"{entry.how} since {entry.since}"
        if entry.version:
            since += f" (version {entry.version})"
        lines = [("trusted publisher", f"{entry.identity}, {since}")]
        lines.extend(
            ("publisher change", f"{c.date}: {c.old} -> {c.new}, by {c.by}: {c.reason}")
            for c in entry.changes
        )
        return tuple(lines)


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


def summary_of(report_json: str) -> tuple[tuple[str, ...], str, str]:
    """The denying rules, the worst finding's severity (``-`` when none) and the publisher
    (``none`` without one) of the first package in ``report_json``, for a list row."""
    package = _package(report_json)
    reasons = [r for r in package.get("reasons", ()) if isinstance(r, dict)]
    rules = tuple(
        dict.fromkeys(str(r.get("rule", "")) for r in reasons if r.get("decision") == "deny")
    )
    severities = [f.get("severity") for f in package.get("findings", ()) if isinstance(f, dict)]
    ranked = [_SEVERITY_ORDER.index(s) for s in severities if s in _SEVERITY_ORDER]
    severity = _SEVERITY_ORDER[max(ranked)] if ranked else "-"
    provenance = package.get("provenance")
    publisher = provenance.get("publisher") if isinstance(provenance, dict) else None
    if isinstance(publisher, dict) and publisher:
        named = ", ".join(f"{k}={v}" for k, v in sorted(publisher.items()) if v)
        if named:
            return rules, severity, named
    status = provenance.get("status") if isinstance(provenance, dict) else None
    return rules, severity, f"none ({status})" if isinstance(status, str) else "none"
