"""The report as SARIF 2.1.0, for code scanning (``--format sarif``).

What becomes what:

* **Results are the policy's reasons.** Every reason that warns or denies is one result; reasons
  that allow are left out. Findings are evidence, not decisions, so a behaviour finding never
  becomes a result of its own: when a reason corresponds to a finding (same rule, and the
  reason's message names the finding), the finding's path, line and snippet are added to the
  result's message and ``properties.evidence``. Paths inside a distribution are not files of
  the repository, so they are never given as locations.
* **Levels:** deny → ``error``; warn → ``warning``; a warning from a rule that could not be
  evaluated (its ``on-error`` decision, ``unchecked``) → ``note``, since it says what was not
  checked rather than what is wrong. A denial is an ``error`` whether checked or not: pip-verify
  fails closed.
* **Locations:** the package's source (the lock or requirements file and its 1-based line).
  A package without one (a resolver's pick) is placed at line 1 of ``artifact`` when the
  caller names the input file, or of the one file every located package came from; failing
  both, the result has only a logical location (the package), which SARIF allows but code
  scanning does not display.
* **Rules:** one ``reportingDescriptor`` per rule id that has a result, described from
  :data:`~verify.policy.rules.RULES`. ``defaultConfiguration.level`` is what the default
  policy decides (for a behaviour finding: by its severity when new);
  ``properties.security-severity`` (what code scanning ranks by) is the worst decision the
  rule got in this report: ``9.0`` deny, ``5.0`` warn, ``2.0`` unchecked warn.
* **Fingerprints:** ``partialFingerprints["pipVerify/v1"]`` is the sha256 of the rule id, the
  package name and version and the message with its volatile parts (line numbers, durations,
  timestamps) blanked out, so a result keeps its identity when the lock file moves or a day
  passes. Results that would share one get ``:2``, ``:3``... in report order, as CodeQL does.
* **Category:** ``runs[0].automationDetails.id`` is ``pip-verify/<category>/``, which keeps
  the analyses of several lock files apart. Pass the lock file's path.

The shared ordering of reasons (:func:`review_items`) lives here too; the markdown summary and
the GitHub annotations use it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PureWindowsPath
from typing import Any
from urllib.parse import quote

from verify._format.untrusted import one_line
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify._version import __version__
from verify.models import Decision, Finding, PackageResult, Reason, Report, Severity
from verify.policy.rules import RULES, RuleInfo

__all__ = [
    "FINGERPRINT_KEY",
    "SARIF_SCHEMA_URI",
    "ReviewItem",
    "render_sarif",
    "report_to_sarif",
    "review_items",
]

SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
#: The ``partialFingerprints`` key. Bump the suffix only if the algorithm changes: doing so
#: closes every open alert once and opens it again under the new fingerprint.
FINGERPRINT_KEY = "pipVerify/v1"

_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}
_SECURITY_SEVERITY = {"error": "9.0", "warning": "5.0", "note": "2.0"}
_LEVEL_RANK = {"note": 0, "warning": 1, "error": 2}
#: Snippets in messages are cut to this many characters (``properties.evidence`` has them whole).
_EVIDENCE_CHARS = 200
_DEFAULT_LEVEL = {Decision.DENY: "error", Decision.WARN: "warning", Decision.ALLOW: "note"}

# Parts of a message that change from run to run without the problem changing.
_VOLATILE = (
    # 2024-01-02 03:04 UTC, 2024-01-02T03:04:05Z, 2024-01-02T03:04:05+00:00
    (
        re.compile(
            r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
            r"(?: UTC)?"
        ),
        "<time>",
    ),
    # 5 hours, 3 days, 1 minute (release-age)
    (re.compile(r"\b\d+ (?:second|minute|hour|day|week)s?\b"), "<duration>"),
    # path.py:12, RECORD:3: a line number after a path
    (re.compile(r"(?<=\S):\d+(?=[\s:,;)\]]|$)"), ""),
    (re.compile(r"\s+"), " "),
)


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One reason to show a reviewer: the package, the reason, and the finding behind it."""

    package: PackageResult
    reason: Reason
    #: The finding the reason was decided from, when there is one (behaviour findings).
    finding: Finding | None
    #: The reason's position in the report (packages in order, then their reasons).
    position: int

    @property
    def level(self) -> str:
        """``error`` (deny), ``warning`` (warn) or ``note`` (a warning about an unchecked rule)."""
        if self.reason.decision is Decision.DENY:
            return "error"
        return "note" if self.reason.unchecked else "warning"

    @property
    def severity(self) -> Severity:
        """The finding's severity; without one, what the decision implies."""
        if self.finding is not None:
            return self.finding.severity
        if self.reason.decision is Decision.DENY:
            return Severity.HIGH
        return Severity.LOW if self.reason.unchecked else Severity.MEDIUM

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Sorts the most severe first: deny before warn, checked before unchecked, then by
        severity, then in report order."""
        return (
            -self.reason.decision.rank,
            int(self.reason.unchecked),
            -_SEVERITY_RANK[self.severity],
            self.position,
        )

    @property
    def label(self) -> str:
        """``name version``, or the name alone."""
        version = self.package.version
        return f"{self.package.name} {version}" if version is not None else self.package.name

    @property
    def evidence(self) -> str | None:
        """Where the finding is and its snippet, on one line; ``None`` without a finding."""
        finding = self.finding
        if finding is None or not (finding.path or finding.snippet):
            return None
        where = (finding.path or "") + (f":{finding.line}" if finding.line else "")
        snippet = finding.snippet
        if snippet and len(snippet) > _EVIDENCE_CHARS:
            snippet = snippet[:_EVIDENCE_CHARS] + "…"
        if snippet:
            return f"{where}: {snippet}" if where else snippet
        return where


def _finding_for(package: PackageResult, reason: Reason) -> Finding | None:
    candidates = [f for f in package.findings if f.rule == reason.rule]
    for finding in candidates:
        if finding.message not in reason.message:
            continue
        if finding.path is not None and finding.path not in reason.message:
            continue
        if finding.line is not None and f":{finding.line}" not in reason.message:
            continue
        return finding
    return candidates[0] if len(candidates) == 1 else None


def review_items(report: Report) -> list[ReviewItem]:
    """Every reason that warns or denies, in report order (sort by :attr:`ReviewItem.rank`)."""
    items: list[ReviewItem] = []
    for package in report.packages:
        for reason in package.reasons:
            if reason.decision is Decision.ALLOW:
                continue
            items.append(ReviewItem(package, reason, _finding_for(package, reason), len(items)))
    return items


def _uri(path: str) -> str:
    """An input path as a URI reference: relative paths stay relative (code scanning resolves
    them against the repository root), absolute ones become ``file:`` URIs."""
    posix = path.replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    if PureWindowsPath(path).drive:
        return "file:///" + quote(posix, safe="/:")
    if posix.startswith("/"):
        return "file://" + quote(posix, safe="/")
    return quote(posix, safe="/")


def _fingerprint_base(item: ReviewItem) -> str:
    message = item.reason.message
    for pattern, replacement in _VOLATILE:
        message = pattern.sub(replacement, message)
    version = str(item.package.version) if item.package.version is not None else ""
    digest = hashlib.sha256()
    for part in (item.reason.rule, item.package.name, version, message.strip()):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _fingerprints(items: Iterable[ReviewItem]) -> list[str]:
    seen: dict[str, int] = {}
    prints = []
    for item in items:
        base = _fingerprint_base(item)
        seen[base] = seen.get(base, 0) + 1
        prints.append(f"{base}:{seen[base]}")
    return prints


def _default_artifact(report: Report) -> str | None:
    paths = {p.source.path for p in report.packages if p.source is not None}
    return paths.pop() if len(paths) == 1 else None


def _location(item: ReviewItem, artifact: str | None) -> dict[str, Any]:
    package = item.package
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "name": package.name,
                "fullyQualifiedName": item.label.replace(" ", "=="),
                "kind": "package",
            }
        ]
    }
    source = package.source
    if source is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": _uri(source.path)},
            "region": {"startLine": source.line if source.line and source.line > 0 else 1},
        }
    elif artifact is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": _uri(artifact)},
            "region": {"startLine": 1},
        }
    return location


def _name(rule_id: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rule_id) if part)


_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)[.!?](?=\s|$)")


def _first_sentence(text: str) -> str:
    match = _SENTENCE_END.search(text)
    return text[: match.end()] if match else text


def _default_level(info: RuleInfo) -> str:
    """What the default policy makes of the rule: a behaviour finding by its severity when
    new, against the ``behaviour`` rule's default ``deny-at`` and ``warn-at``."""
    behaviour = BEHAVIOUR_RULES.get(info.id)
    if not info.by_severity or behaviour is None:
        return _DEFAULT_LEVEL[info.decision]
    params = RULES["behaviour"].params
    rank = _SEVERITY_RANK[behaviour.severity]
    if rank >= _SEVERITY_RANK[Severity(str(params["deny-at"].default))]:
        return "error"
    if rank >= _SEVERITY_RANK[Severity(str(params["warn-at"].default))]:
        return "warning"
    return "note"


