"""What the engine decides to verify for one candidate, and the reasons gathered for it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from verify._fetch.fetch import FetchRequest
from verify._rules.ids import RuleId
from verify.models import (
    Candidate,
    Decision,
    ExpectedDigest,
    Finding,
    IndexFile,
    ProjectPage,
    Reason,
    ReportError,
)
from verify.policy import Policy

__all__ = ["LOCAL_ORIGINS", "Plan", "PlannedFile", "dedupe"]

#: Candidates for files given as they are, not from an index: a local file (``check``), or
#: an upload before it is published (``screen``, the upload gate). An upload is held to
#: ``provenance-required``; a local file a developer checks is not, unless the policy says so.
LOCAL_ORIGINS = frozenset({"local", "upload"})


@dataclass(slots=True)
class PlannedFile:
    """One file to fetch and verify, with every digest it must match."""

    filename: str
    url: str | None
    path: Path | None
    entry: IndexFile | None
    expected: tuple[ExpectedDigest, ...]
    size: int | None

    def request(self) -> FetchRequest:
        return FetchRequest(
            self.filename, url=self.url, path=self.path, expected=self.expected, size=self.size
        )


@dataclass(slots=True)
class Plan:
    """A candidate, the files chosen for it, and what the rules said about it so far."""

    candidate: Candidate
    policy: Policy
    files: list[PlannedFile] = field(default_factory=list)
    #: The project's pages on the configured indexes.
    listing: tuple[ProjectPage, ...] = ()
    reasons: list[Reason] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ReportError] = field(default_factory=list)

    def add(self, rule: RuleId, message: str, *, unchecked: bool = False) -> None:
        """Record that ``rule`` fired (or could not be evaluated) for this package."""
        config = self.policy.rule(rule.value, package=self.candidate.name)
        decision = config.on_error if unchecked else config.decision
        if decision is Decision.ALLOW and not unchecked:
            return  # a rule the policy turned off; what could not be checked is still said
        self.reasons.append(Reason(rule.value, decision, message, unchecked=unchecked))


def dedupe(reasons: Iterable[Reason]) -> list[Reason]:
    """``reasons`` without repeats, in order."""
    return list(dict.fromkeys(reasons))
