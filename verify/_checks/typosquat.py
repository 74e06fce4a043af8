"""Typosquatting suspicion: does a package name look like a popular (or in-tree) name?

Attackers publish packages whose names are one slip away from a popular project
(``reqeusts``, ``djang0``, ``python-requests``) and wait for a mistyped install. This module
flags a name that is *not* itself popular but is close to one that is, by a handful of cheap,
explainable rules, and says which rule matched so a person can judge the finding.

Popular names come from a list of the most downloaded projects, shipped as package data
(``verify/_data/top-pypi-names.txt``, most downloaded first). Loading them costs only reading the
list: what lookups need beyond the ranks is built on the first lookup, in milliseconds. No rule
compares a name against all 15,000 others, so checking a whole dependency tree costs
milliseconds too.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, cast, final

from packaging.utils import NormalizedName, canonicalize_name

__all__ = [
    "PopularNames",
    "TyposquatSuspicion",
    "popular_name_set",
    "typosquat_suspicion",
]

#: Popular names checked with edit distance 2 must rank at least this high: distance 2 is
#: loose, so it is kept for names squatters actually target, where a hit is worth the noise.
DISTANCE_TWO_TOP: Final = 1000
#: ... and both names must be at least this long, where two edits are a small fraction.
DISTANCE_TWO_MIN_LENGTH: Final = 10
#: Edit distance 1 needs names at least this long: among 2-3 letter names nearly everything is
#: one edit from something popular (``six``/``sit``/``pip``), which would be pure noise.
EDIT_MIN_LENGTH: Final = 4
#: Names shorter than this are only matched (by one edit, or by a prefix or suffix) against
#: the most popular names: a four- or five-letter name is one edit from dozens of listed ones
#: (``demo``/``deno``), and a common word often has a ``py`` project (``clean``/``pyclean``).
SHORT_NAME_LENGTH: Final = 6
SHORT_NAME_TOP: Final = 1000
#: The shorter side of a prefix/suffix match must be at least this long, for the same reason
#: (``py`` + ``re`` is not a squat of anything).
AFFIX_MIN_BASE: Final = 3
# Two names within edit distance 2 differ in at most this many kinds of character (see
# PopularNames._matches).
_TWO_EDIT_MAX_CHARSET_DIFFERENCE: Final = 4

# Homoglyphs folded into a name's "skeleton". Only these, on purpose: each is a look-alike
# in common fonts, and every extra fold merges more unrelated names.
_MULTI_GLYPHS: Final = (("rn", "m"), ("vv", "w"))
_GLYPHS: Final = str.maketrans({"0": "o", "1": "l", "i": "l"})

# Decorations squatters add to (or strip from) a popular name. Names are normalized, so the
# only separator is "-"; prefixes and suffixes are listed with and without it as people type.
_PREFIXES: Final = ("python-", "python", "py-", "py")
_SUFFIXES: Final = (
    "-python",
    "-py",
    "-dev",
    "-lib",
    "-sdk",
    "-api",
    "-client",
    "-cli",
    "-utils",
    "-util",
    "-tools",
    "-core",
    "-helpers",
)

# When one name matches the same popular name by several rules, report the most specific.
_PRIORITY: Final = {
    "separator": 0,
    "homoglyph": 1,
    "transposition": 2,
    "repeated letter": 3,
    "one edit": 4,
    "prefix/suffix": 5,
    "two edits": 6,
}


@dataclass(frozen=True, slots=True)
class TyposquatSuspicion:
    """A name that resembles a popular name, or another name in the same dependency tree."""

    #: The suspicious package (normalized).
    name: NormalizedName
    #: The popular (or in-tree) name it resembles (normalized).
    resembles: NormalizedName
    #: Download rank of ``resembles`` (1 = most downloaded); ``None`` for an in-tree name.
    rank: int | None
    #: Which rule matched: ``"separator"``, ``"homoglyph"``, ``"transposition"``,
    #: ``"repeated letter"``, ``"one edit"``, ``"two edits"`` or ``"prefix/suffix"``.
    technique: str
    #: One readable sentence, e.g. "reqeusts resembles requests (#6 most downloaded): two
    #: letters swapped".
    message: str


@dataclass(frozen=True, slots=True)
class _Index:
    """What resemblance lookups need beyond the ranks, built on the first lookup."""

    #: Skeleton -> ranks of the names that fold to it.
    skeletons: dict[str, list[int]]
    #: Length -> ranks of the names that long.
    by_length: dict[int, list[int]]
    #: Length -> (character-set mask, rank) of the names checked at edit distance 2, best first.
    two_edit_names: dict[int, list[tuple[int, int]]]
    #: Length -> the names that long by their halves, filled in for a length when a lookup
    #: first needs it: one name needs three lengths, a tree a handful, out of dozens.
    halves: dict[int, _Halves]


@dataclass(frozen=True, slots=True)
class _Halves:
    """Names of one length (at least EDIT_MIN_LENGTH) by the two keys :func:`_halves` gives."""

    #: First half -> ranks.
    heads: dict[str, list[int]]
    #: Second half less its first character -> ranks.
    tails: dict[str, list[int]]


@final
class PopularNames:
    """Popular project names with their download ranks, indexed for resemblance lookups.

    Build with :meth:`load` (the shipped list) or :meth:`from_names` (any names, most popular
    first). Names are PEP 503 normalized; a name listed twice keeps its first (best) rank.
    """

    __slots__ = ("_by_rank", "_index", "_ranks")

    def __init__(self, names: Iterable[str]) -> None:
        # dict.fromkeys keeps the first of each name, in order.
        unique = dict.fromkeys(canonicalize_name(raw.strip()) for raw in names)
        # _by_rank[rank - 1] is the name; the index stores ranks, which are small ints
        # (cheaper than strings) and sort by popularity for free.
        self._by_rank = [name for name in unique if name]
        self._ranks = {name: rank for rank, name in enumerate(self._by_rank, start=1)}
        # Built on the first resemblance lookup: rank() and `in` need only the ranks, and
        # most trees only ever ask those (every name popular).
        self._index: _Index | None = None

    @classmethod
    def load(cls) -> PopularNames:
        """The shipped list of the most downloaded projects (read once, then cached)."""
        return _load_packaged()

    @classmethod
    def from_names(cls, names: Iterable[str]) -> PopularNames:
        """Names in order of popularity, most downloaded first (for tests and custom lists)."""
        return cls(names)

    def rank(self, name: str) -> int | None:
        """1-based download rank of ``name`` (any spelling PEP 503 accepts), or ``None``."""
        return self._ranks.get(canonicalize_name(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonicalize_name(name) in self._ranks

    def __len__(self) -> int:
        return len(self._ranks)

    def __iter__(self) -> Iterator[NormalizedName]:
        """Names, most downloaded first."""
        return iter(self._by_rank)

    def _name(self, rank: int) -> NormalizedName:
        return self._by_rank[rank - 1]

    def _lookup_index(self) -> _Index:
        # Two threads may both build it on first use; both build the same thing, and
        # assigning an attribute is atomic, so no lock is needed.
        index = self._index
        if index is None:
            index = self._index = _build_index(self._by_rank)
        return index

    def _halves_of_length(self, index: _Index, length: int) -> _Halves:
        # Built once per length; a race builds the same thing twice, as for the index.
        halves = index.halves.get(length)
        if halves is None:
            halves = index.halves[length] = _index_halves(
                self._by_rank, index.by_length.get(length, []), length
            )
        return halves

    def _matches(self, name: str, top: int) -> Iterator[tuple[int, str, str]]:
        """(rank, technique, detail) for every popular name ranked <= ``top`` near ``name``."""
        index = self._lookup_index()
        for rank in index.skeletons.get(_skeleton(name), ()):
            if rank <= top and self._name(rank) != name:
                yield (rank, *_glyph_technique(name, self._name(rank)))

        if len(name) >= EDIT_MIN_LENGTH:
            edit_top = top if len(name) >= SHORT_NAME_LENGTH else min(top, SHORT_NAME_TOP)
            candidates: set[int] = set()
            for length in (len(name) - 1, len(name), len(name) + 1):
                if length >= EDIT_MIN_LENGTH:
                    halves = self._halves_of_length(index, length)
                    head, tail = _halves(name, length)
                    candidates.update(halves.heads.get(head, ()))
                    candidates.update(halves.tails.get(tail, ()))
            for rank in candidates:
                other = self._name(rank)
                if rank <= edit_top and _one_edit_apart(name, other):
                    yield (rank, *_one_edit(name, other))

        if len(name) >= DISTANCE_TWO_MIN_LENGTH:
            limit = min(top, DISTANCE_TWO_TOP)
            mask = _charset_mask(name)
            for length in range(len(name) - 2, len(name) + 3):
                for other_mask, rank in index.two_edit_names.get(length, ()):
                    if rank > limit:
                        break  # best first: the rest rank lower still
                    # Each edit adds or removes at most one kind of character on each side
                    # (a swap none), so two edits leave at most four in the difference: a
                    # cheap test that skips the real distance for nearly every name.
                    if (mask ^ other_mask).bit_count() <= _TWO_EDIT_MAX_CHARSET_DIFFERENCE and (
                        _distance_within(name, self._name(rank), 2) == 2
                    ):
                        yield rank, "two edits", "two characters differ"

        # Short names are common words: "clean" next to "pyclean" says little unless the
        # popular one is very popular ("yaml" next to "pyyaml" does).
        affix_top = top if len(name) >= SHORT_NAME_LENGTH else min(top, SHORT_NAME_TOP)
        for variant, detail in _affix_variants(name):
            affix_rank = self._ranks.get(NormalizedName(variant))
            if affix_rank is not None and affix_rank <= affix_top:
                yield affix_rank, "prefix/suffix", detail


def _build_index(by_rank: Sequence[str]) -> _Index:
    skeletons: dict[str, list[int]] = {}
    by_length: dict[int, list[int]] = {}
    two_edit_names: dict[int, list[tuple[int, int]]] = {}
    for rank, (name, skeleton) in enumerate(zip(by_rank, _fold_all(by_rank), strict=True), start=1):
        skeletons.setdefault(skeleton, []).append(rank)
        length = len(name)
        by_length.setdefault(length, []).append(rank)
        if rank <= DISTANCE_TWO_TOP and length >= DISTANCE_TWO_MIN_LENGTH:
            two_edit_names.setdefault(length, []).append((_charset_mask(name), rank))
    return _Index(
        skeletons=skeletons, by_length=by_length, two_edit_names=two_edit_names, halves={}
    )


def _index_halves(by_rank: Sequence[str], ranks: Iterable[int], length: int) -> _Halves:
    """The names of ``ranks``, all ``length`` characters long, by their halves."""
    half = length // 2
    heads: dict[str, list[int]] = {}
    tails: dict[str, list[int]] = {}
    for rank in ranks:
        name = by_rank[rank - 1]
        # What _halves(name, length) gives, without a call per name.
        heads.setdefault(name[:half], []).append(rank)
        tails.setdefault(name[half + 1 :], []).append(rank)
    return _Halves(heads=heads, tails=tails)


def _halves(word: str, length: int) -> tuple[str, str]:
    """The keys under which a name of ``length`` characters one edit from ``word`` is indexed.

    A name of ``length`` characters is indexed by its first ``length // 2`` characters and by
    its last ``length - length // 2 - 1``: the two never both contain the one or two characters
    a single edit touches (a swap across the middle leaves the shorter second part alone). So
    a name one edit from ``word`` keeps one of them, and ``word`` has it at its start or end.
    """
    half = length // 2
    rest = length - half - 1
    return word[:half], word[len(word) - rest :]


@functools.cache
def _packaged_lines() -> tuple[str, ...]:
    resource = importlib.resources.files("verify") / "_data" / "top-pypi-names.txt"
    lines = resource.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@functools.cache
def popular_name_set() -> frozenset[NormalizedName]:
    """The shipped popular names as a plain set, for the common case where every package of
    a tree is popular and no resemblance need be looked up.

    The shipped list is normalized already (a test holds it to that), so the set is made
    from its lines as they are, without building :class:`PopularNames`.
    """
    return frozenset(cast(NormalizedName, line) for line in _packaged_lines())


@functools.cache
def _load_packaged() -> PopularNames:
    return PopularNames(_packaged_lines())


def typosquat_suspicion(
    name: str,
    *,
    popular: PopularNames,
    tree: Iterable[str] = (),
    top: int = 15000,
) -> TyposquatSuspicion | None:
    """Say whether ``name`` looks like a typosquat of a popular or in-tree name.

    A name among the ``top`` most downloaded is never suspicious. Any other name is suspicious
    when, after PEP 503 normalization, it is close to one of the ``top`` most downloaded names
    or to another name in ``tree`` (the other packages being installed):

    * the same once separators are dropped and look-alikes folded (``0``/``o``,
      ``1``/``l``/``i``, ``rn``/``m``, ``vv``/``w``), at any length;
    * Damerau-Levenshtein distance 1 when both names have at least 4 characters, or distance 2
      when both have at least 10 and the popular name is in the top 1,000;
    * a popular name with a common prefix or suffix (``python-``, ``py``, ``-sdk``, ``-utils``,
      ...) added or removed (popular names only: in one tree, ``foo`` next to ``foo-core`` is
      a family of packages, not a squat).

    When several names match, the most downloaded wins (in-tree names come after popular ones).
    """
    norm = canonicalize_name(name)
    rank = popular.rank(norm)
    if rank is not None and rank <= top:
        return None
    return _best_match(norm, popular=popular, tree=tree, top=top)


def _best_match(
    name: NormalizedName, *, popular: PopularNames, tree: Iterable[str], top: int
) -> TyposquatSuspicion | None:
    """The best resemblance for ``name``, without first asking whether ``name`` is popular."""
    best: tuple[int, int, str, str] | None = None
    for rank, technique, detail in popular._matches(name, top):
        key = (rank, _PRIORITY[technique], technique, detail)
        if best is None or key < best:
            best = key
    if best is not None:
        rank, _, technique, detail = best
        resembles = popular._name(rank)
        return TyposquatSuspicion(
            name=name,
            resembles=resembles,
            rank=rank,
            technique=technique,
            message=f"{name} resembles {resembles} (#{rank} most downloaded): {detail}",
        )

    tree_best: tuple[int, NormalizedName, str, str] | None = None
    for raw in tree:
        other = _normalize(raw)
        if other == name:
            continue
        # A popular tree name was already compared above, with its rank. (``other`` is
        # normalized already: look it up as it is.)
        other_rank = popular._ranks.get(other)
        if other_rank is not None and other_rank <= top:
            continue
        match = _tree_match(name, other)
        if match is not None:
            tree_key = (_PRIORITY[match[0]], other, *match)
            if tree_best is None or tree_key < tree_best:
                tree_best = tree_key
    if tree_best is None:
        return None
    _, resembles, technique, detail = tree_best
    return TyposquatSuspicion(
        name=name,
        resembles=resembles,
        rank=None,
        technique=technique,
        message=f"{name} resembles {resembles}, another package in this dependency tree: {detail}",
    )


def _tree_match(name: str, other: str) -> tuple[str, str] | None:
    """(technique, detail) if ``name`` resembles the in-tree name ``other``; else ``None``.

    Trees are small (hundreds of names), so comparing pairwise is cheaper than building an
    index per call; the length check discards nearly every pair before any real work.
    """
    if _skeleton(name) == _skeleton(other):
        return _glyph_technique(name, other)
    if min(len(name), len(other)) >= EDIT_MIN_LENGTH and _one_edit_apart(name, other):
        return _one_edit(name, other)
    return None


@functools.lru_cache(maxsize=4096)
def _normalize(name: str) -> NormalizedName:
    # Tree names are normalized once per check of every other name: cache them.
    return canonicalize_name(name)


@functools.lru_cache(maxsize=4096)
def _skeleton(name: str) -> str:
    """``name`` without separators and with look-alike characters folded to one spelling."""
    return _fold(name)


def _fold(name: str) -> str:
    # Uncached: building the index folds every popular name once, which would only churn
    # the cache that tree names and queries use.
    folded = name.replace("-", "")
    # Multi-character glyphs first: folding "i" to "l" cannot create an "rn" or "vv".
    for glyph, letter in _MULTI_GLYPHS:
        folded = folded.replace(glyph, letter)
    return folded.translate(_GLYPHS)


def _fold_all(names: Sequence[str]) -> list[str]:
    """``[_fold(name) for name in names]``, folded as one text: a few string operations
    instead of several per name."""
    folded = _fold("\n".join(names)).split("\n")
    # Folding never adds, removes or joins across a line break; a name with one in it
    # (only possible through from_names) would shift the rest, so it is folded one by one.
    if len(folded) != len(names):
        return [_fold(name) for name in names]
    return folded


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are exactly one deletion, insertion, substitution or swap of
    neighbours apart (what ``_distance_within(a, b, 1) == 1`` says, in string comparisons)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    i = 0
    shorter = min(len(a), len(b))
    while i < shorter and a[i] == b[i]:
        i += 1
    if len(a) > len(b):
        return a[i + 1 :] == b[i:]
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    return a[i + 1 :] == b[i + 1 :] or (
        a[i + 2 :] == b[i + 2 :]
        and a[i : i + 1] == b[i + 1 : i + 2]
        and a[i + 1 : i + 2] == b[i : i + 1]
    )


def _charset_mask(word: str) -> int:
    """One bit per kind of character in ``word``."""
    mask = 0
    for char in set(word):
        mask |= 1 << ord(char)
    return mask


def _distance_within(a: str, b: str, limit: int) -> int | None:
    """Optimal-string-alignment (restricted Damerau-Levenshtein) distance if <= ``limit``.

    Only cells within ``limit`` of the diagonal can stay under the limit, so only that band
    is computed, and the loop stops as soon as a whole row exceeds it.
    """
    if abs(len(a) - len(b)) > limit:
        return None
    big = limit + 1
    n = len(b)
    previous: list[int] = []
    current = [j if j <= limit else big for j in range(n + 1)]
    for i in range(1, len(a) + 1):
        before, previous = previous, current
        current = [big] * (n + 1)
        if i <= limit:
            current[0] = i
        for j in range(max(1, i - limit), min(n, i + limit) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = min(value, big)
        if min(current) > limit:
            return None
    return current[n] if current[n] <= limit else None


def _glyph_technique(name: str, other: str) -> tuple[str, str]:
    """Describe a skeleton match: only separators differ, or which look-alikes were used."""
    bare, other_bare = name.replace("-", ""), other.replace("-", "")
    if bare == other_bare:
        return "separator", "only the separators differ"
    swaps = [
        f"'{bare[i1:i2]}' for '{other_bare[j1:j2]}'"
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, bare, other_bare).get_opcodes()
        if op != "equal"
    ]
    return "homoglyph", f"look-alike characters ({', '.join(dict.fromkeys(swaps))})"


def _one_edit(name: str, other: str) -> tuple[str, str]:
    """Describe how ``name`` differs from ``other`` by exactly one edit."""
    i = 0
    while i < min(len(name), len(other)) and name[i] == other[i]:
        i += 1
    if len(name) == len(other):
        if name[i + 1 : i + 2] == other[i : i + 1] and name[i : i + 1] == other[i + 1 : i + 2]:
            return "transposition", "two letters swapped"
        return "one edit", f"'{name[i]}' instead of '{other[i]}'"
    if len(name) > len(other):
        extra = name[i]
        # ``i`` is the first difference, so an extra letter of a run sits at the run's end.
        if i > 0 and name[i - 1] == extra:
            return "repeated letter", f"'{extra}' doubled"
        return "one edit", f"'{extra}' added"
    missing = other[i]
    # ``i`` is the first difference, so a dropped letter of a run sits at the run's end.
    if i > 0 and other[i - 1] == missing:
        return "repeated letter", f"doubled '{missing}' written once"
    return "one edit", f"'{missing}' left out"


def _affix_variants(name: str) -> Iterator[tuple[str, str]]:
    """Names that ``name`` would be with a common prefix or suffix removed or added."""
    for prefix in _PREFIXES:
        base = name.removeprefix(prefix)
        # "python-requests" is "python-" + "requests", not "python" + "-requests".
        if base != name and len(base) >= AFFIX_MIN_BASE and not base.startswith("-"):
            yield base, f"'{prefix}' prefix added"
        if len(name) >= AFFIX_MIN_BASE:
            yield prefix + name, f"'{prefix}' prefix left out"
    for suffix in _SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and len(base) >= AFFIX_MIN_BASE:
            yield base, f"'{suffix}' suffix added"
        if len(name) >= AFFIX_MIN_BASE:
            yield name + suffix, f"'{suffix}' suffix left out"
