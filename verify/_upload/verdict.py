"""One screened upload's outcome, in a form the gate, the quarantine and the queue share."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify._format.json import render_json
from verify._serve.status import reason_phrase
from verify.models import Decision, Report
from verify.policy import Policy
from verify.screen import ScreenSettings, run_screen

__all__ = ["Outcome", "Verdict", "screen_file", "verdict_from_report"]


class Outcome(str, enum.Enum):
    """What the gate does with an upload."""

    #: Forward it to the upstream index (allowed, possibly with warnings).
    ACCEPT = "accept"
    #: A rule that ran denied it: HTTP 403, and the upload is quarantined.
    REFUSE = "refuse"
    #: Screening could not complete: HTTP 503, nothing is published or quarantined.
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of screening one distribution file."""

    outcome: Outcome
    #: The exit code ``pip-verify screen`` gives for the same report (0, 1 or 3).
    exit_code: int
    #: One line for the uploader (an HTTP reason phrase): what was decided and why.
    reason: str
    #: The full report, as ``--format json`` writes it (``pip-verify/report/v1``).
    report_json: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the queue sends verdicts between processes)."""
        return {**dataclasses.asdict(self), "outcome": self.outcome.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """The inverse of :meth:`to_dict`; raises ``ValueError`` or ``KeyError`` if malformed."""
        return cls(
            outcome=Outcome(data["outcome"]),
            exit_code=int(data["exit_code"]),
            reason=str(data["reason"]),
            report_json=str(data["report_json"]),
        )


def verdict_from_report(report: Report, filename: str) -> Verdict:
    """Decide what the gate does with ``filename`` from its screening report."""
    denied = [
        reason
        for package in report.packages
        for reason in package.reasons
        if reason.decision is Decision.DENY
    ]
    ran = [reason for reason in denied if not reason.unchecked]
    if report.denied_by_policy:
        # Every rule that denied is named (they are what an admin can act on); the first
        # one's evidence follows, as much as one line holds.
        rules = ", ".join(dict.fromkeys(reason.rule for reason in ran))
        return Verdict(
            Outcome.REFUSE,
            1,
            reason_phrase(f"pip-verify refused {filename}: {rules}: {ran[0].message}"),
            render_json(report),
        )
    if report.incomplete:
        if report.errors:
            why = report.errors[0].message
        elif denied:
            why = f"{denied[0].rule}: {denied[0].message}"
        else:
            why = "verification did not complete"
        return Verdict(
            Outcome.UNAVAILABLE,
            3,
            reason_phrase(f"pip-verify could not finish screening {filename}: {why}"),
            render_json(report),
        )
    warned = sum(
        1
        for package in report.packages
        for reason in package.reasons
        if reason.decision is Decision.WARN
    )
    note = f" with {warned} warning{'s' if warned != 1 else ''}" if warned else ""
    return Verdict(Outcome.ACCEPT, 0, f"pip-verify accepted {filename}{note}", render_json(report))


def screen_file(path: Path, settings: ScreenSettings, *, policy: Policy | None = None) -> Verdict:
    """Screen one distribution file (its attestations beside it) and decide.

    Raises :class:`~verify.errors.VerifyError` like :func:`~verify.screen.run_screen` when the
    file cannot be screened at all (not a distribution, unreadable archive).
    """
    report = run_screen(dataclasses.replace(settings, files=(path,)), policy=policy)
    return verdict_from_report(report, path.name)
