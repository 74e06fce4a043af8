"""verify._resolve.select: supported tags and the file an installer would pick."""

from __future__ import annotations

import sys

import pytest
from packaging.tags import Tag, sys_tags
from packaging.version import Version

from verify._resolve.select import (
    file_project,
    file_version,
    files_of,
    releases,
    select_installable,
    supported_tags,
)
from verify.errors import UsageError
from verify.settings import TargetEnvironment

LINUX_39 = TargetEnvironment(python_version="3.9", platforms=("manylinux2014_x86_64",))
WINDOWS_312 = TargetEnvironment(python_version="3.12", platforms=("win_amd64",))

PURE = "demo-1.0-py3-none-any.whl"
CP39_LINUX = "demo-1.0-cp39-cp39-manylinux2014_x86_64.whl"
CP39_MANYLINUX1 = "demo-1.0-cp39-cp39-manylinux1_x86_64.whl"
ABI3_LINUX = "demo-1.0-cp37-abi3-manylinux2014_x86_64.whl"
CP312_WIN = "demo-1.0-cp312-cp312-win_amd64.whl"
CP312_MAC = "demo-1.0-cp312-cp312-macosx_11_0_arm64.whl"
SDIST = "demo-1.0.tar.gz"


def test_running_interpreter_tags() -> None:
    tags = supported_tags()
    assert tags == list(sys_tags())
    assert supported_tags(TargetEnvironment()) == tags
    assert Tag("py3", "none", "any") in tags


def test_target_tags() -> None:
    tags = supported_tags(LINUX_39)
    assert tags[0] == Tag("cp39", "cp39", "manylinux2014_x86_64")
    assert Tag("cp39", "abi3", "manylinux2014_x86_64") in tags
    assert Tag("cp37", "abi3", "manylinux2014_x86_64") in tags
    assert Tag("py39", "none", "any") in tags
    assert Tag("py3", "none", "any") in tags
    assert {tag.platform for tag in tags} <= {"manylinux2014_x86_64", "any"}
    assert all(tag.interpreter != "cp310" for tag in tags)
    assert Tag("cp310", "cp310", "manylinux2014_x86_64") not in tags
    # Best first: the exact interpreter beats the pure-Python fallback.
    assert tags.index(Tag("cp39", "cp39", "manylinux2014_x86_64")) < tags.index(
        Tag("py3", "none", "any")
    )


def test_target_platform_only_keeps_the_running_python() -> None:
    tags = supported_tags(TargetEnvironment(platforms=("win_amd64",)))
    major, minor = sys.version_info[:2]
    assert Tag(f"cp{major}{minor}", f"cp{major}{minor}", "win_amd64") in tags
    assert {tag.platform for tag in tags} <= {"win_amd64", "any"}


def test_target_abi_and_implementation() -> None:
    tags = supported_tags(
        TargetEnvironment(
            python_version="3.10",
            platforms=("linux_x86_64",),
            implementation="pp",
            abis=("pypy310_pp73",),
        )
    )
    assert tags[0] == Tag("pp310", "pypy310_pp73", "linux_x86_64")
    assert Tag("py3", "none", "any") in tags
    assert all(not tag.interpreter.startswith("cp") for tag in tags)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.12", (3, 12)),
        ("312", (3, 12)),
        ("3.12.1", (3, 12)),
        ("39", (3, 9)),
        ("3.9", (3, 9)),
    ],
)
def test_python_version_forms(text: str, expected: tuple[int, int]) -> None:
    tags = supported_tags(TargetEnvironment(python_version=text, platforms=("win_amd64",)))
    nodot = f"cp{expected[0]}{expected[1]}"
    assert tags[0] == Tag(nodot, nodot, "win_amd64")


def test_python_version_dotted_and_nodot_agree() -> None:
    assert supported_tags(WINDOWS_312) == supported_tags(
        TargetEnvironment(python_version="312", platforms=("win_amd64",))
    )


def test_python_version_major_only() -> None:
    tags = supported_tags(TargetEnvironment(python_version="3", platforms=("win_amd64",)))
    assert tags
    assert Tag("py3", "none", "any") in tags
    assert all(tag.platform in ("win_amd64", "any") for tag in tags)


@pytest.mark.parametrize("text", ["x", "3.x", "three", "3.", "py3"])
def test_python_version_garbage_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--python-version") as info:
        supported_tags(TargetEnvironment(python_version=text))
    assert repr(text) in info.value.message


