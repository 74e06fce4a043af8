"""``finditer`` for the string patterns, skipping ahead to where a match can start.

Python's engine skips ahead only when an expression opens with a literal or a character set
that case does not affect. The string patterns open with ``\\b`` or a case-blind letter, so it
tries them at every position of a text, tens of nanoseconds each: most of the time spent on a
multi-megabyte data file. Here the strings a match can start with (up to four characters, in
every case) are read off the parsed expression; RE2 finds them in the text's UTF-8 form, in one
linear pass, and the expression itself is matched only there. Where RE2 is not installed, or
there are too many such strings, a guard expression is compiled instead that opens with the
possible first characters (spelled out case by case, so that the engine does skip) and
asserts, without consuming, that the expression matches there. Either way every position where
the expression matches is found; keeping those that do not overlap the previous match, and
matching there, gives exactly what ``finditer`` gives.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

try:
    import re2  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - google-re2 has no wheel for this Python yet
    re2 = None

__all__ = ["Text", "finditer", "first_characters", "match_prefixes"]

# The engine's own parser (private, and renamed in 3.11: the old names now warn when imported).
_PARSER_MODULES = (
    ("re._parser", "re._constants")
    if sys.version_info >= (3, 11)
    else ("sre_parse", "sre_constants")
)
sre_parse: Any = importlib.import_module(_PARSER_MODULES[0])
sre: Any = importlib.import_module(_PARSER_MODULES[1])

#: The characters that a case-blind ASCII character can match besides ASCII ones (U+0130 and
#: U+0131 for "i", U+017F for "s", the Kelvin sign for "k"); the tests check that there are
#: no others for the running Python.
FOLDS_INTO_ASCII = "\u0130\u0131\u017f\u212a"
_FOLD_CANDIDATES = tuple(map(chr, range(128))) + tuple(FOLDS_INTO_ASCII)
#: A character class wider than this is not spelled out.
_MAX_SET = 256


def match_prefixes(regex: re.Pattern[str], depth: int = 2) -> frozenset[str] | None:
    """Every string of ``depth`` characters (or fewer, for a match that can be that short)
    that a match of ``regex`` starts with; ``None`` if that is not known exactly enough: an empty
    match is possible, or a match may start with a character of a class (``\\w``, ``[^...]``,
    ``.``), with a non-ASCII character under IGNORECASE, or with too many combinations."""
    try:
        tree = sre_parse.parse(regex.pattern, regex.flags)
    except re.error:
        return None
    prefixes = _of_sequence(tree.data, regex.flags, depth)
    if prefixes is None:
        return None
    known = {prefix[:-1] if prefix and prefix[-1] == _UNKNOWN else prefix for prefix in prefixes}
    if not known or () in known:
        return None  # an empty match, or one starting with a character not worked out
    return frozenset("".join(map(chr, prefix)) for prefix in known)


def first_characters(regex: re.Pattern[str]) -> frozenset[str] | None:
    """The characters every match of ``regex`` starts with (see :func:`match_prefixes`)."""
    prefixes = match_prefixes(regex, 1)
    return None if prefixes is None else frozenset(prefixes)


#: At most how many combinations of leading characters are worked out.
_MAX_PREFIXES = 1024
_MAX_REPEAT_STEPS = 64

#: Strings of up to ``depth`` character codes; a shorter one ends the match there, or, if it
#: ends with _UNKNOWN, goes on with characters not worked out (a class such as ``\\s``).
_Prefixes = set[tuple[int, ...]]
_UNKNOWN = -1


def _fold(code: int, flags: int) -> set[int] | None:
    if not flags & re.IGNORECASE:
        return {code}
    if code >= 128:
        return None
    # The engine itself decides which candidates the character matches, so its own rules for
    # case (and re.ASCII) apply.
    literal = re.compile(re.escape(chr(code)), flags & (re.IGNORECASE | re.ASCII))
    return {ord(char) for char in _FOLD_CANDIDATES if literal.fullmatch(char)}


def _concat(left: _Prefixes, right: _Prefixes, depth: int) -> _Prefixes:
    joined: _Prefixes = set()
    for head in left:
        if len(head) >= depth or (head and head[-1] == _UNKNOWN):
            joined.add(head)
        else:
            joined.update((head + tail)[:depth] for tail in right)
    return joined


def _of_sequence(items: Sequence[tuple[Any, Any]], flags: int, depth: int) -> _Prefixes | None:
    prefixes: _Prefixes = {()}
    for op, av in items:
        if all(len(prefix) >= depth or _UNKNOWN in prefix for prefix in prefixes):
            break  # what follows cannot change the first characters
        item = _of_item(op, av, flags, depth)
        if item is None:
            return None
        prefixes = _concat(prefixes, item, depth)
        if len(prefixes) > _MAX_PREFIXES:
            return None
    return prefixes


def _of_item(op: Any, av: Any, flags: int, depth: int) -> _Prefixes | None:
    """The prefixes of one parsed item; ``None``: too many."""
    unknown: _Prefixes = {(_UNKNOWN,)}
    if op is sre.LITERAL:
        members = _fold(av, flags)
    elif op is sre.IN:
        members = _of_set(av, flags)
    else:
        members = None
    if op is sre.LITERAL or op is sre.IN:
        return unknown if members is None else {(code,) for code in members}
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        # Zero width: the characters at the start are whatever comes next (a superset).
        return {()}
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, pattern = av
        return _of_sequence(pattern.data, (flags | add_flags) & ~del_flags, depth)
    if op is sre.BRANCH:
        found: _Prefixes = set()
        for alternative in av[1]:
            prefixes = _of_sequence(alternative.data, flags, depth)
            if prefixes is None:
                return None
            found |= prefixes
        return found
    if op in _REPEATS:
        least, most, pattern = av
        body = _of_sequence(pattern.data, flags, depth)
        return None if body is None else _of_repeat(body, least, most, depth)
    # Anything else (``.``, a group reference, an atomic group) ends what is known.
    return unknown


_REPEATS = tuple(
    getattr(sre, name)
    for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    if hasattr(sre, name)
)


def _of_repeat(body: _Prefixes, least: int, most: int, depth: int) -> _Prefixes | None:
    """The prefixes of ``least`` to ``most`` repetitions of ``body``."""
    found: _Prefixes = set()
    current: _Prefixes = {()}
    count = 0
    while True:
        if count >= least:
            found |= current
        if count >= most:
            return found
        following = _concat(current, body, depth)
        if count >= least and following == current:
            return found  # more repetitions add nothing
        if count > least + _MAX_REPEAT_STEPS:
            return None
        current = following
        count += 1


def _of_set(items: Sequence[tuple[Any, Any]], flags: int) -> set[int] | None:
    found: set[int] = set()
    for op, av in items:
        if op is sre.LITERAL:
            codes = [av]
        elif op is sre.RANGE and av[1] - av[0] < _MAX_SET:
            codes = list(range(av[0], av[1] + 1))
        else:
            return None  # a negated set, a category, a wide range
        for code in codes:
            folded = _fold(code, flags)
            if folded is None:
                return None
            found |= folded
    return found


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to find where one expression can match (neither: with its own ``finditer``)."""

    #: RE2 searching the UTF-8 text for the strings (of up to four characters) that a match
    #: starts with: rare enough in text that matching at each is cheap.
    starts: Any
    #: One character at each position where the expression matches.
    guard: re.Pattern[str] | None


