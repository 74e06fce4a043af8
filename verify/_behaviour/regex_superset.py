"""Python regular expressions widened into RE2 expressions that can only match more.

The string-level patterns (:mod:`~verify._behaviour.string_patterns`) are Python expressions
with look-arounds, word boundaries and case-blind letters, which Python's engine tries at every
position of a text: on a large JavaScript bundle or a long literal they were up to a fifth of
an analysis. RE2 reads each byte once but has no look-around and other character classes. So each
pattern is translated here into an RE2 expression that matches wherever the Python one does,
and often where it does not; one RE2 pass over a text then says which patterns cannot match at
all, and only the others run, unchanged, in Python's engine. What is found stays exactly what
the Python patterns find; the widening only costs a useless run now and then.

RE2 reads the text mapped to ASCII, one byte per character: every character beyond ASCII
becomes ``?`` (``str.encode("ascii", "replace")``). The translation keeps that sound:

* every single-character item (a literal, a class, ``.``, ``\\d``, ``\\w``, ``\\s`` and their
  negations) becomes an explicit class of ASCII bytes, worked out from Python's own meaning of
  the item on each ASCII character, with the case folding Python applies under ``IGNORECASE``;
* ``?`` joins the class wherever the item could match some character beyond ASCII (a category,
  a negated class, a letter that folds to one, such as ``k`` to the Kelvin sign);
* zero-width assertions (``^``, ``$``, ``\\b``, look-arounds) are dropped, which only widens;
* a counted repetition keeps its minimum (capped) and loses its maximum, which only widens;
* anything else (a back-reference, an atomic group) is not translated: that pattern runs as
  before, on every text that has its anchors.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from verify._behaviour import scanning

if TYPE_CHECKING:
    from verify._behaviour.string_patterns import StringPattern

__all__ = ["FOLDS_BEYOND_ASCII", "MAPPED_UNKNOWN", "map_to_ascii", "matchable", "widen"]

#: What every character beyond ASCII becomes in the text RE2 reads.
MAPPED_UNKNOWN = ord("?")
#: ASCII letters that Python's case-blind matching equates with a character beyond ASCII
#: (U+0130 and U+0131 with ``i``, U+212A KELVIN SIGN with ``k``, U+017F LONG S with ``s``);
#: a test checks the set against the running Python over every code point.
FOLDS_BEYOND_ASCII = frozenset("iIkKsS")
#: A repetition's minimum is kept up to this (RE2 expands counted repetitions).
_MIN_KEPT = 64
_ALL_CODES = frozenset(range(128))


#: A set pass costs about 2 microseconds on a short text, about what one pattern's search
#: costs there (measured); so a single candidate is screened only on texts this long.
SCREENED_FROM = 512


def matchable(
    text: str, table: Sequence[StringPattern], candidates: list[StringPattern]
) -> list[StringPattern]:
    """``candidates`` (patterns of ``table``) less those that cannot match ``text``: whose
    widened expression one RE2 pass does not find. Every pattern that matches is kept."""
    short = len(candidates) == 1 and len(text) < SCREENED_FROM
    if not scanning.SearchSet.ONE_PASS or not candidates or short:
        return candidates
    screen = _screen(table)
    possible = screen.possible(map_to_ascii(text))
    return [pattern for pattern in candidates if id(pattern) in possible]


class _TableScreen:
    """One table's widened expressions, searched together."""

    def __init__(self, table: Sequence[StringPattern]) -> None:
        self.table = table
        widened = [(pattern, widen(pattern.regex)) for pattern in table]
        usable = [
            (pattern, expression)
            for pattern, expression in widened
            if expression is not None and scanning.SearchSet.takes(expression)
        ]
        #: The pattern (by id) of each expression in the set, in the set's order.
        self.screened = [id(pattern) for pattern, _ in usable]
        #: Patterns the widening does not cover, or RE2 refuses: always possible.
        self.always = frozenset(id(pattern) for pattern in table) - set(self.screened)
        self.set = scanning.SearchSet([expression for _, expression in usable])

    def possible(self, mapped: bytes) -> frozenset[int]:
        return self.always | {self.screened[index] for index in self.set.matches(mapped)}


#: One screen per table, by identity (each held, so that its id stays its own).
_SCREENS: dict[int, _TableScreen] = {}


def _screen(table: Sequence[StringPattern]) -> _TableScreen:
    screen = _SCREENS.get(id(table))
    if screen is None or screen.table is not table:
        screen = _SCREENS[id(table)] = _TableScreen(table)
    return screen


def map_to_ascii(text: str) -> bytes:
    """``text`` as RE2 reads it: one byte per character, ``?`` for any beyond ASCII."""
    return text.encode("ascii", "replace")


