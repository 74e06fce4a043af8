"""Typosquatting suspicion against the shipped popular-names list and in-tree names."""

from __future__ import annotations

import importlib.resources
import random
import string
import time
from pathlib import Path

import pytest
from packaging.utils import NormalizedName

from verify._checks import typosquat
from verify._checks.typosquat import PopularNames, TyposquatSuspicion, typosquat_suspicion

SHARED_LIST = Path(__file__).resolve().parents[4] / "shared" / "data" / "top-pypi-names.txt"


@pytest.fixture(scope="module")
def popular() -> PopularNames:
    return PopularNames.load()


def _data_file() -> str:
    resource = importlib.resources.files("verify") / "_data" / "top-pypi-names.txt"
    return resource.read_text(encoding="utf-8")


# --- the shipped data ------------------------------------------------------------------------


def test_shipped_list_is_package_data_and_loads(popular: PopularNames) -> None:
    names = [line for line in _data_file().splitlines() if line and not line.startswith("#")]
    # The snapshot has 14,985 names (a few of the 15,000 are gone from the index).
    assert len(names) >= 14_900
    assert len(popular) == len(names)
    assert list(popular)[:3] == ["boto3", "packaging", "urllib3"]
    assert popular.rank("requests") == 6
    assert popular.rank("Python_DateUtil") == 13
    assert "PyYAML" in popular
    assert "reqeusts" not in popular
    assert 6 not in popular
    assert popular.rank("reqeusts") is None


def test_load_is_cached() -> None:
    assert PopularNames.load() is PopularNames.load()


def test_shipped_list_matches_shared_copy() -> None:
    if not SHARED_LIST.is_file():
        pytest.skip(f"{SHARED_LIST} not present")
    assert _data_file() == SHARED_LIST.read_text(encoding="utf-8")


# --- real-world typosquats ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "resembles", "technique"),
    [
        ("reqeusts", "requests", "transposition"),
        ("requets", "requests", "one edit"),
        ("reqursts", "requests", "one edit"),
        ("requestss", "requests", "repeated letter"),
        ("python-requests", "requests", "prefix/suffix"),
        ("py-requests", "requests", "prefix/suffix"),
        ("urlib3", "urllib3", "repeated letter"),
        ("colourama", "colorama", "one edit"),
        ("djang0", "django", "homoglyph"),
        ("crypt0graphy", "cryptography", "homoglyph"),
        ("rnatplotlib", "matplotlib", "homoglyph"),
        ("numpyy", "numpy", "repeated letter"),
        ("pandass", "pandas", "repeated letter"),
        ("setup-tools", "setuptools", "separator"),
        ("Setup_Tools", "setuptools", "separator"),
        ("python-dateutils", "python-dateutil", "one edit"),
        ("dateutil", "python-dateutil", "prefix/suffix"),
        ("boto3-sdk", "boto3", "prefix/suffix"),
    ],
)
def test_real_world_typosquats(
    popular: PopularNames, name: str, resembles: str, technique: str
) -> None:
    assert name not in popular  # otherwise the example proves nothing
    found = typosquat_suspicion(name, popular=popular)
    assert found is not None
    assert found.resembles == resembles
    assert found.technique == technique
    assert found.rank == popular.rank(resembles)
    assert found.message.startswith(f"{found.name} resembles {resembles} (#{found.rank} ")


def test_message_reads_as_a_sentence(popular: PopularNames) -> None:
    found = typosquat_suspicion("reqeusts", popular=popular)
    assert found == TyposquatSuspicion(
        name=NormalizedName("reqeusts"),
        resembles=NormalizedName("requests"),
        rank=6,
        technique="transposition",
        message="reqeusts resembles requests (#6 most downloaded): two letters swapped",
    )
    glyph = typosquat_suspicion("djang0", popular=popular)
    assert glyph is not None
    assert glyph.message.endswith("look-alike characters ('0' for 'o')")


def test_popular_beyond_top_is_checked(popular: PopularNames) -> None:
    # beautifulsoup is itself in the list (#9783), so by default it is fine ...
    assert typosquat_suspicion("beautifulsoup", popular=popular) is None
    # ... but checked against only the top 5,000 it is beautifulsoup4 without its "4".
    found = typosquat_suspicion("beautifulsoup", popular=popular, top=5000)
    assert found is not None
    assert (found.resembles, found.rank) == ("beautifulsoup4", 103)


