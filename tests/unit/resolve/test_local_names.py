"""Local files whose name is no valid distribution file name (issue 13).

pip installs such an sdist from a path or a URL, naming it by its metadata; pip-verify names
it the same way when asked to (``named_by``) and refuses it otherwise, and never takes a wheel
with an invalid name (pip refuses those).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from verify._resolve.local import local_candidate
from verify.errors import InvalidInputError


def _file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(b"bytes the naming function is not asked to read here")
    return path


def test_an_invalid_sdist_name_is_named_by_its_metadata_when_asked(tmp_path: Path) -> None:
    path = _file(tmp_path, "Demo_Pkg-1.0-py3-none-any.tar.gz")
    asked: list[Path] = []

    def named_by(seen: Path) -> tuple[str, str]:
        asked.append(seen)
        return "Demo_Pkg", "1.0"

    candidate = local_candidate(path, named_by=named_by)
    assert asked == [path]
    assert (candidate.name, candidate.version) == ("demo-pkg", Version("1.0"))
    assert candidate.files[0].filename == path.name


@pytest.mark.parametrize(
    ("filename", "named"),
    [
        ("demo-1.0-py3-none-any.tar.gz", None),  # no usable metadata
        ("demo-1.0-py3-none-any.tar.gz", ("demo", "one")),  # an invalid version
        ("demo-1.0-py3-none-any.tar.gz", ("-demo-", "1.0")),  # an invalid name
        ("demo_pkg-1.0-xx.whl", ("demo-pkg", "1.0")),  # a wheel: pip refuses the name
    ],
)
def test_an_invalid_name_without_usable_metadata_is_refused(
    tmp_path: Path, filename: str, named: tuple[str, str] | None
) -> None:
    path = _file(tmp_path, filename)
    with pytest.raises(InvalidInputError, match="not a valid distribution filename"):
        local_candidate(path, named_by=lambda _: named)


def test_without_a_naming_function_an_invalid_name_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, "demo-1.0-py3-none-any.tar.gz")
    with pytest.raises(InvalidInputError, match="not a valid distribution filename") as caught:
        local_candidate(path)
    assert caught.value.exit_code == 2
    assert caught.value.hint is not None
    assert "NAME-VERSION.tar.gz" in caught.value.hint
