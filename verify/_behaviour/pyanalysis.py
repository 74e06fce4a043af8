"""The analysis of Python source: parsed and judged node by node, or scanned as text.

A module is parsed when it stays within the parse budget (statements, estimated AST nodes) and
judged by :class:`PythonAnalysis`; source that does not parse, or is too large to, is scanned
as text with the fallback patterns and reported as ``unparsable-source``. Decoded payloads and
programs held in strings come back here (:func:`analyse_decoded`), a bounded number of layers.
"""

from __future__ import annotations

import ast
import bisect
import re

from verify._behaviour import patterns
from verify._behaviour.aliases import resolve_aliases
from verify._behaviour.collector import (
    Collector,
    Locate,
    PhaseAt,
    Source,
    add_exfiltration,
    fixed,
)
from verify._behaviour.profile import Phase
from verify._behaviour.pycalls import CallSite
from verify._behaviour.pyexec import ExecutionChecks
from verify._behaviour.pyparse import parse_source
from verify._behaviour.pywalk import Visit
from verify._behaviour.textscan import (
    analyse_text,
    scan_encoded_runs,
    scan_invisible,
    scan_layout,
    scan_literals,
    scan_patterns,
    scan_strings,
)
from verify.models import Severity

#: Parsing is linear but costs about 10 µs a statement, so a few megabytes of ``x=1;`` would
#: stall the check for a minute. Real modules stay far below these (the largest we measured:
#: ~25,000 lines of statements, ~2,000 semicolons); beyond them the file is scanned as text.
_PARSE_MAX_LINES = 300_000
_PARSE_MAX_SEMICOLONS = 50_000
#: CPython's AST costs about 1 KB of memory per node (a 2 MB list literal of a million
#: elements takes 1 GB to parse), so a module is parsed only when its estimated node count
#: (one per punctuation mark or line, counted by :func:`_parse_cost`) stays within this:
#: about 300 MB at worst. The largest real modules we measured cost under 100,000.
_PARSE_MAX_NODES = 300_000
#: Below this size no module can exceed the node budget, so it is not counted.
_PARSE_COUNT_FROM = 256 * 1024
_NODE_MARKS = ",([{=.;:+-*/%&|^<>~@\n"
#: Decoded payloads analysed inside decoded payloads, at most this deep.
_DECODED_MAX_DEPTH = 3


def parse_module(text: str) -> tuple[ast.Module | None, str, int | None]:
    """The module, or ``None`` with why it does not parse and where."""
    parsed = parse_source(text)
    return parsed.tree, parsed.reason, parsed.line


def _parse_cost(text: str) -> int:
    """An upper estimate of the AST nodes parsing ``text`` would build."""
    return sum(text.count(mark) for mark in _NODE_MARKS)


def text_phases(c: Collector, forced: Phase | None) -> PhaseAt:
    """For source only scanned as text: unindented lines run at import, indented ones later."""
    if forced is not None:
        return fixed(forced)

    def phase_at(line: int) -> Phase:
        lines = c.source.lines
        text = lines[line - 1] if 1 <= line <= len(lines) else ""
        return Phase.RUNTIME if text[:1] in (" ", "\t") else c.load_phase

    return phase_at


def scan_python_text(c: Collector, text: str, locate: Locate, phase_at: PhaseAt) -> None:
    scan_strings(c, text, locate, phase_at, hosts="quoted")
    # The patterns name callables; read the text with the names it binds to them resolved
    # (``run = exec``), keeping lines in place so ``locate`` still holds line for line.
    resolved = resolve_aliases(text)
    if resolved is None:
        scan_patterns(c, text, patterns.PYTHON_FALLBACK_PATTERNS, locate, phase_at)
    else:
        scan_patterns(
            c,
            resolved,
            patterns.PYTHON_FALLBACK_PATTERNS,
            _locate_in(text, resolved, locate),
            phase_at,
        )


def analyse_python(c: Collector, text: str, *, forced: Phase | None) -> None:
    phase_at = text_phases(c, forced)
    if text.count(";") > _PARSE_MAX_SEMICOLONS or text.count("\n") > _PARSE_MAX_LINES:
        tree, reason, line = None, "too many statements to parse within the budget", None
    elif len(text) > _PARSE_COUNT_FROM and _parse_cost(text) > _PARSE_MAX_NODES:
        tree, reason, line = None, "too large to parse within the memory budget", None
    else:
        tree, reason, line = parse_module(text)
    if tree is None:
        c.unparsable(reason, line)
        scan_python_text(c, text, c.source.line_at, phase_at)
        scan_layout(c, phase_at, minified=True)
        scan_encoded_runs(c, text, phase_at)
    else:
        run_analysis(c, tree, text, forced=forced, phase_at=phase_at)
    scan_invisible(c, phase_at, python=True)


def run_analysis(
    c: Collector, tree: ast.Module, text: str, *, forced: Phase | None, phase_at: PhaseAt
) -> None:
    try:
        PythonAnalysis(tree, c, forced=forced).run()
    except Exception as exc:
        # A bug meeting hostile input must degrade to the text scan, not abort the whole check;
        # the finding makes the gap visible.
        c.unparsable(f"analysis failed: {type(exc).__name__}", None)
        scan_python_text(c, text, c.source.line_at, phase_at)


