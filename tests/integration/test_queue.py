"""Screening on the queue: real ``pip-verify worker`` processes and a real ``redis-server``.

Two workers start once for the module (they take a few seconds); each test builds its own
distribution files, so verdicts and counters from one test do not decide another's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.helpers import assert_no_traceback
from tests.helpers.corpus import BASE, MALICIOUS
from tests.helpers.dists import DistSpec, build_wheel
from tests.helpers.policies import without_provenance_requirement
from tests.helpers.pypiserver import free_port
from tests.helpers.redis import RedisServer
from verify._cli import main
from verify._upload.queue import (
    QUEUE_NAME,
    STAT_ANALYSED,
    STAT_CACHE_HITS,
    TASK_NAME,
    QueueScreener,
    job_key,
    make_app,
)
from verify._upload.queue_jobs import encode_job as _encode_job
from verify._upload.queue_jobs import read_job as _read_job
from verify._upload.verdict import Outcome, Verdict
from verify.errors import IncompleteError, UsageError

pytestmark = pytest.mark.integration

WORKER_NAMES = ("queue-test-1@localhost", "queue-test-2@localhost")
READY_TIMEOUT = 30.0


@dataclass
class Worker:
    """A ``pip-verify worker`` subprocess and the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def terminate(self) -> None:
        """Ask for a warm shutdown (the job in progress finishes first)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        """Terminate, then kill if the worker is still there after 15 s; the exit code."""
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _worker_env(home: Path, shared: Path) -> dict[str, str]:
    """The environment a worker runs in: no pip configuration, HOME and XDG directories of
    its own, and the empty offline vulnerability database in ``shared`` (conftest.py's
    fixtures are per test, and these workers live for the whole module)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    for key in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        (home / key.lower()).mkdir(parents=True, exist_ok=True)
        env[key] = str(home / key.lower())
    env["PIP_VERIFY_VULNERABILITY_DB"] = str(shared / "osv")
    env.pop("PIP_VERIFY_OSV_URL", None)
    return env


def _start_worker(broker_url: str, name: str, root: Path) -> Worker:
    """Start a worker whose own files are under ``root/name``; workers started with the same
    ``root`` share a configuration (policy, trust store, vulnerability database), hence
    verdicts, while each keeps its own cache directory."""
    home = root / name.partition("@")[0]
    home.mkdir(parents=True)
    (root / "osv").mkdir(exist_ok=True)
    log = home / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "verify",
                "worker",
                "--broker",
                broker_url,
                "--name",
                name,
                "--concurrency",
                "1",
                "--no-public-check",
                "--policy",
                str(without_provenance_requirement()),
                "--cache-dir",
                str(home / "cache"),
                "--trust-store",
                str(root / "trust.toml"),
                "--vulnerability-db",
                str(root / "osv"),
                "--retries",
                "0",
            ],
            cwd=home,
            env=_worker_env(home, root),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Worker(name, process, log)


def _wait_ready(workers: list[Worker]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    waiting = list(workers)
    while waiting and time.monotonic() < deadline:
        for worker in list(waiting):
            if worker.process.poll() is not None:
                pytest.fail(f"worker {worker.name} exited early:\n{worker.output()[-3000:]}")
            if f"{worker.name} ready." in worker.output():
                waiting.remove(worker)
        time.sleep(0.1)
    if waiting:
        pytest.fail(f"worker {waiting[0].name} not ready:\n{waiting[0].output()[-3000:]}")


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def workers(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Worker]]:
    root = tmp_path_factory.mktemp("workers")
    started: list[Worker] = []
    try:
        started.extend(_start_worker(redis_server.url(), name, root) for name in WORKER_NAMES)
        _wait_ready(started)
        yield started
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.stop()


@pytest.fixture
def screener(redis_server: RedisServer, workers: list[Worker]) -> Iterator[QueueScreener]:
    with QueueScreener(redis_server.url(), timeout=60) as queue:
        yield queue


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url())
    yield client
    client.close()


def _count(store: redis.Redis, key: str) -> int:
    value = store.get(key)
    return int(value) if value is not None else 0


def _variant(variant_id: str) -> Any:
    return next(v for v in MALICIOUS if v.id == variant_id)


def _reason_rules(report_json: str) -> set[str]:
    report = json.loads(report_json)
    return {r["rule"] for p in report["packages"] for r in p["reasons"]}


def test_a_clean_wheel_is_accepted(screener: QueueScreener, tmp_path: Path) -> None:
    wheel = build_wheel(BASE, tmp_path)
    verdict = screener.screen(wheel)
    assert verdict.outcome is Outcome.ACCEPT, verdict.reason
    assert verdict.exit_code == 0
    assert verdict.reason.startswith(f"pip-verify accepted {wheel.name}")
    assert json.loads(verdict.report_json)["decision"] in ("allow", "warn")


