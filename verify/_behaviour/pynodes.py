"""Judging a Python module's nodes other than calls.

String literals are gathered for the string-level scan (paths and strings built from several
literals are scanned as the text they build), held programs are analysed as code, and long
encoded literals are peeled and analysed as what they decode to. Assignments that replace
standard streams or patch imported modules, command classes, ``os.environ`` taken whole,
look-alike identifiers and code hidden after blank runs are judged here too.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence

from verify._behaviour import patterns
from verify._behaviour.collector import Collector
from verify._behaviour.decode import PEEL_MIN_LENGTH, peel
from verify._behaviour.profile import Phase
from verify._behaviour.pyflow import DataFlow
from verify._behaviour.pyindex import starts_process
from verify._behaviour.pywalk import Visit
from verify._behaviour.textscan import StringLiteral, add_encoded
from verify.models import Severity

#: A string this long, with an import statement at the start of a line, may be a program.
_EMBEDDED_MIN = 120
_EMBEDDED_MAX = 512 * 1024
_EMBEDDED_IMPORT = re.compile(r"^[ \t]*(?:import|from)[ \t]+[\w.]+", re.MULTILINE)
#: Escapes (``\\x41``, ``\\101``) of printable ASCII: this many in one literal, making up
#: most of it, is text spelled so that it cannot be read or searched.
_ESCAPED_MIN = 8
_PRINTABLE_ESCAPE = re.compile(rb"\\(?:x[2-7][0-9a-fA-F]|0[4-7][0-7]|1[0-7][0-7])")
#: Words that make decoded text that is not Python read as a command line.
_COMMAND_WORDS = re.compile(
    r"\b(?:powershell|pwsh|cmd(?:\.exe)?\s+/c|curl|wget|bash|sh\s+-c|chmod|Invoke-\w+|iex)\b",
    re.IGNORECASE,
)
#: Calls that take the environment whole without dumping it (counting it, type checks).
_ENV_HARMLESS_CALLS = frozenset({"len", "isinstance", "id", "type", "bool"})


def _looks_like_code(text: str) -> bool:
    """A string that may be a Python program: long enough, several lines, imports something
    and small enough to parse cheaply."""
    return (
        _EMBEDDED_MIN <= len(text) <= _EMBEDDED_MAX
        and text.count("\n") >= 2
        and _EMBEDDED_IMPORT.search(text) is not None
    )


def _flatten_targets(targets: Sequence[ast.expr]) -> Iterator[ast.expr]:
    pending = list(targets)
    while pending:
        target = pending.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            pending.extend(target.elts)
        elif isinstance(target, ast.Starred):
            pending.append(target.value)
        else:
            yield target


def _hidden_before(prefix: str) -> bool:
    """Whether code before a node ends in a long blank run (allowing one ``;`` or ``:``)."""
    body = prefix.rstrip(" \t")
    run = len(prefix) - len(body)
    if body.endswith((";", ":")):
        before = body[:-1].rstrip(" \t")
        run = max(run, len(body) - 1 - len(before))
        body = before
    return run >= patterns.HIDDEN_RUN and bool(body.strip())


def _homoglyph(name: str) -> bool:
    """Whether an identifier mixes Latin with look-alike scripts, or imitates Latin entirely."""
    scripts: set[str] = set()
    for char in name:
        if char.isascii():
            if char.isalpha():
                scripts.add("LATIN")
        elif char.isalpha():
            scripts.add(unicodedata.name(char, "?").split(" ", 1)[0])
    if "LATIN" in scripts and scripts & {"CYRILLIC", "GREEK"}:
        return True
    letters = [char for char in name if char.isalpha()]
    return len(letters) >= 3 and all(char in patterns.CONFUSABLE_CYRILLIC for char in letters)


class NodeChecks(DataFlow):
    """The checks on nodes other than calls, and the literals gathered for the string scan."""

    def __init__(self, tree: ast.Module, collector: Collector, *, forced: Phase | None) -> None:
        super().__init__(tree, collector, forced=forced)
        #: Literals already scanned as part of a larger string or path.
        self.consumed: set[int] = set()
        #: Pieces of f-strings, scanned as the string they build (but still peeled).
        self.joined: set[int] = set()
        self.escaped_found = False
        #: Long literals that may be encoded payloads, peeled once the calls are judged.
        self.peelable: list[ast.Constant] = []
        self.statements: Counter[int] = Counter()
        self.encoded_lines: dict[int, bytes] = {}
        self.hidden_found = False
        self.literals: list[StringLiteral] = []

    def _analyse_payload(self, text: str, kind: str, phase: Phase) -> Collector:
        """What ``text``, decoded or held in a string of this module, does as code of ``kind``
        running in ``phase``: the whole analysis again, which the final class provides."""
        raise NotImplementedError

    # -- Node handlers --------------------------------------------------------------------------

    def _fold_path(self, node: ast.AST, visit: Visit) -> None:
        """Scan a path built from several literals as one string (the outermost expression)."""
        constants: list[ast.Constant] = []
        text = self._path_text(node, constants, 0)
        if not constants or any(id(constant) in self.consumed for constant in constants):
            return
        self.consumed.update(id(constant) for constant in constants)
        self._scan_literal(text, node, visit)

    def _fold_string(self, node: ast.AST, visit: Visit) -> None:
        """Scan ``"disc" + "ord.com/api/webhooks"`` as the string it builds."""
        # const_str is bounded and fails fast; only a foldable expression is walked.
        value = self.const_str(node)
        if value is None:
            return
        pieces = [sub for sub in ast.walk(node) if isinstance(sub, ast.Constant)]
        if len(pieces) < 2 or any(id(piece) in self.consumed for piece in pieces):
            return
        self.consumed.update(id(piece) for piece in pieces)
        self._scan_literal(value, node, visit)

    def _binop(self, node: ast.BinOp, visit: Visit) -> None:
        if isinstance(node.op, ast.Div):
            self._fold_path(node, visit)
        elif isinstance(node.op, ast.Add):
            self._fold_string(node, visit)

    def _fstring(self, node: ast.JoinedStr, visit: Visit) -> None:
        """Scan ``f"wget -qO /tmp/{name} {url} && chmod +x /tmp/{name}"`` as the command it
        builds. Each formatted value stands as ``{}``, which no host or path pattern takes for
        part of a name, so a pattern spanning the pieces is seen whole and none is made up."""
        pieces = [value for value in node.values if isinstance(value, ast.Constant)]
        if len(pieces) < 2 or any(id(piece) in self.consumed for piece in pieces):
            return
        text = "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "{}"
            for part in node.values
        )
        self.joined.update(id(piece) for piece in pieces)
        self._scan_literal(text, node, visit)
        for piece in pieces:
            self._constant_payloads(piece, visit)

    def _constant(self, node: ast.Constant, visit: Visit) -> None:
        value = node.value
        if not isinstance(value, (str, bytes)):
            return
        # Docstrings document; URLs and paths in them are not things the code does.
        if id(node) in self.docstrings or id(node) in self.consumed or id(node) in self.joined:
            return
        text = value if isinstance(value, str) else value.decode("latin-1")
        self._scan_literal(text, node, visit, raw=value)
        self._constant_payloads(node, visit)

    def _constant_payloads(self, node: ast.Constant, visit: Visit) -> None:
        """What a string constant may hide: a program, an encoded payload, escaped text."""
        value = node.value
        if not isinstance(value, (str, bytes)):
            return
        if isinstance(value, str) and _looks_like_code(value):
            self._embedded_code(value, node)
        elif len(value) >= PEEL_MIN_LENGTH:
            self.peelable.append(node)
        if not self.escaped_found and len(value) >= _ESCAPED_MIN:
            self._escaped_text(node, len(value), visit)

    def _escaped_text(self, node: ast.Constant, size: int, visit: Visit) -> None:
        """Ordinary printable text written as ``\\x65\\x76\\x61\\x6c`` escapes: obfuscators
        spell ``eval`` and module names that way so that no search finds them."""
        line = getattr(node, "lineno", 0)
        if line != getattr(node, "end_lineno", None) or not 1 <= line <= len(self.c.source.lines):
            return
        raw = self.c.source.lines[line - 1]
        if "\\" not in raw:
            return
        encoded = raw.encode("utf-8", errors="replace")
        start, end = getattr(node, "col_offset", 0), getattr(node, "end_col_offset", None)
        segment = encoded[start:end]
        escapes = len(_PRINTABLE_ESCAPE.findall(segment))
        if escapes < _ESCAPED_MIN or escapes * 2 < size:
            return
        self.escaped_found = True
        early = self._phase(visit) is not Phase.RUNTIME
        self._add(
            "obfuscation",
            "escaped-text",
            f"spells printable text as {escapes} escape sequences",
            node,
            visit,
            specific=early,
            severity=None if early else Severity.MEDIUM,
        )

    def _embedded_code(self, code: str, node: ast.Constant) -> None:
        """A Python program held in a string (written to a file and run, or handed to an
        interpreter): analysed as the code it is. It runs whenever something runs it, so its
        generic capabilities count as run-time ones; what is malicious on its own stays so."""
        inner = self._analyse_payload(code, "python", Phase.RUNTIME)
        if inner.findings:  # does not parse after all: text, not a program
            return
        self.c.absorb(inner, line=getattr(node, "lineno", 1), layers=None)

    def _scan_literal(
        self, text: str, node: ast.AST, visit: Visit, raw: str | bytes | None = None
    ) -> None:
        start = getattr(node, "lineno", 1)
        end = getattr(node, "end_lineno", None) or start
        phase = self._phase(visit)
        self.literals.append(StringLiteral(text, start, end, phase, self.c.source.lines))
        value = text if raw is None else raw
        if len(value) >= patterns.ENCODED_MIN_LENGTH:
            add_encoded(self.c, value, start, phase)

    def _peel_literals(self) -> None:
        """Encoded literals nothing visibly runs: what they decode to, analysed as the code it
        is (a payload written out and run later, or run by code the analysis cannot follow).
        Literals a sink already decoded are left out."""
        for node in self.peelable:
            if id(node) in self.consumed:
                continue
            value = node.value
            if not isinstance(value, (str, bytes)):
                continue
            decoded = peel(value)
            if decoded is None or not decoded.layers or not decoded.text:
                continue
            inner = self._analyse_payload(decoded.text, "python", Phase.RUNTIME)
            if inner.findings:  # not Python: a command line, if it reads like one
                if not _COMMAND_WORDS.search(decoded.text):
                    continue
                inner = self._analyse_payload(decoded.text, "shell", Phase.RUNTIME)
            self.c.absorb(inner, line=node.lineno, layers="+".join(decoded.layers))

    def _assignment(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign, visit: Visit) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in _flatten_targets(targets):
            if isinstance(target, ast.Attribute):
                name = self.qualname(target)
                if name in patterns.STD_STREAMS:
                    self._add("output-silenced", name, f"replaces {name}", node, visit)
                    continue
                owner = self._patched(target.value)
                if owner is not None and not visit.deferred:
                    key = f"{owner}.{target.attr}"
                    self._add("monkey-patch", key, f"replaces {key} at import time", node, visit)
            elif isinstance(target, ast.Subscript) and not visit.deferred:
                container = self.qualname(target.value)
                item = self.const_str(target.slice) or "*"
                if container == "sys.modules":
                    key = f"sys.modules[{item!r}]"
                elif container == "builtins":
                    key = f"builtins.{item}"
                else:
                    continue
                self._add("monkey-patch", key, f"replaces {key} at import time", node, visit)

    def _class(self, node: ast.ClassDef, visit: Visit) -> None:
        for base in node.bases:
            name = self.qualname(base) or ""
            root, last = name.split(".", 1)[0], name.rsplit(".", 1)[-1]
            if root in patterns.COMMAND_BASE_ROOTS and last in patterns.COMMAND_BASE_NAMES:
                self._add(
                    "install-hook",
                    name,
                    f"subclasses the build command {last} ({name}), which runs at install time",
                    node,
                    visit,
                )

    def _dict(self, node: ast.Dict, visit: Visit) -> None:
        for key in node.keys:
            if isinstance(key, ast.Constant) and key.value == "cmdclass":
                self._add(
                    "install-hook",
                    "cmdclass",
                    "registers setup.py command classes (cmdclass), which run at install time",
                    node,
                    visit,
                )
        self._environ_unpacked(node, visit)

    def _environ_unpacked(self, node: ast.Dict, visit: Visit) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None and self.qualname(value) in patterns.ENVIRON_NAMES:
                self._environment_dump("{**os.environ}", node, visit)

    def _environ(self, node: ast.Name | ast.Attribute, visit: Visit) -> None:
        """``os.environ`` taken whole (copied, iterated, serialised), not one variable read."""
        if isinstance(node, ast.Attribute):
            if node.attr not in ("environ", "environb"):
                return
        elif self.aliases.get(node.id) not in patterns.ENVIRON_NAMES:
            return
        if not isinstance(node.ctx, ast.Load):
            return
        if self.qualname(node) not in patterns.ENVIRON_NAMES:
            return
        how = self._whole_environment_use(node, visit.parent)
        if how is not None:
            self._environment_dump(how, node, visit)

    def _whole_environment_use(self, node: ast.AST, parent: ast.AST | None) -> str | None:
        if isinstance(parent, ast.Attribute):
            method = parent.attr
            return f"os.environ.{method}()" if method in patterns.ENV_WHOLE_METHODS else None
        if isinstance(parent, ast.Call):
            if parent.func is node:
                return None
            function = self.qualname(parent.func) or ""
            method = function.rsplit(".", 1)[-1]
            harmless = (
                function in _ENV_HARMLESS_CALLS
                or method in patterns.ENV_BENIGN_METHODS
                # os.execve(path, args, os.environ): handing the environment to a child.
                or starts_process(function)
            )
            return None if harmless else f"{function or 'a call'}(os.environ)"
        if isinstance(parent, ast.keyword):
            if parent.arg is None:
                return "**os.environ"
            # env=os.environ passes the environment to a child; it reads nothing.
            return None if parent.arg in ("env", "environ") else f"{parent.arg}=os.environ"
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is node:
            return "iterating over os.environ"
        if isinstance(parent, ast.FormattedValue):
            return "formatting os.environ"
        if isinstance(parent, ast.Starred):
            return "*os.environ"
        return None

    def _environment_dump(self, how: str, node: ast.AST, visit: Visit) -> None:
        self._add(
            "environment-dump", "os.environ", f"reads the whole environment ({how})", node, visit
        )

    def _identifiers(self, node: ast.AST, visit: Visit) -> None:
        names: tuple[str | None, ...]
        if isinstance(node, ast.Name):
            names = (node.id,)
        elif isinstance(node, ast.Attribute):
            names = (node.attr,)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = (node.name,)
        elif isinstance(node, (ast.arg, ast.keyword)):
            names = (node.arg,)
        elif isinstance(node, ast.alias):
            names = (node.name, node.asname)
        else:
            return
        for name in names:
            if name and not name.isascii() and _homoglyph(name):
                self._add(
                    "obfuscation",
                    "homoglyph-identifier",
                    f"identifier {name!r} mixes Latin with look-alike letters of another script",
                    node,
                    visit,
                )
                return

    def _layout(self, node: ast.stmt | ast.expr, visit: Visit) -> None:
        """Code hidden after a long blank run on its line; statements on minified lines."""
        lines = self.c.source.lines
        if node.lineno > len(lines):
            return
        text = lines[node.lineno - 1]
        if isinstance(node, ast.stmt) and len(text) > patterns.MINIFIED_LINE:
            self.statements[node.lineno] += 1
        if node.col_offset < patterns.HIDDEN_RUN or self.hidden_found:
            return
        # ast columns count UTF-8 bytes; blanks are ASCII, so slice the bytes when they differ.
        encoded = self.encoded_lines.get(node.lineno)
        if encoded is None:
            encoded = self.encoded_lines[node.lineno] = text.encode("utf-8")
        window = encoded[max(0, node.col_offset - 400) : node.col_offset]
        if _hidden_before(window.decode("utf-8", errors="replace")):
            self.hidden_found = True
            self._add(
                "obfuscation",
                "hidden-after-whitespace",
                "hides code after a long run of blanks on one line",
                node,
                visit,
            )
