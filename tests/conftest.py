"""Shared fixtures: an isolated pip environment, distribution builders, a local index."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from tests.helpers import DistFactory, PackageIndex


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="rewrite tests/data/snapshots from the current output (review the diff)",
    )


@pytest.fixture(autouse=True)
def isolated_pip_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Keep pip and every cache away from the user's configuration and caches.

    Removes all ``PIP_*`` variables, points ``PIP_CONFIG_FILE`` at the null device and
    moves HOME/XDG (and Windows app-data) directories into a per-test temporary
    directory (separate from ``tmp_path``, so tests can list ``tmp_path`` freely).
    """
    for key in list(os.environ):
        if key.upper().startswith("PIP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    root = tmp_path_factory.mktemp("env")
    dirs = {
        "HOME": root / "home",
        "XDG_CACHE_HOME": root / "cache",
        "XDG_CONFIG_HOME": root / "config",
        "XDG_DATA_HOME": root / "data",
        "XDG_STATE_HOME": root / "state",
    }
    if sys.platform == "win32":
        dirs |= {"USERPROFILE": root / "home", "LOCALAPPDATA": root / "localappdata"}
        dirs |= {"APPDATA": root / "appdata"}
    for key, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(key, str(path))
    # Known vulnerabilities come from an empty offline OSV database unless a test says
    # otherwise: the public service is never reachable from tests.
    osv = root / "osv"
    osv.mkdir()
    monkeypatch.setenv("PIP_VERIFY_VULNERABILITY_DB", str(osv))
    monkeypatch.delenv("PIP_VERIFY_OSV_URL", raising=False)
    # Commands write files into the working directory (the trust store): keep it private.
    work = root / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def dist_factory(tmp_path_factory: pytest.TempPathFactory) -> DistFactory:
    """Builds wheels/sdists into a fresh temporary directory (``dist_factory.dest``)."""
    return DistFactory(tmp_path_factory.mktemp("dists"))


@pytest.fixture
def package_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    """A running :class:`PackageIndex` on 127.0.0.1 serving an empty temporary directory."""
    with PackageIndex(tmp_path_factory.mktemp("index")) as index:
        yield index
