"""The RE2 screen of the string-level patterns: it may let a pattern run that finds nothing,
never skip one that finds something."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify._behaviour import regex_superset, scanning, textscan
from verify._behaviour.collector import Collector, Source
from verify._behaviour.profile import Phase
from verify._behaviour.string_patterns import (
    JS_PATTERNS,
    PYTHON_FALLBACK_PATTERNS,
    SHELL_PATTERNS,
    STRING_PATTERNS,
    StringPattern,
)

re2 = pytest.importorskip("re2")

TABLES = {
    "string": STRING_PATTERNS,
    "shell": SHELL_PATTERNS,
    "javascript": JS_PATTERNS,
    "python-fallback": PYTHON_FALLBACK_PATTERNS,
}
EVERY_PATTERN = [
    pytest.param(pattern, id=f"{table}:{pattern.rule}:{pattern.key}:{index}")
    for table, patterns in TABLES.items()
    for index, pattern in enumerate(patterns)
]
#: Characters beyond ASCII that stand in for any of them: Python's case folding partners of
#: ASCII letters, Unicode spaces and digits, and plain foreign letters.
BEYOND_ASCII = "\u0130\u0131\u017f\u212a\u00a0\u2003\u0660\u00e9\u4e2d\U0001f600"


def _widened(pattern: re.Pattern[str]) -> Any:
    expression = regex_superset.widen(pattern)
    assert expression is not None, pattern.pattern
    return re2.compile(expression)


def _found(widened: Any, text: str) -> bool:
    return widened.search(regex_superset.map_to_ascii(text)) is not None


@pytest.mark.parametrize("pattern", EVERY_PATTERN)
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_the_widened_expression_matches_wherever_the_pattern_does(
    pattern: StringPattern, data: st.DataObject
) -> None:
    """Texts drawn to match each pattern (with text around them, and with characters beyond
    ASCII where the pattern allows them): the widened expression finds each one."""
    widened = _widened(pattern.regex)
    text = data.draw(st.from_regex(pattern.regex, fullmatch=False))
    assert pattern.regex.search(text)
    assert _found(widened, text), (pattern.regex.pattern, text)


@pytest.mark.parametrize(
    ("expression", "flags", "text"),
    [
        # Case folding beyond ASCII: the Kelvin sign is a "k", the long s an "s".
        (r"kubeconfig", re.IGNORECASE, "\u212aubeconfig"),
        (r"ssh", re.IGNORECASE, "\u017f\u017fh"),
        (r"[a-z]+", re.IGNORECASE, "\u0130"),
        # Categories beyond ASCII: a no-break space, an Arabic-Indic digit, a foreign letter.
        (r"nc\s-e", 0, "nc\u00a0-e"),
        (r"port \d+", 0, "port \u0660"),
        (r"\w+\.bashrc", 0, "\u00e9\u00e9.bashrc"),
        # A negated class or literal matches any character beyond ASCII, even where it names
        # the character those are mapped to.
        (r"a[^?]b", 0, "a\u00e9b"),
        (r"a[^\s?]+b", 0, "a\u4e2d\u4e2db"),
        # Assertions are dropped; bounded repetitions keep their minimum.
        (r"(?<![\w.])fetch\s*\(", 0, "fetch("),
        (r"\bcurl\b.{0,300}\|\s*sh$", re.IGNORECASE, "CURL x | sh\n"),
        (r"(?-i:Login Data)", re.IGNORECASE, "Login Data"),
        (r"x{3,5}y", 0, "xxxxxy"),
        (r"[A-Za-z0-9+/]{100,}", 0, "A" * 120),
    ],
)
def test_edges_of_the_widening(expression: str, flags: int, text: str) -> None:
    pattern = re.compile(expression, flags)
    assert pattern.search(text)
    assert _found(_widened(pattern), text)


def test_the_letters_that_fold_beyond_ascii_are_all_known() -> None:
    """Every character beyond ASCII that Python's case-blind matching equates with an ASCII
    character is one of FOLDS_BEYOND_ASCII's partners, on the Python running the tests."""
    ascii_class = re.compile("[\x00-\x7f]", re.IGNORECASE)
    partners = {
        char
        for code in range(128, sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF and ascii_class.fullmatch(char := chr(code))
    }
    assert partners  # the Kelvin sign at least
    for char in partners:
        folded_to = {a for a in map(chr, range(128)) if re.fullmatch(re.escape(a), char, re.I)}
        assert folded_to <= regex_superset.FOLDS_BEYOND_ASCII, (char, folded_to)


def test_what_the_widening_does_not_cover_runs_unscreened() -> None:
    # A back-reference has no RE2 form: such a pattern always runs.
    assert regex_superset.widen(re.compile(r"(a)\1")) is None
    backref = StringPattern("obfuscation", re.compile(r"(ab)\1"), "k", "m {key}")
    table = (backref,)
    text = "x" * regex_superset.SCREENED_FROM + "abab"
    assert regex_superset.matchable(text, table, [backref]) == [backref]


def test_an_expression_re2_refuses_leaves_its_pattern_unscreened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = StringPattern("obfuscation", re.compile("abc"), "refused", "m {key}")
    kept = StringPattern("obfuscation", re.compile("xyz"), "kept", "m {key}")
    real = regex_superset.widen
    # RE2 has no look-behind: an expression with one is refused when added to the set.
    monkeypatch.setattr(
        regex_superset,
        "widen",
        lambda pattern: b"(?<=a)bc" if pattern is refused.regex else real(pattern),
    )
    table = (refused, kept)
    text = "-" * regex_superset.SCREENED_FROM
    assert regex_superset.matchable(text, table, [refused, kept]) == [refused]


def test_without_python_s_parser_every_pattern_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise ImportError("no sre_parse")

    monkeypatch.setattr(regex_superset, "_sre", missing)
    assert regex_superset.widen(re.compile("abc")) is None


def test_a_pattern_that_cannot_match_is_not_run() -> None:
    table = STRING_PATTERNS
    text = "print('hello')\n" * 100
    candidates = list(table)
    assert regex_superset.matchable(text, table, candidates) == []
    # Short texts too, when more than one pattern would run.
    assert regex_superset.matchable("x = 1", table, candidates) == []
    assert regex_superset.matchable("x = 1", table, candidates[:1]) == candidates[:1]


def test_every_pattern_of_every_table_is_widened() -> None:
    untranslated = [
        p.regex.pattern
        for table in TABLES.values()
        for p in table
        if regex_superset.widen(p.regex) is None
    ]
    assert untranslated == []


def _scan(text: str, table: tuple[StringPattern, ...]) -> list[tuple[str, str, int | None]]:
    collector = Collector("x.js", Source(text))
    textscan.scan_patterns(
        collector, text, table, collector.source.line_at, lambda _l: Phase.RUNTIME
    )
    return [(c.rule, c.key, c.line) for c in collector.result()]


def _texts() -> list[str]:
    """Real text of every kind: this repository's own sources, tests and documents."""
    root = Path(__file__).resolve().parents[3]
    texts = []
    for path in sorted(root.glob("**/*")):
        if path.suffix in (".py", ".md", ".js", ".sh", ".toml", ".txt") and path.is_file():
            if ".git" in path.parts or ".venv" in path.parts:
                continue
            texts.append(path.read_text("utf-8", errors="replace"))
    return texts


def test_screened_scans_find_what_unscreened_scans_find(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table over real texts, large and small, with and without the screen: the same
    findings. The repository's own tests name every pattern's shapes, so most texts hold
    something to find."""
    texts = _texts()
    assert len(texts) > 100
    found_any = 0
    for table in TABLES.values():
        for text in texts:
            screened = _scan(text, table)
            with monkeypatch.context() as patch:
                patch.setattr(scanning.SearchSet, "ONE_PASS", False)
                plain = _scan(text, table)
            assert screened == plain
            found_any += bool(plain)
    assert found_any > 50