def test_most_popular_match_wins() -> None:
    popular = PopularNames.from_names(["requests", "reqeust"])
    found = typosquat_suspicion("reqeusts", popular=popular)
    assert found is not None
    assert (found.resembles, found.rank) == ("requests", 1)
    flipped = PopularNames.from_names(["reqeust", "requests"])
    found = typosquat_suspicion("reqeusts", popular=flipped)
    assert found is not None
    assert (found.resembles, found.rank) == ("reqeust", 1)


# --- no false alarms on popular names ------------------------------------------------------------


def test_top_200_are_never_flagged(popular: PopularNames) -> None:
    flagged = [
        name
        for name in list(popular)[:200]
        if typosquat_suspicion(name, popular=popular) is not None
    ]
    assert flagged == []


@pytest.mark.parametrize(
    ("name", "similar"),
    [
        ("pyaml", "pyyaml"),
        ("cchardet", "chardet"),
        ("uri-template", "uritemplate"),
        ("grpcio", "grpcio-tools"),
        ("msgpack-python", "msgpack"),
        ("usort", "isort"),
        ("beautifulsoup", "beautifulsoup4"),
        ("python-dateutil", "dateutil"),
    ],
)
def test_similar_popular_pairs_are_not_flagged(
    popular: PopularNames, name: str, similar: str
) -> None:
    assert name in popular
    assert typosquat_suspicion(name, popular=popular) is None
    assert typosquat_suspicion(name.upper().replace("-", "_"), popular=popular) is None
    # Being popular is what protects the name: against `similar` alone, it would be flagged.
    alone = typosquat_suspicion(name, popular=PopularNames.from_names([similar]))
    assert alone is not None
    assert alone.resembles == similar


@pytest.mark.parametrize("name", ["requests-oauthlib", "requests-toolbelt", "requests-mock"])
def test_extensions_of_popular_names_are_not_close(popular: PopularNames, name: str) -> None:
    # A real extension is neither a near-spelling nor a common decoration of its parent:
    # even when it were unpopular it would not be flagged against "requests".
    assert typosquat_suspicion(name, popular=popular) is None
    assert typosquat_suspicion(name, popular=PopularNames.from_names(["requests"])) is None


# --- rule boundaries ----------------------------------------------------------------------------


def test_short_names_only_match_look_alikes() -> None:
    popular = PopularNames.from_names(["six", "rsa"])
    assert typosquat_suspicion("sixx", popular=popular) is None
    assert typosquat_suspicion("sx", popular=popular) is None
    assert typosquat_suspicion("rsb", popular=popular) is None
    found = typosquat_suspicion("s1x", popular=popular)
    assert found is not None
    assert (found.resembles, found.technique) == ("six", "homoglyph")
    assert typosquat_suspicion("r-sa", popular=popular) is not None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("abcdefgh1j", "homoglyph"),
        ("abcdefxyzw", None),  # four letters differ
        ("abcdefgxij", "one edit"),
        ("abcdefgij", "one edit"),
        ("abcdfeghij", "transposition"),
        ("abcdefghhij", "repeated letter"),
        ("abxdefghyj", "two edits"),
        ("bacdefghji", "two edits"),
        ("abcdefghijxy", "two edits"),
        ("abxdefyhzj", None),  # three edits
    ],
)
def test_edit_distance_rules(name: str, expected: str | None) -> None:
    popular = PopularNames.from_names(["abcdefghij"])
    found = typosquat_suspicion(name, popular=popular)
    assert (found.technique if found else None) == expected


def test_two_edits_needs_top_1000_and_long_names() -> None:
    fillers = [f"zz{i:05d}qq" for i in range(1000)]
    late = PopularNames.from_names([*fillers, "abcdefghij"])
    assert late.rank("abcdefghij") == 1001
    assert typosquat_suspicion("abxdefghyj", popular=late) is None
    assert typosquat_suspicion("abcdefghxj", popular=late) is not None  # one edit still counts
    early = PopularNames.from_names(["abcdefghi"])  # 9 letters: too short for two edits
    assert typosquat_suspicion("abxdefgyi", popular=early) is None


