"""Issue 15, defect 7: a ``--cache-dir`` that cannot be a directory is a one-line cache error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback
from verify._cli import main
from verify._index.session import HttpSession
from verify.errors import CacheError

WHEEL = "demo-1.0-py3-none-any.whl"


@pytest.fixture
def lock(tmp_path: Path, dist_factory: DistFactory, package_index: PackageIndex) -> Path:
    package_index.add(dist_factory.wheel("demo", "1.0"))
    path = tmp_path / "requirements.txt"
    path.write_text(f"demo==1.0 --hash=sha256:{package_index.files[WHEEL].sha256}\n")
    return path


@pytest.mark.parametrize("where", ["file", "under-a-file"])
def test_cache_dir_naming_a_regular_file_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    lock: Path,
    package_index: PackageIndex,
    where: str,
) -> None:
    regular = tmp_path / "not-a-directory"
    regular.write_text("a file, not a cache\n")
    cache_dir = regular if where == "file" else regular / "cache"
    code = main(
        ["check", "-r", str(lock), "--index-url", package_index.url, "--cache-dir", str(cache_dir)]
    )
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    assert code == 3
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("pip-verify: error: cannot create the cache directory ")
    assert str(regular) in line
    assert line.endswith("pass a writable --cache-dir")
    assert "internal error" not in captured.out + captured.err
    assert regular.read_text() == "a file, not a cache\n"


def test_session_refuses_a_cache_dir_that_is_a_file(tmp_path: Path) -> None:
    regular = tmp_path / "http"
    regular.write_text("")
    with pytest.raises(CacheError, match="Not a directory"):
        HttpSession(cache_dir=regular)


def test_session_creates_its_cache_dir(tmp_path: Path) -> None:
    with HttpSession(cache_dir=tmp_path / "a" / "http"):
        assert (tmp_path / "a" / "http").is_dir()
