"""The typosquat index: cheap to load, and finding exactly what comparing every name finds."""

from __future__ import annotations

import random
import string

import pytest
from packaging.utils import canonicalize_name

from verify._checks import typosquat
from verify._checks.typosquat import (
    DISTANCE_TWO_MIN_LENGTH,
    DISTANCE_TWO_TOP,
    EDIT_MIN_LENGTH,
    SHORT_NAME_LENGTH,
    SHORT_NAME_TOP,
    PopularNames,
    popular_name_set,
)

_NAME_CHARACTERS = string.ascii_lowercase + string.digits + "-"


@pytest.fixture(scope="module")
def popular() -> PopularNames:
    return PopularNames.load()


def _misspell(rnd: random.Random, name: str, edits: int) -> str:
    """``name`` with ``edits`` random deletions, insertions, substitutions or swaps."""
    for _ in range(edits):
        i = rnd.randrange(len(name))
        kind = rnd.randrange(4)
        if kind == 0 and len(name) > 1:
            name = name[:i] + name[i + 1 :]
        elif kind == 1:
            name = name[:i] + rnd.choice(_NAME_CHARACTERS) + name[i:]
        elif kind == 2 or i == len(name) - 1:
            name = name[:i] + rnd.choice(_NAME_CHARACTERS) + name[i + 1 :]
        else:
            name = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name


def _found(popular: PopularNames, query: str, techniques: set[str]) -> set[str]:
    return {
        popular._name(rank)
        for rank, technique, _ in popular._matches(query, 15000)
        if technique in techniques
    }


def _built(popular: PopularNames) -> typosquat._Index | None:
    return popular._index


def test_loading_builds_only_the_ranks() -> None:
    fresh = PopularNames.from_names(typosquat._packaged_lines())
    assert fresh.rank("requests") == 6
    assert "reqeusts" not in fresh
    assert _built(fresh) is None  # what resemblance needs is built on the first lookup ...
    assert typosquat.typosquat_suspicion("reqeusts", popular=fresh) is not None
    index = _built(fresh)
    assert index is not None  # ... and kept
    # One name needs the names one letter shorter, as long, or one letter longer.
    assert sorted(index.halves) == [7, 8, 9]


def test_popular_name_set_is_the_shipped_names(popular: PopularNames) -> None:
    lines = typosquat._packaged_lines()
    # Shipped normalized: popular_name_set takes the lines as they are.
    assert [line for line in lines if canonicalize_name(line) != line] == []
    assert popular_name_set() == frozenset(canonicalize_name(line) for line in lines)
    assert popular_name_set() == frozenset(popular)


def test_one_edit_apart_is_distance_one() -> None:
    rnd = random.Random(5)  # noqa: S311 - reproducible test data
    for _ in range(5000):
        a = "".join(rnd.choice("abc-") for _ in range(rnd.randint(0, 7)))
        b = rnd.choice([a, _misspell(rnd, a or "a", 1), _misspell(rnd, a or "a", 2)])
        expected = typosquat._distance_within(a, b, 1) == 1
        assert typosquat._one_edit_apart(a, b) is expected, (a, b)
        assert typosquat._one_edit_apart(b, a) is expected, (b, a)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("abcedfgh", "abcdefgh"),  # a swap across the middle of an even length
        ("abcdfegh", "abcdefgh"),
        ("abcedfghi", "abcdefghi"),  # ... and of an odd length
        ("abcdfeghi", "abcdefghi"),
        ("abcdxefgh", "abcdefgh"),  # an insertion in the middle
        ("abcefgh", "abcdefgh"),  # a deletion in the middle
        ("xbcd", "abcd"),  # the shortest names, at either end
        ("abcx", "abcd"),
        ("bacd", "abcd"),
        ("abdc", "abcd"),
    ],
)
def test_one_edit_found_wherever_the_edit_is(query: str, name: str) -> None:
    popular = PopularNames.from_names([name])
    assert _found(popular, query, {"one edit", "transposition", "repeated letter"}) == {name}


def test_one_edit_matches_agree_with_comparing_every_name(popular: PopularNames) -> None:
    rnd = random.Random(17)  # noqa: S311 - reproducible test data
    names = list(popular)
    queries = [_misspell(rnd, rnd.choice(names), 1) for _ in range(40)]
    for query in queries:
        # Short names are only compared with the most popular.
        top = len(names) if len(query) >= SHORT_NAME_LENGTH else SHORT_NAME_TOP
        expected = {
            name
            for name in names[:top]
            if min(len(name), len(query)) >= EDIT_MIN_LENGTH
            and typosquat._distance_within(query, name, 1) == 1
        }
        found = _found(popular, query, {"one edit", "transposition", "repeated letter"})
        assert found == expected, query


def test_two_edit_matches_agree_with_comparing_every_name(popular: PopularNames) -> None:
    rnd = random.Random(19)  # noqa: S311 - reproducible test data
    candidates = [
        name for name in list(popular)[:DISTANCE_TWO_TOP] if len(name) >= DISTANCE_TWO_MIN_LENGTH
    ]
    queries = [_misspell(rnd, rnd.choice(candidates), 2) for _ in range(60)]
    queries = [q for q in queries if len(q) >= DISTANCE_TWO_MIN_LENGTH]
    assert len(queries) > 40
    hits = 0
    for query in queries:
        expected = {name for name in candidates if typosquat._distance_within(query, name, 2) == 2}
        assert _found(popular, query, {"two edits"}) == expected, query
        hits += bool(expected)
    assert hits > 20  # the misspellings mostly are two edits from where they came from
