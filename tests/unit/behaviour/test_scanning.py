"""verify._behaviour.scanning: each fast scanner returns exactly what the code it replaces does.

Differential tests: hand-written hostile inputs and a few thousand generated ones go through the
old code (kept in ``tests/helpers/reference_scanners.py``) and the new functions, and the
results must be equal (entropy to the last bit).
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import TypeVar

import pytest

from tests.helpers import reference_scanners as reference
from verify._behaviour import patterns, scanning

T = TypeVar("T")


def seeded(seed: int) -> random.Random:
    """A reproducible generator of test inputs (nothing here needs to be unpredictable)."""
    return random.Random(seed)  # noqa: S311


# --- The old code, as capabilities ran it -----------------------------------------------------


def old_urls(text: str) -> list[tuple[int, str, str]]:
    return [(m.start(), m["host"], m["path"] or "") for m in reference.URL.finditer(text)]


def old_host_ports(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(1)) for m in reference.HOST_PORT.finditer(text)]


def old_line_starts(text: str) -> list[int]:
    return reference.line_starts(text)


def old_split_lines(text: str) -> list[str]:
    return reference.LINE_BREAK.split(text)


def old_encoded_runs(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in reference.ENCODED_RUN.finditer(text)]


def old_anchors(text: str) -> frozenset[str]:
    lowered = text.lower()
    return frozenset(anchor for anchor in scanning.ALL_ANCHORS if anchor in lowered)


def old_candidates(text: str, table: Sequence[patterns.StringPattern]) -> list[str]:
    lowered = text.lower()
    return [p.regex.pattern for p in table if p.may_match(lowered)]


def new_candidates(text: str, table: Sequence[patterns.StringPattern]) -> list[str]:
    return [p.regex.pattern for p in scanning.candidate_patterns(text, table)]


# --- Generated inputs --------------------------------------------------------------------------


def generated(seed: int, fragments: Sequence[str], count: int, most: int = 12) -> Iterator[str]:
    """``count`` strings, each up to ``most`` fragments glued together at random."""
    rng = seeded(seed)
    for _ in range(count):
        yield "".join(rng.choice(fragments) for _ in range(rng.randint(1, most)))


URL_FRAGMENTS = (
    "http", "HTTPS", "hTtP", "ftp", "git+ssh", "svn+https", "a.b", "a-b", "x1", "1x", "+x",
    "memory", "MEMORY", "mem", "s3", "S3A", "s3b", "gs", "gcs", "fileb", "file", "files", "zip",
    "data", "blob", "oci", "simplecache", "blockcache", "local", "sqlite", "abfss", "hdfs",
    "a" * 30, "b" * 31, "c" * 32, "\u0130ttp", "\u0131ttp", "\u017f3", "\u212aey", "\u00e9ttp",
    "://", "://", "://", ":/", ":///", "//", ":", "_", "-", ".", "+", "@", "a@", "u:p@",
    "user@host@", "@@", "[::1]", "[2001:db8::7]", "[fe80::1%25eth0]", "[zz]", "[", "]",
    "example.test", "h.example", "x", "a.example.", "ex ample", "\t", "\n", " ", ":80",
    ":8080", ":123456", ":\u0661\u0662", ":", "/", "/path", "/a?b=c#d", "?q=1", "#frag",
    "/" + "p" * 210, "h" * 260, '"', "'", "<", ">", "\\", "`", "{", "}", "(", ")", "|", ",",
    ";", "\u00e9", "\u4e2d", "\U0001f600", "\u2028", "\x00", "0", "9", "=",
)  # fmt: skip
HOST_PORT_FRAGMENTS = (
    "example", "test", "a", "b-c", "-", "--", ".", "..", ":", "::", "/", "@", "_", "x_y",
    "10", "192", "168", "0", "1", "255", "999", "1234", ":80", ":8080", ":65535", ":123456",
    ":9", ":08", "\u0661\u0662\u0663", ":\u0668\u0660", "\u0130", "\u212a", "\u017f", "\u0131",
    "\u00e9", "a" * 61, "b" * 62, "c" * 63, "d" * 64, "py", "txt", "json", " ", "\t", "\n",
    "'", '"', "(", ")", "[", "]", "=", ",", ";", "setup", "12", ".example", "host",
)  # fmt: skip
LINE_FRAGMENTS = ("a", "bc", "\n", "\r", "\r\n", "\n\r", "\x0c", "\x0b", "\x1c", "\x85", "\u2028")
ENCODED_FRAGMENTS = (
    "A" * 100, "z9+/" * 20, "=_-", "-" * 50, "b" * 255, "c" * 256, "d" * 257, " ", "\n", ".",
    "\u00e9", "\u4e2d", "\ud800", "\U0001f600", "\u00ff", "x",
)  # fmt: skip


def anchor_fragments() -> tuple[str, ...]:
    rng = seeded(7)
    spelled = []
    for anchor in scanning.ALL_ANCHORS:
        spelled.append(anchor)
        spelled.append("".join(ch.upper() if rng.random() < 0.5 else ch for ch in anchor))
        # Half an anchor: only the other half makes it whole.
        spelled.append(anchor[: len(anchor) // 2])
        spelled.append(anchor[len(anchor) // 2 :])
    # Characters whose lower case is (or holds) ASCII, and ones that only fold to it in regexes.
    return (*spelled, "\u0130", "\u212a", "\u017f", "\u0131", "\ud800", "\u00e9", " ", "\n")


def assert_same(old: Callable[[str], T], new: Callable[[str], T], inputs: Iterator[str]) -> int:
    checked = 0
    for text in inputs:
        assert new(text) == old(text), text[:300]
        checked += 1
    return checked


# --- URLs --------------------------------------------------------------------------------------

HOSTILE_URLS = [
    "",
    "://",
    "see http://example.test/path and https://user:pw@h.example:8443/a?b#c",
    "memory://archive.zip and s3://bucket/key and fileb://x and data://y",
    "MEMORY://x.example S3A://y.example",
    "xmemory://ok.example",  # not the excluded scheme: a longer one
    "memory.x://ok.example",
    "a.b://host.example/p",
    "_http://h.example",  # no word boundary before the scheme
    "\u00e9http://h.example",
    "-http://h.example",
    "1http://h.example",
    "http://x.example?u=http://y.example/z",
    "http://x.example/http://y.example",
    "http://http://x.example",
    "http://[2001:db8::1]:8080/p",
    "http://[zz]/",
    "http://@/",
    "http://user@@host.example",
    "http://" + "a" * 300,
    "x" * 31 + "://long.example",
    "x" * 32 + "://too-long.example",
    "a" * 40 + "+b://h.example",
    "z" + "-" * 30 + "://h.example",
    "\u0130ttp://dotted.example",
    "\u017f3://long-s.example",
    "\u212aey://kelvin.example",
    "http://h.example:\u0661\u0662/p",
    "http://h.example:123456/p",
    "<a href='https://h.example/x'>",
    "`https://h.example`",
    "fi" + "le://x://y",
    "s3://a://b.example",
    ":////",
    "ftp:// ://h.example",
]


def test_urls_match_the_old_expression_on_hostile_input() -> None:
    assert_same(old_urls, scanning.find_urls, iter(HOSTILE_URLS))


def test_urls_match_the_old_expression_on_generated_input() -> None:
    checked = assert_same(old_urls, scanning.find_urls, generated(1, URL_FRAGMENTS, 3000, most=16))
    assert checked == 3000


def test_urls_in_a_large_input() -> None:
    rng = seeded(2)
    text = "".join(rng.choice(URL_FRAGMENTS) for _ in range(600_000))
    assert len(text) > 5_000_000
    found = scanning.find_urls(text)
    assert found  # the input does hold URLs, so the comparison means something
    assert found == old_urls(text)


def test_url_expressions_are_the_reference_ones() -> None:
    assert scanning.URL.pattern == reference.URL.pattern
    assert scanning.URL.flags == reference.URL.flags
    assert scanning.HOST_PORT.pattern == reference.HOST_PORT.pattern
    assert scanning.HOST_PORT.flags == reference.HOST_PORT.flags


# --- host:port ---------------------------------------------------------------------------------

HOSTILE_HOST_PORTS = [
    "",
    "connect to h.example:8080 now",
    "10.0.0.1:22 and 203.0.113.7:4444",
    "setup.py:80",  # the caller filters file suffixes; the expression still matches
    "x.example:123456",
    "x.example:80a",
    "x.example:80.",
    "x.example:80:",
    "x.example:8",
    "@x.example:80",
    "/x.example:80",
    "-x.example:80",
    ".x.example:80",
    ":x.example:80",
    "_x.example:80",
    "\u00e9x.example:80",
    "x_y.example:80",
    "a..example:80",
    "-a.example:80",
    "a-.example:80",
    "a.b-c.example:65535",
    ("a" * 63) + ".example:80",
    ("a" * 64) + ".example:80",
    "x.\u0130\u0131.example:80",
    "k.\u212a\u017f:80",
    "\u0661\u0662\u0663.1.2.3:80",
    "1.2.3.4.5:80",
    "1.2.3:80",
    "1234.1.1.1:80",
    ".".join(["a"] * 2000) + ".example:80",  # a host far longer than any fixed window
    "-".join(["a"] * 2000) + ".example:80",
    "h.example:80h.example:81 h.example:82",
    "h.example:80 h.example:80",
]


def test_host_ports_match_the_old_expression_on_hostile_input() -> None:
    assert_same(old_host_ports, scanning.find_host_ports, iter(HOSTILE_HOST_PORTS))


def test_host_ports_match_the_old_expression_on_generated_input() -> None:
    checked = assert_same(
        old_host_ports,
        scanning.find_host_ports,
        generated(3, HOST_PORT_FRAGMENTS, 3000, most=14),
    )
    assert checked == 3000


def test_host_ports_in_a_large_input() -> None:
    rng = seeded(4)
    text = "".join(rng.choice(HOST_PORT_FRAGMENTS) for _ in range(1_000_000))
    assert len(text) > 5_000_000
    found = scanning.find_host_ports(text)
    assert found
    assert found == old_host_ports(text)


# --- The prefilter -----------------------------------------------------------------------------

PREFILTER_FRAGMENTS: tuple[bytes, ...] = (
    *patterns.TRIGGER_TOKENS,
    *patterns.TRIGGER_TOKENS_ANYCASE,
    *(token.upper() for token in patterns.TRIGGER_TOKENS_ANYCASE),
    *(token[:-1] for token in patterns.TRIGGER_TOKENS),
    b"exec", b"exec(", b"execute", b"eval", b"evaluate", b"execvp", b"execl ", b"sys.modules[",
    b"'x']", b"] = 1", b"] == 1", b"builtins", b"builtins__", b".open = f", b"[k] =",
    b"environ", b"environb", b"environ[", b"environ.get(", b"environ.pop(", b"environ.items()",
    b"sys.stdout =", b"sys.stderr=", b"'.env'", b'"/.env"', b"compile(", b".compile(",
    b"re.compile(", b"ignore", b"warnings.filterwarnings('ignore')", b"simplefilter(\"ignore",
    b"'https://h.example'", b"\"git+ssh://h\"", b"://", b"'x://", b" " * 40, b"\t" * 40,
    b"a" * 130, b"\n", b"\r", b"x = 1\n", b"\xe2\x80\x8b", b"\xef\xbb\xbf", b"\xce\xb1",
    b"\xc3\xa9", b"\xff", b"\xe2\x80", b"#!/usr/bin/env python3\n", b"import os\n",
)  # fmt: skip
PREFILTER_PATHS = ("pkg/mod.py", "pkg/MOD.PYW", "pkg/data.txt", "x.pth", "X.PTH", "bin/tool")


def generated_files(seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    rng = seeded(seed)
    for _ in range(count):
        parts = [rng.choice(PREFILTER_FRAGMENTS) for _ in range(rng.randint(0, 6))]
        # Mostly innocuous filler, so that most files hold few triggers and every check runs.
        filler = [b"value = compute(x)\n", b"# just a comment\n", b'"key": "v",\n']
        parts += [rng.choice(filler) for _ in range(rng.randint(0, 8))]
        rng.shuffle(parts)
        yield rng.choice(PREFILTER_PATHS), b"".join(parts)


def test_needs_analysis_matches_the_old_prefilter() -> None:
    outcomes = set()
    for path, data in generated_files(5, 4000):
        expected = reference.needs_analysis(path, data)
        assert scanning.needs_analysis(path, data) == expected, (path, data[:300])
        outcomes.add(expected)
    assert outcomes == {True, False}  # both answers were exercised


@pytest.mark.parametrize("fragment", PREFILTER_FRAGMENTS)
@pytest.mark.parametrize("path", ["pkg/mod.py", "pkg/data.txt", "x.pth"])
def test_needs_analysis_matches_the_old_prefilter_on_each_trigger(
    fragment: bytes, path: str
) -> None:
    for data in (fragment, b"x = 1\n" * 3 + fragment + b"\ny = 2\n"):
        assert scanning.needs_analysis(path, data) == reference.needs_analysis(path, data)


def test_every_trigger_expression_is_gated_or_run_by_re2() -> None:
    # An expression missing here is still searched (unconditionally): this flags the slow path.
    for pattern in patterns.TRIGGER_PATTERNS:
        assert pattern.pattern in scanning._TRIGGER_GATES or scanning._runs_in_re2(pattern)
    assert scanning._runs_in_re2(patterns.QUOTED_URL)
    assert scanning._runs_in_re2(patterns.SUSPICIOUS_UTF8)


def test_trigger_gates_are_literals_of_their_expressions() -> None:
    for text, gate in scanning._TRIGGER_GATES.items():
        assert gate.replace(b".", b"\\.").replace(b"[", b"\\[") in text


# --- Which patterns to run ---------------------------------------------------------------------


def test_anchors_match_lowered_substring_search() -> None:
    checked = assert_same(old_anchors, scanning.anchors_in, generated(8, anchor_fragments(), 3000))
    assert checked == 3000


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\u0130D_RSA",  # lower() gives "i" and a combining dot: not "id_rsa"
        "x.SSH/\u212aeychain",  # the Kelvin sign lowers to "k"
        "\u017fOCAT",  # the long s stays non-ASCII in lower(), though regexes fold it to s
        "\ud800curl | sh",
        "CURL wGeT /DEV/TCP ",
    ],
)
def test_anchors_on_case_folding_edges(text: str) -> None:
    assert scanning.anchors_in(text) == old_anchors(text)


@pytest.mark.parametrize(
    "table",
    [
        patterns.STRING_PATTERNS,
        patterns.SHELL_PATTERNS,
        patterns.JS_PATTERNS,
        patterns.PYTHON_FALLBACK_PATTERNS,
    ],
)
def test_candidate_patterns_match_may_match(table: Sequence[patterns.StringPattern]) -> None:
    for text in generated(9, anchor_fragments(), 500):
        assert new_candidates(text, table) == old_candidates(text, table), text


def test_candidate_patterns_of_an_unknown_table() -> None:
    # A table whose anchors the index does not hold is answered through str.lower().
    table = (
        patterns.StringPattern("miner", patterns.STRING_PATTERNS[0].regex, "k", "m", ("Zq",)),
        patterns.StringPattern("miner", patterns.STRING_PATTERNS[0].regex, "k", "m", ("zq",)),
    )
    for text in ("zq", "ZQ", "Zq", "none"):
        assert new_candidates(text, table) == old_candidates(text, table)


# --- Entropy, lines, encoded runs --------------------------------------------------------------


@pytest.mark.parametrize(
    "size", [0, 1, 2, 511, 512, 1023, 1024, 5000, 64 * 1024, 64 * 1024 + 1, 300_000]
)
def test_entropy_is_bit_for_bit_the_same(size: int) -> None:
    rng = seeded(size)
    alphabets = [bytes(range(256)), b"abc \n", b"0123456789abcdef", b"x"]
    for alphabet in alphabets:
        data = bytes(rng.choice(alphabet) for _ in range(size))
        assert scanning.entropy(data) == reference.entropy(data)
        text = data.decode("latin-1") + ("\u4e2d" if size else "")
        assert scanning.entropy(text) == reference.entropy(text)


def test_line_starts_and_lines_use_pythons_line_breaks() -> None:
    for text in generated(10, LINE_FRAGMENTS, 3000, most=20):
        assert scanning.line_starts(text) == old_line_starts(text), repr(text)
        assert scanning.split_lines(text) == old_split_lines(text), repr(text)
    for text in ("", "\n", "\r", "\r\n", "a", "a\n", "\n\n\r\r\n"):
        assert scanning.line_starts(text) == old_line_starts(text)
        assert scanning.split_lines(text) == old_split_lines(text)


def test_encoded_runs_match_the_old_expression() -> None:
    checked = assert_same(
        old_encoded_runs,
        lambda text: list(scanning.encoded_runs(text)),
        generated(11, ENCODED_FRAGMENTS, 2000, most=10),
    )
    assert checked == 2000
    assert old_encoded_runs("c" * 256) == list(scanning.encoded_runs("c" * 256))


# --- Speed -------------------------------------------------------------------------------------


def json_like(size: int) -> str:
    """Service-description JSON, like the data files that make up most of a large sdist."""
    rng = seeded(12)
    words = ["Bucket", "Object", "Policy", "Stream", "Table", "Queue", "Topic", "Tag", "Rule"]
    rows: list[str] = []
    while sum(map(len, rows)) < size:
        name = "".join(rng.sample(words, 3)).lower() + str(rng.randint(1, 99))
        # About one URL in 3 kB, as in a large cloud SDK's service descriptions.
        link = f", see https://docs.example/{name}" if rng.random() < 0.1 else ""
        rows.append(
            f'    "{name.title()}Request": {{\n      "type": "structure",\n'
            f'      "required": ["{name}"],\n      "members": {{\n'
            f'        "{name}": {{\n          "shape": "String",\n'
            f'          "documentation": "<p>The {name} of the resource{link}. '
            f'Max: {rng.randint(1, 9999)}</p>"\n        }}\n'
            f"      }}\n    }},\n"
        )
    return "{\n" + "".join(rows) + "}\n"


def best_of(runs: int, call: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def test_scanners_are_many_times_faster_on_json() -> None:
    # Old and new run alternately on the same input, and each keeps its best of three, so load
    # on the machine slows both. Measured: URLs 33x, host ports 130x, anchors 35x faster; the
    # prefilter 14x (three RE2 passes where the old one made ~150 substring searches).
    text = json_like(2 * 1024 * 1024)
    # Without URLs nothing in it needs analysis: the old prefilter makes every one of its scans.
    data = text.replace("://", "/").encode()
    pairs: dict[str, tuple[float, Callable[[], object], Callable[[], object]]] = {
        "urls": (10, lambda: old_urls(text), lambda: scanning.find_urls(text)),
        "host ports": (10, lambda: old_host_ports(text), lambda: scanning.find_host_ports(text)),
        "anchors": (10, lambda: old_anchors(text), lambda: scanning.anchors_in(text)),
        "prefilter": (
            5,
            lambda: reference.needs_analysis("data.json", data),
            lambda: scanning.needs_analysis("data.json", data),
        ),
    }
    assert not reference.needs_analysis("data.json", data)
    assert len(old_urls(text)) > 500
    for name, (bar, old, new) in pairs.items():
        assert old() == new(), name
        ratio = best_of(3, old) / best_of(3, new)
        assert ratio >= bar, f"{name}: only {ratio:.1f} times faster"


# --- Without RE2 (no wheel for the running Python) ---------------------------------------------


@pytest.fixture
def without_re2(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of ``scanning`` loaded as if google-re2 were not installed."""
    monkeypatch.setitem(sys.modules, "re2", None)  # makes ``import re2`` raise ImportError
    spec = importlib.util.find_spec("verify._behaviour.scanning")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.re2 is None
    return module


def test_without_re2_the_prefilter_gives_the_same_answers(without_re2: ModuleType) -> None:
    outcomes = set()
    for path, data in generated_files(11, 1500):
        expected = reference.needs_analysis(path, data)
        assert without_re2.needs_analysis(path, data) == expected, (path, data[:300])
        outcomes.add(expected)
    assert outcomes == {True, False}


def test_without_re2_the_anchors_are_the_same(without_re2: ModuleType) -> None:
    for text in generated(12, anchor_fragments(), 1000):
        assert without_re2.anchors_in(text) == old_anchors(text), text


@pytest.mark.parametrize("size", [8 * 1024, 20_000, 64 * 1024, 300_000])
def test_entropy_of_mixed_data_is_bit_for_bit_the_same(size: int) -> None:
    # Text first and binary after, and the reverse: whichever way the first 4 kB choose to
    # count, the result is the reference's.
    rng = seeded(size + 1)
    text = bytes(rng.choice(b"abc def\n") for _ in range(size // 2))
    binary = bytes(rng.randrange(256) for _ in range(size - size // 2))
    for data in (text + binary, binary + text):
        assert scanning.entropy(data) == reference.entropy(data)
