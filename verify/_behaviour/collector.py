"""What the analysis of one file collects: capabilities, hosts and findings, over its text.

:class:`Source` is a file's text split the way Python counts lines, for line numbers and
snippets. :class:`Collector` gathers what every scan and check adds, applies what holds for all
of them (documentation and data cannot run; command classes run at install), takes in what
decoded or embedded code does (:meth:`Collector.absorb`) and keeps one capability per rule, key
and phase.
:func:`add_exfiltration` is the one rule that reads a file's capabilities together.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable

from verify._behaviour import patterns, scanning
from verify._behaviour.profile import Capability, Phase
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify._rules.severity import SEVERITY_ORDER, raise_severity
from verify.models import Finding, Severity

#: Line number to the phase code on that line runs in.
PhaseAt = Callable[[int], Phase]
#: Offset into a scanned string to its 1-based line in the file.
Locate = Callable[[int], int]

SNIPPET_MAX = 200


class Source:
    """A file's text split the way Python counts lines, for line numbers and snippets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = scanning.split_lines(text)
        self._starts: list[int] | None = None

    def _line_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = scanning.line_starts(self.text)
        return self._starts

    def line_at(self, offset: int) -> int:
        """The 1-based line holding ``offset``."""
        return bisect.bisect_right(self._line_starts(), offset)

    def line_start(self, line: int) -> int:
        """The offset where 1-based ``line`` starts."""
        return self._line_starts()[line - 1]

    def snippet(self, line: int, column: int | None = None) -> str | None:
        if not 1 <= line <= len(self.lines):
            return None
        raw = self.lines[line - 1]
        text = raw.strip()
        if len(text) <= SNIPPET_MAX:
            return text
        if column is not None and column > SNIPPET_MAX // 2:
            # On a minified line show where the finding is, not the line's harmless start.
            start = max(0, column - 20)
            return "…" + raw[start : start + SNIPPET_MAX - 2].strip() + "…"
        return text[: SNIPPET_MAX - 1] + "…"


class Collector:
    """The capabilities, hosts and findings of one file, de-duplicated at the end."""

    def __init__(
        self, path: str, source: Source, *, inert_text: bool = False, depth: int = 0
    ) -> None:
        self.path = path
        self.source = source
        #: Text that cannot run (documentation, data such as JSON or XML): what it names is
        #: worth knowing, never a verdict.
        self.inert_text = inert_text
        #: How many decoded layers deep this text was found (0: the file itself).
        self.depth = depth
        #: Functions of this module that its package's ``__init__`` calls as it is imported.
        self.called_on_import: frozenset[str] = frozenset()
        #: When module-level code runs: on import, or at install time for a module the
        #: build itself imports.
        self.load_phase = Phase.IMPORT
        self.capabilities: list[Capability] = []
        self.hosts: set[str] = set()
        self.findings: list[Finding] = []

    def add(
        self,
        rule: str,
        key: str,
        message: str,
        line: int,
        phase: Phase,
        *,
        severity: Severity | None = None,
        specific: bool | None = None,
        column: int | None = None,
        concealed: str | None = None,
        routine: bool = False,
        snippet: str | None = None,
    ) -> None:
        if severity is None:
            severity = BEHAVIOUR_RULES[rule].severity
        if specific is None:
            specific = rule in patterns.SPECIFIC_RULES or (
                rule == "obfuscation" and key in patterns.SPECIFIC_OBFUSCATION_KEYS
            )
        if rule == "install-hook":
            # Command classes run during the build wherever they are defined.
            phase = Phase.INSTALL
        if self.inert_text:
            # Documentation and data cannot run: what they mention is worth knowing, not
            # blocking on.
            severity = raise_severity(severity, -2)
            specific = False
        self.capabilities.append(
            Capability(
                rule=rule,
                severity=severity,
                message=message,
                path=self.path,
                line=line,
                key=key,
                phase=phase,
                specific=specific,
                snippet=snippet or self.source.snippet(line, column),
                concealed=concealed,
                routine=routine,
            )
        )

    def has(self, rule: str) -> bool:
        return any(cap.rule == rule for cap in self.capabilities)

    def absorb(self, inner: Collector, *, line: int, layers: str | None) -> None:
        """What decoded or embedded code does, reported at the line that holds it: hidden
        code is rated as the code it is, and concealed for having been hidden (``layers``:
        the encodings peeled; ``None`` for a program held in a plain string)."""
        where = f"hidden under {layers}" if layers else "in Python code held in a string"
        label = f"[decoded {layers}]" if layers else "[code in a string]"
        for cap in inner.result():
            self.capabilities.append(
                dataclasses.replace(
                    cap,
                    path=self.path,
                    line=line,
                    message=f"{cap.message} ({where})",
                    snippet=f"{label} {cap.snippet or ''}"[:SNIPPET_MAX],
                    concealed=cap.concealed or (f"an encoding ({layers})" if layers else None),
                    routine=False,
                    key=f"{cap.key} ({where})",
                )
            )
        self.hosts |= inner.hosts

    def unparsable(self, reason: str, line: int | None) -> None:
        self.findings.append(unparsable_finding(self.path, reason, line))

    def result(self) -> tuple[Capability, ...]:
        """One capability per (rule, key, phase): the most severe, then the first."""
        best: dict[tuple[str, str, Phase], Capability] = {}
        for cap in self.capabilities:
            slot = (cap.rule, cap.key, cap.phase)
            kept = best.get(slot)
            # Severest rather than first: a later shell=True call must not hide behind an
            # earlier harmless one with the same key.
            if kept is None or _rank(cap) > _rank(kept):
                best[slot] = cap
        return tuple(sorted(best.values(), key=lambda c: (c.line or 0, c.rule, c.key)))


def unparsable_finding(path: str, reason: str, line: int | None) -> Finding:
    return Finding(
        rule="unparsable-source",
        severity=BEHAVIOUR_RULES["unparsable-source"].severity,
        message=f"{path} could not be parsed as Python ({reason}); analysed as text only",
        path=path,
        line=line,
    )


def _rank(cap: Capability) -> tuple[int, bool, bool, int]:
    # A concealed or non-tool call of the same kind outranks a plain one: it must not hide
    # behind an earlier harmless call with the same key.
    return (
        SEVERITY_ORDER.index(cap.severity),
        cap.concealed is not None,
        not cap.routine,
        -(cap.line or 0),
    )


def fixed(phase: Phase) -> PhaseAt:
    def phase_at(_line: int) -> Phase:
        return phase

    return phase_at


def fixed_line(line: int) -> Locate:
    def locate(_offset: int) -> int:
        return line

    return locate


def add_exfiltration(c: Collector) -> None:
    """Credentials or the environment, and a way out, in one file: the stealer's shape."""
    if c.inert_text:
        return
    sources = [cap for cap in c.capabilities if cap.rule in ("credential-read", "environment-dump")]
    if not sources:
        return
    exits = [cap for cap in c.capabilities if cap.rule == "network-access"] or [
        cap for cap in c.capabilities if cap.rule == "suspicious-endpoint"
    ]
    if not exits:
        return
    source = min(sources, key=lambda cap: cap.line or 0)
    sink = min(exits, key=lambda cap: cap.line or 0)
    c.add(
        "exfiltration",
        sink.key,
        f"reads {source.key} and sends data over the network ({sink.key})",
        sink.line or 1,
        sink.phase,
    )
