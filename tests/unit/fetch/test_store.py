"""verify._fetch.store: the content-addressed store of distribution files."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from verify._fetch.store import ContentStore, Lookup, hash_file
from verify.errors import CacheError

DATA = b"wheel bytes " * 1000
SHA = hashlib.sha256(DATA).hexdigest()
NAME = "demo-1.0-py3-none-any.whl"


def put(store: ContentStore, data: bytes, filename: str, sha256: str | None = None) -> Path:
    with store.incoming() as (tmp, stream):
        stream.write(data)
        stream.close()
        return store.commit(tmp, sha256 or hashlib.sha256(data).hexdigest(), filename)


def leftovers(store: ContentStore) -> list[Path]:
    tmp = store.root / "tmp"
    return sorted(tmp.iterdir()) if tmp.is_dir() else []


def test_hash_file_several_algorithms_in_one_pass(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(DATA)
    assert hash_file(path) == {"sha256": SHA}
    assert hash_file(path, ("sha256", "md5", "sha512")) == {
        "sha256": SHA,
        "md5": hashlib.md5(DATA).hexdigest(),  # noqa: S324
        "sha512": hashlib.sha512(DATA).hexdigest(),
    }


def test_commit_and_lookup(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    path = put(store, DATA, NAME)
    assert path == tmp_path / "cache" / "sha256" / SHA[:2] / SHA / NAME
    assert path.read_bytes() == DATA
    assert store.lookup(SHA, NAME) == Lookup(path)
    assert store.names(SHA) == [NAME]
    assert leftovers(store) == []


def test_lookup_of_an_unknown_digest(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    assert store.lookup(SHA, NAME) == Lookup(None, corrupt=False)
    assert store.names(SHA) == []
    assert not (tmp_path / "cache" / "sha256").exists()


def test_lookup_rehashes_and_removes_a_corrupt_entry(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    path = put(store, DATA, NAME)
    path.write_bytes(b"flipped bits" + DATA[12:])
    found = store.lookup(SHA, NAME)
    assert found.path is None
    assert found.corrupt is True
    assert not path.exists()
    assert not path.parent.exists()
    assert store.names(SHA) == []
    # Once removed, the entry is simply missing (not corrupt) until it is filled again.
    assert store.lookup(SHA, NAME) == Lookup(None, corrupt=False)
    again = put(store, DATA, NAME)
    assert store.lookup(SHA, NAME) == Lookup(again)


def test_truncated_entry_is_corrupt(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    path = put(store, DATA, NAME)
    path.write_bytes(b"")
    assert store.lookup(SHA, NAME).corrupt is True


def test_same_bytes_under_another_name_are_linked(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    first = put(store, DATA, NAME)
    other = "Demo-1.0-py3-none-any.whl"
    found = store.lookup(SHA, other)
    assert found.path is not None
    assert found.path.name == other
    assert found.path.parent == first.parent
    assert found.path.read_bytes() == DATA
    assert found.corrupt is False
    assert store.names(SHA) == sorted([NAME, other])
    assert leftovers(store) == []


def test_linking_from_a_corrupt_sibling_reports_corruption(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    first = put(store, DATA, NAME)
    first.write_bytes(b"tampered")
    found = store.lookup(SHA, "other-1.0.tar.gz")
    assert found == Lookup(None, corrupt=True)
    assert store.names(SHA) == []


def test_names_lists_every_filename(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    put(store, DATA, "b.whl")
    put(store, DATA, "a.whl")
    assert store.names(SHA) == ["a.whl", "b.whl"]
    assert store.names("0" * 64) == []


def test_commit_replaces_an_existing_entry(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    put(store, DATA, NAME)
    path = put(store, DATA, NAME)
    assert path.read_bytes() == DATA
    assert store.names(SHA) == [NAME]


@pytest.mark.parametrize(
    "filename",
    ["../x.whl", "..", ".", "", "a/b.whl", "a\\b.whl", "x\0.whl", ".hidden.whl", "/abs.whl"],
)
def test_unsafe_filenames_are_refused(tmp_path: Path, filename: str) -> None:
    store = ContentStore(tmp_path / "cache")
    with pytest.raises(CacheError, match="refusing to store"):
        store.lookup(SHA, filename)
    with store.incoming() as (tmp, stream):
        stream.write(DATA)
        stream.close()
        with pytest.raises(CacheError, match="refusing to store"):
            store.commit(tmp, SHA, filename)
    assert not (tmp_path / "x.whl").exists()
    assert not (tmp_path / "cache" / "x.whl").exists()
    assert store.names(SHA) == []
    assert leftovers(store) == []


@pytest.mark.parametrize(
    "digest",
    ["g" * 64, SHA.upper(), SHA[:63], SHA + "0", "", "../" + SHA[3:], "sha256:" + SHA[7:]],
)
def test_non_hex_digest_is_refused(tmp_path: Path, digest: str) -> None:
    store = ContentStore(tmp_path / "cache")
    with pytest.raises(CacheError, match="not a sha256 digest"):
        store.lookup(digest, NAME)
    with pytest.raises(CacheError, match="not a sha256 digest"):
        store.names(digest)
    with store.incoming() as (tmp, stream):
        stream.write(DATA)
        stream.close()
        with pytest.raises(CacheError, match="not a sha256 digest"):
            store.commit(tmp, digest, NAME)
    assert not (tmp_path / "cache" / "sha256").exists()


def test_incoming_file_is_removed_when_not_committed(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    with store.incoming() as (tmp, stream):
        stream.write(DATA)
        assert tmp.parent == tmp_path / "cache" / "tmp"
        assert tmp.name.startswith("partial-")
    assert not tmp.exists()
    assert leftovers(store) == []


def test_incoming_file_is_removed_on_error(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")

    def interrupted() -> None:
        with store.incoming() as (_tmp, stream):
            stream.write(DATA)
            raise RuntimeError("download failed")

    with pytest.raises(RuntimeError, match="download failed"):
        interrupted()
    assert leftovers(store) == []


def test_concurrent_commits_of_the_same_digest(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    paths: list[Path] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            with store.incoming() as (tmp, stream):
                for offset in range(0, len(DATA), 997):
                    stream.write(DATA[offset : offset + 997])
                stream.close()
                barrier.wait(timeout=10)
                path = store.commit(tmp, SHA, NAME)
            with lock:
                paths.append(path)
        except BaseException as exc:  # collected and asserted below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(paths) == 8
    assert len(set(paths)) == 1
    entry = paths[0].parent
    assert [p.name for p in entry.iterdir()] == [NAME]
    assert paths[0].read_bytes() == DATA
    assert store.lookup(SHA, NAME) == Lookup(paths[0])
    assert list((tmp_path / "cache" / "tmp").glob("partial-*")) == []


def test_concurrent_lookups_linking_a_new_name(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    put(store, DATA, NAME)
    results: list[Lookup] = []
    lock = threading.Lock()

    def worker() -> None:
        found = store.lookup(SHA, "other.whl")
        with lock:
            results.append(found)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 8
    assert all(r.path is not None and r.path.read_bytes() == DATA for r in results)
    assert store.names(SHA) == sorted([NAME, "other.whl"])
    assert leftovers(store) == []


def blocked_root(tmp_path: Path) -> Path:
    # A regular file where a directory must be: unwritable even for root.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("in the way")
    return blocker / "cache"


def test_unwritable_cache_dir_on_incoming(tmp_path: Path) -> None:
    store = ContentStore(blocked_root(tmp_path))
    with pytest.raises(CacheError) as info, store.incoming():
        pass
    assert "not-a-dir" in info.value.message
    assert info.value.hint is not None
    assert "--cache-dir" in info.value.hint


def test_unwritable_cache_dir_on_commit(tmp_path: Path) -> None:
    good = ContentStore(tmp_path / "good")
    bad = ContentStore(blocked_root(tmp_path))
    with good.incoming() as (tmp, stream):
        stream.write(DATA)
        stream.close()
        with pytest.raises(CacheError) as info:
            bad.commit(tmp, SHA, NAME)
    assert info.value.hint is not None
    assert "--cache-dir" in info.value.hint
    assert bad.lookup(SHA, NAME) == Lookup(None)
    assert bad.names(SHA) == []


def test_unwritable_entry_when_linking(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "cache")
    put(store, DATA, NAME)
    tmp_dir = tmp_path / "cache" / "tmp"
    tmp_dir.rmdir()
    tmp_dir.write_text("in the way")
    with pytest.raises(CacheError) as info:
        store.lookup(SHA, "other.whl")
    assert info.value.hint is not None
    assert "--cache-dir" in info.value.hint
