"""Static capability analysis: what one file inside a Python distribution can do.

Threat model. Malicious releases rarely look malicious as a whole: they add a ``.pth`` line that
runs at every interpreter start-up, a ``setup.py`` command class that runs during ``pip
install``, or a module that decodes a blob and executes it when imported, reads
``~/.aws/credentials`` and posts it to a webhook. This module reads one file's bytes (it never
executes, imports or writes anything) and lists its *capabilities*: each is a catalogue rule
(:mod:`verify._rules.behaviour`) with the line it was seen on, the phase it runs in
(install, interpreter start-up, import, or only when called) and a key that stays the same
across releases (``subprocess.Popen``, ``~/.aws/credentials``, a host name), so the diff can
report what a release *adds* rather than everything a package has always done.

What is detected (rule: key):

- ``install-hook``: ``cmdclass=`` and setuptools/distutils command subclasses (key ``cmdclass``
  or the base class); anything in an install-time file (``setup.py``) has phase ``install``.
- ``pth-exec``: ``.pth`` lines starting with ``import`` (key ``import <module>``); the code on
  them is analysed too, in phase ``startup``.
- ``decode-exec`` / ``download-exec``: exec, eval, compile, ``types.FunctionType``,
  ``marshal.loads``, a dynamic import or a process call fed by decoded data (base64, hex, rot13,
  zlib/lzma/bz2/gzip, marshal, chr-joins, ``bytes([...])``, reversed strings) or by a network
  response (key ``exec(base64.b64decode)``, ``exec(requests)``); ``curl | sh`` in strings.
- ``dynamic-import``, ``process-spawn``, ``network-access`` (key: the call or module),
  ``credential-read`` and ``persistence`` (key: the location), ``environment-dump``
  (``os.environ``), ``exfiltration`` (credentials or environment plus network in one file),
  ``reverse-shell``, ``miner``, ``ld-preload``, ``suspicious-endpoint`` (webhooks, paste sites,
  tunnels, raw public IPs, abused TLDs), ``obfuscation`` (bidi and zero-width characters,
  homoglyph identifiers, code hidden after long blank runs, minified lines),
  ``high-entropy-string`` (key ``encoded-literal``), ``import-time-thread``, ``monkey-patch``,
  ``output-silenced``; and :attr:`FileProfile.hosts` for the diff's ``new-endpoint``.

How. Python is parsed with :mod:`ast`; imports and aliases are resolved (``import subprocess as
sp; sp.Popen`` is ``subprocess.Popen``, ``__import__("os").system`` is ``os.system``) and simple
data flow is followed within a scope (``code = b64decode(s); exec(code)``). Shell, JavaScript,
other text, and Python that does not parse are searched with the regular expressions in
:mod:`verify._behaviour.patterns`. A byte-level prefilter (:func:`needs_analysis`) skips the
parse for files containing none of the tokens any detection needs, which is most of them. The
hosts of a Python file are those of its URL-ish literals (a literal that opens with a URL, a
``host:port``, a socket address); URLs in comments, docstrings and messages are documentation.

Limits. Static reading cannot follow data across files or through arbitrary computation, so a
determined author can hide from any one rule; the rules aim at what published malware does and
at making evasion itself visible (decoding, dynamic imports, obfuscation). Native files get no
capabilities here (the census reports added binaries).
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
import io
import ipaddress
import re
import tokenize
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal, NamedTuple

from verify._behaviour import patterns, scanning
from verify._behaviour.aliases import resolve_aliases
from verify._behaviour.commands import (
    CONCEALING_FLAGS,
    CONCEALING_VALUES,
    command_concealment,
    command_fetches,
    is_build_tool,
)
from verify._behaviour.decode import PEEL_MIN_LENGTH, Decoded, fold, peel, powershell_payload
from verify._behaviour.model import Capability, FileProfile, Phase
from verify._behaviour.pyparse import parse_source
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify._rules.severity import SEVERITY_ORDER, raise_severity
from verify.models import Finding, Severity

__all__ = ["is_setup_script", "needs_analysis", "profile_file"]

#: Line number to the phase code on that line runs in.
_PhaseAt = Callable[[int], Phase]
#: Offset into a scanned string to its 1-based line in the file.
_Locate = Callable[[int], int]
#: Which endpoints in scanned text count as the file's hosts: all of them (text files), those
#: opening a Python literal, or those right after a quote (Python scanned as text).
_HostMode = Literal["anywhere", "literal", "quoted"]

_SNIPPET_MAX = 200
#: Bounds on work spent following hostile input (nesting, name chains, data flow).
_MAX_DEPTH = 40
_TAINT_BUDGET = 2000
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
#: Text files larger than this are analysed in windows of ``_WINDOW`` bytes, overlapping by
#: ``_WINDOW_OVERLAP`` where no line break is near: an analysis holds a few times the text it
#: reads at once.
_WHOLE_MAX = 16 * 1024 * 1024
_WINDOW = 4 * 1024 * 1024
_WINDOW_OVERLAP = 64 * 1024
#: Lines of a .pth file parsed one by one when the file as a whole does not parse.
_PTH_MAX_LINES = 1_000
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
#: Network calls that create a client, a socket or a request object, or look up a name,
#: without sending anything.
_NETWORK_SETUP = frozenset(
    {
        "socket.socket",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.create_server",
        "urllib.request.Request",
        "urllib.request.build_opener",
        "requests.Session",
        "requests.session",
        "requests.Request",
        "httpx.Client",
        "httpx.AsyncClient",
        "httpx.Request",
        "aiohttp.ClientSession",
        "aiohttp.TCPConnector",
        "urllib3.PoolManager",
        "urllib3.HTTPConnectionPool",
        "urllib3.HTTPSConnectionPool",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
    }
)
#: Methods that read a file's text; attributes that hold a function's own code.
_READ_METHODS = frozenset({"read", "read_text", "read_bytes", "readlines", "get_data"})
_CODE_ATTRIBUTES = frozenset({"__code__", "func_code", "co_code"})
_DECRYPT_METHODS = frozenset({"decrypt", "decrypt_and_verify", "decrypt_at_time"})
_SHELL_CHAIN = re.compile(r"[;&|`\n]|\$\(")
#: Characters of a command line read for signs of hiding or fetching.
_COMMAND_MAX = 64 * 1024
#: Decoded payloads analysed inside decoded payloads, at most this deep.
_DECODED_MAX_DEPTH = 3

_PTH_EXEC = re.compile(r"[ \t]*import[ \t]")
_PTH_EXEC_BYTES = re.compile(rb"(?:^|[\r\n])[ \t]*import[ \t]")
_PTH_MODULE = re.compile(r"[ \t]*import[ \t]+([\w.]+)")
_SDIST_ROOT = re.compile(r"[A-Za-z0-9._+]+-\d[\w.+!-]*")

_DEV_TCP = re.compile(r"/dev/(?:tcp|udp)/([^/\s]+)/\d+")
_HOSTNAME = re.compile(
    r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
#: "setup.py:80" is a file and a line, not a host and a port.
_FILE_SUFFIXES = frozenset(
    {"py", "pyi", "pyx", "txt", "json", "cfg", "toml", "ini", "yaml", "yml", "md", "rst", "c",
     "h", "cpp", "so", "js", "ts", "html", "log", "csv", "sh", "pth", "whl", "exe", "xml", "in"}
)  # fmt: skip

_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_WHITESPACE = re.compile(r"\s+")
_BLANK_RUN = re.compile(rf"(?<=\S)[ \t]{{{patterns.HIDDEN_RUN},}}")
_BIDI = re.compile(f"[{patterns.BIDI_CHARS}]")
_ZERO_WIDTH = re.compile(f"[{patterns.ZERO_WIDTH_CHARS}]")
_DOTENV = re.compile(r"(?:^|[/\\])\.env$")
_RC_PATH = re.compile(
    r"(?:^|[/\\~*])\.(bashrc|zshrc|profile|bash_profile|bash_login|zprofile|zshenv)$"
)

_NATIVE_MAGIC = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O 32-bit, big-endian
    b"\xfe\xed\xfa\xcf",  # Mach-O 64-bit, big-endian
    b"\xce\xfa\xed\xfe",  # Mach-O 32-bit, little-endian
    b"\xcf\xfa\xed\xfe",  # Mach-O 64-bit, little-endian
)
_FAT_MAGIC = (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")
_KIND_BY_EXTENSION = {
    ".py": "python",
    ".pyw": "python",
    ".pth": "pth",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
}
#: Maps spaces and tabs to NUL and every other byte (NUL included) to 0x01.
_BLANKS_TO_NUL = bytes(0 if byte in b" \t" else 1 for byte in range(256))
_NODE_SHEBANG = re.compile(rb"#![ \t]*\S*?/(?:env[ \t]+(?:-\S+[ \t]+)*)?node\b")
_BUILTINS_NAMES = frozenset({"builtins", "__builtins__"})
#: Qualified names the tables know, for resolving names pulled in by ``from x import *``.
_KNOWN_CALLS = frozenset(
    {
        *patterns.PROCESS_CALLS,
        *patterns.NETWORK_CALLS,
        *patterns.DECODERS,
        *patterns.CODE_SINKS,
        *patterns.IMPORT_SINKS,
        *patterns.THREAD_CALLS,
        *patterns.CREDENTIAL_CALLS,
        *patterns.ENVIRON_NAMES,
        *patterns.REDIRECT_CALLS,
    }
)
#: Calls that take the environment whole without dumping it (counting it, type checks).
_ENV_HARMLESS_CALLS = frozenset({"len", "isinstance", "id", "type", "bool"})
#: Path methods that open the file they are called on.
_PATH_METHODS = frozenset({"write_text", "write_bytes", "read_text", "read_bytes", "open"})


# --- Public API --------------------------------------------------------------------------------


def needs_analysis(path: str, data: bytes) -> bool:
    """Whether ``data`` may hold anything :func:`profile_file` detects beyond the file's shape.

    The fast byte-level prefilter: ``False`` means none of the trigger tokens (call names,
    credential and persistence locations, a URL opening a string), no invisible or look-alike
    character, no long blank run and no long line occur, so no detection could fire and the
    file gets only its kind, entropy and longest line. A ``.pth`` file needs analysis exactly
    when it has a line the site module executes.
    """
    # One pass of compiled automata over the bytes (verify._behaviour.scanning), equal to
    # testing each trigger in turn.
    return scanning.needs_analysis(path, data)


def profile_file(
    path: str, data: bytes, *, install_time: bool | None = None, loads_at_install: bool = False
) -> FileProfile:
    """What the file at ``path`` (inside a distribution) is and can do.

    ``install_time`` says the whole file runs while pip builds or installs the package;
    ``None`` infers it, true only for a top-level ``setup.py``. ``loads_at_install`` says the
    build imports the module (an in-tree backend, a module ``setup.py`` imports): what runs as
    it loads runs at install time, its functions only when called. Never raises: source that
    cannot be parsed is scanned as text and reported as ``unparsable-source``.
    """
    kind = _kind(path, data)
    entropy = _entropy(data)
    if kind in ("native", "data"):
        return FileProfile(path=path, size=len(data), kind=kind, entropy=entropy, max_line=0)
    if len(data) > _WHOLE_MAX:
        return _profile_in_windows(
            path,
            data,
            kind,
            entropy,
            install_time=is_setup_script(path) if install_time is None else install_time,
            loads_at_install=loads_at_install,
        )
    text = _decode_python(data) if kind == "python" else data.decode("utf-8", errors="replace")
    profile = FileProfile(
        path=path,
        size=len(data),
        kind=kind,
        entropy=entropy,
        max_line=max(map(len, text.splitlines()), default=0),
    )
    if install_time is None:
        install_time = is_setup_script(path)
    # Install-time files bypass the prefilter: there are one or two per distribution and they
    # run with the installing user's rights, so the parse is always worth it.
    if not (install_time or loads_at_install or needs_analysis(path, data)):
        return profile
    collector = _Collector(path, _Source(text), documentation=_is_documentation(kind, path))
    if loads_at_install:
        collector.load_phase = Phase.INSTALL
    if kind == "python":
        phase = Phase.INSTALL if install_time else None
        _analyse_python(collector, text, forced=phase)
    elif kind == "pth":
        _analyse_pth(collector)
    else:
        _analyse_text(collector, kind, Phase.INSTALL if install_time else Phase.RUNTIME)
    _add_exfiltration(collector)
    return dataclasses.replace(
        profile,
        capabilities=collector.result(),
        hosts=frozenset(collector.hosts),
        findings=tuple(collector.findings),
    )


def _profile_in_windows(
    path: str,
    data: bytes,
    kind: str,
    entropy: float,
    *,
    install_time: bool,
    loads_at_install: bool,
) -> FileProfile:
    """A text file too large to analyse at once, scanned window by window.

    The memory an analysis takes is a few times the text it holds; windows bound it whatever
    the file's size. Python this large is far beyond the parse budget, so it gets the text
    scan that source the parser cannot read gets, and says so.
    """
    merged = _Collector(path, _Source(""), documentation=_is_documentation(kind, path))
    max_line = 0
    first_line = 1
    for start, end, following in _windows(data):
        text = data[start:end].decode("utf-8", errors="replace")
        window = _Collector(path, _Source(text), documentation=merged.documentation)
        if loads_at_install:
            window.load_phase = Phase.INSTALL
        if kind == "python":
            phase_at = _text_phases(window, Phase.INSTALL if install_time else None)
            _scan_python_text(window, text, window.source.line_at, phase_at)
            _scan_layout(window, phase_at, minified=True)
            _scan_encoded_runs(window, text, phase_at)
            _scan_invisible(window, phase_at, python=True)
        else:
            _analyse_text(window, kind, Phase.INSTALL if install_time else Phase.RUNTIME)
        _add_exfiltration(window)
        shift = first_line - 1
        merged.capabilities += [
            dataclasses.replace(cap, line=cap.line + shift if cap.line else cap.line)
            for cap in window.result()
        ]
        merged.findings += [
            dataclasses.replace(f, line=f.line + shift if f.line else f.line)
            for f in window.findings
        ]
        merged.hosts |= window.hosts
        max_line = max(max_line, max(map(len, window.source.lines), default=0))
        first_line += data.count(b"\n", start, following)
    if kind == "python":
        merged.findings.insert(
            0, _unparsable(path, f"too large to parse ({len(data):,} bytes)", None)
        )
    return FileProfile(
        path=path,
        size=len(data),
        kind=kind,
        entropy=entropy,
        max_line=max_line,
        capabilities=merged.result(),
        hosts=frozenset(merged.hosts),
        findings=tuple(merged.findings),
    )


def _windows(data: bytes) -> Iterator[tuple[int, int, int]]:
    """``(start, end, next start)`` of each window: ends fall after a line break when one is
    near, else windows overlap so that nothing is cut in two."""
    start = 0
    while start < len(data):
        end = min(len(data), start + _WINDOW)
        if end == len(data):
            yield start, end, end
            return
        newline = data.rfind(b"\n", start + _WINDOW // 2, end)
        if newline != -1:
            yield start, newline + 1, newline + 1
            start = newline + 1
        else:
            yield start, end, end - _WINDOW_OVERLAP
            start = end - _WINDOW_OVERLAP


# --- File shape --------------------------------------------------------------------------------


def _kind(path: str, data: bytes) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    if extension == ".class":
        # Java class files share the fat Mach-O magic (0xCAFEBABE); they are data to us.
        return "data"
    if _is_native(data):
        return "native"
    if extension in _KIND_BY_EXTENSION:
        return _KIND_BY_EXTENSION[extension]
    if b"\x00" in data or not scanning.is_utf8(data):
        return "data"
    if data.startswith(b"#!"):
        first_line = data[:256].split(b"\n", 1)[0]
        if patterns.SHELL_SHEBANG.match(first_line):
            return "shell"
        if patterns.PYTHON_SHEBANG.match(first_line):
            return "python"
        if _NODE_SHEBANG.match(first_line):
            return "javascript"
    return "text"


def _is_native(data: bytes) -> bool:
    head = data[:4]
    if head in _NATIVE_MAGIC:
        return True
    if head in _FAT_MAGIC:
        # A fat Mach-O counts its architectures next (a handful); a Java class has its version
        # there, 45 or more.
        return 0 < int.from_bytes(data[4:8], "big") < 45
    if data.startswith(b"MZ"):
        if len(data) >= 0x40:
            offset = int.from_bytes(data[0x3C:0x40], "little")
            if data[offset : offset + 4] == b"PE\x00\x00":
                return True
        # A DOS executable without a PE header: binary unless it is text that starts "MZ".
        return not scanning.is_utf8(data)
    return False


#: Entropy is estimated from at most this many symbols, in evenly spaced slices: counting
#: every byte of a large file costs more than everything else the profile does.


def _entropy(data: bytes | str) -> float:
    """Shannon entropy in bits per symbol (estimated from slices of large inputs)."""
    return scanning.entropy(data)


def _decode_python(data: bytes) -> str:
    # Honour a PEP 263 coding cookie so that line and column numbers match the parser's.
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):
        return data.decode("utf-8", errors="replace")


def is_setup_script(path: str) -> bool:
    """Whether ``path`` is a distribution's top-level ``setup.py`` (which pip runs whole)."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if parts == ["setup.py"]:
        return True
    # An sdist keeps everything under "<name>-<version>/".
    return len(parts) == 2 and parts[1] == "setup.py" and bool(_SDIST_ROOT.fullmatch(parts[0]))


