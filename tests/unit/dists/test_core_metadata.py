"""verify._dist.core_metadata: a wheel's METADATA byte for byte, and the project URLs a
distribution names (wheel or sdist), or ``None`` when its metadata cannot be read."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.dists import DistSpec, build_sdist, build_wheel
from verify._dist.core_metadata import project_urls, wheel_core_metadata

URLS = {
    "Project-URL": ["Source, https://git.example/acme/acme", "Docs, https://docs.example/acme"],
    "Home-page": "https://acme.example/",
}


def test_a_wheel_and_an_sdist_name_their_project_urls(tmp_path: Path) -> None:
    wheel = build_wheel(DistSpec("acme", "1.0", metadata_extra=URLS), tmp_path)
    sdist = build_sdist(DistSpec("acme", "1.0", metadata_extra=URLS), tmp_path)
    expected = (
        "https://git.example/acme/acme",
        "https://docs.example/acme",
        "https://acme.example/",
    )
    assert project_urls(wheel) == expected
    assert project_urls(sdist) == expected
    metadata = wheel_core_metadata(wheel)
    assert metadata is not None
    assert b"Name: acme" in metadata


def test_no_urls_and_unreadable_metadata_differ(tmp_path: Path) -> None:
    assert project_urls(build_wheel(DistSpec("bare", "1.0"), tmp_path)) == ()
    broken = tmp_path / "broken-1.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    assert project_urls(broken) is None
    assert wheel_core_metadata(broken) is None
    assert project_urls(tmp_path / "absent-1.0.tar.gz") is None
