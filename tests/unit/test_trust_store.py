"""The trust store file under concurrent checks: every first-seen record survives."""

from __future__ import annotations

import threading
from pathlib import Path

from packaging.utils import canonicalize_name

from verify._provenance.identity import PublisherIdentity, PublisherKind
from verify.trust_store import TrustStore


def _identity(repository: str) -> PublisherIdentity:
    return PublisherIdentity(
        kind=PublisherKind.GITHUB,
        issuer="https://token.actions.example",
        repository=repository,
        workflow="release.yml",
    )


def test_parallel_checks_each_keep_their_first_seen_record(tmp_path: Path) -> None:
    path = tmp_path / "trust.toml"
    names = [f"pkg-{i}" for i in range(12)]
    start = threading.Barrier(len(names))

    def check(name: str) -> None:
        # Each check loads the store before any other has saved, as concurrent uploads do.
        store = TrustStore.load(path)
        store.record_first_seen(name, _identity(f"acme/{name}"), "1.0")
        start.wait()
        store.save_recorded([canonicalize_name(name)])

    threads = [threading.Thread(target=check, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    saved = TrustStore.load(path)
    assert sorted(saved.entries) == sorted(names)
    entry = saved.get("pkg-3")
    assert entry is not None
    assert entry.identity.repository == "acme/pkg-3"


def test_a_record_made_first_elsewhere_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "trust.toml"
    late = TrustStore.load(path)
    first = TrustStore.load(path)
    first.record_first_seen("demo", _identity("acme/demo"), "1.0")
    first.save_recorded([canonicalize_name("demo")])
    late.record_first_seen("demo", _identity("mallory/demo"), "1.1")
    late.save_recorded([canonicalize_name("demo")])
    entry = TrustStore.load(path).get("demo")
    assert entry is not None
    assert entry.identity.repository == "acme/demo"