def _is_documentation(kind: str, path: str) -> bool:
    if kind != "text":
        return False
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(patterns.DOC_EXTENSIONS) or name.split(".", 1)[0] in patterns.DOC_NAMES


# --- Collecting results ------------------------------------------------------------------------


class _Source:
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
        if len(text) <= _SNIPPET_MAX:
            return text
        if column is not None and column > _SNIPPET_MAX // 2:
            # On a minified line show where the finding is, not the line's harmless start.
            start = max(0, column - 20)
            return "…" + raw[start : start + _SNIPPET_MAX - 2].strip() + "…"
        return text[: _SNIPPET_MAX - 1] + "…"


class _Collector:
    """The capabilities, hosts and findings of one file, de-duplicated at the end."""

    def __init__(
        self, path: str, source: _Source, *, documentation: bool = False, depth: int = 0
    ) -> None:
        self.path = path
        self.source = source
        self.documentation = documentation
        #: How many decoded layers deep this text was found (0: the file itself).
        self.depth = depth
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
        if self.documentation:
            # Documentation cannot run: what it mentions is worth knowing, not blocking on.
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

    def absorb(self, inner: _Collector, *, line: int, layers: str | None) -> None:
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
                    snippet=f"{label} {cap.snippet or ''}"[:_SNIPPET_MAX],
                    concealed=cap.concealed or (f"an encoding ({layers})" if layers else None),
                    routine=False,
                    key=f"{cap.key} ({where})",
                )
            )
        self.hosts |= inner.hosts

    def unparsable(self, reason: str, line: int | None) -> None:
        self.findings.append(_unparsable(self.path, reason, line))

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


def _unparsable(path: str, reason: str, line: int | None) -> Finding:
    return Finding(
        rule="unparsable-source",
        severity=BEHAVIOUR_RULES["unparsable-source"].severity,
        message=f"{path} could not be parsed as Python ({reason}); analysed as text only",
        path=path,
        line=line,
    )


def _analyse_decoded(parent: _Collector, text: str, kind: str, phase: Phase) -> _Collector:
    """Analyse text a file decodes at run time as code of ``kind`` running in ``phase``;
    bounded: payloads inside payloads are followed :data:`_DECODED_MAX_DEPTH` deep."""
    collector = _Collector(parent.path, _Source(text), depth=parent.depth + 1)
    if collector.depth > _DECODED_MAX_DEPTH:
        return collector
    if kind == "python":
        _analyse_python(collector, text, forced=phase)
    else:
        _analyse_text(collector, kind, phase)
    _add_exfiltration(collector)
    return collector


def _shown(decoded: Decoded | None) -> str | None:
    """A decoded payload as one line of evidence."""
    if decoded is None or not decoded.text:
        return None
    return " ".join(decoded.text.split())[:_SNIPPET_MAX]


def _path_identity(node: ast.AST, text: str) -> str:
    """What names a file across statements: the variable holding it, else its path text."""
    if isinstance(node, ast.Name):
        return f"name:{node.id}"
    return f"path:{text}"


def _looks_like_code(text: str) -> bool:
    """A string that may be a Python program: long enough, several lines, imports something
    and small enough to parse cheaply."""
    return (
        _EMBEDDED_MIN <= len(text) <= _EMBEDDED_MAX
        and text.count("\n") >= 2
        and _EMBEDDED_IMPORT.search(text) is not None
    )


