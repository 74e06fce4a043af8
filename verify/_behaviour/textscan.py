"""String-level scanning: patterns, endpoints, layout, invisible characters, encoded runs.

Shell, JavaScript and other text files are analysed here whole (:func:`analyse_text`). The
Python analysis uses the same scans on its string literals (:func:`scan_literals`) and on source
it cannot parse. Every endpoint found is checked for being suspicious; which ones are also the
file's hosts (:attr:`~verify._behaviour.profile.FileProfile.hosts`) depends on where they occur.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

from verify._behaviour import patterns, regex_superset, scanning
from verify._behaviour.collector import Collector, Locate, PhaseAt, fixed
from verify._behaviour.profile import Phase
from verify.models import Severity

#: Which endpoints in scanned text count as the file's hosts: all of them (text files), those
#: opening a Python literal, or those right after a quote (Python scanned as text).
_HostMode = Literal["anywhere", "literal", "quoted"]

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


def format_key(template: str, match: re.Match[str]) -> str:
    if "{" not in template:
        return template
    groups = [match.group(0), *(group or "" for group in match.groups())]
    return template.format(*(group.lower() for group in groups))


def scan_patterns(
    c: Collector,
    text: str,
    table: Sequence[patterns.StringPattern],
    locate: Locate,
    phase_at: PhaseAt,
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
    for pattern in regex_superset.matchable(text, table, candidates):
        seen: set[str] = set()
        for match in pattern.regex.finditer(text):
            key = format_key(pattern.key, match)
            if key in seen:
                continue
            seen.add(key)
            line = locate(match.start())
            c.add(pattern.rule, key, pattern.message.format(key=key), line, phase_at(line))


def scan_strings(
    c: Collector,
    text: str,
    locate: Locate,
    phase_at: PhaseAt,
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
    scan_patterns(c, text, patterns.STRING_PATTERNS, locate, phase_at, anchors=anchors)
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
        note_host(c, host, path, line, phase_at(line), record=record)


@dataclass(frozen=True, slots=True)
class StringLiteral:
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


def scan_literals(c: Collector, literals: Sequence[StringLiteral]) -> None:
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
        scan_strings(
            c,
            literal.text,
            literal.locate,
            fixed(literal.phase),
            hosts="literal",
            anchors=found[index],
        )


def note_host(
    c: Collector, raw: str, path: str, line: int, phase: Phase, *, record: bool = True
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
            return "binary" if scanning.entropy(value) >= 6.0 else None
        value = value.decode("ascii")
    compact = _WHITESPACE.sub("", value)
    # Encoders wrap lines at 64 or 76 characters; a word list has a blank every few letters.
    wrapped_only = (len(value) - len(compact)) * 40 <= len(value)
    if len(compact) >= patterns.ENCODED_MIN_LENGTH and wrapped_only:
        if _HEX.fullmatch(compact):
            return "hex" if scanning.entropy(compact) >= 3.5 else None
        if _BASE64.fullmatch(compact):
            return "base64" if scanning.entropy(compact) >= 4.5 else None
    # Escaped bytes in a str literal ("\x78\x9c..."): mostly unprintable and dense.
    if value.isascii() or max(map(ord, value)) > 0xFF:
        return None
    unprintable = sum(not ch.isprintable() for ch in value)
    return "binary" if unprintable * 4 > len(value) and scanning.entropy(value) >= 6.0 else None


def add_encoded(c: Collector, value: str | bytes, line: int, phase: Phase) -> None:
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


def scan_invisible(c: Collector, phase_at: PhaseAt, *, python: bool = False) -> None:
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


def scan_layout(c: Collector, phase_at: PhaseAt, *, minified: bool) -> None:
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


def scan_encoded_runs(c: Collector, text: str, phase_at: PhaseAt) -> None:
    for start, run in scanning.encoded_runs(text):
        if _encoded_kind(run) is not None:
            line = c.source.line_at(start)
            add_encoded(c, run, line, phase_at(line))
            return


def analyse_text(c: Collector, kind: str, phase: Phase) -> None:
    """Shell, JavaScript and other text: string patterns, plus each language's own."""
    phase_at = fixed(phase)
    text = c.source.text
    scan_strings(c, text, c.source.line_at, phase_at)
    if kind == "shell":
        scan_patterns(c, text, patterns.SHELL_PATTERNS, c.source.line_at, phase_at)
    elif kind == "javascript":
        scan_patterns(c, text, patterns.JS_PATTERNS, c.source.line_at, phase_at)
    if kind in ("shell", "javascript"):
        scan_invisible(c, phase_at)
        scan_layout(c, phase_at, minified=False)
    scan_encoded_runs(c, text, phase_at)