def test_a_wheel_that_adds_a_pth_file_is_refused(screener: QueueScreener, tmp_path: Path) -> None:
    wheel = build_wheel(_variant("pth-file").build(), tmp_path)
    verdict = screener.screen(wheel)
    assert verdict.outcome is Outcome.REFUSE, verdict.reason
    assert verdict.exit_code == 1
    assert verdict.reason.startswith(f"pip-verify refused {wheel.name}: ")
    assert "pth-exec" in verdict.reason
    assert "pth-exec" in _reason_rules(verdict.report_json)


def test_a_file_that_is_not_an_archive_is_refused_with_exit_code_2(
    screener: QueueScreener, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus-1.0-py3-none-any.whl"
    bogus.write_bytes(b"not a zip archive")
    verdict = screener.screen(bogus)
    assert verdict.outcome is Outcome.REFUSE
    assert verdict.exit_code == 2
    assert verdict.reason == (
        f"pip-verify refused {bogus.name}: not a zip archive (File is not a zip file)"
    )
    assert verdict.report_json == "{}"


def test_the_same_file_is_analysed_once(
    screener: QueueScreener, store: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    wheel = build_wheel(DistSpec("queue-cached", "1.0"), tmp_path / "first")
    first = screener.screen(wheel)
    assert first.outcome is Outcome.ACCEPT, first.reason
    analysed, hits = _count(store, STAT_ANALYSED), _count(store, STAT_CACHE_HITS)

    # The same bytes elsewhere: a new job, which a worker answers from the verdicts that
    # workers share, without analysing the file again.
    copy = tmp_path / "second" / wheel.name
    copy.parent.mkdir()
    shutil.copyfile(wheel, copy)
    assert job_key(copy) == job_key(wheel)
    assert screener.screen(copy) == first
    assert _count(store, STAT_ANALYSED) == analysed
    assert _count(store, STAT_CACHE_HITS) == hits + 1
    # Celery's copies of the results are dropped once read: the shared verdict is the cache.
    assert not store.keys("celery-task-meta-pip-verify-screen-*")
    # Both workers have the same configuration, so there is one shared verdict.
    assert len(store.keys(f"pip-verify:verdict:{job_key(wheel)}:*")) == 1


def test_two_workers_given_the_same_job_analyse_it_once(
    workers: list[Worker], store: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    # Two messages for one job (two gates that both found no result): each idle worker
    # takes one, one analyses under the job's lock, the other reuses its verdict.
    wheel = build_wheel(DistSpec("queue-twice", "1.0"), tmp_path)
    analysed, hits = _count(store, STAT_ANALYSED), _count(store, STAT_CACHE_HITS)
    payload = _encode_job(*_read_job(wheel))
    app = make_app(redis_server.url())
    try:
        results = [
            app.send_task(TASK_NAME, args=[payload], task_id=f"queue-twice-{i}", queue=QUEUE_NAME)
            for i in range(2)
        ]
        first, second = (result.get(timeout=60) for result in results)
    finally:
        app.close()
    assert first == second
    assert Verdict.from_dict(first).outcome is Outcome.ACCEPT
    assert _count(store, STAT_ANALYSED) == analysed + 1
    assert _count(store, STAT_CACHE_HITS) == hits + 1


def test_attestations_are_part_of_the_job(tmp_path: Path) -> None:
    wheel = build_wheel(DistSpec("queue-keyed", "1.0"), tmp_path)
    bare = job_key(wheel)
    attestation = tmp_path / f"{wheel.name}.publish.attestation"
    attestation.write_text("{}", encoding="utf-8")
    (tmp_path / "unrelated.attestation").write_text("{}", encoding="utf-8")
    attested = job_key(wheel)
    assert attested != bare
    attestation.write_text('{"changed": true}', encoding="utf-8")
    assert job_key(wheel) not in (bare, attested)


def test_concurrent_uploads_are_shared_between_workers(
    screener: QueueScreener, store: redis.Redis, tmp_path: Path
) -> None:
    wheels = [build_wheel(DistSpec(f"queue-load-{i}", "1.0"), tmp_path) for i in range(6)]
    per_worker = {name: f"pip-verify:stats:worker:{name}" for name in WORKER_NAMES}
    before = {name: _count(store, key) for name, key in per_worker.items()}
    analysed = _count(store, STAT_ANALYSED)
    with ThreadPoolExecutor(max_workers=len(wheels)) as pool:
        verdicts = list(pool.map(screener.screen, wheels))
    assert [v.outcome for v in verdicts] == [Outcome.ACCEPT] * len(wheels)
    assert [v.reason.split()[2] for v in verdicts] == [w.name for w in wheels]
    done = {name: _count(store, key) - before[name] for name, key in per_worker.items()}
    assert sum(done.values()) == len(wheels)
    assert all(count >= 1 for count in done.values()), done
    assert _count(store, STAT_ANALYSED) == analysed + len(wheels)


def test_no_worker_means_incomplete_within_the_timeout(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    wheel = build_wheel(DistSpec("queue-unanswered", "1.0"), tmp_path)
    started = time.monotonic()
    # Database 1 of the same server: a queue no worker consumes.
    with (
        QueueScreener(redis_server.url(1), timeout=2) as queue,
        pytest.raises(IncompleteError) as raised,
    ):
        queue.screen(wheel)
    assert time.monotonic() - started < 10
    assert raised.value.message == "no screening worker answered within 2 s"
    assert raised.value.hint is not None
    assert "pip-verify worker --broker" in raised.value.hint


def test_an_unreachable_broker_is_incomplete_in_one_line(tmp_path: Path) -> None:
    wheel = build_wheel(DistSpec("queue-unreachable", "1.0"), tmp_path)
    url = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    with QueueScreener(url, timeout=30) as queue, pytest.raises(IncompleteError) as raised:
        queue.screen(wheel)
    assert time.monotonic() - started < 15
    message = raised.value.one_line()
    assert message.startswith(f"cannot reach the screening queue at {url}: ")
    assert "\n" not in message
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_a_worker_exits_3_when_redis_cannot_be_reached(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    assert main(["worker", "--broker", url, "--no-public-check"]) == 3
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    assert "cannot reach the screening queue" in captured.err


def test_a_worker_stops_cleanly_on_sigterm(redis_server: RedisServer, tmp_path: Path) -> None:
    worker = _start_worker(redis_server.url(2), "queue-test-stop@localhost", tmp_path)
    try:
        _wait_ready([worker])
    finally:
        code = worker.stop()
    assert code == 0, worker.output()
    assert_no_traceback(worker.output())


def test_queue_mode_without_the_extra_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "celery", None)
    with pytest.raises(UsageError, match=r"pip install 'pip-verify\[queue\]'"):
        QueueScreener("redis://127.0.0.1:6379/0")


def test_a_broker_url_that_is_not_redis_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unsupported broker URL"):
        QueueScreener("amqp://guest:secret@127.0.0.1:5672//")


def test_the_gate_screens_on_the_workers(
    workers: list[Worker], redis_server: RedisServer, store: redis.Redis, tmp_path: Path
) -> None:
    # The whole path: twine-like uploads to a gate started with --broker, the two workers
    # screen, the gate forwards to a real pypiserver or refuses and quarantines.
    from tests.helpers.gate import GateProcess, post_upload, write_htpasswd
    from tests.helpers.pypiserver import PypiServer

    packages = tmp_path / "packages"
    htpasswd = write_htpasswd(tmp_path / "htpasswd", "uploader", "secret")
    clean = build_wheel(DistSpec("queue-gate-clean", "1.0"), tmp_path / "dist")
    hooked = build_wheel(_variant("pth-file").build(), tmp_path / "dist")
    answered = _count(store, STAT_ANALYSED) + _count(store, STAT_CACHE_HITS)
    with PypiServer(packages, extra_args=("-P", str(htpasswd), "-a", "update")) as upstream:
        gate = GateProcess(
            "--upstream",
            f"http://127.0.0.1:{upstream.port}/",
            "--quarantine",
            str(tmp_path / "quarantine"),
            "--broker",
            redis_server.url(),
            "--queue-timeout",
            "60",
            "--no-public-check",
            "--cache-dir",
            str(tmp_path / "gate-cache"),
        )
        with gate:
            accepted = post_upload(gate.url, clean)
            refused = post_upload(gate.url, hooked)
            decisions = gate.wait_for_decisions(2)
        published = {p.name for p in packages.iterdir()}
    assert accepted.status_code == 200, accepted.text
    assert refused.status_code == 403
    assert "pth-exec" in refused.reason
    assert published == {clean.name}
    assert [d["decision"] for d in decisions] == ["accepted", "refused"]
    # Both verdicts came from the workers (analysed, or from the verdicts they share).
    assert _count(store, STAT_ANALYSED) + _count(store, STAT_CACHE_HITS) == answered + 2
    assert len([p for p in (tmp_path / "quarantine").iterdir() if not p.name.startswith(".")]) == 1


def test_the_verdict_cache_key_follows_the_policy_and_the_trust_store(tmp_path: Path) -> None:
    from verify._upload.queue import config_digest
    from verify.screen import ScreenSettings
    from verify.settings import VerificationSettings

    policy = tmp_path / "policy.toml"
    policy.write_text('extends = "default"\n')
    store = tmp_path / "trust.toml"
    settings = ScreenSettings(
        files=(), verification=VerificationSettings(policy_path=policy, trust_store=store)
    )
    before = config_digest(settings)
    assert config_digest(settings) == before
    store.write_text("version = 1\n")  # an admin accepted or pinned a publisher
    with_store = config_digest(settings)
    assert with_store != before
    policy.write_text('extends = "strict"\n')
    assert config_digest(settings) not in (before, with_store)