def _called_on_load(tree: ast.Module) -> frozenset[str]:
    """Module-level functions that run when the module is loaded: called from module-level
    code (not under a ``__main__`` guard), directly or through each other. A payload in
    ``def main(): ...`` followed by ``main()`` runs at import as surely as one written inline.
    """
    defined = {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    if not defined:
        return frozenset()
    roots: list[ast.AST] = [
        node
        for node in tree.body
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and not (isinstance(node, ast.If) and _is_main_guard(node.test))
    ]
    called: set[str] = set()
    pending = _called_names(roots, defined)
    while pending:
        name = pending.pop()
        if name in called:
            continue
        called.add(name)
        pending |= _called_names(defined[name].body, defined) - called
    return frozenset(called)


def _called_names(nodes: Sequence[ast.AST], defined: Collection[str]) -> set[str]:
    """Names of ``defined`` functions that ``nodes`` call (outside nested functions), or
    hand to a thread or a decorator-free callback as a bare name (``Thread(target=f)``)."""
    found: set[str] = set()
    stack = list(nodes)
    budget = _TAINT_BUDGET * 50
    while stack and budget:
        budget -= 1
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            targets = [node.func, *node.args, *(k.value for k in node.keywords)]
            found.update(t.id for t in targets if isinstance(t, ast.Name) and t.id in defined)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _rank(cap: Capability) -> tuple[int, bool, bool, int]:
    # A concealed or non-tool call of the same kind outranks a plain one: it must not hide
    # behind an earlier harmless call with the same key.
    return (
        SEVERITY_ORDER.index(cap.severity),
        cap.concealed is not None,
        not cap.routine,
        -(cap.line or 0),
    )


def _fixed(phase: Phase) -> _PhaseAt:
    def phase_at(_line: int) -> Phase:
        return phase

    return phase_at


def _add_exfiltration(c: _Collector) -> None:
    """Credentials or the environment, and a way out, in one file: the stealer's shape."""
    if c.documentation:
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


# --- String-level scanning (Python literals and whole text files) ------------------------------


def _format_key(template: str, match: re.Match[str]) -> str:
    if "{" not in template:
        return template
    groups = [match.group(0), *(group or "" for group in match.groups())]
    return template.format(*(group.lower() for group in groups))


def _scan_patterns(
    c: _Collector,
    text: str,
    table: Sequence[patterns.StringPattern],
    locate: _Locate,
    phase_at: _PhaseAt,
    *,
    anchors: Collection[str] | None = None,
) -> None:
    """Run the patterns of ``table`` whose anchors ``text`` contains (``anchors``, when the
    caller already knows which it has)."""
    if anchors is None:
        candidates = scanning.candidate_patterns(text, table)
    else:
        candidates = [
            pattern
            for pattern in table
            if not pattern.anchors or any(anchor in anchors for anchor in pattern.anchors)
        ]
    for pattern in candidates:
        seen: set[str] = set()
        for match in pattern.regex.finditer(text):
            key = _format_key(pattern.key, match)
            if key in seen:
                continue
            seen.add(key)
            line = locate(match.start())
            c.add(pattern.rule, key, pattern.message.format(key=key), line, phase_at(line))


def _scan_strings(
    c: _Collector,
    text: str,
    locate: _Locate,
    phase_at: _PhaseAt,
    *,
    hosts: _HostMode = "anywhere",
    anchors: Collection[str] | None = None,
) -> None:
    """The string-level patterns and the endpoints named in ``text``.

    Every endpoint is checked for being suspicious; ``hosts`` says which are also recorded in
    :attr:`FileProfile.hosts`. In Python only URL-ish literals count (a literal that starts
    with a URL or is ``host:port``): a URL inside a message is not an endpoint the code uses,
    and the prefilter can see the difference, so the set does not depend on whether it fired.
    """
    _scan_patterns(c, text, patterns.STRING_PATTERNS, locate, phase_at, anchors=anchors)
    if ":" not in text and "/dev/" not in text:
        return
    # The scanners find "://" and ":port" first and match only there (the expressions,
    # tried at every position of a large data file, were most of the analysis's time).
    endpoints = scanning.find_urls(text)
    endpoints += [(m.start(), m.group(1), "") for m in _DEV_TCP.finditer(text)]
    endpoints += [
        (start, host, "")
        for start, host in scanning.find_host_ports(text)
        if host.rsplit(".", 1)[-1].lower() not in _FILE_SUFFIXES
    ]
    for start, host, path in endpoints:
        if hosts == "literal":
            record = not text[:start].strip()
        elif hosts == "quoted":
            record = text[start - 1 : start] in ("'", '"')
        else:
            record = True
        line = locate(start)
        _note_host(c, host, path, line, phase_at(line), record=record)


@dataclass(frozen=True, slots=True)
class _Literal:
    """A string literal (or a string folded from several) awaiting the string-level scan."""

    text: str
    line: int
    end_line: int
    phase: Phase
    #: The file's lines, to find which line of a multi-line literal a match is on.
    lines: Sequence[str]

    def locate(self, offset: int) -> int:
        if self.line == self.end_line:
            return self.line
        # Escapes and implicit concatenation break counting newlines in the value: look for
        # the matched text in the source lines instead, counting only as a fallback.
        needle = self.text[offset : offset + 24].split("\n", 1)[0]
        if needle:
            for number in range(self.line, min(self.end_line, len(self.lines)) + 1):
                if needle in self.lines[number - 1]:
                    return number
        return min(self.line + self.text.count("\n", 0, offset), self.end_line)


def _scan_literals(c: _Collector, literals: Sequence[_Literal]) -> None:
    """Scan a module's literals with one search per anchor over their concatenation.

    A regular expression per literal costs microseconds and modules have thousands of
    literals; almost none contain an anchor, so only those that do are scanned.
    """
    if not literals:
        return
    joined = "\n".join(literal.text for literal in literals)
    lowered = joined.lower()
    # The anchors each literal holds; None: unknown, test every pattern.
    found: dict[int, set[str] | None] = {}
    if len(lowered) != len(joined):
        # Lower-casing changed lengths ("İ" becomes two characters): offsets would not map back.
        found = dict.fromkeys(range(len(literals)))
    else:
        starts = list(accumulate((len(literal.text) + 1 for literal in literals[:-1]), initial=0))
        for anchor in patterns.STRING_ANCHORS:
            at = lowered.find(anchor)
            while at != -1:
                index = bisect.bisect_right(starts, at) - 1
                held = found.setdefault(index, set())
                if held is not None:
                    held.add(anchor)
                # Skip to the next literal: one hit is enough to know it has this anchor.
                at = lowered.find(
                    anchor, starts[index + 1] if index + 1 < len(starts) else len(lowered)
                )
        for start, _host in scanning.find_host_ports(joined):
            found.setdefault(bisect.bisect_right(starts, start) - 1, set())
    for index in sorted(found):
        literal = literals[index]
        _scan_strings(
            c,
            literal.text,
            literal.locate,
            _fixed(literal.phase),
            hosts="literal",
            anchors=found[index],
        )


def _note_host(
    c: _Collector, raw: str, path: str, line: int, phase: Phase, *, record: bool = True
) -> None:
    host = raw.lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    ip = _parse_ip(host)
    if ip is None:
        if not _HOSTNAME.fullmatch(host) or host.endswith(".localhost"):
            return
    elif ip.is_loopback or ip.is_unspecified:
        return
    else:
        host = str(ip)
    if record:
        c.hosts.add(host)
    verdict = _endpoint_verdict(host, path.lower(), ip)
    if verdict is not None:
        key, what = verdict
        c.add("suspicious-endpoint", key, f"names {what} ({host})", line, phase)


def _parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _endpoint_verdict(
    host: str, path: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
) -> tuple[str, str] | None:
    if ip is not None:
        if any(ip in network for network in patterns.NON_PUBLIC_NETWORKS):
            return None
        return host, "a raw public IP address"
    target = host + path
    for regex, key, what in patterns.SUSPICIOUS_SERVICES:
        if regex.search(target):
            return key, what
    tld = host.rsplit(".", 1)[-1]
    if tld in patterns.ABUSE_TLDS:
        return host, f"a host under .{tld}, a domain favoured by abuse"
    return None


def _encoded_kind(value: str | bytes) -> str | None:
    """``base64``, ``hex`` or ``binary`` for a long literal that looks encoded, else ``None``."""
    if len(value) < patterns.ENCODED_MIN_LENGTH:
        return None
    if isinstance(value, bytes):
        if not value.isascii():
            return "binary" if _entropy(value) >= 6.0 else None
        value = value.decode("ascii")
    compact = _WHITESPACE.sub("", value)
    # Encoders wrap lines at 64 or 76 characters; a word list has a blank every few letters.
    wrapped_only = (len(value) - len(compact)) * 40 <= len(value)
    if len(compact) >= patterns.ENCODED_MIN_LENGTH and wrapped_only:
        if _HEX.fullmatch(compact):
            return "hex" if _entropy(compact) >= 3.5 else None
        if _BASE64.fullmatch(compact):
            return "base64" if _entropy(compact) >= 4.5 else None
    # Escaped bytes in a str literal ("\x78\x9c..."): mostly unprintable and dense.
    if value.isascii() or max(map(ord, value)) > 0xFF:
        return None
    unprintable = sum(not ch.isprintable() for ch in value)
    return "binary" if unprintable * 4 > len(value) and _entropy(value) >= 6.0 else None


def _add_encoded(c: _Collector, value: str | bytes, line: int, phase: Phase) -> None:
    if c.has("high-entropy-string"):
        return
    kind = _encoded_kind(value)
    if kind is not None:
        c.add(
            "high-entropy-string",
            "encoded-literal",
            f"holds a {len(value):,}-character {kind}-encoded literal",
            line,
            phase,
        )


def _scan_invisible(c: _Collector, phase_at: _PhaseAt, *, python: bool = False) -> None:
    """Bidi controls and zero-width characters: code that reads differently than it runs.

    Bidi controls count anywhere, comments included (reordering a comment is how Trojan Source
    hides code); zero-width characters in a Python comment change nothing and are skipped.
    """
    text = c.source.text
    if text.isascii():
        return
    bidi = _BIDI.search(text)
    if bidi is not None:
        line = c.source.line_at(bidi.start())
        c.add(
            "obfuscation",
            "bidi-control",
            f"contains the bidirectional control U+{ord(bidi.group()):04X}, which makes code "
            "display differently from how it runs",
            line,
            phase_at(line),
        )
    for match in _ZERO_WIDTH.finditer(text):
        char, at = match.group(), match.start()
        if char == "\ufeff" and at == 0:
            continue  # a byte-order mark
        if char in "\u200c\u200d" and at > 0 and not text[at - 1].isascii():
            continue  # joiners inside emoji sequences and Indic or Persian words
        line = c.source.line_at(at)
        if python and _in_comment(text[c.source.line_start(line) : at]):
            continue
        c.add(
            "obfuscation",
            "zero-width",
            f"contains the invisible character U+{ord(char):04X}",
            line,
            phase_at(line),
        )
        return


def _in_comment(prefix: str) -> bool:
    """Whether the end of a Python line's ``prefix`` lies in a comment (quotes tracked roughly:
    a ``#`` inside a string continued from an earlier line is taken for a comment)."""
    quote = ""
    escaped = False
    for char in prefix:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            return True
    return False


def _scan_layout(c: _Collector, phase_at: _PhaseAt, *, minified: bool) -> None:
    """Code pushed off-screen by long blank runs, and (for Python) minified lines."""
    text = c.source.text
    for match in _BLANK_RUN.finditer(text):
        following = text[match.end() : match.end() + 1]
        if following and following not in "\r\n#/":
            line = c.source.line_at(match.start())
            c.add(
                "obfuscation",
                "hidden-after-whitespace",
                "hides code after a long run of blanks on one line",
                line,
                phase_at(line),
                column=match.end() - c.source.line_start(line),
            )
            break
    if not minified:
        return
    for number, line_text in enumerate(c.source.lines, 1):
        if len(line_text) > patterns.MINIFIED_LINE and ";" in line_text:
            c.add(
                "obfuscation",
                "minified",
                f"has a {len(line_text):,}-character line of several statements (minified code)",
                number,
                phase_at(number),
                severity=Severity.MEDIUM,
            )
            return


def _scan_encoded_runs(c: _Collector, text: str, phase_at: _PhaseAt) -> None:
    for start, run in scanning.encoded_runs(text):
        if _encoded_kind(run) is not None:
            line = c.source.line_at(start)
            _add_encoded(c, run, line, phase_at(line))
            return


def _analyse_text(c: _Collector, kind: str, phase: Phase) -> None:
    """Shell, JavaScript and other text: string patterns, plus each language's own."""
    phase_at = _fixed(phase)
    text = c.source.text
    _scan_strings(c, text, c.source.line_at, phase_at)
    if kind == "shell":
        _scan_patterns(c, text, patterns.SHELL_PATTERNS, c.source.line_at, phase_at)
    elif kind == "javascript":
        _scan_patterns(c, text, patterns.JS_PATTERNS, c.source.line_at, phase_at)
    if kind in ("shell", "javascript"):
        _scan_invisible(c, phase_at)
        _scan_layout(c, phase_at, minified=False)
    _scan_encoded_runs(c, text, phase_at)


# --- Python ------------------------------------------------------------------------------------


def _parse(text: str) -> tuple[ast.Module | None, str, int | None]:
    """The module, or ``None`` with why it does not parse and where."""
    parsed = parse_source(text)
    return parsed.tree, parsed.reason, parsed.line


def _parse_cost(text: str) -> int:
    """An upper estimate of the AST nodes parsing ``text`` would build."""
    return sum(text.count(mark) for mark in _NODE_MARKS)


def _text_phases(c: _Collector, forced: Phase | None) -> _PhaseAt:
    """For source only scanned as text: unindented lines run at import, indented ones later."""
    if forced is not None:
        return _fixed(forced)

    def phase_at(line: int) -> Phase:
        lines = c.source.lines
        text = lines[line - 1] if 1 <= line <= len(lines) else ""
        return Phase.RUNTIME if text[:1] in (" ", "\t") else c.load_phase

    return phase_at


def _scan_python_text(c: _Collector, text: str, locate: _Locate, phase_at: _PhaseAt) -> None:
    _scan_strings(c, text, locate, phase_at, hosts="quoted")
    # The patterns name callables; read the text with the names it binds to them resolved
    # (``run = exec``), keeping lines in place so ``locate`` still holds line for line.
    resolved = resolve_aliases(text)
    if resolved is None:
        _scan_patterns(c, text, patterns.PYTHON_FALLBACK_PATTERNS, locate, phase_at)
    else:
        _scan_patterns(
            c,
            resolved,
            patterns.PYTHON_FALLBACK_PATTERNS,
            _locate_in(text, resolved, locate),
            phase_at,
        )


def _analyse_python(c: _Collector, text: str, *, forced: Phase | None) -> None:
    phase_at = _text_phases(c, forced)
    if text.count(";") > _PARSE_MAX_SEMICOLONS or text.count("\n") > _PARSE_MAX_LINES:
        tree, reason, line = None, "too many statements to parse within the budget", None
    elif len(text) > _PARSE_COUNT_FROM and _parse_cost(text) > _PARSE_MAX_NODES:
        tree, reason, line = None, "too large to parse within the memory budget", None
    else:
        tree, reason, line = _parse(text)
    if tree is None:
        c.unparsable(reason, line)
        _scan_python_text(c, text, c.source.line_at, phase_at)
        _scan_layout(c, phase_at, minified=True)
        _scan_encoded_runs(c, text, phase_at)
    else:
        _run_analysis(c, tree, text, forced=forced, phase_at=phase_at)
    _scan_invisible(c, phase_at, python=True)


def _run_analysis(
    c: _Collector, tree: ast.Module, text: str, *, forced: Phase | None, phase_at: _PhaseAt
) -> None:
    try:
        _PythonAnalysis(tree, c, forced=forced).run()
    except Exception as exc:
        # A bug meeting hostile input must degrade to the text scan, not abort the whole check;
        # the finding makes the gap visible.
        c.unparsable(f"analysis failed: {type(exc).__name__}", None)
        _scan_python_text(c, text, c.source.line_at, phase_at)


def _analyse_pth(c: _Collector) -> None:
    """The site module executes ``.pth`` lines that start with ``import``, at every start-up."""
    lines = c.source.lines
    # site only executes lines starting exactly with "import " or "import\t"; indented ones
    # are flagged too, because a reader cannot tell them apart and no path starts that way.
    executable = [number for number, line in enumerate(lines, 1) if _PTH_EXEC.match(line)]
    for number in executable:
        module = _PTH_MODULE.match(lines[number - 1])
        key = f"import {module.group(1)}" if module else "import"
        c.add(
            "pth-exec",
            key,
            f"runs code at every interpreter start-up ({key})",
            number,
            Phase.STARTUP,
        )
    if not executable:
        return
    phase_at = _fixed(Phase.STARTUP)
    wanted = set(executable)
    # Keep every line in place (blank the path lines) so line numbers match the file.
    code = "\n".join(line if n in wanted else "" for n, line in enumerate(lines, 1))
    tree, _, _ = _parse(code)
    if tree is not None:
        _run_analysis(c, tree, code, forced=Phase.STARTUP, phase_at=phase_at)
    else:
        # site runs each line on its own, so one broken line does not hide the others.
        for number in executable[:_PTH_MAX_LINES]:
            line_tree, reason, _ = _parse(lines[number - 1])
            if line_tree is not None:
                ast.increment_lineno(line_tree, number - 1)
                _run_analysis(c, line_tree, code, forced=Phase.STARTUP, phase_at=phase_at)
            else:
                c.unparsable(reason, number)
                _scan_python_text(c, lines[number - 1], _fixed_line(number), phase_at)
    _scan_invisible(c, phase_at)


def _locate_in(text: str, resolved: str, locate: _Locate) -> _Locate:
    """``locate`` for offsets into ``resolved``, a rewrite of ``text`` with the same lines."""
    starts = [0, *(m.end() for m in re.finditer("\n", text))]
    resolved_starts = [0, *(m.end() for m in re.finditer("\n", resolved))]

    def at(offset: int) -> int:
        index = bisect.bisect_right(resolved_starts, offset) - 1
        return locate(starts[min(index, len(starts) - 1)])

    return at


def _fixed_line(line: int) -> _Locate:
    def locate(_offset: int) -> int:
        return line

    return locate


def _is_process(name: str) -> bool:
    return name in patterns.PROCESS_CALLS or name.startswith(patterns.PROCESS_PREFIXES)


class _Visit(NamedTuple):
    """One AST node and where it sits."""

    node: ast.AST
    parent: ast.AST | None
    #: Runs only when something calls it: in a def or lambda, or under ``if __name__ ==
    #: "__main__"``, rather than when the module is imported.
    deferred: bool
    #: The function or class body whose local names the node sees (0 is the module).
    scope: int


class _CallSite(NamedTuple):
    """A call being judged, with what every check needs to know about it."""

    node: ast.Call
    #: The callee's qualified name (``subprocess.Popen``), or "" when it cannot be resolved.
    name: str
    #: The called attribute (``connect`` in ``sock.connect(...)``), whatever its owner.
    attribute: str | None
    visit: _Visit
    phase: Phase


# What the walk does with a node, by type (bit flags, so one dict lookup decides).
_JUDGE = 1  # has a handler in the judging pass
_NOTE = 2  # feeds the index: imports, assignments, docstrings, os.environ attributes
_NAMED = 4  # carries identifiers (homoglyph check)
_CODE = 8  # a statement or expression (layout checks)
_SCOPED = 16  # gives its children another scope or phase
_FLAG_TYPES: tuple[tuple[int, tuple[type[ast.AST], ...]], ...] = (
    (_JUDGE, (ast.Call, ast.Constant, ast.BinOp, ast.Assign, ast.AugAssign, ast.AnnAssign)),
    (_JUDGE, (ast.ClassDef, ast.Dict)),
    (_NOTE, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign)),
    (_NOTE, (ast.NamedExpr, ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)),
    (_NOTE, (ast.Attribute,)),
    (_NAMED, (ast.Name, ast.Attribute, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)),
    (_NAMED, (ast.arg, ast.keyword, ast.alias)),
    (_CODE, (ast.stmt, ast.expr)),
    (_SCOPED, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.If)),
)
_TYPE_FLAGS: dict[type[ast.AST], int] = {}