@pytest.mark.parametrize(
    ("filenames", "target", "expected"),
    [
        ([PURE, CP39_LINUX, SDIST], LINUX_39, [CP39_LINUX]),
        ([SDIST, CP39_LINUX, PURE], LINUX_39, [CP39_LINUX]),
        ([PURE, ABI3_LINUX], LINUX_39, [ABI3_LINUX]),
        ([ABI3_LINUX, CP39_LINUX], LINUX_39, [CP39_LINUX]),
        ([CP39_MANYLINUX1, PURE], LINUX_39, [PURE]),  # manylinux1 is not in the target list
        ([PURE, CP39_LINUX, CP312_WIN, SDIST], WINDOWS_312, [CP312_WIN]),
        ([CP39_LINUX, PURE, SDIST], WINDOWS_312, [PURE]),
        ([CP39_LINUX, CP312_MAC, SDIST], WINDOWS_312, [SDIST]),
        ([CP312_WIN, CP312_MAC, SDIST], LINUX_39, [SDIST]),
        ([CP312_WIN, CP312_MAC], LINUX_39, []),
        ([], LINUX_39, []),
        (["demo-1.0.zip", "demo-1.0.tar.gz"], LINUX_39, ["demo-1.0.zip"]),
        (["not-a-wheel.whl", "README.md", SDIST], LINUX_39, [SDIST]),
        (["README.md", "demo-1.0.exe", "demo-1.0-py3.9.egg"], LINUX_39, []),
    ],
)
def test_select_installable(
    filenames: list[str], target: TargetEnvironment, expected: list[str]
) -> None:
    assert select_installable(filenames, supported_tags(target)) == expected


def test_select_multi_tag_wheel() -> None:
    multi = "demo-1.0-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert select_installable([PURE, multi], supported_tags(LINUX_39)) == [multi]


def test_select_for_the_running_interpreter() -> None:
    assert select_installable([CP312_MAC, PURE, SDIST], supported_tags()) in ([PURE], [CP312_MAC])
    assert select_installable([SDIST], supported_tags()) == [SDIST]


def test_select_uses_the_given_tag_order() -> None:
    tags = [Tag("py3", "none", "any"), Tag("cp39", "cp39", "manylinux2014_x86_64")]
    assert select_installable([CP39_LINUX, PURE], tags) == [PURE]
    assert select_installable([CP39_LINUX, PURE], tags[::-1]) == [CP39_LINUX]
    assert select_installable([CP39_LINUX, PURE], []) == []


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        (PURE, Version("1.0")),
        (CP39_LINUX, Version("1.0")),
        ("Demo_Pkg-2.0rc1-1-py2.py3-none-any.whl", Version("2.0rc1")),
        ("demo-1.0+local.7-py3-none-any.whl", Version("1.0+local.7")),
        (SDIST, Version("1.0")),
        ("demo_pkg-2024.1.post3.tar.gz", Version("2024.1.post3")),
        ("demo-1.0.zip", Version("1.0")),
        # Old sdist formats the selector accepts must carry their version too.
        ("demo-1.0.tar.bz2", Version("1.0")),
        ("demo-1.0.tgz", Version("1.0")),
    ],
)
def test_file_version(filename: str, expected: Version) -> None:
    assert file_version(filename) == expected


@pytest.mark.parametrize(
    "filename",
    [
        "README.md",
        "demo.whl",
        "demo-1.0.whl",
        "demo-notaversion-py3-none-any.whl",
        "demo-notaversion.tar.gz",
        "demo.tar.gz",
        "demo-1.0.exe",
        "",
    ],
)
def test_file_version_garbage(filename: str) -> None:
    assert file_version(filename) is None


#: Names a page may list: valid wheels and sdists, two spellings of one version, a build
#: number, and names file_version refuses (a bad project name, an empty tag component, too
#: few parts, a bad version, an unknown suffix).
PAGE = [
    "demo-1.0.0-py3-none-any.whl",
    "demo-1.0.tar.gz",
    "demo-1.0-1-py3-none-any.whl",
    "demo-2.0-py3-none-any.whl",
    "demo-2.0rc1.zip",
    "de__mo-3.0-py3-none-any.whl",
    "demo-3.0-py3-none-.whl",
    "demo-3.0-any.whl",
    "demo-notaversion.tar.gz",
    "demo-4.0.exe",
    "demo-1.0-py2.py3-none-any.whl",
    "demo.tar.gz",
]


def test_releases_then_files_of_is_file_version_for_every_name() -> None:
    # Grouping by spelling and checking only the groups read must keep exactly the files,
    # in the same order, that parsing every name would.
    expected: dict[Version, list[str]] = {}
    for name in PAGE:
        version = file_version(name)
        if version is not None:
            expected.setdefault(version, []).append(name)
    grouped = releases(PAGE)
    found = {v: files_of(grouped, v) for v in grouped}
    assert {v: names for v, names in found.items() if names} == expected
    assert expected[Version("1.0")] == [
        "demo-1.0.0-py3-none-any.whl",
        "demo-1.0.tar.gz",
        "demo-1.0-1-py3-none-any.whl",
        "demo-1.0-py2.py3-none-any.whl",
    ]
    assert files_of(grouped, Version("9")) == []


@pytest.mark.parametrize(
    ("filename", "project"),
    [
        ("requests-oauthlib-2.0.0.tar.gz", "requests-oauthlib"),  # a legacy sdist keeps dashes
        ("requests_oauthlib-2.0.0.tar.gz", "requests_oauthlib"),
        ("text-unidecode-1.3.zip", "text-unidecode"),
        ("Demo_Pkg-1.0-py3-none-any.whl", "demo-pkg"),  # a wheel's, normalized
        ("demo-1.0-py3-none-any.tar.gz", None),  # "1.0-py3-none-any" is no version
        ("demo-1.0.whl", None),  # not a wheel's name
        ("demo.tar.gz", None),
        ("demo-1.0.rpm", None),
    ],
)
def test_file_project(filename: str, project: str | None) -> None:
    assert file_project(filename) == project
