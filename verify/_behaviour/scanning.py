"""Fast text scanners for :mod:`verify._behaviour.capabilities`, each equivalent to a slow one.

The analysis reads whole files, including multi-megabyte JSON data and lexer tables, where a
regular expression that can start anywhere (a ``\\b`` or a lookbehind first, or a case-blind
letter, which Python's engine cannot skip ahead to) is tried at every position. Each function
here returns exactly what the code it replaces returns, for every input (the differential tests
in ``tests/unit/behaviour/test_scanning.py`` compare them), but first finds the few places a
match can be, with a plain substring search or a regular expression that opens with a literal,
and runs the original expression only there, anchored. Many literals at once (the prefilter's
triggers, the string patterns' anchors) are searched with RE2, whose automaton reads each byte
once.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, count
from operator import add
from typing import ClassVar, Protocol, cast

try:
    import re2  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - google-re2 has no wheel for this Python yet
    re2 = None

from verify._behaviour import patterns

__all__ = [
    "ALL_ANCHORS",
    "HOST_PORT",
    "URL",
    "SearchSet",
    "anchors_in",
    "candidate_patterns",
    "encoded_runs",
    "entropy",
    "find_host_ports",
    "find_urls",
    "is_utf8",
    "line_starts",
    "needs_analysis",
    "split_lines",
]

# file:// (and awscli's fileb://) name local paths, and storage schemes (fsspec's memory://,
# s3://, zip:: chains) name buckets and files: none of their "hosts" is a network host
# ("memory://archive.zip" is not the .zip TLD).
_SCHEME = (
    r"\b(?!(?:fileb?|memory|mem|zip|tar|jar|data|blob|s3a?|gs|gcs|az|abfss?|adl|hdfs|dbfs"
    r"|sqlite|local|simplecache|filecache|blockcache|oci)://)[a-z][a-z0-9+.-]{0,30}://"
)
_AFTER_SCHEME = (
    r"(?:[^\s/?#@\"'<>\\]{0,256}@)?"
    r"(?P<host>\[[0-9a-f:.]{2,45}\]|[^\s/?#:@\"'<>\\`{}()|,;\[\]]{1,253})"
    r"(?::\d{1,5})?"
    r"(?P<path>/[^\s\"'<>\\`]{0,200})?"
)
#: A URL: the scheme (not a local or storage one), user information, host, port and path.
URL = re.compile(_SCHEME + _AFTER_SCHEME, re.IGNORECASE)
#: A host (dotted IPv4 or domain name) and a port, not inside a longer word, path or address.
HOST_PORT = re.compile(
    r"(?<![\w.:/@-])((?:\d{1,3}\.){3}\d{1,3}|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"[a-z]{2,63}):\d{2,5}(?![\w.:])",
    re.IGNORECASE,
)

#: The scheme is at most 31 characters.
_SCHEME_MAX = 31
#: The characters of a scheme (``[a-z]`` ignoring case also takes U+0130, U+0131, U+017F and
#: U+212A), matched backwards from its "://".
_SCHEME_RUN = re.compile(r"[a-z0-9+.-]*", re.IGNORECASE)
#: The scheme characters that are not word characters: a scheme can start after one of them.
_SCHEME_SEPARATORS = frozenset("+.-")
#: What HOST_PORT needs after the host; it opens with a literal, so the engine skips ahead.
_PORT_TAIL = re.compile(r":\d{2,5}(?![\w.:])")
#: Every character a HOST_PORT host can hold (the lookbehind refuses all of them before it).
_HOST_RUN = re.compile(r"[\w.-]*")
_RUN_WINDOW = 64


def find_urls(text: str) -> list[tuple[int, str, str]]:
    """``(start, host, path or "")`` of each :data:`URL` match, as ``URL.finditer`` finds them.

    Every match holds ``://`` right after its scheme, and a scheme is a run of at most 31
    scheme characters, so only such a run just before a ``://`` can start one, at its first
    character or right after a ``+``, ``.`` or ``-`` in it (anywhere else ``\\b`` fails). Those
    few starts are tried in order with the whole expression, anchored. A scheme cannot span a
    ``://``, so no run reaches back past the previous one, and the search resumes where the
    previous match ended, as ``finditer`` does.
    """
    found: list[tuple[int, str, str]] = []
    floor = 0  # no match starts before this: the end of the previous match or "://"
    at = text.find("://")
    while at != -1:
        low = max(floor, at - _SCHEME_MAX)
        resume = at + 3
        run = _SCHEME_RUN.match(text[low:at][::-1])
        length = run.end() if run is not None else 0
        if length:
            match = _url_at(text, at - length, at)
            if match is not None:
                found.append((match.start(), match["host"], match["path"] or ""))
                resume = max(resume, match.end())
        floor = resume
        at = text.find("://", resume)
    return found


def _url_at(text: str, first: int, scheme_end: int) -> re.Match[str] | None:
    """The match of a URL whose scheme lies in ``text[first:scheme_end]``, leftmost first."""
    match = URL.match(text, first)
    if match is not None:
        return match
    scheme = text[first:scheme_end]
    for offset, char in enumerate(scheme, first + 1):
        if char in _SCHEME_SEPARATORS and offset < scheme_end:
            match = URL.match(text, offset)
            if match is not None:
                return match
    return None


def find_host_ports(text: str) -> list[tuple[int, str]]:
    """``(start, host)`` of each :data:`HOST_PORT` match, as ``HOST_PORT.finditer`` finds them.

    A match ends its host at a colon followed by the port, and its lookbehind refuses a word
    character, dot or dash before it while the host holds only those: so it can start only at
    the beginning of the run of such characters that ends at the colon. Each colon with a port
    after it is found first, the run is measured backwards, and the expression is matched once,
    at the run's start.
    """
    found: list[tuple[int, str]] = []
    floor = 0  # where finditer would resume: matches do not overlap
    for tail in _PORT_TAIL.finditer(text):
        colon = tail.start()
        start = _run_start(text, colon)
        if start < floor or start == colon:
            continue
        match = HOST_PORT.match(text, start)
        if match is not None:
            found.append((start, match[1]))
            floor = match.end()
    return found


def _run_start(text: str, end: int) -> int:
    """Where the run of ``[\\w.-]`` characters ending just before ``end`` starts."""
    size = _RUN_WINDOW
    while True:
        low = max(0, end - size)
        run = _HOST_RUN.match(text[low:end][::-1])
        length = run.end() if run is not None else 0
        if length < end - low or low == 0:
            return end - length
        size *= 8


# --- The prefilter -----------------------------------------------------------------------------

#: RE2 reads bytes as Latin-1, one character per byte, so that case-blind matching folds only
#: ASCII letters, exactly as ``bytes.lower`` does. Its automaton has no lookaround, so it runs
#: the literal triggers (and the trigger expressions that are plain regular languages) in one
#: linear pass, where Python's engine would try every alternative at every position.
if re2 is not None:
    _RE2_OPTIONS = re2.Options()
    _RE2_OPTIONS.encoding = re2.Options.Encoding.LATIN1
    _RE2_OPTIONS.max_mem = 64 << 20


#: What compiling an expression the engine cannot run raises.
_COMPILE_ERRORS: tuple[type[Exception], ...] = (
    (re.error, re2.error) if re2 is not None else (re.error,)
)


class _Searcher(Protocol):
    def search(self, data: bytes) -> object | None: ...


def _escape(literal: bytes) -> bytes:
    return bytes(re2.escape(literal)) if re2 is not None else re.escape(literal)


def _compile(pattern: bytes) -> _Searcher:
    """RE2 where it is installed; Python's engine (the same matches, slower) elsewhere."""
    if re2 is not None:
        return cast(_Searcher, re2.compile(pattern, _RE2_OPTIONS))
    return re.compile(pattern)


