"""Which earlier file a candidate is compared with."""

from __future__ import annotations

import pytest
from packaging.version import Version

from verify._behaviour.baseline import choose_baseline
from verify.models import IndexFile


def _files(*names: str, yanked: tuple[str, ...] = ()) -> list[IndexFile]:
    return [
        IndexFile(
            filename=name,
            url=f"https://files.example/{name}",
            hashes={"sha256": "0" * 64},
            index_url="https://index.example/simple/",
            yanked=name in yanked,
        )
        for name in names
    ]


RELEASES = _files(
    "demo-0.9.tar.gz",
    "demo-0.9-py3-none-any.whl",
    "demo-1.0.tar.gz",
    "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
    "demo-1.0-cp312-cp312-win_amd64.whl",
    "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    "demo-1.1rc1-py3-none-any.whl",
    "demo-1.1.tar.gz",
    "demo-1.1-cp312-cp312-manylinux_2_17_x86_64.whl",
    "demo-1.1-cp312-cp312-win_amd64.whl",
    "demo-2.0-py3-none-any.whl",
)


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        # The newest earlier release, the wheel for the same interpreter and platform.
        (
            "demo-1.1-cp312-cp312-manylinux_2_17_x86_64.whl",
            "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        ),
        ("demo-1.1-cp312-cp312-win_amd64.whl", "demo-1.0-cp312-cp312-win_amd64.whl"),
        # sdists are compared with sdists.
        ("demo-1.1.tar.gz", "demo-1.0.tar.gz"),
        # Pre-releases are skipped for a final release...
        ("demo-2.0-py3-none-any.whl", "demo-1.1-cp312-cp312-manylinux_2_17_x86_64.whl"),
        # ... and a release with no wheel of this kind falls back to its sdist.
        ("demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", "demo-0.9-py3-none-any.whl"),
    ],
)
def test_newest_earlier_release_closest_file(candidate: str, expected: str) -> None:
    choice = choose_baseline(RELEASES, candidate)
    assert choice.entry is not None
    assert choice.entry.filename == expected
    assert expected in choice.reason


def test_a_prerelease_candidate_may_compare_with_a_prerelease() -> None:
    choice = choose_baseline(
        _files("demo-1.0rc1-py3-none-any.whl", "demo-1.0rc2-py3-none-any.whl"),
        "demo-1.0rc2-py3-none-any.whl",
    )
    assert choice.entry is not None
    assert choice.entry.filename == "demo-1.0rc1-py3-none-any.whl"


def test_yanked_releases_are_skipped() -> None:
    files = _files(
        "demo-1.0.tar.gz", "demo-1.1.tar.gz", "demo-1.2.tar.gz", yanked=("demo-1.1.tar.gz",)
    )
    choice = choose_baseline(files, "demo-1.2.tar.gz")
    assert choice.entry is not None
    assert choice.entry.filename == "demo-1.0.tar.gz"


def test_no_earlier_release() -> None:
    choice = choose_baseline(_files("demo-1.0.tar.gz"), "demo-1.0.tar.gz")
    assert choice.entry is None
    assert choice.reason == "no earlier release on the index"


def test_an_explicit_baseline_version() -> None:
    choice = choose_baseline(RELEASES, "demo-1.1.tar.gz", version=Version("0.9"))
    assert choice.entry is not None
    assert choice.entry.filename == "demo-0.9.tar.gz"
    assert choice.reason.startswith("named 0.9")
    missing = choose_baseline(RELEASES, "demo-1.1.tar.gz", version=Version("0.1"))
    assert missing.entry is None
    assert "no release 0.1" in missing.reason


def test_a_newer_manylinux_build_compares_with_the_linux_wheel_not_macos() -> None:
    files = _files(
        "demo-1.0-cp311-cp311-macosx_10_9_x86_64.whl",
        "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "demo-1.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
    )
    choice = choose_baseline(
        files, "demo-1.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    )
    assert choice.entry is not None
    assert choice.entry.filename == (
        "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    )
