"""Verdicts and reviewers' decisions kept in a real Redis (started here, skipped without
redis-server), as proxies on one broker share them; and what a Redis that cannot be reached
does to each: reads as nothing (fail closed), a decision that cannot be kept raises."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone

import pytest

from tests.helpers.redis import RedisServer
from verify._proxy.verdicts import FileVerdict, RedisVerdicts
from verify._serve.decisions import Action, Decision, RedisDecisions

pytest.importorskip("redis", reason="redis is not installed (it is in the test extra)")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with RedisServer() as server:
        yield server.url()


def verdict(sha: str = "a" * 64, *, allowed: bool = False) -> FileVerdict:
    return FileVerdict(
        sha256=sha,
        filename="acme-1.1-py3-none-any.whl",
        project="acme",
        version="1.1",
        allowed=allowed,
        reason="pip-verify denied acme-1.1-py3-none-any.whl: pth-exec",
        rules=("pth-exec",),
        judged_at=datetime.now(timezone.utc),
        severity="critical",
        metadata_sha256="b" * 64,
    )


def test_verdicts_are_shared_under_one_digest(redis_url: str) -> None:
    store = RedisVerdicts(redis_url, "1" * 64)
    other = RedisVerdicts(redis_url, "2" * 64)
    kept = verdict()
    store.put(kept, '{"packages": []}')
    assert RedisVerdicts(redis_url, "1" * 64).get(kept.sha256) == kept
    assert store.report(kept.sha256) == '{"packages": []}'
    assert [v.sha256 for v in store.all()] == [kept.sha256]
    assert other.get(kept.sha256) is None  # another policy: another digest
    assert store.get("c" * 64) is None


def test_decisions_are_shared_and_the_latest_counts(redis_url: str) -> None:
    log = RedisDecisions(redis_url)
    now = datetime.now(timezone.utc)
    allow = Decision("d" * 64, "acme.whl", Action.ALLOW, "reviewed", "alice", now)
    log.record(allow)
    assert RedisDecisions(redis_url).allowed("d" * 64, date.today()) == allow
    log.record(Decision("d" * 64, "acme.whl", Action.KEEP_BLOCKED, "no", "bob", now))
    assert log.allowed("d" * 64, date.today()) is None
    assert [d.by for d in log.history("d" * 64)] == ["alice", "bob"]


def test_an_unreachable_redis_fails_closed() -> None:
    verdicts = RedisVerdicts("redis://127.0.0.1:1/0", "1" * 64)
    assert verdicts.get("a" * 64) is None
    assert verdicts.report("a" * 64) is None
    assert list(verdicts.all()) == []
    verdicts.put(verdict(), "{}")  # logged, not raised: sharing saves work, it never decides
    decisions = RedisDecisions("redis://127.0.0.1:1/0")
    assert decisions.allowed("a" * 64, date.today()) is None
    assert decisions.history("a" * 64) == []
    with pytest.raises(OSError, match="Redis did not keep the decision"):
        decisions.record(
            Decision("a" * 64, "x.whl", Action.ALLOW, "r", "alice", datetime.now(timezone.utc))
        )