class SearchSet:
    """Which of several expressions occur in some data: one RE2 set pass, or one search each
    where RE2 is not installed."""

    #: Whether a set is searched in one RE2 pass; without RE2 it runs one Python search per
    #: expression, and a set built only to save passes saves nothing.
    ONE_PASS: ClassVar[bool] = re2 is not None

    @staticmethod
    def takes(expression: bytes) -> bool:
        """Whether the engine in use compiles ``expression`` (RE2 has no look-around)."""
        try:
            _compile(expression)
        except _COMPILE_ERRORS:
            return False
        return True

    def __init__(self, expressions: Sequence[bytes]) -> None:
        self._expressions = tuple(expressions)
        self._set = None
        self._each: tuple[re.Pattern[bytes], ...] = ()
        if re2 is not None:
            self._set = re2.Set.SearchSet(_RE2_OPTIONS)
            for expression in self._expressions:
                self._set.Add(expression)
            self._set.Compile()
        else:
            self._each = tuple(re.compile(expression) for expression in self._expressions)

    def matches(self, data: bytes) -> list[int]:
        if self._set is not None:
            return list(self._set.Match(data) or ())
        return [index for index, regex in enumerate(self._each) if regex.search(data)]


_PTH_EXEC_BYTES = re.compile(rb"(?:^|[\r\n])[ \t]*import[ \t]")
#: Expressions of ``patterns`` (by their text) that mean the same to RE2 as to Python's engine:
#: literals and byte classes only (no lookaround, no ``\s``, whose RE2 form lacks ``\v``).
_RE2_EXACT = frozenset(
    {
        rb"[\"'][a-zA-Z][a-zA-Z0-9+.-]{0,30}://",
        rb"[/'\"]\.env['\"]",
        rb"\xe2\x80[\x8b-\x8d\xaa-\xae]|\xe2\x81[\xa0\xa6-\xa9]|\xef\xbb\xbf|[\xce-\xd4]",
    }
)
#: For each trigger expression RE2 cannot run, a literal that every match of it contains: the
#: expression is searched only in data holding its literal. Keyed by the expression's text, so
#: an expression edited in ``patterns`` is searched unconditionally until this table follows.
_TRIGGER_GATES: dict[bytes, bytes] = {
    rb"exec(?![a-z_])": b"exec",
    rb"eval(?![a-z_])": b"eval",
    rb"sys\.modules\[[^\]\n]*\]\s*=(?!=)": b"sys.modules[",
    rb"builtins(?:__)?(?:\.\w+|\[[^\]\n]*\])\s*=(?!=)": b"builtins",
    rb"environb?(?![\w\[]|\.get\(|\.setdefault\(|\.pop\()": b"environ",
    rb"sys\.std(?:out|err)\s*=": b"sys.std",
    rb"exec[lv]p?e?\b": b"exec",
}
_COMPILE_CALL = b"compile("
_IGNORE = b"ignore"


