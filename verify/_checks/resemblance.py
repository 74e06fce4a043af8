"""The popular names a name was probably meant to be, and names made of a popular name and a
word: what a person (or a model) that made a name up most likely wanted.

Models invent plausible package names ("slopsquatting"), and attackers register the ones they
invent often. Such names are either close to a real popular name (:mod:`.typosquat` already
says which) or a popular name with a word added (``requests-toolbelt-pro``,
``fast-pydantic``). Both use only the shipped popularity list: no online service.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass
from typing import Final

from packaging.utils import NormalizedName, canonicalize_name

from verify._checks.typosquat import PopularNames, typosquat_suspicion

__all__ = ["Compound", "closest_popular", "popular_compound"]

#: Suggestions come from the names at least this popular: a "did you mean" should name a
#: project people know.
SUGGEST_TOP: Final = 5000
#: How alike two names must be for a suggestion (difflib's ratio).
SUGGEST_CUTOFF: Final = 0.8
#: A popular part of a compound name must rank at least this high, and be this long: short
#: or obscure names are ordinary words ("test", "data").
COMPOUND_TOP: Final = 3000
COMPOUND_MIN_LENGTH: Final = 4


@dataclass(frozen=True, slots=True)
class Compound:
    """A name made of a popular name and other words."""

    name: NormalizedName
    #: The popular name inside it, and its download rank.
    popular: NormalizedName
    rank: int
    #: The words around it, e.g. ``("pro",)``.
    added: tuple[str, ...]

    @property
    def message(self) -> str:
        """One readable phrase, e.g. "requests-toolbelt (#512 most downloaded) with 'pro'
        added"."""
        words = ", ".join(f"'{word}'" for word in self.added)
        return f"{self.popular} (#{self.rank} most downloaded) with {words} added"


def closest_popular(name: str, *, popular: PopularNames, limit: int = 3) -> list[NormalizedName]:
    """The popular names ``name`` most likely stands for, best first (at most ``limit``):
    the one it resembles by the typosquat rules, the popular name inside a compound, then
    the most alike of the :data:`SUGGEST_TOP` most downloaded names."""
    norm = canonicalize_name(name)
    found: list[NormalizedName] = []
    suspicion = typosquat_suspicion(norm, popular=popular)
    if suspicion is not None and suspicion.rank is not None:
        found.append(suspicion.resembles)
    compound = popular_compound(norm, popular=popular)
    if compound is not None:
        found.append(compound.popular)
    alike = difflib.get_close_matches(
        norm, _most_popular(popular), n=limit + len(found), cutoff=SUGGEST_CUTOFF
    )
    found += (NormalizedName(name) for name in alike)
    return list(dict.fromkeys(n for n in found if n != norm))[:limit]


def popular_compound(name: str, *, popular: PopularNames) -> Compound | None:
    """``name`` as a popular name with words added before or after it, or ``None``.

    The popular part is the longest run of whole words (``-``-separated) at the start or the
    end of the name that is among the :data:`COMPOUND_TOP` most downloaded, at least
    :data:`COMPOUND_MIN_LENGTH` long; a popular name itself is not a compound.
    """
    norm = canonicalize_name(name)
    if popular.rank(norm) is not None:
        return None
    words = norm.split("-")
    best: Compound | None = None
    for cut in range(1, len(words)):
        for part, added in (
            (words[:cut], tuple(words[cut:])),
            (words[cut:], tuple(words[:cut])),
        ):
            candidate = NormalizedName("-".join(part))
            rank = popular.rank(candidate)
            if rank is None or rank > COMPOUND_TOP or len(candidate) < COMPOUND_MIN_LENGTH:
                continue
            if best is None or len(candidate) > len(best.popular):
                best = Compound(norm, candidate, rank, added)
    return best


def _most_popular(popular: PopularNames) -> list[NormalizedName]:
    return list(itertools.islice(popular, SUGGEST_TOP))