_PLANS: dict[re.Pattern[str], _Plan] = {}
_RE2_DEPTHS = (4,)
#: After this many start strings, if they came more often than one per this many bytes, the
#: rest of the text is left to the expression's own finditer (each start costs a call).
_DENSE_AFTER = 64
_DENSE_SPACING = 128
if re2 is not None:
    _RE2_OPTIONS = re2.Options()
    _RE2_OPTIONS.encoding = re2.Options.Encoding.LATIN1
    _RE2_OPTIONS.never_capture = True


def _plan(regex: re.Pattern[str]) -> _Plan:
    plan = _PLANS.get(regex)
    if plan is None:
        if _skips_ahead(regex):
            plan = _Plan(starts=None, guard=None)
        else:
            starts = _starts(regex)
            plan = _Plan(starts=starts, guard=None if starts is not None else _guard(regex))
        _PLANS[regex] = plan
    return plan


def _skips_ahead(regex: re.Pattern[str]) -> bool:
    """Whether the engine itself skips ahead: the expression opens with a character that
    case does not affect (``/dev/tcp``, ``.aws``), which it finds with a fast scan."""
    try:
        items = sre_parse.parse(regex.pattern, regex.flags).data
    except re.error:
        return False
    if not items or items[0][0] is not sre.LITERAL:
        return False
    char = chr(items[0][1])
    return not regex.flags & re.IGNORECASE or char.lower() == char.upper()