def _runs_in_re2(pattern: re.Pattern[bytes]) -> bool:
    return pattern.pattern in _RE2_EXACT and pattern.flags == 0


def _re2_any(parts: Sequence[bytes]) -> _Searcher:
    return _compile(b"|".join(parts))


_TRIGGER_PARTS = [
    *(_escape(token) for token in patterns.TRIGGER_TOKENS),
    b"(?i:" + b"|".join(_escape(token) for token in patterns.TRIGGER_TOKENS_ANYCASE) + b")",
    *(pattern.pattern for pattern in patterns.TRIGGER_PATTERNS if _runs_in_re2(pattern)),
]
#: Python's hosts come from a URL opening a string literal, other files' from any URL.
_PYTHON_TRIGGERS = _re2_any(
    [*_TRIGGER_PARTS, patterns.QUOTED_URL.pattern]
    if _runs_in_re2(patterns.QUOTED_URL)
    else _TRIGGER_PARTS
)
_QUOTED_URL_SLOW = None if _runs_in_re2(patterns.QUOTED_URL) else patterns.QUOTED_URL
_TEXT_TRIGGERS = _re2_any([*_TRIGGER_PARTS, _escape(b"://")])
#: The trigger expressions left to Python's engine, each with the literal that gates it.
_GATED: tuple[tuple[bytes | None, re.Pattern[bytes]], ...] = tuple(
    (_TRIGGER_GATES.get(pattern.pattern), pattern)
    for pattern in patterns.TRIGGER_PATTERNS
    if not _runs_in_re2(pattern)
)
_GATE_LITERALS: tuple[bytes, ...] = tuple(
    dict.fromkeys([*(gate for gate, _ in _GATED if gate is not None), _COMPILE_CALL, _IGNORE])
)
_GATE_SET = SearchSet([_escape(literal) for literal in _GATE_LITERALS])
#: Look-alike and invisible characters (searched only in data that is not ASCII).
_SUSPICIOUS_UTF8: _Searcher = (
    _compile(patterns.SUSPICIOUS_UTF8.pattern)
    if _runs_in_re2(patterns.SUSPICIOUS_UTF8)
    else patterns.SUSPICIOUS_UTF8
)
#: A line long enough to hold a blob (RE2's automaton counts; Python's engine would restart
#: the count at every position).
_LONG_LINE = _compile(b"[^\n]{%d}" % patterns.LONG_LINE)
#: Maps spaces and tabs to NUL and every other byte to 0x01: a long blank run is then found
#: with a substring search.
_BLANKS_TO_NUL = bytes(0 if byte in b" \t" else 1 for byte in range(256))
_BLANK_RUN = b"\x00" * patterns.HIDDEN_RUN


