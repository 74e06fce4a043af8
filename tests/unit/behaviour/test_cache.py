"""verify._behaviour.cache: a cache it cannot use is no cache, never an error."""

from __future__ import annotations

from pathlib import Path

from verify._behaviour.cache import DiffCache


def test_a_cache_root_that_is_a_file_reads_as_empty(tmp_path: Path) -> None:
    root = tmp_path / "behaviour"
    root.write_text("", encoding="utf-8")
    assert DiffCache(root).get("a" * 64, "b" * 64, "previous release") is None
    assert root.read_text(encoding="utf-8") == ""


def test_an_unreadable_entry_is_removed(tmp_path: Path) -> None:
    cache = DiffCache(tmp_path)
    entry = cache._path("a" * 64, None, "first release")
    entry.parent.mkdir(parents=True)
    entry.write_text("{", encoding="utf-8")
    assert cache.get("a" * 64, None, "first release") is None
    assert not entry.exists()