def _type_flags(kind: type[ast.AST]) -> int:
    flags = _TYPE_FLAGS.get(kind)
    if flags is None:
        flags = 0
        for flag, types in _FLAG_TYPES:
            if issubclass(kind, types):
                flags |= flag
        _TYPE_FLAGS[kind] = flags
    return flags


#: Fields that never lead to a node worth visiting. Contexts and operators are shared
#: singletons that would otherwise be nearly half of all visits; the rest hold plain values.
#: (``Import.names`` holds aliases, which the import handler reads itself.)
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "id", "attr", "name", "asname", "arg", "module", "level", "kind",
     "conversion", "simple", "is_async", "type_comment", "names"}
)  # fmt: skip
#: Per node type: the fields that may hold child nodes, each with whether it is a list.
_CHILD_FIELDS: dict[type[ast.AST], tuple[tuple[str, bool], ...]] = {}


def _children(node: ast.AST) -> list[ast.AST]:
    kind = type(node)
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(
            (field, isinstance(getattr(node, field, None), list))
            for field in kind._fields
            if field not in _LEAF_FIELDS
        )
    children: list[ast.AST] = []
    for field, many in fields:
        value = getattr(node, field, None)
        if many:
            # Lists may also hold None (dict unpacking) or names (match class keywords).
            children += [item for item in value or () if isinstance(item, ast.AST)]
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