def needs_analysis(path: str, data: bytes) -> bool:
    """Exactly ``capabilities.needs_analysis(path, data)``, in a few linear passes.

    The conditions are the same and are or-ed, so they are tested cheapest and likeliest first:
    every literal trigger at once, then line shape, then the trigger expressions whose literal
    occurs.
    """
    if path.lower().endswith(".pth"):
        return _PTH_EXEC_BYTES.search(data) is not None
    if not data.isascii() and (_SUSPICIOUS_UTF8.search(data) is not None or not is_utf8(data)):
        return True
    python = _is_python_path(path, data)
    if (_PYTHON_TRIGGERS if python else _TEXT_TRIGGERS).search(data) is not None:
        return True
    if python and _QUOTED_URL_SLOW is not None and _QUOTED_URL_SLOW.search(data) is not None:
        return True
    if _LONG_LINE.search(data) is not None or _BLANK_RUN in data.translate(_BLANKS_TO_NUL):
        return True
    present = {_GATE_LITERALS[index] for index in _GATE_SET.matches(data)}
    for gate, pattern in _GATED:
        if (gate is None or gate in present) and pattern.search(data) is not None:
            return True
    # The builtin compile(), not re.compile().
    if _COMPILE_CALL in present and data.count(_COMPILE_CALL) > data.count(b".compile("):
        return True
    return _IGNORE in present and patterns.IGNORE_WARNINGS.search(data) is not None


def _is_python_path(path: str, data: bytes) -> bool:
    if path.lower().endswith((".py", ".pyw")):
        return True
    return patterns.PYTHON_SHEBANG.match(data[:256]) is not None


def is_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- Which string patterns to run --------------------------------------------------------------

#: The only characters whose lower case holds ASCII (U+0130 lowers to "i" and a combining dot,
#: the Kelvin sign to "k"): without them, a lower-case ASCII anchor occurs in ``text.lower()``
#: exactly where it occurs in ``text`` with ASCII letters of any case.
_LOWERS_TO_ASCII = "\u0130\u212a"


class _AnchorIndex:
    """Anchors searched as one RE2 set, case-blind (those that are lower-case ASCII)."""

    __slots__ = ("anchors", "automaton", "fast", "slow")

    def __init__(self, anchors: Iterable[str]) -> None:
        self.anchors = tuple(dict.fromkeys(anchors))
        self.fast = tuple(a for a in self.anchors if a and a.isascii() and a == a.lower())
        # Any other anchor is looked up in the lower-cased text, as may_match does.
        self.slow = tuple(a for a in self.anchors if a not in self.fast)
        self.automaton = SearchSet(
            [b"(?i:" + _escape(anchor.encode("ascii")) + b")" for anchor in self.fast]
        )

    def present(self, text: str) -> frozenset[str]:
        """Exactly the anchors ``a`` with ``a in text.lower()``."""
        if self.slow or any(char in text for char in _LOWERS_TO_ASCII):
            lowered = text.lower()
            return frozenset(anchor for anchor in self.anchors if anchor in lowered)
        # UTF-8 keeps every ASCII character and turns every other one into bytes above 0x7F,
        # which an ASCII anchor cannot match.
        hits = self.automaton.matches(text.encode("utf-8", "surrogatepass"))
        return frozenset(self.fast[index] for index in hits)


_TABLES = (
    patterns.STRING_PATTERNS,
    patterns.SHELL_PATTERNS,
    patterns.JS_PATTERNS,
    patterns.PYTHON_FALLBACK_PATTERNS,
)
#: Every anchor of the string-level tables and of :data:`patterns.STRING_ANCHORS`.
ALL_ANCHORS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *patterns.STRING_ANCHORS,
            *(anchor for table in _TABLES for pattern in table for anchor in pattern.anchors),
        ]
    )
)
_ALL = _AnchorIndex(ALL_ANCHORS)


def anchors_in(text: str) -> frozenset[str]:
    """Exactly ``{a for a in ALL_ANCHORS if a in text.lower()}``, in one pass over ``text``.

    Passed as ``anchors=`` to the scans of one text, it stands for every table's ``may_match``.
    """
    return _ALL.present(text)


#: Tables (by identity; each held here so that its id stays its own) whose every anchor the
#: index holds.
_COVERED: dict[int, tuple[Sequence[patterns.StringPattern], bool]] = {}
_ALL_ANCHOR_SET = frozenset(ALL_ANCHORS)


def _covered(table: Sequence[patterns.StringPattern]) -> bool:
    known = _COVERED.get(id(table))
    if known is None or known[0] is not table:
        covered = all(a in _ALL_ANCHOR_SET for pattern in table for a in pattern.anchors)
        known = _COVERED[id(table)] = (table, covered)
    return known[1]