def _rule(rule_id: str, level: str) -> dict[str, Any]:
    info = RULES.get(rule_id)
    summary = info.summary if info is not None else f"The pip-verify rule {rule_id}."
    default = _default_level(info) if info is not None else level
    tags = ["security", "supply-chain"]
    if info is not None and info.by_severity:
        tags.append("behaviour")
    help_text = (
        f"{summary}\n\nA policy sets what this rule decides in its [rules.{rule_id}] table "
        "(decision, on-error); the JSON report (--format json) has every piece of evidence."
    )
    return {
        "id": rule_id,
        "name": _name(rule_id),
        "shortDescription": {"text": _first_sentence(summary)},
        "fullDescription": {"text": summary},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": default},
        "properties": {
            "tags": tags,
            "security-severity": _SECURITY_SEVERITY[level],
            "precision": "high",
        },
    }


def _message(item: ReviewItem) -> str:
    # Code scanning shows the text to people: package values have their controls made
    # visible, and the only line breaks are the ones between our parts.
    text = f"{one_line(item.label)}: {one_line(item.reason.message)}"
    if item.reason.unchecked:
        text += " (the rule could not be evaluated; its on-error decision applies)"
    evidence = item.evidence
    if evidence is not None and item.finding is not None and item.finding.snippet:
        text += f"\nEvidence: {one_line(evidence)}"
    if item.finding is not None and item.finding.why:
        text += f"\n{one_line(item.finding.why)}"
    return text


