"""verify._fetch.fetch: files fetched into the store with a real HttpSession and a local index."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex, sha256_file
from verify._fetch.fetch import Fetcher, FetchRequest, FetchResult, ProgressSink
from verify._fetch.store import ContentStore
from verify._index.session import HttpSession
from verify.models import ExpectedDigest


@dataclass
class RecordingProgress:
    """A ProgressSink that keeps every call."""

    started: list[tuple[str, int | None]] = field(default_factory=list)
    advanced: list[tuple[str, int]] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)

    def file_started(self, filename: str, total: int | None) -> None:
        self.started.append((filename, total))

    def file_advanced(self, filename: str, nbytes: int) -> None:
        self.advanced.append((filename, nbytes))

    def file_finished(self, filename: str) -> None:
        self.finished.append(filename)


@dataclass
class Setup:
    index: PackageIndex
    wheel: Path
    sha256: str
    store: ContentStore
    session: HttpSession

    def request(self, *expected: ExpectedDigest, size: int | None = None) -> FetchRequest:
        if not expected:
            expected = (ExpectedDigest("index", self.sha256),)
        return FetchRequest(
            filename=self.wheel.name,
            url=self.index.file_url(self.wheel.name),
            expected=expected,
            size=size,
        )

    def file_requests(self) -> int:
        return sum(1 for _method, path, _accept in self.index.requests_log if "/files/" in path)


@pytest.fixture
def setup(
    package_index: PackageIndex, dist_factory: DistFactory, tmp_path: Path
) -> Iterator[Setup]:
    # Big enough to arrive in several chunks of the session's reader.
    payload = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(20_000))
    wheel = dist_factory.wheel("demo", "1.0", files={"demo/blob.bin": payload})
    package_index.add(wheel)
    with HttpSession(retries=0, timeout=5) as session:
        yield Setup(
            package_index, wheel, sha256_file(wheel), ContentStore(tmp_path / "store"), session
        )


def test_download_is_verified_and_stored(setup: Setup) -> None:
    result = Fetcher(setup.session, setup.store).fetch(setup.request())
    assert result.error is None
    assert result.error_kind is None
    assert result.sha256 == setup.sha256
    assert result.digests == {"sha256": setup.sha256}
    assert result.size == setup.wheel.stat().st_size
    assert result.from_cache is False
    assert result.repaired is False
    assert result.path is not None
    assert result.path.read_bytes() == setup.wheel.read_bytes()
    assert result.path.name == setup.wheel.name
    assert setup.store.lookup(setup.sha256, setup.wheel.name).path == result.path
    assert setup.file_requests() == 1


def test_second_fetch_is_served_from_the_store(setup: Setup) -> None:
    fetcher = Fetcher(setup.session, setup.store)
    first = fetcher.fetch(setup.request())
    log_size = len(setup.index.requests_log)
    second = fetcher.fetch(setup.request())
    assert second.from_cache is True
    assert second.path == first.path
    assert second.sha256 == setup.sha256
    assert second.size == setup.wheel.stat().st_size
    assert len(setup.index.requests_log) == log_size


def test_store_hit_computes_extra_digests(setup: Setup) -> None:
    fetcher = Fetcher(setup.session, setup.store)
    fetcher.fetch(setup.request())
    md5 = hashlib.md5(setup.wheel.read_bytes()).hexdigest()  # noqa: S324
    result = fetcher.fetch(
        setup.request(ExpectedDigest("index", setup.sha256), ExpectedDigest("lock", md5, "md5"))
    )
    assert result.from_cache is True
    assert result.digests == {"sha256": setup.sha256, "md5": md5}


def test_corrupt_store_entry_is_repaired_by_downloading_again(setup: Setup) -> None:
    fetcher = Fetcher(setup.session, setup.store)
    first = fetcher.fetch(setup.request())
    assert first.path is not None
    first.path.write_bytes(b"bit rot")
    again = fetcher.fetch(setup.request())
    assert again.repaired is True
    assert again.from_cache is False
    assert again.path is not None
    assert again.path.read_bytes() == setup.wheel.read_bytes()
    assert setup.file_requests() == 2


def test_mismatching_bytes_are_not_stored(setup: Setup) -> None:
    evil = b"not the wheel the index advertised"
    setup.index.tamper(setup.wheel.name, evil)
    result = Fetcher(setup.session, setup.store).fetch(setup.request())
    assert result.path is None
    assert result.error is None
    assert result.sha256 == hashlib.sha256(evil).hexdigest()
    assert result.size == len(evil)
    assert setup.store.names(setup.sha256) == []
    assert setup.store.names(hashlib.sha256(evil).hexdigest()) == []
    assert list((setup.store.root / "tmp").glob("partial-*")) == []


def test_every_expected_digest_must_match(setup: Setup) -> None:
    result = Fetcher(setup.session, setup.store).fetch(
        setup.request(ExpectedDigest("index", setup.sha256), ExpectedDigest("lock", "0" * 64))
    )
    assert result.path is None
    assert result.from_cache is False
    assert result.sha256 == setup.sha256
    assert setup.store.names(setup.sha256) == []


def test_no_expected_digest_stores_under_the_actual_one(setup: Setup) -> None:
    result = Fetcher(setup.session, setup.store).fetch(
        FetchRequest(setup.wheel.name, url=setup.index.file_url(setup.wheel.name))
    )
    assert result.sha256 == setup.sha256
    assert result.path is not None
    assert setup.store.names(setup.sha256) == [setup.wheel.name]


def test_file_url_is_copied_into_the_store(setup: Setup) -> None:
    result = Fetcher(setup.session, setup.store).fetch(
        FetchRequest(
            setup.wheel.name,
            url=setup.wheel.as_uri(),
            expected=(ExpectedDigest("lock", setup.sha256),),
        )
    )
    assert result.error is None
    assert result.path is not None
    assert result.path.is_relative_to(setup.store.root)
    assert result.path.read_bytes() == setup.wheel.read_bytes()
    assert result.size == setup.wheel.stat().st_size
    assert setup.index.requests_log == []


def test_local_path_is_copied_into_the_store(setup: Setup) -> None:
    result = Fetcher(setup.session, setup.store).fetch(
        FetchRequest(setup.wheel.name, path=setup.wheel)
    )
    assert result.error is None
    assert result.sha256 == setup.sha256
    assert result.path is not None
    assert result.path != setup.wheel
    assert result.path.is_relative_to(setup.store.root)
    assert result.path.read_bytes() == setup.wheel.read_bytes()
    assert setup.index.requests_log == []


def test_local_mismatch_is_not_stored(setup: Setup, tmp_path: Path) -> None:
    other = tmp_path / setup.wheel.name
    other.write_bytes(b"other bytes")
    result = Fetcher(setup.session, setup.store).fetch(
        FetchRequest(other.name, path=other, expected=(ExpectedDigest("lock", setup.sha256),))
    )
    assert result.path is None
    assert result.sha256 == hashlib.sha256(b"other bytes").hexdigest()
    assert setup.store.names(setup.sha256) == []


def test_missing_local_path_is_an_input_error(setup: Setup, tmp_path: Path) -> None:
    missing = tmp_path / "gone-1.0-py3-none-any.whl"
    result = Fetcher(setup.session, setup.store).fetch(FetchRequest(missing.name, path=missing))
    assert result.error_kind == "input"
    assert result.error is not None
    assert str(missing) in result.error
    assert result.path is None


def test_request_without_url_or_path(setup: Setup) -> None:
    result = Fetcher(setup.session, setup.store).fetch(FetchRequest("x-1.0.tar.gz"))
    assert result.error_kind == "input"
    assert result.path is None


def test_remote_file_url_is_a_per_file_error(setup: Setup) -> None:
    # fetch() never raises for one file: a file:// URL naming another host is an input error.
    result = Fetcher(setup.session, setup.store).fetch(
        FetchRequest("x-1.0.tar.gz", url="file://fileserver/share/x-1.0.tar.gz")
    )
    assert result.path is None
    assert result.error_kind == "input"
    assert result.error is not None
    assert "fileserver" in result.error


def test_offline_without_a_cached_copy(tmp_path: Path, setup: Setup) -> None:
    with HttpSession(offline=True) as offline:
        result = Fetcher(offline, setup.store).fetch(setup.request())
    assert result.error_kind == "offline"
    assert result.error is not None
    assert setup.wheel.name in result.error
    assert result.path is None
    assert result.digests == {}
    assert setup.index.requests_log == []


def test_offline_with_a_cached_copy(setup: Setup) -> None:
    Fetcher(setup.session, setup.store).fetch(setup.request())
    log_size = len(setup.index.requests_log)
    with HttpSession(offline=True) as offline:
        result = Fetcher(offline, setup.store).fetch(setup.request())
    assert result.error is None
    assert result.from_cache is True
    assert result.path is not None
    assert len(setup.index.requests_log) == log_size


def test_offline_still_reads_local_files(setup: Setup) -> None:
    with HttpSession(offline=True) as offline:
        result = Fetcher(offline, setup.store).fetch(
            FetchRequest(setup.wheel.name, url=setup.wheel.as_uri())
        )
    assert result.error is None
    assert result.path is not None


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_network_failure_names_the_host(setup: Setup) -> None:
    port = closed_port()
    request = FetchRequest("demo-1.0-py3-none-any.whl", url=f"http://127.0.0.1:{port}/files/x.whl")
    result = Fetcher(setup.session, setup.store).fetch(request)
    assert result.error_kind == "network"
    assert result.error is not None
    assert f"127.0.0.1:{port}" in result.error
    assert result.path is None
    assert list((setup.store.root / "tmp").glob("partial-*")) == []


def test_http_error_is_a_network_error(setup: Setup) -> None:
    request = FetchRequest("gone-1.0.tar.gz", url=setup.index.file_url("gone-1.0.tar.gz"))
    result = Fetcher(setup.session, setup.store).fetch(request)
    assert result.error_kind == "network"
    assert result.error is not None
    assert "404" in result.error
    assert "127.0.0.1" in result.error


def test_progress_sink_sees_the_whole_download(setup: Setup) -> None:
    progress = RecordingProgress()
    sink: ProgressSink = progress
    size = setup.wheel.stat().st_size
    result = Fetcher(setup.session, setup.store, progress=sink).fetch(setup.request(size=size))
    assert result.path is not None
    assert progress.started == [(setup.wheel.name, size)]
    assert {name for name, _n in progress.advanced} == {setup.wheel.name}
    assert len(progress.advanced) > 1
    assert sum(n for _name, n in progress.advanced) == size
    assert progress.finished == [setup.wheel.name]


def test_progress_is_finished_on_cache_hits_and_failures(setup: Setup) -> None:
    progress = RecordingProgress()
    fetcher = Fetcher(setup.session, setup.store, progress=progress)
    fetcher.fetch(setup.request())
    progress.started.clear()
    progress.advanced.clear()
    progress.finished.clear()
    fetcher.fetch(setup.request())
    assert progress.started == []
    assert progress.finished == [setup.wheel.name]
    failed = FetchRequest("gone-1.0.tar.gz", url=setup.index.file_url("gone-1.0.tar.gz"))
    fetcher.fetch(failed)
    assert progress.finished == [setup.wheel.name, "gone-1.0.tar.gz"]


def test_fetch_all_keeps_the_order(setup: Setup, dist_factory: DistFactory) -> None:
    requests = [setup.request()]
    for version in ("2.0", "3.0", "4.0"):
        path = dist_factory.sdist("other", version)
        setup.index.add(path)
        requests.append(
            FetchRequest(
                path.name,
                url=setup.index.file_url(path.name),
                expected=(ExpectedDigest("index", sha256_file(path)),),
            )
        )
    requests.append(FetchRequest("missing-1.0.tar.gz", url=setup.index.file_url("missing")))
    results: list[FetchResult] = Fetcher(setup.session, setup.store, jobs=4).fetch_all(requests)
    assert [r.request for r in results] == requests
    assert all(r.path is not None for r in results[:-1])
    assert results[-1].error_kind == "network"
    assert Fetcher(setup.session, setup.store).fetch_all([]) == []