def candidate_patterns(
    text: str, table: Sequence[patterns.StringPattern]
) -> list[patterns.StringPattern]:
    """Exactly ``[p for p in table if p.may_match(text.lower())]``: the patterns of ``table``
    whose anchors ``text`` holds (or that have none), found in one pass over ``text``."""
    if not _covered(table):
        lowered = text.lower()
        return [pattern for pattern in table if pattern.may_match(lowered)]
    present = _ALL.present(text)
    return [
        pattern
        for pattern in table
        if not pattern.anchors or not present.isdisjoint(pattern.anchors)
    ]


# --- Entropy, lines, encoded runs --------------------------------------------------------------

#: As in ``capabilities``: entropy is estimated from evenly spaced slices of large inputs.
_ENTROPY_SAMPLE = 64 * 1024
_ENTROPY_SLICES = 8
#: Below this a Counter is faster than 256 membership tests and a count per value (measured:
#: even at 4 kB of text they cost the same).
_COUNT_BY_VALUE_MIN = 8 * 1024
#: Counting per value scans the data once per value present: fine for text (a hundred values at
#: most), more than twice a Counter's time for compressed or binary data, where all 256 are.
#: Past this many distinct values in the first 4 kB, a Counter counts instead.
_COUNT_BY_VALUE_MAX_VALUES = 128


def entropy(data: bytes | str) -> float:
    """Exactly ``capabilities._entropy(data)``: Shannon entropy in bits per symbol.

    Bytes are counted per byte value that occurs (a C-speed scan each) instead of one dictionary
    update per byte; the counts are summed in the order of first occurrence, the order a Counter
    keeps, so that the floating-point result is the same to the last bit.
    """
    if not data:
        return 0.0
    if len(data) > _ENTROPY_SAMPLE:
        size = _ENTROPY_SAMPLE // _ENTROPY_SLICES
        step = (len(data) - size) // (_ENTROPY_SLICES - 1)
        starts = [i * step for i in range(_ENTROPY_SLICES)]
        if isinstance(data, bytes):
            data = b"".join(data[i : i + size] for i in starts)
        else:
            data = "".join(data[i : i + size] for i in starts)
    total = len(data)
    if (
        isinstance(data, bytes)
        and total >= _COUNT_BY_VALUE_MIN
        and len(set(data[:4096])) <= _COUNT_BY_VALUE_MAX_VALUES
    ):
        present = [value for value in range(256) if value in data]
        present.sort(key=data.index)
        counts = [data.count(value) for value in present]
    else:
        counts = list(Counter[int | str](data).values())
    return max(0.0, -sum(n / total * math.log2(n / total) for n in counts))


# Python's own line breaks (str.splitlines also splits on form feeds and U+2028).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_KEPT = re.compile(r"(\r\n|\r|\n)")


def split_lines(text: str) -> list[str]:
    """Exactly ``re.split(r"\\r\\n|\\r|\\n", text)``: the lines as Python counts them."""
    if "\r" not in text:
        return text.split("\n")
    return _LINE_BREAK.split(text)


def line_starts(text: str) -> list[int]:
    """Exactly ``[0, *(m.end() for m in re.finditer(r"\\r\\n|\\r|\\n", text))]``: the offset
    where each line starts, computed from the lines' lengths without a match object each."""
    if "\r" not in text:
        lengths = map(len, text.split("\n")[:-1])
        # Line k starts after the k lines before it and their k line breaks.
        return list(map(add, accumulate(lengths, initial=0), count()))
    # Lines and breaks alternate; a running total after each break is where a line starts.
    pieces = _LINE_BREAK_KEPT.split(text)
    return [0, *list(accumulate(map(len, pieces)))[1::2]]


_ENCODED_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")
#: Maps the characters of an encoded run to 0x01 and every other byte to NUL.
_ENCODED_MARKS = bytes(1 if byte in _ENCODED_CHARS else 0 for byte in range(256))


def encoded_runs(text: str) -> Iterator[tuple[int, str]]:
    """``(start, run)`` of each match of ``[A-Za-z0-9+/=_-]{ENCODED_MIN_LENGTH,}``, in order.

    The matches are the maximal runs of those characters that are long enough; Python's engine
    tries the repetition again at every position inside a shorter run. Here each character is
    mapped to one byte (every non-Latin-1 character to ``?``, which is not in the class) and
    marked, and a long enough run of marks is found with a substring search.
    """
    marks = text.encode("latin-1", "replace").translate(_ENCODED_MARKS)
    needle = b"\x01" * patterns.ENCODED_MIN_LENGTH
    at = marks.find(needle)
    while at != -1:
        # The search starts outside any run, so the first long stretch starts its run.
        end = marks.find(b"\x00", at + len(needle))
        if end == -1:
            end = len(marks)
        yield at, text[at:end]
        at = marks.find(needle, end)