def _locate_in(text: str, resolved: str, locate: Locate) -> Locate:
    """``locate`` for offsets into ``resolved``, a rewrite of ``text`` with the same lines."""
    starts = [0, *(m.end() for m in re.finditer("\n", text))]
    resolved_starts = [0, *(m.end() for m in re.finditer("\n", resolved))]

    def at(offset: int) -> int:
        index = bisect.bisect_right(resolved_starts, offset) - 1
        return locate(starts[min(index, len(starts) - 1)])

    return at


def analyse_decoded(parent: Collector, text: str, kind: str, phase: Phase) -> Collector:
    """Analyse text a file decodes at run time as code of ``kind`` running in ``phase``;
    bounded: payloads inside payloads are followed :data:`_DECODED_MAX_DEPTH` deep."""
    collector = Collector(parent.path, Source(text), depth=parent.depth + 1)
    if collector.depth > _DECODED_MAX_DEPTH:
        return collector
    if kind == "python":
        analyse_python(collector, text, forced=phase)
    else:
        analyse_text(collector, kind, phase)
    add_exfiltration(collector)
    return collector


class PythonAnalysis(ExecutionChecks):
    """One pass over a parsed module, with names resolved through its imports.

    The index (:class:`~verify._behaviour.pyindex.ModuleIndex`) and the checks each class
    below this one adds are put together here: :meth:`run` walks, judges every node with its
    handler, then weighs the evidence that counts only in combination.
    """

    def run(self) -> None:
        """Walk the module, resolve names, judge every node, then weigh combinations."""
        self._walk()
        self._resolve_aliases()
        for visit in self.visits:
            node = visit.node
            match node:
                case ast.Call():
                    self._call(node, visit)
                case ast.Constant():
                    self._constant(node, visit)
                case ast.BinOp():
                    self._binop(node, visit)
                case ast.JoinedStr():
                    self._fstring(node, visit)
                case ast.Assign() | ast.AugAssign() | ast.AnnAssign():
                    self._assignment(node, visit)
                case ast.ClassDef():
                    self._class(node, visit)
                case ast.Dict():
                    self._dict(node, visit)
                case ast.Attribute():
                    self._environ(node, visit)
        for visit in self.environ_uses:
            if isinstance(visit.node, ast.Name):
                self._environ(visit.node, visit)
        for visit in self.named:
            self._identifiers(visit.node, visit)
        for visit in self.laid_out:
            if isinstance(visit.node, (ast.stmt, ast.expr)):
                self._layout(visit.node, visit)
        self._finish()

    def _analyse_payload(self, text: str, kind: str, phase: Phase) -> Collector:
        return analyse_decoded(self.c, text, kind, phase)

    # -- Node handlers --------------------------------------------------------------------------

    def _call(self, node: ast.Call, visit: Visit) -> None:
        """Run every call check; each looks at the callee and returns if it is not its own."""
        attribute = node.func.attr if isinstance(node.func, ast.Attribute) else None
        site = CallSite(node, self.qualname(node.func) or "", attribute, visit, self._phase(visit))
        for check in (
            self._code_sinks,
            self._process,
            self._stdin_feed,
            self._network,
            self._socket_address,
            self._credential_call,
            self._shell_link,
            self._chmod,
            self._thread,
            self._setattr,
            self._silencing,
            self._open,
            self._command_classes,
            self._fold_call,
            self._computed_builtin,
        ):
            check(site)

    def _finish(self) -> None:
        """Evidence that is only damning together, and the literals gathered on the way."""
        self._peel_literals()
        scan_literals(self.c, self.literals)
        if self.sockets and self.shell_links:
            line, phase, key = min(self.shell_links)
            self.c.add(
                "reverse-shell",
                key,
                f"connects a socket to a shell's standard streams ({key})",
                line,
                phase,
            )
        if self.fetches and self.spawns and (self.chmods or self.retrieves):
            line, phase = min(self.chmods or self.retrieves)
            key = "download+chmod+run" if self.chmods else "urlretrieve+run"
            self.c.add(
                "download-exec",
                key,
                "downloads a file, makes it executable and runs programs"
                if self.chmods
                else "downloads a file and runs programs",
                line,
                phase,
            )
        dropped = [
            (line, phase, name)
            for line, phase, path, name in self.launched
            if path in self.written or name == "os.startfile"
        ]
        if self.fetches and dropped and not self.c.has("download-exec"):
            line, phase, name = min(dropped)
            self.c.add(
                "download-exec",
                "download+write+run",
                f"downloads data, writes it to a file and runs that file ({name})",
                line,
                phase,
            )
        if self.stdin_programs and self.stdin_feeds and not self.c.has("download-exec"):
            line, phase, fetched = min(self.stdin_feeds)
            self.c.add(
                "download-exec",
                "download+stdin",
                f"writes data downloaded with {fetched} to the standard input of an interpreter "
                "that reads its program from there",
                line,
                phase,
            )
        crowded = sorted(line for line, count in self.statements.items() if count >= 2)
        if crowded:
            line = crowded[0]
            length = len(self.c.source.lines[line - 1])
            self.c.add(
                "obfuscation",
                "minified",
                f"has a {length:,}-character line of {self.statements[line]} statements "
                "(minified code)",
                line,
                self.forced or self.c.load_phase,
                # Generated and golfed code exist; minification alone is not an attack.
                severity=Severity.MEDIUM,
            )
