"""The streaming verification pipeline fails closed in every stage (issue 14).

Each check here verifies several packages from a hashed requirements file on a loopback
index, so the packages move through the pipeline side by side and the behaviour diff runs
in worker processes. A failure in one stage, for one package, must still end the check
with exit 3 and nothing allowed, while the other packages are verified in full.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import multiprocessing
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PackageIndex
from tests.helpers.cli import check_json, check_run
from tests.helpers.corpus import BASE, BENIGN
from tests.helpers.dists import DistSpec, build_wheel
from tests.helpers.policies import without_provenance_requirement
from verify._behaviour.diff import BehaviourDiff
from verify._behaviour.review import diff_here
from verify._behaviour.workers import AnalysisPool, usable_cores

#: A benign 1.1 of tinyweb, diffed against 1.0.
FEATURE = next(variant for variant in BENIGN if variant.id == "feature").build()


def _publish(index: PackageIndex, tmp_path: Path) -> Path:
    """Publish tinyweb 1.0 and 1.1 (1.0 is 1.1's baseline), certifi and idna; return a
    requirements file pinning tinyweb 1.1, certifi and idna by hash."""
    lines = []
    for spec in (DistSpec("certifi", "2024.1"), DistSpec("idna", "3.7"), BASE, FEATURE):
        wheel = build_wheel(spec, tmp_path / "dists")
        index.add(wheel)
        if spec is not BASE:
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            lines.append(f"{spec.name}=={spec.version} --hash=sha256:{digest}")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return requirements


def _check_lock(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    index: PackageIndex,
    requirements: Path,
    *extra: str,
) -> tuple[int, dict[str, Any]]:
    return check_json(
        capsys,
        tmp_path,
        "-r",
        str(requirements),
        "-i",
        index.url,
        "--retries",
        "0",
        *extra,
        policy=without_provenance_requirement(),
    )


def _check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, index: PackageIndex
) -> tuple[int, dict[str, dict[str, object]], dict[str, object]]:
    code, report = _check_lock(capsys, tmp_path, index, _publish(index, tmp_path))
    packages = {str(p["name"]): p for p in report["packages"]}
    return code, packages, report


def test_the_pipeline_verifies_every_package(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex
) -> None:
    # The baseline for the failures below: with nothing failing, every package is allowed
    # and diffed.
    code, packages, report = _check(capsys, tmp_path, package_index)
    assert code == 0
    assert report["decision"] == "allow"
    assert sorted(packages) == ["certifi", "idna", "tinyweb"]
    tinyweb = packages["tinyweb"]
    assert tinyweb["behaviour"][0]["baseline"] == "tinyweb-1.0-py3-none-any.whl"  # type: ignore[index]


def test_a_page_that_fails_mid_run_fails_closed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex
) -> None:
    package_index.failing_pages["idna"] = 500
    code, packages, report = _check(capsys, tmp_path, package_index)
    assert code == 3
    assert report["decision"] == "deny"
    assert packages["idna"]["decision"] == "deny"
    assert any("idna" in str(error) for error in report["errors"])  # type: ignore[attr-defined]
    # The other packages went on without waiting for it, and were verified in full.
    for name in ("certifi", "tinyweb"):
        assert packages[name]["behaviour"], name
        assert all(f["hash_status"] == "verified" for f in packages[name]["files"])  # type: ignore[attr-defined]


def test_a_baseline_that_cannot_be_fetched_fails_closed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex
) -> None:
    # What a missing baseline decides is the policy's behaviour on-error; where it denies,
    # the check cannot complete. The baseline's bytes no longer match the index's digest.
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'extends = "{without_provenance_requirement()}"\n[rules.behaviour]\non-error = "deny"\n',
        encoding="utf-8",
    )
    requirements = _publish(package_index, tmp_path)
    package_index.tamper("tinyweb-1.0-py3-none-any.whl", b"PK\x05\x06" + b"\0" * 18)
    code, report = check_json(
        capsys, tmp_path, "-r", str(requirements), "-i", package_index.url, policy=policy
    )
    assert code == 3
    assert report["decision"] == "deny"
    tinyweb = next(p for p in report["packages"] if p["name"] == "tinyweb")
    (reason,) = [r for r in tinyweb["reasons"] if r["rule"] == "behaviour"]
    assert (reason["decision"], reason["unchecked"]) == ("deny", True)
    assert "tinyweb-1.0-py3-none-any.whl could not be fetched" in reason["message"]


@pytest.mark.skipif(
    usable_cores() < 2, reason="the analysis runs in worker processes only on 2+ cores"
)
def test_a_worker_process_that_dies_fails_closed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    package_index: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    diff = AnalysisPool.diff
    killed = threading.Lock()

    def diff_after_kill(pool: AnalysisPool, *args: Any) -> BehaviourDiff:
        # The pool's real worker processes are started, then killed as a hostile file or
        # the out-of-memory killer would kill them, before the first diff reaches them.
        if killed.acquire(blocking=False):
            pool.start()
            workers = multiprocessing.active_children()
            assert workers, "the pool started no worker process"
            for worker in workers:
                # Once one worker dies the pool stops the others itself, so a later one may
                # already be gone.
                if worker.pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(worker.pid, signal.SIGKILL)
                worker.join(timeout=30)
        return diff(pool, *args)

    monkeypatch.setattr(AnalysisPool, "diff", diff_after_kill)
    requirements = _publish(package_index, tmp_path)
    run = check_run(
        capsys,
        tmp_path,
        "-r",
        str(requirements),
        "-i",
        package_index.url,
        "--retries",
        "0",
        policy=without_provenance_requirement(),
    )
    assert run.report, run.err
    report = json.loads(run.report)
    assert run.code == 3, run.err
    assert report["decision"] == "deny"
    stopped = [
        reason
        for package in report["packages"]
        for reason in package["reasons"]
        if reason["rule"] == "behaviour" and "worker process stopped" in reason["message"]
    ]
    assert stopped, "no diff reported its worker's death"
    for reason in stopped:
        assert (reason["decision"], reason["unchecked"]) == ("deny", True)


def test_a_recheck_takes_kept_diffs_without_reading_their_baselines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex
) -> None:
    """A diff already made against the baseline the index lists (by its sha256) is reused
    without fetching, reading or re-hashing that baseline; a baseline the index lists with
    another digest is fetched and verified again, and here fails to verify."""
    requirements = _publish(package_index, tmp_path)

    def check() -> tuple[int, dict[str, Any]]:
        return _check_lock(capsys, tmp_path, package_index, requirements)

    def tinyweb(report: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = next(p for p in report["packages"] if p["name"] == "tinyweb")
        return found

    code, first = check()
    assert code == 0
    baseline = "tinyweb-1.0-py3-none-any.whl"
    assert tinyweb(first)["behaviour"][0]["baseline"] == baseline
    # The baseline is gone from the store and its bytes on the index no longer match: a
    # re-check that read it would say so.
    removed = list((tmp_path / "cache" / "files").rglob(baseline))
    assert removed
    for stored in removed:
        stored.unlink()
    package_index.tamper(baseline, b"PK\x05\x06" + b"\0" * 18)
    package_index.requests_log.clear()
    code, second = check()
    assert code == 0, second["errors"]
    assert [path for _, path, _ in package_index.requests_log if baseline in path] == []
    assert tinyweb(second)["behaviour"] == tinyweb(first)["behaviour"]
    assert [p["reasons"] for p in second["packages"]] == [p["reasons"] for p in first["packages"]]

    # The index now lists another digest for the baseline: the kept diff is not for it, so
    # the baseline is fetched, and its bytes match neither digest.
    entry = package_index.files[baseline]
    package_index.files[baseline] = dataclasses.replace(entry, sha256="0" * 64)
    code, third = check()
    assert any(baseline in path for _, path, _ in package_index.requests_log)
    (reason,) = [r for r in tinyweb(third)["reasons"] if r["rule"] == "behaviour"]
    assert f"the baseline {baseline} could not be fetched" in reason["message"]


def test_downloads_are_not_held_back_by_the_analysis(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    package_index: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With one thread for the network (``--jobs 1``), every file and baseline is fetched
    while the first diff is still waiting: the thread that fetches never waits on the
    analysis. Each diff waits until every download has been asked for (or gives up)."""
    wanted = {
        "certifi-2024.1-py3-none-any.whl",
        "idna-3.7-py3-none-any.whl",
        "tinyweb-1.0-py3-none-any.whl",
        "tinyweb-1.1-py3-none-any.whl",
    }
    requested = threading.Event()
    waits: list[bool] = []

    def downloads_seen() -> bool:
        paths = [path for _, path, _ in list(package_index.requests_log)]
        return all(any(path.endswith(name) for path in paths) for name in wanted)

    def waiting(analyse: Any) -> Any:
        def diff(*args: Any, **kwargs: Any) -> BehaviourDiff:
            for _ in range(100):  # at most 10 s
                if downloads_seen():
                    requested.set()
                    break
                requested.wait(0.1)
            waits.append(requested.is_set())
            result: BehaviourDiff = analyse(*args, **kwargs)
            return result

        return diff

    # The diff runs in worker processes on 2+ cores, else in this one.
    monkeypatch.setattr(AnalysisPool, "diff", waiting(AnalysisPool.diff))
    monkeypatch.setattr("verify._verifier.engine.diff_here", waiting(diff_here))
    requirements = _publish(package_index, tmp_path)
    code, report = _check_lock(capsys, tmp_path, package_index, requirements, "--jobs", "1")
    assert code == 0, report["errors"]
    assert len(waits) == 3
    assert all(waits), "a download waited for the analysis of an earlier package"
    assert [p["name"] for p in report["packages"]] == ["certifi", "idna", "tinyweb"]