def _arguments(args: ast.arguments) -> Iterator[ast.arg]:
    yield from args.posonlyargs
    yield from args.args
    yield from args.kwonlyargs
    if args.vararg is not None:
        yield args.vararg
    if args.kwarg is not None:
        yield args.kwarg


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = (test.left, test.comparators[0])
    names = {side.id for side in sides if isinstance(side, ast.Name)}
    values = {side.value for side in sides if isinstance(side, ast.Constant)}
    return names == {"__name__"} and values == {"__main__"}


def _root_name(node: ast.AST) -> str | None:
    for _ in range(_MAX_DEPTH):
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id
        else:
            return None
    return None


def _attribute_tail(node: ast.AST) -> str:
    """``.b.c`` for ``a.b.c``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute) and len(parts) < _MAX_DEPTH:
        parts.append(node.attr)
        node = node.value
    return "".join(f".{part}" for part in reversed(parts))


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


def _keyword(call: ast.Call, *names: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg in names), None)


def _argument(call: ast.Call, index: int, *names: str) -> ast.expr | None:
    if len(call.args) > index and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return _keyword(call, *names)


def _is_reverse_slice(node: ast.expr) -> bool:
    if not (isinstance(node, ast.Slice) and node.lower is None and node.upper is None):
        return False
    step = node.step
    if isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub):
        step = step.operand
        return isinstance(step, ast.Constant) and step.value == 1
    return isinstance(step, ast.Constant) and step.value == -1


def _is_fileno_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "fileno"
    )


def _command_text(node: ast.expr | None) -> str:
    """The literal words of a command, in order (``"powershell -w hidden " + script`` gives
    ``powershell -w hidden``): enough to see how it hides, without knowing the rest."""
    if node is None:
        return ""
    words: list[str] = []
    size = 0
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            words.append(sub.value)
            size += len(sub.value)
            if size > _COMMAND_MAX:
                break
    return " ".join(words)[:_COMMAND_MAX]


def _program(node: ast.expr | None) -> str | None:
    """The program a command names (``sh`` for ``"/bin/sh -c ..."`` or ``["bash", "-c"]``)."""
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
        node = node.elts[0]
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    words = node.value.split()
    if not words:
        return None
    return words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()


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


class _PythonAnalysis:
    """One pass over a parsed module, with names resolved through its imports."""

    def __init__(self, tree: ast.Module, collector: _Collector, *, forced: Phase | None) -> None:
        self.tree = tree
        self.c = collector
        #: ``install`` for setup.py, ``startup`` for .pth lines: every node runs then.
        self.forced = forced
        lines = collector.source.lines
        self.long_lines = {n for n, line in enumerate(lines, 1) if len(line) > patterns.HIDDEN_RUN}
        self.check_identifiers = not collector.source.text.isascii()
        # What the walk gathers.
        self.visits: list[_Visit] = []
        self.scopes = 0
        #: Names that may stand for os.environ, and their uses. Gathered while walking, so an
        #: alias assigned after a use is missed; ``from os import environ`` is the usual form.
        self.environ_names = {"environ", "environb"}
        self.environ_uses: list[_Visit] = []
        self.named: list[_Visit] = []
        self.laid_out: list[_Visit] = []
        self.parameters: dict[int, set[str]] = {}
        self.aliases: dict[str, str] = {}
        self.imported: set[str] = set()
        self.star_modules: list[str] = []
        self.assigned: dict[tuple[int, str], list[ast.expr]] = {}
        self.docstrings: set[int] = set()
        self.thread_classes: set[str] = set()
        #: Literals already scanned as part of a larger string or path.
        self.consumed: set[int] = set()
        #: Sink calls inside an argument already reported as decode-exec or download-exec.
        self.quiet_sinks: set[int] = set()
        # Evidence that means something only in combination, weighed in _finish().
        self.sockets = False
        self.shell_links: list[tuple[int, Phase, str]] = []
        self.spawns: list[tuple[int, Phase]] = []
        self.fetches: list[tuple[int, Phase]] = []
        self.retrieves: list[tuple[int, Phase]] = []
        self.chmods: list[tuple[int, Phase]] = []
        #: Paths the file writes to, and what process calls run: a download written to a
        #: file that is then run is a dropper whatever the file is called.
        self.written: set[str] = set()
        self.escaped_found = False
        #: Long literals that may be encoded payloads, peeled once the calls are judged.
        self.peelable: list[ast.Constant] = []
        self.launched: list[tuple[int, Phase, str, str]] = []
        self.statements: Counter[int] = Counter()
        self.encoded_lines: dict[int, bytes] = {}
        self.hidden_found = False
        self.literals: list[_Literal] = []
        #: Module-level functions that module-level code calls: their bodies run on load.
        self.run_on_load = _called_on_load(tree) if forced is None else frozenset()

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

    # -- Names ----------------------------------------------------------------------------------

    def _walk(self) -> None:
        """Visit every node once, parents before children, sorting out what judging needs.

        Iterative, not recursive: hostile files nest as deep as the parser allows. Names and
        constants, half of all nodes, are handled where their parent is rather than pushed.
        """
        stack = [_Visit(self.tree, None, False, 0)]
        judged, long_lines = self.visits, self.long_lines
        while stack:
            visit = stack.pop()
            node, _, deferred, scope = visit
            kind = type(node)
            if kind is ast.Name:  # pushed by a def, class or guard: otherwise handled inline
                self._name(node, visit.parent, deferred, scope)
                continue
            flags = _type_flags(kind)
            if flags & _JUDGE:
                judged.append(visit)
            if flags & _NOTE:
                self._note(visit)
            if flags & _NAMED and self.check_identifiers:
                self.named.append(visit)
            if flags & _CODE and long_lines and getattr(node, "lineno", 0) in long_lines:
                self.laid_out.append(visit)
            scoped = self._scoped_children(visit) if flags & _SCOPED else None
            if scoped is not None:
                stack.extend(reversed(scoped))
                continue
            pending: list[_Visit] = []
            for child in _children(node):
                kind = type(child)
                if kind is ast.Name:
                    self._name(child, node, deferred, scope)
                elif kind is ast.Constant:
                    judged.append(_Visit(child, node, deferred, scope))
                else:
                    pending.append(_Visit(child, node, deferred, scope))
            stack.extend(reversed(pending))

    def _scoped_children(self, visit: _Visit) -> list[_Visit] | None:
        """Children of a def, lambda, class or ``__main__`` guard, in their own scope or phase."""
        node, _, deferred, scope = visit
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            self.scopes += 1
            self.parameters[self.scopes] = {arg.arg for arg in _arguments(node.args)}
            # A function the module itself calls as it loads runs when it loads.
            body_deferred = not (
                scope == 0 and not deferred and getattr(node, "name", None) in self.run_on_load
            )
            # Decorators, defaults and annotations run when the def does; the body later.
            outer: list[ast.AST] = [node.args]
            body: list[ast.AST]
            if isinstance(node, ast.Lambda):
                body = [node.body]
            else:
                outer = [*node.decorator_list, node.args]
                outer += [node.returns] if node.returns else []
                body = list(node.body)
            children = [_Visit(child, node, deferred, scope) for child in outer]
            return children + [_Visit(child, node, body_deferred, self.scopes) for child in body]
        if isinstance(node, ast.ClassDef):
            self.scopes += 1
            head = [*node.decorator_list, *node.bases, *node.keywords]
            children = [_Visit(child, node, deferred, scope) for child in head]
            return children + [_Visit(child, node, deferred, self.scopes) for child in node.body]
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            children = [_Visit(node.test, node, deferred, scope)]
            children += [_Visit(child, node, True, scope) for child in node.body]
            return children + [_Visit(child, node, deferred, scope) for child in node.orelse]
        return None

    def _name(self, node: ast.AST, parent: ast.AST | None, deferred: bool, scope: int) -> None:
        """A name: recorded only when it may be os.environ or the source is not ASCII."""
        if not (self.check_identifiers or getattr(node, "id", None) in self.environ_names):
            return
        visit = _Visit(node, parent, deferred, scope)
        if self.check_identifiers:
            self.named.append(visit)
        if getattr(node, "id", None) in self.environ_names:
            self.environ_uses.append(visit)

    def _note(self, visit: _Visit) -> None:
        node = visit.node
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self._note_import(node)
            if self.check_identifiers:
                self.named += [
                    _Visit(alias, node, visit.deferred, visit.scope) for alias in node.names
                ]
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            self._note_assignment(node, visit.scope)
        elif isinstance(node, ast.Attribute):
            if node.attr in ("environ", "environb"):
                self.visits.append(visit)
        else:
            self._note_docstring(node)

    def _note_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".", 1)[0]
                self.aliases[bound] = alias.name if alias.asname else bound
                self.imported.add(bound)
            return
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.star_modules.append(module)
                continue
            bound = alias.asname or alias.name
            self.aliases[bound] = f"{module}.{alias.name}" if module else alias.name
            self.imported.add(bound)
            if self.aliases[bound] in patterns.ENVIRON_NAMES:
                self.environ_names.add(bound)

    def _note_assignment(
        self, node: ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr, scope: int
    ) -> None:
        if node.value is None:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        environ = (isinstance(value, ast.Attribute) and value.attr in ("environ", "environb")) or (
            isinstance(value, ast.Name) and value.id in self.environ_names
        )
        for target in targets:
            if isinstance(target, ast.Name):
                self.assigned.setdefault((scope, target.id), []).append(value)
                if environ:
                    self.environ_names.add(target.id)

    def _note_docstring(self, node: ast.AST) -> None:
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        first = node.body[0] if node.body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            self.docstrings.add(id(first.value))

    def _resolve_aliases(self) -> None:
        """``run = subprocess.run`` and ``sp = subprocess`` are aliases too; two rounds follow
        an alias of an alias."""
        for _ in range(2):
            for (_scope, name), values in self.assigned.items():
                if name in self.aliases:
                    continue
                for value in values:
                    root = _root_name(value)
                    if root is None or not isinstance(value, (ast.Name, ast.Attribute)):
                        continue
                    if root in self.aliases or root in patterns.BUILTIN_NAMES:
                        resolved = self.qualname(value)
                        if resolved is not None and resolved != name:
                            self.aliases[name] = resolved
                            break
        for visit in self.visits:
            if isinstance(visit.node, ast.ClassDef):
                bases = (self.qualname(base) for base in visit.node.bases)
                if any(base in patterns.THREAD_CALLS for base in bases):
                    self.thread_classes.add(visit.node.name)

    def _resolve(self, name: str) -> str:
        if name in self.aliases:
            return self.aliases[name]
        if name in _BUILTINS_NAMES:
            return "builtins"
        for module in self.star_modules:
            candidate = f"{module}.{name}"
            if candidate in _KNOWN_CALLS:
                return candidate
        return name

    def qualname(self, node: ast.AST, depth: int = 0) -> str | None:
        """The dotted name an expression refers to, through imports, aliases, ``getattr`` with
        a constant, ``__import__("os")`` and ``importlib.import_module("os")``."""
        tail = _attribute_tail(node)
        while isinstance(node, ast.Attribute):
            node = node.value
        base: str | None = None
        if isinstance(node, ast.Name):
            base = self._resolve(node.id)
        elif isinstance(node, ast.Call) and depth < 8:
            base = self._call_result(node, depth + 1)
        elif isinstance(node, ast.Subscript) and depth < 8:
            container = self.qualname(node.value, depth + 1)
            key = self.const_str(node.slice)
            if key is not None and container == "builtins":
                base = f"builtins.{key}"
            elif key is not None and container == "sys.modules":
                base = key
        if base is None:
            return None
        return (base + tail).removeprefix("builtins.")

    def _call_result(self, call: ast.Call, depth: int) -> str | None:
        function = self.qualname(call.func, depth)
        if function in patterns.IMPORT_SINKS and call.args:
            module = self.const_str(call.args[0])
            if module and function == "__import__":
                return module.split(".", 1)[0]
            return module
        if function == "getattr" and len(call.args) >= 2:
            owner = self.qualname(call.args[0], depth)
            attribute = self.const_str(call.args[1])
            if owner is not None and attribute is not None:
                return f"{owner}.{attribute}"
        return None

    def const_str(self, node: ast.AST | None, depth: int = 0) -> str | None:
        """The value of a string expression built only from constants, else ``None``."""
        if node is None or depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.const_str(node.left, depth + 1)
            right = self.const_str(node.right, depth + 1) if left is not None else None
            return left + right if left is not None and right is not None else None
        if isinstance(node, ast.JoinedStr):
            parts = [self.const_str(value, depth + 1) for value in node.values]
            return "".join(p for p in parts if p is not None) if None not in parts else None
        if isinstance(node, ast.Subscript) and _is_reverse_slice(node.slice):
            value = self.const_str(node.value, depth + 1)
            return value[::-1] if value is not None else None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "join"
            and len(node.args) == 1
            and isinstance(node.args[0], (ast.List, ast.Tuple))
        ):
            separator = self.const_str(node.func.value, depth + 1)
            items = [self.const_str(item, depth + 1) for item in node.args[0].elts]
            if separator is not None and None not in items:
                return separator.join(item for item in items if item is not None)
        return None

    def _patched(self, node: ast.expr) -> str | None:
        """The imported module or object (or builtins) an expression names, else ``None``."""
        root = _root_name(node)
        if root is None:
            return None
        if root in _BUILTINS_NAMES and self.aliases.get(root, "builtins") == "builtins":
            return "builtins" + _attribute_tail(node)
        if root not in self.imported:
            return None
        return self.qualname(node)

    def _phase(self, visit: _Visit) -> Phase:
        if self.forced is not None:
            return self.forced
        return Phase.RUNTIME if visit.deferred else self.c.load_phase

    def _add(
        self,
        rule: str,
        key: str,
        message: str,
        node: ast.AST,
        visit: _Visit,
        *,
        severity: Severity | None = None,
        specific: bool | None = None,
        concealed: str | None = None,
        routine: bool = False,
        snippet: str | None = None,
    ) -> None:
        line = getattr(node, "lineno", 1)
        column = getattr(node, "col_offset", None)
        self.c.add(
            rule,
            key,
            message,
            line,
            self._phase(visit),
            severity=severity,
            specific=specific,
            column=column,
            concealed=concealed,
            routine=routine,
            snippet=snippet,
        )

    # -- Data flow ------------------------------------------------------------------------------

    def _origin(self, node: ast.expr, scope: int) -> tuple[str | None, str | None]:
        """What feeds an expression: the first decoder and the first network call found in it
        or in the assignments of the names it uses (same scope, else module scope)."""
        decoded: str | None = None
        fetched: str | None = None
        queue: deque[tuple[ast.AST, int]] = deque([(node, scope)])
        seen: set[tuple[int, str]] = set()
        budget = _TAINT_BUDGET
        while queue and budget and not (decoded and fetched):
            budget -= 1
            current, where = queue.popleft()
            if isinstance(current, ast.Name):
                queue.extend(self._definitions(current.id, where, seen))
                continue
            if isinstance(current, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            decoded = decoded or self._decoder(current, where)
            if fetched is None and isinstance(current, ast.Call):
                fetched = patterns.NETWORK_CALLS.get(self.qualname(current.func) or "")
            if isinstance(current, ast.Call) and isinstance(current.func, ast.Name):
                # ``_ = lambda s: zlib.decompress(b64decode(s[::-1])); exec(_(b"..."))``:
                # what a local lambda does to its argument is part of the data's origin.
                queue.extend(
                    (value.body, where)
                    for value in self._definitions_of(current.func.id, where)
                    if isinstance(value, ast.Lambda)
                )
            queue.extend((child, where) for child in ast.iter_child_nodes(current))
        return decoded, fetched

    def _definitions_of(self, name: str, scope: int) -> list[ast.expr]:
        """The expressions assigned to ``name`` in ``scope``, else at module level."""
        return self.assigned.get((scope, name)) or self.assigned.get((0, name)) or []

    def _definitions(
        self, name: str, scope: int, seen: set[tuple[int, str]]
    ) -> Iterator[tuple[ast.AST, int]]:
        for where in (scope, 0):
            if (where, name) in seen:
                return
            seen.add((where, name))
            values = self.assigned.get((where, name))
            if values:
                yield from ((value, where) for value in values)
                return
            if name in self.parameters.get(where, ()):
                return  # a parameter shadows the module-level name

    def _is_string_data(self, node: ast.AST, scope: int) -> bool:
        """A string or bytes constant, directly or through a name assigned one."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, (str, bytes))
        if isinstance(node, ast.Name):
            values = self.assigned.get((scope, node.id)) or self.assigned.get((0, node.id), [])
            return any(
                isinstance(value, ast.Constant) and isinstance(value.value, (str, bytes))
                for value in values
            )
        return self.const_str(node) is not None

    def _decoder(self, node: ast.AST, scope: int) -> str | None:
        """The decoding an expression performs itself, if any."""
        if isinstance(node, ast.Subscript) and _is_reverse_slice(node.slice):
            # Reversing a string hides it; reversing a list is an everyday idiom.
            return "reversed-string" if self._is_string_data(node.value, scope) else None
        if not isinstance(node, ast.Call):
            return None
        function = self.qualname(node.func) or ""
        if function in patterns.DECODERS:
            return function
        if isinstance(node.func, ast.Attribute) and node.func.attr in _DECRYPT_METHODS:
            # Fernet(key).decrypt(token), AES.new(key, mode).decrypt(data): whatever the
            # cipher, code that decrypts what it then executes is hiding it.
            return function or f"{node.func.attr}()"
        if function in ("codecs.decode", "codecs.encode"):
            codec = self.const_str(_argument(node, 1, "encoding"))
            if codec and codec.lower().replace("-", "_") in patterns.OBFUSCATING_CODECS:
                return function
        if function in ("bytes", "bytearray") and node.args:
            literal = node.args[0]
            return "bytes-list" if isinstance(literal, (ast.List, ast.Tuple)) else None
        if isinstance(node.func, ast.Attribute) and node.func.attr == "join" and node.args:
            stream = node.args[0]
            if isinstance(stream, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
                element = stream.elt
                if isinstance(element, ast.Call) and self.qualname(element.func) == "chr":
                    return "chr-join"
            if (
                isinstance(stream, ast.Call)
                and self.qualname(stream.func) == "map"
                and stream.args
                and self.qualname(stream.args[0]) == "chr"
            ):
                return "chr-join"
        return None

    # -- Node handlers --------------------------------------------------------------------------

    def _call(self, node: ast.Call, visit: _Visit) -> None:
        """Run every call check; each looks at the callee and returns if it is not its own."""
        attribute = node.func.attr if isinstance(node.func, ast.Attribute) else None
        site = _CallSite(node, self.qualname(node.func) or "", attribute, visit, self._phase(visit))
        for check in (
            self._code_sinks,
            self._process,
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

    def _code_sinks(self, site: _CallSite) -> None:
        """Code, a command or a module name built from decoded or downloaded data; imports by
        a computed name."""
        name, node = site.name, site.node
        is_process = _is_process(name)
        if not (name in patterns.CODE_SINKS or name in patterns.IMPORT_SINKS or is_process):
            return
        payload = _argument(node, 0, "source", "code", "args", "cmd", "name", "object")
        if payload is None:
            return
        if id(node) in self.quiet_sinks:
            return  # part of a payload already reported at its outermost sink
        decoded, fetched = self._origin(payload, site.visit.scope)
        if name in patterns.IMPORT_SINKS:
            fetched = None  # importing by a downloaded name is not running the download
            if decoded is None and self.const_str(payload) is None:
                self._add(
                    "dynamic-import",
                    name,
                    f"imports a module by a computed name ({name})",
                    node,
                    site.visit,
                )
        unfolded = None
        if name not in patterns.IMPORT_SINKS and self.const_str(payload) is None:
            unfolded = self._fold(payload, site.visit.scope)
        if decoded is None and unfolded is not None and unfolded.layers:
            decoded = "+".join(unfolded.layers)  # a decoding the data flow did not name
        if decoded is not None:
            what = "runs a command" if is_process else "executes code"
            if name in patterns.IMPORT_SINKS:
                what = "imports a module named by data"
            shown = _shown(unfolded)
            self._add(
                "decode-exec",
                f"{name}({decoded})",
                f"{what} decoded by {decoded} ({name})",
                node,
                site.visit,
                snippet=f"[decoded {decoded}] {shown}" if shown else None,
            )
        if unfolded is not None and unfolded.text:
            # What the hidden code does, rated as that code, where it is run.
            kind = "shell" if is_process else "python"
            layers = "+".join(unfolded.layers) or None
            self.c.absorb(
                _analyse_decoded(self.c, unfolded.text, kind, site.phase),
                line=node.lineno,
                layers=layers,
            )
            self.consumed.update(
                id(sub) for sub in ast.walk(payload) if isinstance(sub, ast.Constant)
            )
        if fetched is not None:
            self._add(
                "download-exec",
                f"{name}({fetched})",
                f"executes data downloaded with {fetched} ({name})",
                node,
                site.visit,
            )
        if (
            name in patterns.CODE_SINKS
            and decoded is None
            and fetched is None
            and unfolded is None
            and self.const_str(payload) is None
            and not self._reads_a_file(payload, site.visit.scope)
        ):
            self._add(
                "dynamic-exec",
                name,
                f"executes code computed at run time ({name})",
                node,
                site.visit,
            )
            self.quiet_sinks.update(
                id(sub) for sub in ast.walk(payload) if isinstance(sub, ast.Call)
            )
        if decoded is not None or fetched is not None:
            calls = (sub for sub in ast.walk(payload) if isinstance(sub, ast.Call))
            self.quiet_sinks.update(id(call) for call in calls)

    def _reads_a_file(self, node: ast.expr, scope: int) -> bool:
        """Whether code handed to exec comes from reading a file or is the code object of a
        function (``exec(open("pkg/version.py").read())``, ``exec(compile(src, path,
        "exec"))`` of a read file, ``exec(func.__code__)``): ordinary in build scripts."""
        queue: deque[ast.AST] = deque([node])
        seen: set[tuple[int, str]] = set()
        budget = _TAINT_BUDGET
        while queue and budget:
            budget -= 1
            current = queue.popleft()
            if isinstance(current, ast.Name):
                queue.extend(value for value, _ in self._definitions(current.id, scope, seen))
                continue
            if isinstance(current, ast.Attribute) and current.attr in _CODE_ATTRIBUTES:
                return True
            if isinstance(current, ast.Call):
                callee = self.qualname(current.func) or ""
                method = current.func.attr if isinstance(current.func, ast.Attribute) else ""
                if callee in patterns.OPEN_CALLS or method in _READ_METHODS:
                    return True
            if isinstance(current, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            queue.extend(ast.iter_child_nodes(current))
        return False

    def _fold(self, node: ast.expr, scope: int) -> Decoded | None:
        """The value an expression of literals and decoders folds to, never running it."""

        def lookup(name: str) -> ast.expr | None:
            for where in (scope, 0):
                values = self.assigned.get((where, name))
                if values:
                    return values[-1]
            return None

        return fold(node, qualname=self.qualname, lookup=lookup)

    def _process(self, site: _CallSite) -> None:
        name, node = site.name, site.node
        if not _is_process(name):
            return
        argument = _argument(node, 0, "args", "cmd", "file", "path")
        program = _program(argument)
        shell_flag = _keyword(node, "shell")
        through_shell = (
            name in patterns.SHELL_CALLS
            or (isinstance(shell_flag, ast.Constant) and shell_flag.value is True)
            or program in patterns.SHELLS
        )
        command = _command_text(argument)
        # ``os.system("git describe")`` is a shell only to run a build tool; a chain
        # (``git clone ... && ./run``) runs more than the tool.
        tool = is_build_tool(program) and not (
            through_shell and _SHELL_CHAIN.search(command) is not None
        )
        if tool and program is not None and program.startswith("python"):
            # The interpreter runs the project's own scripts, named in the call; a script
            # path computed at run time (one the install just wrote) is another matter.
            words = argument.elts[1:] if isinstance(argument, (ast.List, ast.Tuple)) else []
            tool = all(isinstance(word, ast.Constant) for word in words)
        concealed = self._concealing_flags(node, tool=tool) or (
            command_concealment(command, tool=tool) if command else None
        )
        default = BEHAVIOUR_RULES["process-spawn"].severity
        message = f"runs {name}" + (" through a shell" if through_shell else "")
        if command and command_fetches(command):
            message += ", a command that downloads"
        if concealed is not None:
            message += f", hidden by {concealed}"
        self._add(
            "process-spawn",
            name,
            message,
            node,
            site.visit,
            # A shell interprets whatever string reaches it: one step worse than an argv.
            severity=raise_severity(default) if through_shell else None,
            concealed=concealed,
            routine=tool and concealed is None,
        )
        if command and command_fetches(command):
            # A download by a command counts with the file's other evidence (_finish).
            self.fetches.append((node.lineno, site.phase))
        hidden = powershell_payload(command) if command else None
        if hidden is not None and hidden.text:
            self._decoded_command(hidden.text, "+".join(hidden.layers), node, site)
        self.spawns.append((node.lineno, site.phase))
        if argument is not None:
            run = (
                argument.elts[0]
                if isinstance(argument, (ast.List, ast.Tuple)) and argument.elts
                else argument
            )
            self.launched.append(
                (node.lineno, site.phase, _path_identity(run, self._path_text(run, [], 0)), name)
            )
        streams = (_keyword(node, stream) for stream in ("stdin", "stdout", "stderr"))
        if any(stream is not None and _is_fileno_call(stream) for stream in streams):
            self.shell_links.append((node.lineno, site.phase, "socket+spawn"))
        if name == "pty.spawn" and program in patterns.SHELLS:
            self.shell_links.append((node.lineno, site.phase, "socket+pty.spawn"))

    def _network(self, site: _CallSite) -> None:
        network = patterns.NETWORK_CALLS.get(site.name)
        if network is None:
            return
        message = f"opens network connections with {network} ({site.name})"
        self._add(
            "network-access",
            network,
            message,
            site.node,
            site.visit,
            # A client or socket created as a module loads (an IPv6 probe, a shared session)
            # transfers nothing yet; the calls that do are judged where they are.
            routine=site.name in _NETWORK_SETUP,
        )
        self.fetches.append((site.node.lineno, site.phase))
        self.sockets = self.sockets or network == "socket"
        if site.name.endswith("urlretrieve"):
            self.retrieves.append((site.node.lineno, site.phase))

    def _socket_address(self, site: _CallSite) -> None:
        """Hosts in ``connect(("203.0.113.9", 4444))`` and friends."""
        node = site.node
        host: ast.expr | None = None
        port: ast.expr | None = None
        if site.attribute in ("connect", "connect_ex", "sendto") or (
            site.name == "socket.create_connection"
        ):
            address = node.args[-1] if site.attribute == "sendto" and node.args else None
            address = address or _argument(node, 0)
            if isinstance(address, ast.Tuple) and len(address.elts) >= 2:
                host, port = address.elts[0], address.elts[1]
        elif site.name == "asyncio.open_connection" and len(node.args) >= 2:
            host, port = node.args[0], node.args[1]
        if not (isinstance(host, ast.Constant) and isinstance(host.value, str)):
            return
        if isinstance(port, ast.Constant) and isinstance(port.value, int):
            _note_host(self.c, host.value, "", node.lineno, site.phase)

    def _credential_call(self, site: _CallSite) -> None:
        where = patterns.CREDENTIAL_CALLS.get(site.name)
        if where is not None:
            message = f"reads {where} ({site.name})"
            self._add("credential-read", where, message, site.node, site.visit)

    def _shell_link(self, site: _CallSite) -> None:
        """``os.dup2(sock.fileno(), 0)``: half of a reverse shell (the socket is the other)."""
        node = site.node
        if site.name != "os.dup2" or len(node.args) != 2 or not _is_fileno_call(node.args[0]):
            return
        target = node.args[1]
        if isinstance(target, ast.Constant) and target.value in (0, 1, 2):
            self.shell_links.append((node.lineno, site.phase, "socket+dup2"))

    def _chmod(self, site: _CallSite) -> None:
        """Execute bits set on a file: with a download and a spawn, a dropper."""
        if site.name != "os.chmod" and site.attribute != "chmod":
            return
        mode = _argument(site.node, 1 if site.name == "os.chmod" else 0, "mode")
        if mode is not None and self._exec_bits(mode, 0):
            self.chmods.append((site.node.lineno, site.phase))

    def _thread(self, site: _CallSite) -> None:
        name = site.name
        if name not in patterns.THREAD_CALLS and name not in self.thread_classes:
            return
        # Only at import (or start-up): a thread started by a function is ordinary.
        if not site.visit.deferred and self.forced is not Phase.INSTALL:
            self._add(
                "import-time-thread",
                name,
                f"starts a thread or process as soon as the module is loaded ({name})",
                site.node,
                site.visit,
            )

    def _setattr(self, site: _CallSite) -> None:
        node = site.node
        if site.name != "setattr" or len(node.args) < 2 or site.visit.deferred:
            return
        owner = self._patched(node.args[0])
        if owner is not None:
            key = f"{owner}.{self.const_str(node.args[1]) or '*'}"
            self._add("monkey-patch", key, f"replaces {key} at import time", node, site.visit)

    def _exec_bits(self, node: ast.expr, depth: int) -> bool:
        if depth > _MAX_DEPTH:
            return False
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return bool(node.value & 0o111)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._exec_bits(node.left, depth + 1) or self._exec_bits(node.right, depth + 1)
        name = self.qualname(node) or ""
        return name.startswith("stat.S_IX") or name in ("stat.S_IEXEC", "stat.S_IRWXU")

    def _computed_builtin(self, site: _CallSite) -> None:
        """``getattr(__builtins__, <computed>)``: a builtin (``exec``, ``chr``) looked up by
        a name the code works out at run time, so that no reader or scanner sees it."""
        node = site.node
        if site.name != "getattr" or len(node.args) < 2:
            return
        if self.qualname(node.args[0]) != "builtins" or self.const_str(node.args[1]) is not None:
            return
        self._add(
            "obfuscation",
            "computed-builtin",
            "looks up a builtin by a name computed at run time (getattr(__builtins__, ...))",
            node,
            site.visit,
            # Serialisers resolve builtins by name inside functions; only code that does it
            # as it loads or installs is hiding what it calls.
            specific=site.phase is not Phase.RUNTIME,
            severity=None if site.phase is not Phase.RUNTIME else Severity.MEDIUM,
        )

    def _concealing_flags(self, node: ast.Call, *, tool: bool) -> str | None:
        """How a process call's keyword arguments hide the process: a hidden window, a
        detached console, both output streams thrown away (tidiness for a build tool)."""
        for keyword in ("creationflags", "startupinfo"):
            value = _keyword(node, keyword)
            if value is None:
                continue
            for sub in ast.walk(value):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, int):
                    for flag, phrase in CONCEALING_VALUES.items():
                        if sub.value & flag == flag:
                            return phrase
                name = self.qualname(sub) if isinstance(sub, (ast.Name, ast.Attribute)) else None
                if name in CONCEALING_FLAGS:
                    return CONCEALING_FLAGS[name]
        streams = [_keyword(node, stream) for stream in ("stdout", "stderr")]
        if not tool and all(
            stream is not None and (self.qualname(stream) or "").endswith("DEVNULL")
            for stream in streams
        ):
            return "its output thrown away (DEVNULL)"
        return None

    def _decoded_command(self, text: str, layers: str, node: ast.Call, site: _CallSite) -> None:
        """A command or script hidden under an encoding: report it with what it decodes to,
        and what the decoded text does, as that code."""
        decoded = " ".join(text.split())
        self._add(
            "decode-exec",
            f"{site.name}({layers})",
            f"runs a command hidden with {layers} ({site.name})",
            node,
            site.visit,
            concealed=f"an encoded command ({layers})",
            snippet=f"[decoded {layers}] {decoded}"[:_SNIPPET_MAX],
        )
        self.c.absorb(
            _analyse_decoded(self.c, text, "shell", site.phase),
            line=getattr(node, "lineno", 1),
            layers=layers,
        )

    def _silencing(self, site: _CallSite) -> None:
        name, node, visit = site.name, site.node, site.visit
        if name in patterns.REDIRECT_CALLS:
            self._add("output-silenced", name, f"redirects output ({name})", node, visit)
        if name in patterns.WARNING_FILTERS:
            action = self.const_str(_argument(node, 0, "action"))
            narrowed = len(node.args) > 1 or any(
                kw.arg not in ("action", "append") for kw in node.keywords
            )
            # Only the blanket filter: ignoring one category or module is ordinary hygiene.
            if action == "ignore" and not narrowed:
                self._add("output-silenced", name, f"ignores every warning ({name})", node, visit)
        discarded = [
            kw.arg
            for kw in node.keywords
            if kw.arg in ("stdout", "stderr") and self.qualname(kw.value) == "subprocess.DEVNULL"
        ]
        if discarded:
            self._add(
                "output-silenced",
                "subprocess.DEVNULL",
                f"discards a child process's {' and '.join(map(str, discarded))} "
                "(subprocess.DEVNULL)",
                node,
                visit,
            )

    def _open(self, site: _CallSite) -> None:
        """Files opened by path: ``.env`` files read, shell start-up files written."""
        name, node, visit = site.name, site.node, site.visit
        target: ast.expr | None
        if name in patterns.OPEN_CALLS:
            target = _argument(node, 0, "file", "path")
            mode_node = _argument(node, 1, "mode", "flags")
            if name == "os.open":
                parts = ast.walk(mode_node) if mode_node is not None else ()
                flags = {sub.attr for sub in parts if isinstance(sub, ast.Attribute)}
                writing = bool(flags & {"O_WRONLY", "O_RDWR", "O_APPEND", "O_CREAT"})
            else:
                mode = self.const_str(mode_node) if mode_node is not None else "r"
                writing = any(flag in (mode or "") for flag in "wax+")
        elif isinstance(node.func, ast.Attribute) and site.attribute in _PATH_METHODS:
            target = node.func.value
            mode = self.const_str(_argument(node, 0, "mode")) if site.attribute == "open" else None
            writing = node.func.attr.startswith("write") or any(
                flag in (mode or "") for flag in "wax+"
            )
        else:
            return
        if target is None:
            return
        if name in patterns.OPEN_CALLS and self.qualname(target) == "os.devnull":
            message = "opens os.devnull to discard output"
            self._add("output-silenced", "os.devnull", message, node, visit)
            return
        path = self._path_text(target, [], 0)
        if writing:
            self.written.add(_path_identity(target, path))
        if _DOTENV.search(path):
            message = "opens a .env file (environment secrets)"
            self._add("credential-read", ".env", message, node, visit)
        rc_file = _RC_PATH.search(path)
        if writing and rc_file is not None:
            key = f"~/.{rc_file.group(1)}"
            self._add("persistence", key, f"writes to the shell start-up file {key}", node, visit)

    def _command_classes(self, site: _CallSite) -> None:
        if any(keyword.arg == "cmdclass" for keyword in site.node.keywords):
            self._add(
                "install-hook",
                "cmdclass",
                "registers setup.py command classes (cmdclass), which run at install time",
                site.node,
                site.visit,
            )

    def _fold_call(self, site: _CallSite) -> None:
        """Paths and strings built by calls: ``os.path.join(...)``, ``"".join([...])``."""
        if site.name in patterns.PATH_CALLS or site.attribute == "joinpath":
            self._fold_path(site.node, site.visit)
        elif site.attribute == "join" and isinstance(
            getattr(site.node.func, "value", None), ast.Constant
        ):
            self._fold_string(site.node, site.visit)

    def _path_text(self, node: ast.AST, constants: list[ast.Constant], depth: int) -> str:
        """A path expression as text, ``*`` for the parts only known at run time:
        ``Path.home() / ".aws" / "credentials"`` reads ``~/.aws/credentials``."""
        if depth > _MAX_DEPTH:
            return "*"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            constants.append(node)
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
            separator = "/" if isinstance(node.op, ast.Div) else ""
            left = self._path_text(node.left, constants, depth + 1)
            return left + separator + self._path_text(node.right, constants, depth + 1)
        if isinstance(node, ast.JoinedStr):
            return "".join(self._path_text(part, constants, depth + 1) for part in node.values)
        if not isinstance(node, ast.Call):
            return "*"
        name = self.qualname(node.func) or ""
        parts = [self._path_text(arg, constants, depth + 1) for arg in node.args]
        if name in patterns.PATH_CALLS:
            return "/".join(parts) or "*"
        if name in patterns.PATH_PASSTHROUGH_CALLS and parts:
            return parts[0]
        if isinstance(node.func, ast.Attribute):
            if node.func.attr == "home":
                return "~"
            receiver = self._path_text(node.func.value, constants, depth + 1)
            if node.func.attr == "joinpath":
                return "/".join([receiver, *parts])
            if node.func.attr in ("expanduser", "resolve", "absolute"):
                return receiver
        return "*"

    def _fold_path(self, node: ast.AST, visit: _Visit) -> None:
        """Scan a path built from several literals as one string (the outermost expression)."""
        constants: list[ast.Constant] = []
        text = self._path_text(node, constants, 0)
        if not constants or any(id(constant) in self.consumed for constant in constants):
            return
        self.consumed.update(id(constant) for constant in constants)
        self._scan_literal(text, node, visit)

    def _fold_string(self, node: ast.AST, visit: _Visit) -> None:
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

    def _binop(self, node: ast.BinOp, visit: _Visit) -> None:
        if isinstance(node.op, ast.Div):
            self._fold_path(node, visit)
        elif isinstance(node.op, ast.Add):
            self._fold_string(node, visit)

    def _constant(self, node: ast.Constant, visit: _Visit) -> None:
        value = node.value
        if not isinstance(value, (str, bytes)):
            return
        # Docstrings document; URLs and paths in them are not things the code does.
        if id(node) in self.docstrings or id(node) in self.consumed:
            return
        text = value if isinstance(value, str) else value.decode("latin-1")
        self._scan_literal(text, node, visit, raw=value)
        if isinstance(value, str) and _looks_like_code(value):
            self._embedded_code(value, node)
        elif len(value) >= PEEL_MIN_LENGTH:
            self.peelable.append(node)
        if not self.escaped_found and len(value) >= _ESCAPED_MIN:
            self._escaped_text(node, len(value), visit)

    def _escaped_text(self, node: ast.Constant, size: int, visit: _Visit) -> None:
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
        inner = _analyse_decoded(self.c, code, "python", Phase.RUNTIME)
        if inner.findings:  # does not parse after all: text, not a program
            return
        self.c.absorb(inner, line=getattr(node, "lineno", 1), layers=None)

    def _scan_literal(
        self, text: str, node: ast.AST, visit: _Visit, raw: str | bytes | None = None
    ) -> None:
        start = getattr(node, "lineno", 1)
        end = getattr(node, "end_lineno", None) or start
        phase = self._phase(visit)
        self.literals.append(_Literal(text, start, end, phase, self.c.source.lines))
        value = text if raw is None else raw
        if len(value) >= patterns.ENCODED_MIN_LENGTH:
            _add_encoded(self.c, value, start, phase)

    def _assignment(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign, visit: _Visit) -> None:
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

    def _class(self, node: ast.ClassDef, visit: _Visit) -> None:
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

    def _dict(self, node: ast.Dict, visit: _Visit) -> None:
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

    def _environ_unpacked(self, node: ast.Dict, visit: _Visit) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None and self.qualname(value) in patterns.ENVIRON_NAMES:
                self._environment_dump("{**os.environ}", node, visit)

    def _environ(self, node: ast.Name | ast.Attribute, visit: _Visit) -> None:
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
                or _is_process(function)
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

    def _environment_dump(self, how: str, node: ast.AST, visit: _Visit) -> None:
        self._add(
            "environment-dump", "os.environ", f"reads the whole environment ({how})", node, visit
        )

    def _identifiers(self, node: ast.AST, visit: _Visit) -> None:
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

    def _layout(self, node: ast.stmt | ast.expr, visit: _Visit) -> None:
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
            inner = _analyse_decoded(self.c, decoded.text, "python", Phase.RUNTIME)
            if inner.findings:  # not Python: a command line, if it reads like one
                if not _COMMAND_WORDS.search(decoded.text):
                    continue
                inner = _analyse_decoded(self.c, decoded.text, "shell", Phase.RUNTIME)
            self.c.absorb(inner, line=node.lineno, layers="+".join(decoded.layers))

    def _finish(self) -> None:
        """Evidence that is only damning together, and the literals gathered on the way."""
        self._peel_literals()
        _scan_literals(self.c, self.literals)
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