@pytest.mark.parametrize(
    ("name", "popular_name"),
    [
        ("python-tqdm", "tqdm"),
        ("pythontqdm", "tqdm"),
        ("pytqdm", "tqdm"),
        ("tqdm-python", "tqdm"),
        ("tqdm-lib", "tqdm"),
        ("tqdm-client", "tqdm"),
        ("tqdm-utils", "tqdm"),
        ("tqdm-core", "tqdm"),
        ("zmq", "pyzmq"),
        ("acme", "acme-sdk"),
    ],
)
def test_prefix_and_suffix(name: str, popular_name: str) -> None:
    popular = PopularNames.from_names([popular_name])
    found = typosquat_suspicion(name, popular=popular)
    assert found is not None
    assert (found.resembles, found.technique) == (popular_name, "prefix/suffix")


def test_affixes_need_a_real_base() -> None:
    popular = PopularNames.from_names(["re", "py"])
    assert typosquat_suspicion("pyre", popular=popular) is None
    assert typosquat_suspicion("python-re", popular=popular) is None


# --- in-tree resemblance ------------------------------------------------------------------------


def test_in_tree_homoglyph(popular: PopularNames) -> None:
    found = typosquat_suspicion(
        "acme-internal-cIient",
        popular=popular,
        tree=["acme-internal-client", "acme-internal-cIient"],
    )
    assert found is not None
    assert found.name == "acme-internal-ciient"
    assert found.resembles == "acme-internal-client"
    assert found.rank is None
    assert found.technique == "homoglyph"
    assert "another package in this dependency tree" in found.message


def test_in_tree_edit_and_non_matches(popular: PopularNames) -> None:
    found = typosquat_suspicion("acme-interanl", popular=popular, tree=["Acme_Internal"])
    assert found is not None
    assert (found.resembles, found.technique, found.rank) == (
        "acme-internal",
        "transposition",
        None,
    )
    # The name itself (in any spelling) is not a resemblance; nor is a package family.
    assert typosquat_suspicion("acme-internal", popular=popular, tree=["ACME.internal"]) is None
    assert (
        typosquat_suspicion("acme-internal", popular=popular, tree=["acme-internal-core"]) is None
    )
    assert typosquat_suspicion("acme-internal", popular=popular, tree=["zeta-external"]) is None


def test_popular_match_beats_in_tree(popular: PopularNames) -> None:
    found = typosquat_suspicion("reqeusts", popular=popular, tree=["reqeust"])
    assert found is not None
    assert (found.resembles, found.rank) == ("requests", 6)


# --- the machinery ------------------------------------------------------------------------------


def _osa(a: str, b: str) -> int:
    # Plain full-table optimal string alignment distance, to check the banded one against.
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def test_banded_distance_agrees_with_full_table() -> None:
    rnd = random.Random(7)  # noqa: S311 - reproducible test data
    for _ in range(3000):
        a = "".join(rnd.choice("abc-") for _ in range(rnd.randint(0, 8)))
        b = "".join(rnd.choice("abc-") for _ in range(rnd.randint(0, 8)))
        full = _osa(a, b)
        for limit in (1, 2):
            expected = full if full <= limit else None
            assert typosquat._distance_within(a, b, limit) == expected, (a, b, limit)


def test_delete_index_finds_every_near_name() -> None:
    # Every popular name within one edit must be found, without scanning all of them.
    rnd = random.Random(11)  # noqa: S311 - reproducible test data
    words = sorted(
        {"".join(rnd.choice("abcd") for _ in range(rnd.randint(4, 6))) for _ in range(200)}
    )
    popular = PopularNames.from_names(words)
    for _ in range(200):
        query = "".join(rnd.choice("abcd") for _ in range(rnd.randint(3, 7)))
        found = {
            popular._name(rank)
            for rank, technique, _ in popular._matches(query, 15000)
            if technique not in {"prefix/suffix", "separator", "homoglyph", "two edits"}
        }
        expected = {w for w in words if w != query and len(query) >= 4 and _osa(query, w) == 1}
        assert found == expected, query


def test_fast_enough(popular: PopularNames) -> None:
    rnd = random.Random(2024)  # noqa: S311 - reproducible test data
    names = [
        "".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(8, 12)))
        for _ in range(200)
    ]
    start = time.perf_counter()
    for name in names:
        typosquat_suspicion(name, popular=popular, tree=names)
    assert time.perf_counter() - start < 1.0