def _result(
    item: ReviewItem, rule_index: int, fingerprint: str, artifact: str | None
) -> dict[str, Any]:
    package = item.package
    properties: dict[str, Any] = {
        "package": package.name,
        "version": str(package.version) if package.version is not None else None,
        "decision": item.reason.decision.value,
        "unchecked": item.reason.unchecked,
        "requested": package.requested,
        "security-severity": _SECURITY_SEVERITY[item.level],
    }
    if item.finding is not None:
        properties["evidence"] = {
            "severity": item.finding.severity.value,
            "path": item.finding.path,
            "line": item.finding.line,
            "message": item.finding.message,
            "snippet": item.finding.snippet,
            "why": item.finding.why,
        }
    return {
        "ruleId": item.reason.rule,
        "ruleIndex": rule_index,
        "level": item.level,
        "message": {"text": _message(item)},
        "locations": [_location(item, artifact)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": properties,
    }


def report_to_sarif(
    report: Report,
    *,
    category: str | None = None,
    tool_uri: str | None = None,
    artifact: str | None = None,
) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (one run), as JSON-ready data.

    ``category`` (the lock file's path, say) becomes ``automationDetails.id``
    ``pip-verify/<category>/``; ``tool_uri`` the driver's ``informationUri``; ``artifact``
    the input file that packages without a source line are reported at.
    """
    items = review_items(report)
    if artifact is None:
        artifact = _default_artifact(report)
    worst: dict[str, str] = {}
    for item in items:
        current = worst.get(item.reason.rule)
        if current is None or _LEVEL_RANK[item.level] > _LEVEL_RANK[current]:
            worst[item.reason.rule] = item.level
    rule_ids = sorted(worst)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    driver: dict[str, Any] = {
        "name": "pip-verify",
        "version": __version__,
        "rules": [_rule(rule_id, worst[rule_id]) for rule_id in rule_ids],
    }
    if tool_uri:
        driver["informationUri"] = tool_uri
    notifications: list[dict[str, Any]] = [
        {"level": "error", "message": {"text": one_line(f"[{error.kind}] {error.message}")}}
        for error in report.errors
    ]
    notifications += [
        {"level": "warning", "message": {"text": one_line(warning)}} for warning in report.warnings
    ]
    invocation: dict[str, Any] = {"executionSuccessful": not report.errors}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "results": [
            _result(item, index[item.reason.rule], fingerprint, artifact)
            for item, fingerprint in zip(items, _fingerprints(items), strict=True)
        ],
        "properties": {
            "decision": report.decision.value,
            "complete": not report.incomplete,
            "checks": list(report.checks),
        },
    }
    if category is not None and category.strip("/"):
        run["automationDetails"] = {"id": f"pip-verify/{category.strip('/')}/"}
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(
    report: Report,
    *,
    category: str | None = None,
    tool_uri: str | None = None,
    artifact: str | None = None,
) -> str:
    """The report as an indented SARIF 2.1.0 document, with a trailing newline."""
    document = report_to_sarif(report, category=category, tool_uri=tool_uri, artifact=artifact)
    return json.dumps(document, indent=2) + "\n"