def _guard(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """An expression matching one character at each position where ``regex`` matches.

    It opens with the possible first characters, each followed by a lookahead for the possible
    second ones, all case-sensitive, so that the engine skips to the first characters and
    rejects most of them cheaply; only then does it assert ``regex`` itself there.
    """
    # Two characters where they are known, else one.
    prefixes = match_prefixes(regex, 2) or match_prefixes(regex, 1)
    if prefixes is None:
        return None
    seconds: dict[str, set[str]] = {}
    for prefix in prefixes:
        seconds.setdefault(prefix[0], set()).add(prefix[1:])
    branches = []
    for first, following in sorted(seconds.items()):
        if "" in following:  # a match can end after this character
            branches.append(re.escape(first))
        else:
            spelled = "".join(re.escape(char) for char in sorted(following))
            branches.append(f"{re.escape(first)}(?=[{spelled}])")
    # In verbose mode a comment would run on past the closing parentheses.
    body = regex.pattern + ("\n" if regex.flags & re.VERBOSE else "")
    try:
        return re.compile(f"(?-i:{'|'.join(branches)})(?<=(?=(?:{body}))(?s:.))", regex.flags)
    except re.error:
        return None


def _starts(regex: re.Pattern[str]) -> Any:
    """RE2 for the strings a match of ``regex`` can start with, in UTF-8, or ``None`` (also
    where google-re2 is not installed: the guard serves instead).

    When the expression opens with ``\\b`` (or a lookbehind refusing word characters), the
    strings that start with an ASCII word character are searched after RE2's ``\\b``: it
    holds wherever Python's does there (the character before is not a word character, and
    RE2 counts no byte of a non-ASCII character as one), so no start is lost.
    """
    if re2 is None:
        return None
    for depth in _RE2_DEPTHS:
        prefixes = match_prefixes(regex, depth)
        if prefixes is None:
            continue
        bounded = _opens_at_boundary(regex)
        after_boundary = sorted(p for p in prefixes if bounded and _ASCII_WORD.match(p))
        anywhere = sorted(p for p in prefixes if p not in after_boundary)
        parts = []
        if after_boundary:
            parts.append(b"\\b(?:" + b"|".join(map(_escaped, after_boundary)) + b")")
        parts.extend(map(_escaped, anywhere))
        return re2.compile(b"|".join(parts), _RE2_OPTIONS)
    return None


_ASCII_WORD = re.compile(r"[A-Za-z0-9_]")


def _escaped(prefix: str) -> bytes:
    return bytes(re2.escape(prefix.encode("utf-8", "surrogatepass")))


def _opens_at_boundary(regex: re.Pattern[str]) -> bool:
    """Whether every match starts where the character before is not a word character."""
    items = sre_parse.parse(regex.pattern, regex.flags).data
    if not items:
        return False
    op, av = items[0]
    if op is sre.AT:
        return av is sre.AT_BOUNDARY
    if op is sre.ASSERT_NOT and av[0] == -1:  # a negative lookbehind
        body = av[1].data
        return (
            len(body) == 1
            and body[0][0] is sre.IN
            and (sre.CATEGORY, sre.CATEGORY_WORD) in body[0][1]
        )
    return False


#: Maps UTF-8 continuation bytes to 0x01 and every other byte to NUL: the characters before a
#: byte offset are the bytes before it less the continuation bytes among them.
_CONTINUATION = bytes(1 if 0x80 <= byte < 0xC0 else 0 for byte in range(256))


class Text:
    """A text to search with several expressions; its UTF-8 form is made once, when needed."""

    __slots__ = ("_data", "_marks", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._data: bytes | None = None
        self._marks: bytes | None = None

    def _utf8(self) -> tuple[bytes, bytes | None]:
        if self._data is None:
            self._data = self.text.encode("utf-8", "surrogatepass")
            if len(self._data) != len(self.text):
                self._marks = self._data.translate(_CONTINUATION)
        return self._data, self._marks

    def finditer(self, regex: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """The matches of ``regex.finditer(text)``: the same spans and groups, in order.

        Every position where ``regex`` can match is found (by RE2 searching the UTF-8 text for
        the strings a match starts with, or by the guard expression) and matched there, except
        inside the previous match, where ``finditer`` does not look; the expressions handled
        so cannot match an empty string.
        """
        plan = _plan(regex)
        if plan.starts is not None:
            yield from self._finditer_utf8(regex, plan.starts)
        elif plan.guard is not None:
            resume = 0
            for hit in plan.guard.finditer(self.text):
                start = hit.start()
                if start >= resume:
                    match = regex.match(self.text, start)
                    if match is not None:  # always: the guard asserted it
                        yield match
                        resume = match.end()
        else:
            yield from regex.finditer(self.text)

    def _finditer_utf8(self, regex: re.Pattern[str], starts: Any) -> Iterator[re.Match[str]]:
        text = self.text
        data, marks = self._utf8()
        # A start string begins with an ASCII or a lead byte, never a continuation byte, so
        # every hit is at a character boundary.
        position = 0  # in bytes
        counted = continuations = 0  # continuation bytes before offset `counted`
        resume = tried = 0  # where finditer would go on (in characters); hits tried so far
        while True:
            hit = starts.search(data, position)
            if hit is None:
                return
            offset = hit.start()
            tried += 1
            if tried > _DENSE_AFTER and offset < tried * _DENSE_SPACING:
                # Start strings this close together cost more one by one than the engine's
                # own scan: let finditer go on from where it would be.
                yield from regex.finditer(text, resume)
                return
            if marks is not None:
                continuations += marks.count(1, counted, offset)
                counted = offset
            start = offset - continuations
            match = regex.match(text, start)
            if match is None:
                # Start strings can overlap ("nc" and "ncat" at one place, "ss" in "sss"): the
                # next one may begin at the very next character.
                position = offset + 1
            else:
                yield match
                resume = match.end()
                span = text[start:resume]
                position = offset + (
                    len(span.encode("utf-8", "surrogatepass")) if marks else len(span)
                )


def finditer(regex: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of ``regex.finditer(text)``; see :meth:`Text.finditer`, which serves several
    expressions on one text better."""
    return Text(text).finditer(regex)