def widen(pattern: re.Pattern[str]) -> bytes | None:
    """An RE2 expression (over :func:`map_to_ascii` text) that matches wherever ``pattern``
    matches, or ``None`` when ``pattern`` uses something this translation does not cover."""
    try:
        parser, constants = _sre()
    except ImportError:  # a Python without the old parser modules
        return None
    try:
        parsed = parser.parse(pattern.pattern, pattern.flags)
    except re.error:  # pragma: no cover - the pattern compiled, so it parses
        return None
    try:
        return _Widener(constants, parsed.state.flags).sequence(parsed).encode("ascii")
    except _Untranslatable:
        return None


class _Untranslatable(Exception):
    """The pattern uses a construct the widening does not cover."""


def _sre() -> tuple[Any, Any]:
    # The parser Python's own re module compiles with: the one definition of what a pattern
    # means. Its old public names warn on import from 3.11 on; the module is the same.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import sre_constants
        import sre_parse
    return sre_parse, sre_constants


class _Widener:
    def __init__(self, constants: Any, flags: int) -> None:
        self.c = constants
        self.ignorecase = bool(flags & re.IGNORECASE)
        self.dotall = bool(flags & re.DOTALL)

    def sequence(self, items: Any) -> str:
        return "".join(self.item(op, value) for op, value in items)

    def item(self, op: Any, value: Any) -> str:
        c = self.c
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return ""
        if op is c.LITERAL:
            return _class(self.literal(value), beyond=self.folds(value))
        if op is c.NOT_LITERAL:
            return _class(_ALL_CODES - self.literal(value), beyond=True)
        if op is c.ANY:
            return _class(_ALL_CODES if self.dotall else _ALL_CODES - {10}, beyond=True)
        if op is c.IN:
            return self.in_class(value)
        if op is c.BRANCH:
            return "(?:" + "|".join(self.sequence(branch) for branch in value[1]) + ")"
        if op is c.SUBPATTERN:
            _group, add, remove, body = value
            saved = (self.ignorecase, self.dotall)
            self.ignorecase = (self.ignorecase or bool(add & re.IGNORECASE)) and not (
                remove & re.IGNORECASE
            )
            self.dotall = (self.dotall or bool(add & re.DOTALL)) and not remove & re.DOTALL
            try:
                return "(?:" + self.sequence(body) + ")"
            finally:
                self.ignorecase, self.dotall = saved
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            low, _high, body = value
            return f"(?:{self.sequence(body)}){{{min(low, _MIN_KEPT)},}}"
        raise _Untranslatable(str(op))

    def literal(self, code: int) -> frozenset[int]:
        """The ASCII codes Python matches with the literal ``code`` (its own case folding)."""
        return _ascii_matches(re.escape(chr(code)), self.ignorecase)

    def folds(self, code: int) -> bool:
        """Whether a literal ``code`` can match a character beyond ASCII."""
        if code >= 128:
            return True
        return self.ignorecase and chr(code) in FOLDS_BEYOND_ASCII

    def in_class(self, items: Any) -> str:
        c = self.c
        negated = False
        codes: set[int] = set()
        beyond = False
        for op, value in items:
            if op is c.NEGATE:
                negated = True
            elif op is c.LITERAL:
                codes |= self.literal(value)
                beyond = beyond or self.folds(value)
            elif op is c.RANGE:
                low, high = value
                span = f"[{re.escape(chr(low))}-{re.escape(chr(high))}]"
                codes |= _ascii_matches(span, self.ignorecase)
                beyond = beyond or high >= 128 or self.range_folds(low, high)
            elif op is c.CATEGORY:
                expression = _CATEGORIES.get(str(value))
                if expression is None:
                    raise _Untranslatable(str(value))
                codes |= _ascii_matches(expression, False)
                beyond = True
            else:
                raise _Untranslatable(str(op))
        if negated:
            return _class(_ALL_CODES - codes, beyond=True)
        return _class(codes, beyond=beyond)

    def range_folds(self, low: int, high: int) -> bool:
        return self.ignorecase and any(low <= ord(letter) <= high for letter in FOLDS_BEYOND_ASCII)


def _class(codes: Iterable[int], *, beyond: bool) -> str:
    """An explicit RE2 class of the ASCII ``codes``, and of ``?`` (what every other character
    is mapped to) when ``beyond``."""
    members = set(codes)
    if beyond:
        members.add(MAPPED_UNKNOWN)
    if not members:
        # Matches nothing in ASCII text: RE2 has no empty class, so a byte never mapped to.
        return r"\xff"
    return "[" + "".join(rf"\x{code:02x}" for code in sorted(members)) + "]"


@functools.lru_cache(maxsize=1024)
def _ascii_matches(expression: str, ignorecase: bool) -> frozenset[int]:
    """The ASCII codes Python's engine matches with the one-character ``expression``."""
    compiled = re.compile(expression, re.IGNORECASE if ignorecase else 0)
    return frozenset(code for code in range(128) if compiled.fullmatch(chr(code)))


#: Python's meaning of each class category, asked of the engine itself.
_CATEGORIES: dict[str, str] = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}
